"""Concurrency: two renders of one env never interleave (a flock on the output folder), and a
reader (``check``, ``diff``) never sees a half-swapped tree.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    budget,
    kubegen_cmd,
    kubegen_env,
    leftovers,
    make_project,
    run_kubegen,
    snapshot,
    write_stack,
)

from kubegen import ConfigMap, OutputError, Stack
from kubegen._files import writer
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


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_readers_never_see_a_half_swapped_tree(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(writer, "_exchange", lambda a, b: False)
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
    out = project.parent / f"expected-{version}"
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
