"""Env folders read in a forked child during start-up (:mod:`kubegen._cli.prefetch`): the same
trees, files, errors and output as a read in this process, and no stray processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubegen._background import ENV_SWITCH, Series, can_fork
from kubegen._cli import commands, prefetch
from kubegen._files.writer import read_env
from kubegen._render.cache import checked_lines
from kubegen._stack_path import resolve_env_dir
from tests.helpers import REPO, write_stack

needs_fork = pytest.mark.skipif(not can_fork(), reason="forking is off on this platform")

STACK = """
from kubegen import ConfigMap, Deployment, Stack

def build():
    stack = Stack("shop", namespace="shop")
    for index in range(COUNT):
        stack.add(ConfigMap(f"settings-{index}", data={"MODE": "MODE_VALUE"}))
    stack.add(Deployment("api", image="ghcr.io/acme/api:1.0@sha256:" + "0" * 64))
    return stack
"""


@pytest.fixture(autouse=True)
def _no_leftover_child() -> Iterator[None]:
    yield
    prefetch.stop()


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _project(tmp_path: Path, count: int = 3, mode: str = "fast") -> Path:
    path = write_stack(
        tmp_path, "prod", STACK.replace("COUNT", str(count)).replace("MODE_VALUE", mode)
    )
    return path.relative_to(tmp_path)


# -- Series: several values from one child, in order ---------------------------------------------


@needs_fork
def test_a_series_hands_over_each_value_from_one_child_in_order() -> None:
    parent = os.getpid()
    with Series([lambda: ("a", os.getpid()), lambda: ("b", os.getpid())]) as series:
        assert series.forked
        first, second = series.result(), series.result()
        assert not series.forked  # the child is reaped once the last value is taken
    assert first[0] == "a" and second[0] == "b"
    assert first[1] == second[1] != parent


@needs_fork
def test_from_the_value_the_child_failed_on_a_series_computes_here() -> None:
    parent = os.getpid()

    def only_here() -> int:
        if os.getpid() != parent:
            raise RuntimeError("fails in the child")
        return os.getpid()

    with Series([os.getpid, only_here, os.getpid]) as series:
        values = [series.result() for _ in range(3)]
    assert values[0] != parent
    assert values[1:] == [parent, parent]


@needs_fork
def test_the_error_a_series_raises_is_the_real_one_raised_here() -> None:
    def broken() -> None:
        raise ValueError(f"raised in {os.getpid()}")

    with Series([broken]) as series, pytest.raises(ValueError) as caught:
        series.result()
    assert str(caught.value) == f"raised in {os.getpid()}"


@needs_fork
def test_values_larger_than_the_pipe_cross_it_whole() -> None:
    big = os.urandom(3_000_000)
    with Series([lambda: big, lambda: list(range(200_000))]) as series:
        assert series.result() == big
        assert series.result() == list(range(200_000))


@needs_fork
def test_a_closed_series_waits_for_the_child_to_finish_what_it_is_in(tmp_path: Path) -> None:
    """Reading an env folder may repair it: the child is never killed half-way."""
    marker = tmp_path / "finished"

    def slow() -> bytes:
        time.sleep(0.2)
        marker.write_text("yes")
        return b"x" * 2_000_000

    series = Series([slow, slow])
    pid = series._pid
    assert pid is not None
    series.close()
    assert marker.read_text() == "yes"
    assert _reaped(pid)


def test_without_a_fork_a_series_computes_here_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_SWITCH, "0")
    with Series([lambda: (1, os.getpid()), lambda: (2, os.getpid())]) as series:
        assert not series.forked
        assert [series.result(), series.result()] == [(1, os.getpid()), (2, os.getpid())]


# -- prefetch: what the commands read ------------------------------------------------------------


@needs_fork
def test_a_large_folder_is_read_in_a_child_and_equals_a_read_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = _project(tmp_path, count=40)
    assert commands.render([path], None) == 0
    env_dir = resolve_env_dir(path, None)[1]
    monkeypatch.setattr(prefetch, "PREFETCH_FROM", 1_000)  # 40 objects' lines: 1,000+ bytes
    prefetch.start([path], None, prefetch.checked_tree)
    started = prefetch._started
    assert started is not None and started.series.forked
    tree, checked = prefetch.take(prefetch.checked_tree, env_dir)
    assert tree == read_env(env_dir)
    assert checked == checked_lines(tree.owned) and len(checked) == len(tree.owned) - 1
    on_disk = {p.relative_to(env_dir).as_posix() for p in env_dir.rglob("*") if p.is_file()}
    assert set(tree.owned) == on_disk and len(on_disk) > 40
    assert prefetch._started is started and not started.series.forked  # all taken: reaped


def test_a_small_folder_is_read_where_the_command_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = _project(tmp_path)
    assert commands.render([path], None) == 0
    prefetch.start([path], None, prefetch.checked_tree)
    assert prefetch._started is None


@needs_fork
def test_a_folder_asked_out_of_order_is_read_here_and_the_child_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = _project(tmp_path)
    second = write_stack(tmp_path, "dev", STACK.replace("COUNT", "2")).relative_to(tmp_path)
    assert commands.render([first, second], None) == 0
    monkeypatch.setattr(prefetch, "PREFETCH_FROM", 0)
    prefetch.start([first, second], None, prefetch.signed_tree)
    started = prefetch._started
    assert started is not None
    pid = started.series._pid
    assert pid is not None
    dev = resolve_env_dir(second, None)[1]
    taken, here = prefetch.take(prefetch.signed_tree, dev), prefetch.signed_tree(dev)
    assert taken is not None and here is not None
    assert taken[0].owned == here[0].owned and taken[1] == here[1]
    assert prefetch._started is None and _reaped(pid)


def _check_output(
    path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *, fork: str
) -> tuple[int, str, str]:
    monkeypatch.setenv(ENV_SWITCH, fork)
    prefetch.start([path], None, prefetch.checked_tree)
    assert (prefetch._started is not None) == (fork == "1" and can_fork())
    code = commands.check([path], None)
    prefetch.stop()
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("stale", [False, True])
def test_check_says_the_same_with_the_folder_read_in_a_child_or_here(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stale: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(prefetch, "PREFETCH_FROM", 0)
    path = _project(tmp_path)
    assert commands.render([path], None) == 0
    if stale:
        _project(tmp_path, mode="slow")
    capsys.readouterr()
    here = _check_output(path, monkeypatch, capsys, fork="0")
    assert here[0] == (1 if stale else 0)
    assert ("+  MODE: slow\n" in here[1]) == stale
    assert _check_output(path, monkeypatch, capsys, fork="1") == here


def test_a_folder_error_is_still_reported_before_a_broken_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(prefetch, "PREFETCH_FROM", 0)
    path = write_stack(tmp_path, "prod", "def build():\n    raise RuntimeError('broken')\n")
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "prod").write_text("not a folder")
    for fork in ("0", "1"):
        monkeypatch.setenv(ENV_SWITCH, fork)
        prefetch.start([path.relative_to(tmp_path)], None, prefetch.checked_tree)
        assert commands.guard(lambda: commands.check([path.relative_to(tmp_path)], None)) == 2
        assert "is a file, not a folder" in capsys.readouterr().err


@needs_fork
def test_the_real_command_reads_in_a_child_and_reports_the_same(tmp_path: Path) -> None:
    """``python -m kubegen``'s own start-up, with the threshold lowered so this stack forks."""
    _project(tmp_path)
    code = (
        "import sys\n"
        "from kubegen._cli import commands, prefetch\n"
        "prefetch.PREFETCH_FROM = int(sys.argv.pop(1))\n"
        "started = prefetch.start\n"
        "def start(*args):\n"
        "    started(*args)\n"
        "    print('child' if prefetch._started else 'here', file=sys.stderr)\n"
        "prefetch.start = start\n"
        "sys.argv[0] = 'kubegen'\n"
        "commands.run()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def kubegen(threshold: int, *args: str) -> tuple[int, str, str]:
        out = subprocess.run([sys.executable, "-c", code, str(threshold), *args],
                             capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
        return out.returncode, out.stdout, out.stderr

    assert kubegen(0, "render", "stacks/prod")[0] == 0
    _project(tmp_path, mode="slow")
    in_child = kubegen(0, "check", "stacks/prod")
    here = kubegen(10**9, "check", "stacks/prod")
    assert in_child[2].startswith("child\n") and here[2].startswith("here\n")
    assert in_child[0] == here[0] == 1
    assert in_child[1] == here[1] and "+  MODE: slow\n" in here[1]
    assert in_child[2].removeprefix("child\n") == here[2].removeprefix("here\n")
