"""Concurrency: two renders of one env never interleave (a flock on the output folder), a reader
(``check``, ``diff``) never sees a half-written tree, and files other programs create, edit,
save (temp file + rename) or rename inside ``output/<env>`` while renders run are never lost,
reverted or re-moded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    PLATFORM_PATHS,
    budget,
    kubegen_cmd,
    kubegen_env,
    leftovers,
    make_project,
    platform_path,
    run_kubegen,
    snapshot,
    write_stack,
)

from kubegen import ConfigMap, OutputError, Stack
from kubegen._files.lock import output_lock
from kubegen._files.writer import read_env, write_env
from kubegen._render.files import render_files


def _files(version: str, count: int = 60) -> dict[str, bytes]:
    stack = Stack("dev", namespace="dev")
    shift = 0 if version == "a" else count // 5
    for i in range(shift, count + shift):
        namespace = f"ns-{version}-{i % 6}" if i % 2 else "dev"
        stack.add(ConfigMap(f"cm-{i:03d}", namespace=namespace, data={"v": f"{version}{i}"}))
    return render_files(stack.objects())


def test_a_second_writer_waits_for_the_lock_then_fails_clearly(tmp_path):
    env_dir = tmp_path / "output" / "dev"
    write_env(env_dir, _files("a"))
    before = snapshot(env_dir)
    with output_lock(env_dir.parent):
        with pytest.raises(OutputError) as caught:
            write_env(env_dir, _files("b"), lock_timeout=0.3)
        assert snapshot(env_dir) == before
    message = str(caught.value)
    assert "another kubegen process is writing" in message and str(env_dir.parent) in message
    assert "Fix:" in message
    write_env(env_dir, _files("b"), lock_timeout=0.3)  # released: goes through
    assert {k: v for k, v in snapshot(env_dir).items()} == _files("b")


def test_a_waiting_writer_proceeds_when_the_lock_is_released(tmp_path):
    env_dir = tmp_path / "output" / "dev"
    write_env(env_dir, _files("a"))
    before = snapshot(env_dir)
    started, finished = threading.Event(), threading.Event()

    def second() -> None:
        started.set()
        write_env(env_dir, _files("b"))
        finished.set()

    with output_lock(env_dir.parent):
        worker = threading.Thread(target=second, daemon=True)
        worker.start()
        started.wait(10)
        assert not finished.wait(0.5), "the second writer did not wait for the lock"
        assert snapshot(env_dir) == before
    assert finished.wait(30)
    assert snapshot(env_dir) == _files("b")


@pytest.mark.parametrize("path", PLATFORM_PATHS)
def test_readers_never_see_a_half_written_tree(tmp_path, monkeypatch, path):
    platform_path(monkeypatch, path)
    env_dir = tmp_path / "output" / "dev"
    trees = {"a": _files("a"), "b": _files("b")}
    write_env(env_dir, trees["a"])
    stop, errors = threading.Event(), []

    def flip() -> None:
        try:
            while not stop.is_set():  # renders back to back, with a breath for the readers
                write_env(env_dir, trees["b"])
                time.sleep(0.02)
                write_env(env_dir, trees["a"])
                time.sleep(0.02)
        except Exception as exc:  # reported by the main thread
            errors.append(exc)

    worker = threading.Thread(target=flip, daemon=True)
    worker.start()
    seen: dict[str, int] = {"a": 0, "b": 0}
    try:
        for _ in range(budget(60, 1000)):
            owned = dict(read_env(env_dir).owned)
            assert owned in (trees["a"], trees["b"]), "a reader saw a mixed tree"
            seen["a" if owned == trees["a"] else "b"] += 1
            time.sleep(0.003)  # a real reader reads once; leave the writer a gap for its lock
    finally:
        stop.set()
        worker.join(30)
    assert errors == []
    assert seen["a"] and seen["b"]  # the reads did overlap with the renders
    assert leftovers(env_dir.parent) == []


BIG_STACK = """
import os

from kubegen import ConfigMap, Stack


def build():
    version = os.environ["KG_VERSION"]
    stack = Stack("big", namespace="big")
    for i in range(300):
        namespace = "big" if i % 3 == 0 else f"ns-{version}-{i % 4}"
        stack.add(ConfigMap(f"cm-{i:03d}-{version}", namespace=namespace, data={"v": version}))
    return stack
"""


def _expected(project: Path, version: str) -> dict[str, Any]:
    out = project / "expected" / version
    env = kubegen_env(KG_VERSION=version)
    done = run_kubegen("render", "stacks/big", "--out", str(out), cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    return snapshot(out)


def test_two_render_processes_at_once_give_one_complete_set(tmp_path):
    project = make_project(tmp_path / "proj")
    write_stack(project, "big", BIG_STACK)
    trees = {v: _expected(project, v) for v in ("a", "b", "c")}
    env_dir = project / "output" / "big"
    assert (
        run_kubegen("render", "stacks/big", cwd=project, env=kubegen_env(KG_VERSION="a")).returncode
        == 0
    )
    for _ in range(budget(2, 10)):
        processes = [
            subprocess.Popen(
                kubegen_cmd("render", "stacks/big"),
                cwd=project,
                env=kubegen_env(KG_VERSION=v),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for v in ("b", "c")
        ]
        results = [p.communicate(timeout=300) for p in processes]
        for process, (out, err) in zip(processes, results, strict=True):
            assert process.returncode == 0, err
            assert out.startswith("big: ")
        assert snapshot(env_dir) in (trees["b"], trees["c"])
        assert leftovers(project / "output") == []


# --- other programs writing in output/<env> while renders run ------------------------------------

# A separate process, so it really runs beside the renders: it creates, edits in place, saves
# like an editor (temp file + rename) and renames its own files, in every folder it finds
# (kubegen's namespace folders included, which renders create and prune meanwhile), until told
# to stop; then it prints what each of its files must hold.
FOREIGN_WRITER = r"""
import json, os, random, sys, time

env, stop, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(seed)
mine = {}  # path relative to env -> content
count = 0

def folders():
    found = [""]
    for entry in os.scandir(env):
        if entry.is_dir(follow_symlinks=False):
            found.append(entry.name)
    return found

def write(path, text):
    with open(path, "w") as handle:
        handle.write(text)

while not os.path.exists(stop):
    count += 1
    action = rng.choice(["create", "create", "edit", "save", "save", "rename", "mkdir"])
    try:
        if (action == "create" and len(mine) < 150) or not mine:
            folder = rng.choice(folders())
            rel = (folder + "/" if folder else "") + f"note-{count}.txt"
            write(os.path.join(env, rel), f"created {count}\n")
            mine[rel] = f"created {count}\n"
        elif action == "edit":
            rel = rng.choice(sorted(mine))
            write(os.path.join(env, rel), f"edited {count}\n")
            mine[rel] = f"edited {count}\n"
        elif action == "save":
            rel = rng.choice(sorted(mine))
            folder, name = os.path.split(os.path.join(env, rel))
            temp = os.path.join(folder, f".{name}.swp")
            write(temp, f"saved {count}\n")
            os.rename(temp, os.path.join(folder, name))
            mine[rel] = f"saved {count}\n"
        elif action == "rename":
            rel = rng.choice(sorted(mine))
            folder, name = os.path.split(rel)
            target = (folder + "/" if folder else "") + f"moved-{count}.txt"
            os.rename(os.path.join(env, rel), os.path.join(env, target))
            mine[target] = mine.pop(rel)
        else:
            rel = f"{rng.choice(folders())}/own-{count}".lstrip("/")
            os.makedirs(os.path.join(env, rel))
            write(os.path.join(env, rel, "data.txt"), f"folder {count}\n")
            mine[rel + "/data.txt"] = f"folder {count}\n"
    except FileNotFoundError:
        pass  # the folder it picked was pruned just then: nothing was written
    time.sleep(0.001)
print(json.dumps({"files": mine, "actions": count}))
"""


def _flip(version: str) -> dict[str, bytes]:
    """Versions that differ in every kind of way: created, changed and removed files, and
    namespace folders that come and go."""
    stack = Stack("dev", namespace="dev")
    shift = 0 if version == "a" else 7
    for i in range(shift, 30 + shift):
        namespace = "dev" if i % 3 == 0 else f"ns-{version if i % 2 else 'x'}-{i % 4}"
        stack.add(ConfigMap(f"cm-{i:03d}", namespace=namespace, data={"v": f"{version}{i}"}))
    return render_files(stack.objects())


@pytest.mark.parametrize("path", PLATFORM_PATHS)
def test_files_of_other_programs_survive_concurrent_renders(tmp_path, monkeypatch, path):
    platform_path(monkeypatch, path)
    env_dir = tmp_path / "output" / "dev"
    trees = {"a": _flip("a"), "b": _flip("b")}
    write_env(env_dir, trees["a"])
    env_dir.chmod(0o750)  # modes someone chose, on folders kubegen writes into
    (env_dir / "dev").chmod(0o710)
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", FOREIGN_WRITER, str(env_dir), str(stop), "7"],
        stdout=subprocess.PIPE,
        text=True,
    )
    renders = budget(40, 400)
    try:
        for index in range(renders):
            changes = write_env(env_dir, trees["b" if index % 2 == 0 else "a"])
            assert changes.any and not changes.warnings
    finally:
        stop.touch()
        out, _ = writer.communicate(timeout=60)
    report = json.loads(out)
    expected = {rel: text.encode() for rel, text in report["files"].items()}
    after = snapshot(env_dir)
    owned = {k: v for k, v in after.items() if isinstance(v, bytes) and v.startswith(b"# Gen")}
    foreign = {k: v for k, v in after.items() if k not in owned and v != ("dir",)}
    lost = sorted(rel for rel in expected if foreign.get(rel) != expected[rel])
    assert report["actions"] > renders  # the two really ran side by side
    assert lost == [], f"{len(lost)} of {len(expected)} files lost or reverted: {lost[:5]}"
    assert sorted(foreign) == sorted(expected)  # nothing extra (a temp file, a copy) either
    assert owned == trees["a" if renders % 2 == 0 else "b"]
    assert (env_dir.stat().st_mode & 0o777, (env_dir / "dev").stat().st_mode & 0o777) == (
        0o750,
        0o710,
    )
    assert leftovers(env_dir.parent) == []
