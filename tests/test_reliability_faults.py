"""Faults: a render killed at any point, a full disk, a failing rename or a file that appears
where kubegen is about to write never leaves a mix of old and new files once any kubegen command
has looked at the folder, never loses a file kubegen does not own, and says what it repaired.

Both platform paths are covered: ``renameat2`` (``RENAME_EXCHANGE``/``RENAME_NOREPLACE``, Linux)
and the portable one (``link``/``rename``, as on macOS), forced here with ``KUBEGEN_RENAMEAT2=0``.
Crash points are every side effect of a write, including each unlink while a finished
transaction folder is deleted. The real-process SIGKILL test kills 3 renders per platform path
by default; ``pytest --hypothesis-profile=long -k sigkill`` runs 100 per path.
"""

from __future__ import annotations

import errno
import functools
import os
import random
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    PLATFORM_PATHS,
    budget,
    inodes,
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
from kubegen._files import fsops, txn
from kubegen._files.writer import read_env, write_env, write_envs
from kubegen._render.files import render_files
from kubegen._render.layout import HEADER

# --- in process: every side effect of a write is a crash point ----------------------------------


class Crash(BaseException):
    """Stands for SIGKILL: nothing after it runs (not an Exception, so nothing catches it)."""


@functools.cache
def _files(version: str, env: str = "dev", *, small: bool = False) -> dict[str, bytes]:
    """Two versions that differ in every file, in the set of files and in folders (``small``:
    without the namespace's own objects)."""
    stack = Stack(env, namespace=env, create_namespace=not small)
    names = ["a", "b", "c"] if version == "old" else ["b", "c", "d", "e"]
    for name in names:
        namespace = env if name in "bc" else f"only-{version}"
        stack.add(ConfigMap(name, namespace=namespace, data={"version": version}))
    return render_files(stack.objects())


def _with_foreign(env_dir: Path) -> dict[str, Any]:
    """Hand-made entries every state must keep: a file, a symlink, an empty folder."""
    (env_dir / "notes.md").write_text("mine\n")
    (env_dir / "dev" / "link").symlink_to("/nonexistent/target")
    (env_dir / "empty").mkdir()
    return {"notes.md": b"mine\n", "dev/link": ("link", "/nonexistent/target"), "empty": ("dir",)}


def _owned(tree: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in tree.items() if isinstance(v, bytes) and v.startswith(HEADER.encode())}


_SIDE_EFFECTS = frozenset({"mkdir", "rmdir", "unlink", "rename", "link", "write", "fchmod"})


class _Steps:
    """Counts side effects on disk and raises Crash before or after step ``crash_at``."""

    def __init__(self, crash_at: int) -> None:
        self.crash_at, self.count, self.armed = crash_at, 0, False

    def arm(self) -> None:
        """Count from now on (the set-up before the write under test is not a crash point)."""
        self.armed = True

    def step(self) -> None:
        if not self.armed:
            return
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


class _Os:
    """``os`` for the writer's modules, with each side effect a crash point."""

    def __init__(self, steps: _Steps) -> None:
        self._steps = steps

    def __getattr__(self, name: str) -> Any:
        real = getattr(os, name)
        if name in _SIDE_EFFECTS:
            return self._steps.wrap(real)
        if name == "open":
            return lambda path, flags, *a, **k: (
                self._steps.wrap(real) if flags & os.O_CREAT else real
            )(path, flags, *a, **k)
        return real


class _Shutil:
    def __init__(self, steps: _Steps) -> None:
        self.rmtree = _rmtree_in_steps(steps)


def _rmtree_in_steps(steps: _Steps) -> Any:
    """``shutil.rmtree`` with every unlink and rmdir a crash point (a SIGKILL can land inside
    it), in the order most dangerous to a journal: a folder's files before its subfolders, the
    commit point first and the plan last."""

    def order(name: str) -> tuple[bool, bool, str]:
        return name != "committed", name == "plan.json", name

    def remove(path: str, dir_fd: int | None = None, ignore_errors: bool = False) -> None:
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
        try:
            fd = os.open(path, flags, dir_fd=dir_fd)
        except FileNotFoundError:
            if ignore_errors:
                return
            raise
        try:
            names = sorted(os.listdir(fd), key=order)
            is_dir = {n: stat.S_ISDIR(os.lstat(n, dir_fd=fd).st_mode) for n in names}
            for name in (n for n in names if not is_dir[n]):
                steps.wrap(os.unlink)(name, dir_fd=fd)
            for name in (n for n in names if is_dir[n]):
                remove(name, dir_fd=fd)
        finally:
            os.close(fd)
        steps.wrap(os.rmdir)(path, dir_fd=dir_fd)

    return remove


def _patch(monkeypatch: pytest.MonkeyPatch, steps: _Steps) -> None:
    monkeypatch.setattr(txn, "os", _Os(steps))
    monkeypatch.setattr(fsops, "os", _Os(steps))
    monkeypatch.setattr(txn, "shutil", _Shutil(steps))
    monkeypatch.setattr(fsops, "_rename2", steps.wrap(fsops._rename2))


def _crash_every_step(
    monkeypatch: pytest.MonkeyPatch, run: Any, check: Any, stride: int = 1
) -> tuple[int, int, int]:
    """Run ``run`` with a crash at step 1, 1 + stride, … until it completes; ``check`` each
    outcome. Returns (crash points, outcomes old, outcomes new)."""
    crash_at, seen = 1, {"old": 0, "new": 0}
    while True:
        steps = _Steps(crash_at)
        with monkeypatch.context() as patch:
            _patch(patch, steps)
            try:
                run(crash_at, steps.arm)
                crashed = False
            except Crash:
                crashed = True
        seen[check(crash_at, crashed)] += 1
        if not crashed:
            return crash_at, seen["old"], seen["new"]
        crash_at += stride


@pytest.mark.parametrize("path", PLATFORM_PATHS)
def test_a_crash_at_every_step_leaves_old_or_new(tmp_path, monkeypatch, path):
    platform_path(monkeypatch, path)
    old, new = _files("old"), _files("new")
    runs: dict[int, tuple[Path, dict[str, Any]]] = {}

    def run(crash_at: int, arm: Any) -> None:
        env_dir = tmp_path / f"run-{crash_at}" / "output" / "dev"
        write_env(env_dir, old)
        foreign = _with_foreign(env_dir)
        (env_dir / "dev").chmod(0o750)
        runs[crash_at] = env_dir, foreign
        arm()
        write_env(env_dir, new)

    def check(crash_at: int, crashed: bool) -> str:
        env_dir, foreign = runs[crash_at]
        assert env_dir.is_dir(), f"crash at step {crash_at}: the env folder is missing"
        on_disk = _owned(snapshot(env_dir))
        if on_disk not in (old, new):  # mid-apply: the journal beside it says how to finish
            assert leftovers(env_dir.parent), f"crash at step {crash_at}: a mix, no journal"
        pending = bool(leftovers(env_dir.parent))
        tree = read_env(env_dir)  # what `check` compares against: repaired first
        seen = dict(tree.owned)
        assert seen in (old, new), f"crash at step {crash_at}: check would read a mixed tree"
        assert bool(tree.repaired) == pending, (crash_at, tree.repaired)
        assert leftovers(env_dir.parent) == []
        assert _owned(snapshot(env_dir)) == seen
        after = snapshot(env_dir)
        assert {k: after.get(k) for k in foreign} == foreign, f"crash at step {crash_at}"
        assert (env_dir / "dev").stat().st_mode & 0o777 == 0o750
        assert write_env(env_dir, new).repaired == []
        assert _owned(snapshot(env_dir)) == new
        return "old" if seen == old else "new"

    points, olds, news = _crash_every_step(monkeypatch, run, check)
    assert points > 20 and olds and news  # the crash points covered both outcomes


@pytest.mark.parametrize("path", PLATFORM_PATHS)
def test_a_crash_while_creating_an_env_folder_leaves_none_or_all(tmp_path, monkeypatch, path):
    platform_path(monkeypatch, path)
    new = _files("new")
    dirs: dict[int, Path] = {}

    def run(crash_at: int, arm: Any) -> None:
        dirs[crash_at] = tmp_path / f"run-{crash_at}" / "output" / "dev"
        dirs[crash_at].parent.mkdir(parents=True)
        arm()
        write_env(dirs[crash_at], new)

    def check(crash_at: int, crashed: bool) -> str:
        env_dir = dirs[crash_at]
        seen = dict(read_env(env_dir).owned)
        assert seen in ({}, new), f"crash at step {crash_at}"
        assert leftovers(env_dir.parent) == []
        return "old" if not seen else "new"

    points, olds, news = _crash_every_step(monkeypatch, run, check)
    assert points > 5 and olds and news


@pytest.mark.parametrize("path", PLATFORM_PATHS)
def test_a_crash_in_a_render_of_several_stacks_leaves_all_old_or_all_new(
    tmp_path, monkeypatch, path
):
    """Three envs in two output folders: the first holds the commit point."""
    platform_path(monkeypatch, path)
    envs = ("dev", "prod", "other")
    homes: dict[int, list[Path]] = {}

    def folders(crash_at: int) -> list[Path]:
        base = tmp_path / f"run-{crash_at}"
        return [base / "output" / "dev", base / "output" / "prod", base / "elsewhere" / "other"]

    def run(crash_at: int, arm: Any) -> None:
        homes[crash_at] = folders(crash_at)
        for env_dir, env in zip(homes[crash_at], envs, strict=True):
            write_env(env_dir, _files("old", env, small=True))
        arm()
        write_envs(
            [(d, _files("new", e, small=True)) for d, e in zip(homes[crash_at], envs, strict=True)]
        )

    def check(crash_at: int, crashed: bool) -> str:
        # each folder is looked at by a later command on its own, in any order
        states = []
        for env_dir, env in reversed(list(zip(homes[crash_at], envs, strict=True))):
            seen = dict(read_env(env_dir).owned)
            old, new = _files("old", env, small=True), _files("new", env, small=True)
            assert seen in (old, new), f"crash at step {crash_at}"
            states.append("old" if seen == old else "new")
        for env_dir in homes[crash_at]:
            read_env(env_dir)  # the commit point's folder is cleared once the others are done
            assert leftovers(env_dir.parent) == [], f"crash at step {crash_at}"
        assert len(set(states)) == 1, f"crash at step {crash_at}: envs disagree: {states}"
        return states[0]

    points, olds, news = _crash_every_step(monkeypatch, run, check, stride=budget(3, 1))
    assert points > 20 and olds and news


# --- failures while writing ---------------------------------------------------------------------


def _prepared(tmp_path: Path) -> tuple[Path, dict[str, Any], dict[str, tuple[int, int]]]:
    env_dir = tmp_path / "output" / "dev"
    write_env(env_dir, _files("old"))
    _with_foreign(env_dir)
    return env_dir, snapshot(env_dir), inodes(env_dir)


@pytest.mark.parametrize("path", PLATFORM_PATHS)
def test_full_disk_while_staging_is_a_clear_error_and_changes_nothing(
    tmp_path, monkeypatch, path
):
    platform_path(monkeypatch, path)
    env_dir, before, marks = _prepared(tmp_path)
    written: list[str] = []
    real = fsops.write_new

    def fill_up(folder: Any, name: str, data: bytes, **kwargs: Any) -> int:
        if len(written) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), folder.show(name))
        written.append(name)
        return real(folder, name, data, **kwargs)

    monkeypatch.setattr(fsops, "write_new", fill_up)
    with pytest.raises(OutputError) as caught:
        write_env(env_dir, _files("new"))
    message = str(caught.value)
    assert "No space left on device" in message and "previous files are unchanged" in message
    assert "Fix:" in message
    assert snapshot(env_dir) == before and inodes(env_dir) == marks
    assert leftovers(env_dir.parent) == []


@pytest.mark.parametrize("path", PLATFORM_PATHS)
@pytest.mark.parametrize("after", [1, 3, 6])
def test_a_failing_move_undoes_the_moves_before_it(tmp_path, monkeypatch, path, after):
    platform_path(monkeypatch, path)
    env_dir, before, marks = _prepared(tmp_path)
    calls: list[str] = []

    def failing(real: Any) -> Any:
        def move(*args: Any) -> Any:
            calls.append(args[1])
            if len(calls) == after:
                raise OSError(errno.EIO, os.strerror(errno.EIO), args[3])
            return real(*args)

        return move

    for name in ("place", "swap", "move", "claim"):
        monkeypatch.setattr(fsops, name, failing(getattr(fsops, name)))
    with pytest.raises(OutputError, match="Input/output error"):
        write_env(env_dir, _files("new"))
    assert len(calls) >= after
    assert snapshot(env_dir) == before and inodes(env_dir) == marks
    assert leftovers(env_dir.parent) == []


@pytest.mark.parametrize("path", PLATFORM_PATHS)
def test_a_file_appearing_where_kubegen_writes_undoes_every_env(tmp_path, monkeypatch, path):
    """All or none: the conflict is in the second env; the first is put back too."""
    platform_path(monkeypatch, path)
    dev, prod = tmp_path / "output" / "dev", tmp_path / "output" / "prod"
    write_env(dev, _files("old", "dev"))
    write_env(prod, _files("old", "prod"))
    before, marks = snapshot(tmp_path / "output"), inodes(tmp_path / "output")
    real_forward = txn._Side.forward

    def forward(side: Any) -> None:
        if side.name == "prod":  # an editor saves a file where kubegen is about to create one
            (prod / "only-new" / "configmap-d.yaml").parent.mkdir(exist_ok=True)
            (prod / "only-new" / "configmap-d.yaml").write_text("mine\n")
        real_forward(side)

    monkeypatch.setattr(txn._Side, "forward", forward)
    with pytest.raises(OutputError) as caught:
        write_envs([(dev, _files("new", "dev")), (prod, _files("new", "prod"))])
    message = str(caught.value)
    assert f"{prod}/only-new/configmap-d.yaml" in message
    assert "someone else" in message and "as it was before the render" in message
    after = snapshot(tmp_path / "output")
    assert after.pop("prod/only-new/configmap-d.yaml") == b"mine\n"
    assert after == before
    assert {k: v for k, v in inodes(tmp_path / "output").items() if "only-new" not in k} == marks
    assert leftovers(tmp_path / "output") == []


def test_a_replaced_file_is_given_back_not_overwritten(tmp_path, monkeypatch):
    """Between the scan and the move someone replaces a file kubegen owns with their own:
    kubegen checks what it moved aside, puts it back and fails."""
    env_dir, _, _ = _prepared(tmp_path)
    target = env_dir / "dev" / "configmap-b.yaml"
    real_change = txn._Side._change

    def change(side: Any, rel: str, ino: int) -> None:
        if rel == "dev/configmap-b.yaml":
            target.write_text("hand-edited, no header any more\n")
        real_change(side, rel, ino)

    monkeypatch.setattr(txn._Side, "_change", change)
    with pytest.raises(OutputError, match="was replaced by someone else"):
        write_env(env_dir, _files("new"))
    assert target.read_text() == "hand-edited, no header any more\n"
    assert _owned(snapshot(env_dir)) == {
        k: v for k, v in _files("old").items() if k != "dev/configmap-b.yaml"
    }


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
COUNT = "1500"
KILL_MODES = ("staging", "apply", "anywhere")


def _render_killed(
    project: Path, version: str, mode: str | None, rng: random.Random, longest: float, env: Any
) -> None:
    """Run a render; with a ``mode``, SIGKILL it at a random moment of that phase.

    ``staging``: while the transaction folder fills; ``apply``: once it is committed (the
    files are being moved into place); ``anywhere``: from the start.
    """
    output = project / "output"
    process = subprocess.Popen(
        kubegen_cmd("render", "stacks/big"),
        cwd=project,
        env={**env, "KG_VERSION": version},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if mode == "anywhere":
        time.sleep(rng.uniform(0, longest))
    elif mode == "staging":
        while process.poll() is None and not leftovers(output):
            time.sleep(0.0005)
        time.sleep(rng.uniform(0, 0.5 * longest / 2))
    elif mode == "apply":
        while process.poll() is None and not any(output.glob(".kubegen-txn-*/committed")):
            time.sleep(0.0002)
        time.sleep(rng.uniform(0, 0.01))
    if mode is not None:
        process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=300) in (0, -signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.parametrize("path", PLATFORM_PATHS)
def test_sigkill_leaves_the_old_or_new_set_and_check_repairs_it(tmp_path, path):
    project = make_project(tmp_path / "proj")
    write_stack(project, "big", BIG_STACK)
    env_dir = project / "output" / "big"
    env = kubegen_env(KG_COUNT=COUNT, **({"KUBEGEN_RENAMEAT2": "0"} if path == "portable" else {}))
    trees, started = {}, time.monotonic()
    for version in ("b", "a"):  # uninterrupted renders give the two expected trees
        done = run_kubegen("render", "stacks/big", cwd=project, env={**env, "KG_VERSION": version})
        assert done.returncode == 0, done.stderr
        trees[version] = snapshot(env_dir)
    (env_dir / "notes.md").write_text("mine\n")
    longest = (time.monotonic() - started) / 2
    assert trees["a"] != trees["b"] and len(trees["a"]) > int(COUNT)
    rng, current, outcomes = random.Random(9), "a", []
    for index in range(budget(3, 100)):
        target = "a" if current == "b" else "b"
        mode = KILL_MODES[index % len(KILL_MODES)]
        _render_killed(project, target, mode, rng, longest, env)
        assert env_dir.is_dir() and (env_dir / "notes.md").read_text() == "mine\n"
        pending = leftovers(project / "output")
        checked = run_kubegen("check", "stacks/big", cwd=project, env={**env, "KG_VERSION": "a"})
        assert checked.returncode in (0, 1), checked.stderr
        assert ("repaired: " in checked.stderr) == bool(pending), checked.stderr
        assert leftovers(project / "output") == []
        seen = {k: v for k, v in snapshot(env_dir).items() if k != "notes.md"}
        assert seen in (trees["a"], trees["b"]), "a killed render left a mixed or truncated set"
        assert checked.returncode == (0 if seen == trees["a"] else 1)
        current = "a" if seen == trees["a"] else "b"
        outcomes.append((mode, "new" if current == target else "old", bool(pending)))
    print("SIGKILL outcomes:", outcomes)
