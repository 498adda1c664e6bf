"""Faults: a render killed at any point, a full disk or a read-only folder never leaves a mix of
old and new files, a truncated file, or lost files; the next render clears what was left.
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    budget,
    inodes,
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
from kubegen._files.writer import read_env, recover, write_env
from kubegen._render.files import render_files

# --- in process: every step of a swap is a crash point ------------------------------------------


class Crash(BaseException):
    """Stands for SIGKILL: nothing after it runs (not an Exception, so nothing catches it)."""


def _files(version: str) -> dict[str, bytes]:
    """Two versions that differ in every file, in the set of files and in folders."""
    stack = Stack("dev", namespace="dev")
    names = ["a", "b", "c"] if version == "old" else ["b", "c", "d", "e"]
    for name in names:
        namespace = "dev" if name in "bc" else f"only-{version}"
        stack.add(ConfigMap(name, namespace=namespace, data={"version": version}))
    return render_files(stack.objects())


def _with_foreign(env_dir: Path) -> dict[str, Any]:
    """Hand-made entries every state must keep: a file, a symlink, an empty folder."""
    (env_dir / "notes.md").write_text("mine\n")
    (env_dir / "dev" / "link").symlink_to("/nonexistent/target")
    (env_dir / "empty").mkdir()
    return {"notes.md": b"mine\n", "dev/link": ("link", "/nonexistent/target"), "empty": ("dir",)}


def _owned(tree: dict[str, Any], foreign: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in tree.items() if k not in foreign}


class _Steps:
    """Counts side-effecting steps of a write and raises Crash at step ``crash_at``."""

    def __init__(self, crash_at: int) -> None:
        self.crash_at, self.count = crash_at, 0

    def step(self) -> None:
        self.count += 1
        if self.count == self.crash_at:
            raise Crash

    def wrap(self, func: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.step()
            result = func(*args, **kwargs)
            self.step()
            return result

        return wrapped


def _patch_steps(monkeypatch: pytest.MonkeyPatch, steps: _Steps, *, exchange: bool) -> None:
    monkeypatch.setattr(writer, "_write_file", steps.wrap(writer._write_file))
    monkeypatch.setattr(writer, "_link", steps.wrap(writer._link))
    monkeypatch.setattr(writer, "_remove_tree", steps.wrap(writer._remove_tree))
    monkeypatch.setattr(writer.os, "symlink", steps.wrap(os.symlink))
    monkeypatch.setattr(Path, "rename", steps.wrap(Path.rename))
    monkeypatch.setattr(Path, "mkdir", steps.wrap(Path.mkdir))
    if exchange:
        monkeypatch.setattr(writer, "_exchange", steps.wrap(writer._exchange))
    else:
        monkeypatch.setattr(writer, "_exchange", lambda a, b: False)


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_a_crash_at_every_step_leaves_old_or_new(tmp_path, monkeypatch, exchange):
    old, new = _files("old"), _files("new")
    crash_at, seen_old, seen_new = 1, 0, 0
    while True:
        env_dir = tmp_path / f"run-{crash_at}" / "output" / "dev"
        write_env(env_dir, old)
        foreign = _with_foreign(env_dir)
        steps = _Steps(crash_at)
        with monkeypatch.context() as patch:
            _patch_steps(patch, steps, exchange=exchange)
            try:
                write_env(env_dir, new)
                crashed = False
            except Crash:
                crashed = True
        # what `check` sees is a complete set, never a mix
        seen = {p: d for p, d in read_env(env_dir).owned.items()}
        assert seen in (old, new), f"crash at step {crash_at}: mixed tree"
        if exchange:  # with the atomic exchange the folder itself is always complete
            assert _owned(snapshot(env_dir), foreign) in (old, new)
        seen_old += seen == old
        seen_new += seen == new
        recover(env_dir)
        assert _owned(snapshot(env_dir), foreign) == seen
        assert write_env(env_dir, new) is not None
        assert _owned(snapshot(env_dir), foreign) == new
        assert {k: snapshot(env_dir)[k] for k in foreign} == foreign
        assert leftovers(env_dir.parent) == []
        if not crashed:
            break
        crash_at += 1
    assert crash_at > 10 and seen_old and seen_new  # the crash points covered both outcomes


# --- disk failures ------------------------------------------------------------------------------


def _prepared(tmp_path: Path) -> tuple[Path, dict[str, Any], dict[str, tuple[int, int]]]:
    env_dir = tmp_path / "output" / "dev"
    write_env(env_dir, _files("old"))
    _with_foreign(env_dir)
    return env_dir, snapshot(env_dir), inodes(env_dir)


def test_full_disk_while_writing_is_a_clear_error_and_changes_nothing(tmp_path, monkeypatch):
    env_dir, before, marks = _prepared(tmp_path)
    written: list[Path] = []

    def fill_up(dest: Path, data: bytes) -> None:
        if len(written) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dest))
        written.append(dest)
        writer_write(dest, data)

    writer_write = writer._write_file
    monkeypatch.setattr(writer, "_write_file", fill_up)
    with pytest.raises(OutputError) as caught:
        write_env(env_dir, _files("new"))
    message = str(caught.value)
    assert "No space left on device" in message and "previous files are unchanged" in message
    assert "Fix:" in message
    assert snapshot(env_dir) == before and inodes(env_dir) == marks
    assert leftovers(env_dir.parent) == []


def test_failing_exchange_is_a_clear_error_and_changes_nothing(tmp_path, monkeypatch):
    env_dir, before, marks = _prepared(tmp_path)

    def broken(a: Path, b: Path) -> bool:
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(b))

    monkeypatch.setattr(writer, "_exchange", broken)
    with pytest.raises(OutputError, match="Input/output error"):
        write_env(env_dir, _files("new"))
    assert snapshot(env_dir) == before and inodes(env_dir) == marks
    assert leftovers(env_dir.parent) == []


def test_failing_second_rename_restores_the_old_folder(tmp_path, monkeypatch):
    env_dir, before, marks = _prepared(tmp_path)
    monkeypatch.setattr(writer, "_exchange", lambda a, b: False)
    real_rename, calls = Path.rename, []

    def rename(self: Path, target: Any) -> Any:
        calls.append(self)
        if len(calls) == 2:  # env → old went through; stage → env fails
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), str(target))
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OutputError, match="previous files are unchanged"):
        write_env(env_dir, _files("new"))
    assert snapshot(env_dir) == before and inodes(env_dir) == marks
    assert leftovers(env_dir.parent) == []


def _without_root_override() -> tuple[str, ...]:
    """A command prefix under which file permissions apply (root ignores them otherwise)."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permissions cannot be enforced")
    drop = "-dac_override,-dac_read_search,-fowner"
    return (setpriv, f"--inh-caps={drop}", f"--bounding-set={drop}")


@pytest.mark.parametrize("read_only", ["output", "output/dev"])
def test_read_only_output_is_a_clear_error_and_old_files_stay(tmp_path, read_only):
    project = make_project(tmp_path / "proj")
    write_stack(project, "dev", _SMALL.format(version="old"))
    assert run_kubegen("render", "stacks/dev", cwd=project).returncode == 0
    before = snapshot(project / "output")
    write_stack(project, "dev", _SMALL.format(version="new"))
    folder = project / read_only
    folder.chmod(0o555)
    try:
        done = run_kubegen("render", "stacks/dev", cwd=project, prefix=_without_root_override())
    finally:
        folder.chmod(0o755)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert "read-only" in done.stderr or "Permission denied" in done.stderr
    assert "unchanged" in done.stderr
    assert snapshot(project / "output") == before


_SMALL = """
from kubegen import ConfigMap, Stack

def build():
    stack = Stack("dev", namespace="dev")
    stack.add(ConfigMap("settings", data={{"version": "{version}"}}))
    return stack
"""

# --- SIGKILL of a real render process ------------------------------------------------------------

BIG_STACK = """
import os

from kubegen import ConfigMap, Stack


def build():
    version, count = os.environ["KG_VERSION"], int(os.environ["KG_COUNT"])
    stack = Stack("big", namespace="big")
    shift = 0 if version == "a" else count // 10  # b drops some objects and adds others
    for i in range(shift, count + shift):
        namespace = "big" if i % 3 == 0 else f"ns-{version}-{i % 4}"  # folders come and go
        data = {"version": version, "payload": f"{version}-{i}-" * 8}
        stack.add(ConfigMap(f"cm-{i:05d}", namespace=namespace, data=data))
    return stack
"""
COUNT = "2000"
NO_EXCHANGE = (
    "import sys; import kubegen._files.writer as w; w._exchange = lambda a, b: False; "
    "from kubegen._cli.app import main; sys.argv[0] = 'kubegen'; main()"
)


KILL_MODES = ("build", "swap", "anywhere", "build")  # the ci budget covers each window


def _render_killed(
    command: list[str],
    project: Path,
    version: str,
    mode: str | None,
    rng: random.Random,
    longest: float,
) -> None:
    """Run a render; with a ``mode``, SIGKILL it at a random moment of that phase.

    ``build``: while the stage folder is filled; ``swap``: right after output/big changed
    identity (inside the swap or the clean-up of the old tree); ``anywhere``: from the start.
    """
    env = kubegen_env(KG_VERSION=version, KG_COUNT=COUNT)
    stage, env_dir = project / "output" / ".big.kubegen-new", project / "output" / "big"
    before = env_dir.stat().st_ino
    process = subprocess.Popen(
        command, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if mode == "anywhere":
        time.sleep(rng.uniform(0, longest))
    elif mode == "build":
        while process.poll() is None and not stage.exists():
            time.sleep(0.0005)
        time.sleep(rng.uniform(0, 0.8 * longest / 2))
    elif mode == "swap":
        while process.poll() is None and _same_folder(env_dir, before):
            time.sleep(0.0002)
        time.sleep(rng.uniform(0, 0.02))
    if mode is not None:
        process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=300) in (0, -signal.SIGKILL)


def _same_folder(path: Path, inode: int) -> bool:
    try:
        return path.stat().st_ino == inode
    except FileNotFoundError:  # between the two renames of the fallback
        return False


@pytest.mark.slow
@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_sigkill_leaves_the_complete_old_or_new_set(tmp_path, exchange):
    project = make_project(tmp_path / "proj")
    write_stack(project, "big", BIG_STACK)
    env_dir = project / "output" / "big"
    command = (
        kubegen_cmd("render", "stacks/big")
        if exchange
        else [kubegen_cmd()[0], "-c", NO_EXCHANGE, "render", "stacks/big"]
    )
    trees, started = {}, time.monotonic()
    for version in ("b", "a"):  # uninterrupted renders give the two expected trees
        done = run_kubegen(
            "render", "stacks/big", cwd=project, env=kubegen_env(KG_VERSION=version, KG_COUNT=COUNT)
        )
        assert done.returncode == 0, done.stderr
        trees[version] = snapshot(env_dir)
    longest = (time.monotonic() - started) / 2
    assert trees["a"] != trees["b"] and len(trees["a"]) > int(COUNT)
    rng, current, outcomes = random.Random(9), "a", []
    iterations = budget(len(KILL_MODES) if exchange else 2, 40)
    for index in range(iterations):
        target = "a" if current == "b" else "b"
        mode = KILL_MODES[index] if index < len(KILL_MODES) else rng.choice(KILL_MODES)
        _render_killed(command, project, target, mode, rng, longest)
        seen = dict(read_env(env_dir).owned)  # what `check` compares against
        assert seen in (trees["a"], trees["b"]), "a killed render left a mixed or truncated set"
        if exchange:  # the folder itself is always complete
            assert snapshot(env_dir) in (trees["a"], trees["b"])
        current = "a" if seen == trees["a"] else "b"
        outcomes.append((mode, "new" if current == target else "old", *leftovers(env_dir.parent)))
    print("SIGKILL outcomes:", outcomes)
    final = "a" if current == "b" else "b"
    _render_killed(command, project, final, None, rng, longest)  # recovers the leftovers
    assert snapshot(env_dir) == trees[final]
    assert leftovers(project / "output") == []
