"""What the process around a render does to kubegen: closed standard streams, stacks that fork,
leave threads running or raise exceptions outside ``Exception`` (``KeyboardInterrupt``,
``GeneratorExit``, their own ``BaseException`` subclasses).

Every case is a real ``python -m kubegen`` process; all run in parallel (a module fixture), and
each test reads its result.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    kubegen_cmd,
    kubegen_env,
    leftovers,
    make_project,
    run_kubegen,
    snapshot,
    write_stack,
)

SIMPLE = """
from kubegen import ConfigMap, Stack

def build():
    stack = Stack("s", namespace="s")
    stack.add(ConfigMap("c", data={"a": "b"}))
    return stack
"""

# A non-daemon thread that never ends: a normal interpreter exit would wait for it forever.
THREAD = """
import threading
import time

from kubegen import ConfigMap, Stack

def spin():
    while True:
        time.sleep(0.05)

def build():
    threading.Thread(target=spin).start()
    stack = Stack("s", namespace="s")
    stack.add(ConfigMap("c", data={"a": "b"}))
    return stack
"""

# The child of os.fork() returns from build() too: it must not render a second time.
FORK = """
import os

from kubegen import ConfigMap, Stack

def build():
    child = os.fork() == 0
    stack = Stack("s", namespace="s")
    stack.add(ConfigMap("c", data={"who": "child" if child else "parent"}))
    return stack
"""


# A stack that leaves the interpreter's state broken for whatever runs after it.
def _leaves(statement: str) -> str:
    return (
        "import io\nimport os\nimport sys\n\nfrom kubegen import ConfigMap, Stack\n\n"
        "def build():\n    stack = Stack('s', namespace='s')\n"
        f"    stack.add(ConfigMap('c', data={{'a': 'b'}}))\n    {statement}\n    return stack\n"
    )


LEAVES = {
    "sys-path-cleared": "sys.path.clear()",
    "sys-path-elsewhere": "sys.path[:] = ['/nonexistent']",
    "recursion-limit-lowered": "sys.setrecursionlimit(60)",
    "streams-replaced": "sys.stdout = io.StringIO(); sys.stderr = None",
    "umask-all": "os.umask(0o777)",
}


def _raises(what: str) -> str:
    return f"class Odd(BaseException):\n    pass\n\ndef build():\n    raise {what}  # <-\n"


@dataclass(frozen=True)
class Case:
    source: str
    args: tuple[str, ...] = ("render", "stacks/s")
    close: tuple[int, ...] = ()  # file descriptors closed in the child before kubegen starts
    render_first: bool = False


CASES: dict[str, Case] = {
    "check-stdout-closed": Case(SIMPLE, ("check", "stacks/s"), close=(1,), render_first=True),
    "diff-stdout-closed": Case(SIMPLE, ("diff", "stacks/s"), close=(1,)),
    "render-all-closed": Case(SIMPLE, close=(0, 1, 2)),
    "error-stdout-closed": Case(_raises("ValueError('x')"), close=(1,)),
    "lint-stdout-closed": Case(SIMPLE, ("lint", "stacks/s"), close=(1,)),
    "thread-left-running": Case(THREAD),
    "fork": Case(FORK),
    **{f"leaves-{name}": Case(_leaves(statement)) for name, statement in LEAVES.items()},
    **{
        f"raises-{name}": Case(_raises(what))
        for name, what in {
            "keyboard-interrupt": "KeyboardInterrupt",
            "generator-exit": "GeneratorExit",
            "own-base-exception": "Odd('weird')",
        }.items()
    },
}


@dataclass
class Result:
    done: subprocess.CompletedProcess[str]
    project: Path
    files: dict[str, Any]


def _closing(fds: tuple[int, ...]) -> Callable[[], None] | None:
    if not fds:
        return None

    def close() -> None:
        import os

        for fd in fds:
            os.close(fd)

    return close


def _run(tmp: Path, case: Case) -> Result:
    project = make_project(tmp / "proj")
    write_stack(project, "s", case.source)
    if case.render_first:
        first = subprocess.run(
            kubegen_cmd("render", "stacks/s"), cwd=project, env=kubegen_env(),
            capture_output=True, check=False,
        )  # fmt: skip
        assert first.returncode == 0, first.stderr
    try:
        done = subprocess.run(
            kubegen_cmd(*case.args), cwd=project, env=kubegen_env(), capture_output=True,
            text=True, check=False, timeout=30, preexec_fn=_closing(case.close),
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:  # a hang fails its test, not the whole module
        done = subprocess.CompletedProcess(exc.cmd, -9, str(exc.stdout), "timed out")
    return Result(done, project, snapshot(project / "output"))


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    def run(name: str) -> Result:
        return _run(tmp_path_factory.mktemp(name), CASES[name])

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(CASES, pool.map(run, CASES), strict=True))


@pytest.mark.parametrize(
    ("name", "code"),
    [("check-stdout-closed", 0), ("diff-stdout-closed", 0), ("lint-stdout-closed", 0)],
)
def test_a_closed_stdout_keeps_the_exit_code_and_writes_no_traceback(results, name, code):
    done = results[name].done
    assert (done.returncode, done.stderr) == (code, "")


def test_a_render_with_every_stream_closed_writes_its_files_and_only_them(results):
    result = results["render-all-closed"]
    assert result.done.returncode == 0
    assert b"a: b" in result.files["s/s/configmap-c.yaml"]
    assert all(data.startswith(b"# Generated by kubegen") for data in result.files.values())


def test_an_error_with_stdout_closed_is_still_one_message(results):
    done = results["error-stdout-closed"].done
    assert done.returncode == 2
    assert done.stderr.startswith("error: stacks/s/__init__.py:5: build() raised: ValueError")
    assert "Traceback" not in done.stderr


def test_a_thread_the_stack_leaves_running_does_not_hold_the_process(results):
    done = results["thread-left-running"].done  # the fixture's timeout fails a hang
    assert done.returncode == 0, done.stderr
    assert done.stdout == "s: output/s: 5 created, 0 changed, 0 removed, 0 unchanged\n"
    assert done.stderr.startswith("warning: 1 thread(s) the stack started still run 5 s after")
    assert "Thread-1 (spin) (stacks/s/__init__.py:7)" in done.stderr and "\n  Fix: " in done.stderr


def test_the_child_of_a_fork_in_the_stack_renders_nothing(results):
    result = results["fork"]
    assert result.done.returncode == 0, result.done.stderr
    assert result.done.stdout.count("created") == 1
    assert b"who: parent" in result.files["s/s/configmap-c.yaml"]


@pytest.mark.parametrize(
    ("name", "summary"),
    [
        ("raises-keyboard-interrupt", "build() raised: KeyboardInterrupt"),
        ("raises-generator-exit", "build() raised: GeneratorExit"),
        ("raises-own-base-exception", "build() raised: s.Odd: weird"),
    ],
)
def test_base_exceptions_of_the_stack_are_one_located_message(results, name, summary):
    result = results[name]
    done = result.done
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: stacks/s/__init__.py:5: {summary}"), done.stderr
    assert "Traceback" not in done.stderr and "\n  Fix: " in done.stderr
    assert result.files == {}


MANY = """
import os
import signal

from kubegen import ConfigMap, Stack

def build():
    version = os.environ["KG_VERSION"]
    if os.environ.get("KG_IGNORE"):  # a stack that would make kubegen deaf to the signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stack = Stack("s", namespace="s")
    for i in range(400):
        stack.add(ConfigMap(f"c{i:03d}", data={"v": version * 200}))
    return stack
"""


@pytest.mark.parametrize("ignored_by_stack", [False, True])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_staging_rolls_back_with_one_message(tmp_path, signum, ignored_by_stack):
    """SIGTERM (a CI timeout, ``kill``) like Ctrl-C: the render stops, its staging goes, the
    folder stays as it was, and the next render needs no repair; also when the stack's code
    set the signal to be ignored (kubegen's handlers are back once it returns)."""
    project = make_project(tmp_path / "proj")
    write_stack(project, "s", MANY)
    output = project / "output"
    first = run_kubegen("render", "stacks/s", cwd=project, env=kubegen_env(KG_VERSION="a"))
    assert first.returncode == 0, first.stderr
    before = snapshot(output / "s")
    process = subprocess.Popen(
        kubegen_cmd("render", "stacks/s"), cwd=project,
        env=kubegen_env(KG_VERSION="b", KG_IGNORE="1" if ignored_by_stack else ""),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    while process.poll() is None and not leftovers(output):
        time.sleep(0.0005)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr  # staging is seconds long: caught in it
    assert stderr == (
        f"error: interrupted by {signal.Signals(signum).name}\n  Fix: run the command again (an "
        "interrupted render leaves output/ as it was before or after, never a mix)\n"
    )
    assert leftovers(output) == [] and snapshot(output / "s") == before
    again = run_kubegen("render", "stacks/s", cwd=project, env=kubegen_env(KG_VERSION="b"))
    assert again.returncode == 0 and "repaired" not in again.stderr, again.stderr


@pytest.mark.parametrize("name", sorted(LEAVES))
def test_what_a_stack_does_to_the_interpreter_does_not_reach_kubegen(results, name):
    """sys.path, the recursion limit, sys.stdout/stderr and the umask are kubegen's again
    once the stack's code returns: the render works and its files are readable."""
    result = results[f"leaves-{name}"]
    assert result.done.returncode == 0, result.done.stderr
    assert result.done.stdout == "s: output/s: 5 created, 0 changed, 0 removed, 0 unchanged\n"
    path = result.project / "output" / "s" / "s" / "configmap-c.yaml"
    assert path.stat().st_mode & 0o644 == 0o644
    assert (path.parent.stat().st_mode & 0o755) == 0o755
