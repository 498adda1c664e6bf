"""Broken stacks: one clear message with the user's file:line, exit code 2, no traceback (and a
traceback with ``--debug``), through a real ``python -m kubegen`` process.

Every case runs once, all processes in parallel (a module fixture), then each test reads its
result. ``# <-`` marks the line a message must name.
"""

from __future__ import annotations

import subprocess
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from reliability_support import kubegen_cmd, kubegen_env, make_project, snapshot


@dataclass(frozen=True)
class Case:
    """A stack (files under stacks/) rendered with ``args``; the message must hold ``expect``."""

    files: dict[str, str]
    expect: tuple[str, ...]
    target: str = "stacks/broken"
    marked: str | None = "stacks/broken/__init__.py"  # the file whose `# <-` line is named
    debug: bool = False
    ok: bool = False  # the render must succeed (stacks named like Python modules)


_OK_SHARED = "from kubegen import ConfigMap, Stack\n"

STDLIB_NAMED = """
import json

from kubegen import ConfigMap, Stack

def build():
    stack = Stack("s", namespace="s")
    stack.add(ConfigMap("c", data={"json": json.dumps([1])}))
    return stack
"""

CASES: dict[str, Case] = {
    "syntax": Case(
        {"broken/__init__.py": "from kubegen import Stack\n\ndef build(:  # <-\n    pass\n"},
        ("syntax error",),
    ),
    "import-missing-module": Case(
        {"broken/__init__.py": "import os\nimport no_such_module_kg  # <-\n"},
        ("ModuleNotFoundError", "no_such_module_kg"),
    ),
    "shared-module-raises": Case(
        {
            "broken/__init__.py": "from shared import value\n",
            "shared/__init__.py": "x = 1\nvalue = 1 / 0  # <-\n",
        },
        ("ZeroDivisionError",),
        marked="stacks/shared/__init__.py",
    ),
    "module-level-exception": Case(
        {"broken/__init__.py": "import os\nos.environ['KG_NOPE']  # <-\n"},
        ("importing the stack raised", "KeyError"),
    ),
    "build-raises": Case(
        {
            "broken/__init__.py": _OK_SHARED
            + "def build():\n    stack = Stack('s', namespace='s')\n"
            + "    stack.add(ConfigMap('c'))\n    raise RuntimeError('boom')  # <-\n"
        },
        ("build() raised", "RuntimeError: boom"),
    ),
    "recursion": Case(
        {
            "broken/__init__.py": "def again(n):\n    return again(n + 1) + 1  # <-\n\n"
            + "def build():\n    return again(0)\n"
        },
        ("RecursionError",),
    ),
    "returns-none": Case(
        {"broken/__init__.py": "def build():  # <-\n    stack = 1\n"},
        ("build() returned NoneType, not a Stack",),
    ),
    "returns-list": Case(
        {"broken/__init__.py": _OK_SHARED + "def build():  # <-\n    return [ConfigMap('c')]\n"},
        ("build() returned a list of ConfigMap, not of Stacks",),
    ),
    "no-build": Case(
        {"broken/__init__.py": "def bild():\n    pass\n"}, ("no build() function",), marked=None
    ),
    "build-not-callable": Case(
        {"broken/__init__.py": "build = 3\n"}, ("no build() function",), marked=None
    ),
    "build-wants-arguments": Case(
        {"broken/__init__.py": "def build(env):  # <-\n    pass\n"},
        ("TypeError", "missing 1 required positional argument"),
    ),
    "sys-exit": Case(
        {"broken/__init__.py": "import sys\n\ndef build():\n    sys.exit(3)  # <-\n"},
        ("SystemExit(3)",),
    ),
    "resource-subclass-raises": Case(
        {
            "broken/__init__.py": "from kubegen import Resource, Stack\n\n"
            + "class Mine(Resource):\n    kind = 'Mine'\n    api_version = 'v1'\n\n"
            + "    def manifests(self):\n        return [self.nope]  # <-\n\n"
            + "def build():\n    stack = Stack('s', namespace='s')\n"
            + "    stack.add(Mine('m'))\n    return stack\n"
        },
        ("AttributeError", "nope"),
    ),
    "objects-returns-garbage": Case(
        {
            "broken/__init__.py": "from kubegen import Stack\n\n"
            + "class Mine(Stack):\n    def objects(self):  # <-\n"
            + "        return [1, 'a', None]\n\n"
            + "def build():\n    return Mine('s', namespace='s')\n"
        },
        ("Mine.objects() returned a list holding int, not a list of manifest objects",),
    ),
    "objects-returns-a-number": Case(
        {
            "broken/__init__.py": "from kubegen import Stack\n\n"
            + "class Mine(Stack):\n    def objects(self):  # <-\n        return 42\n\n"
            + "def build():\n    return Mine('s', namespace='s')\n"
        },
        ("Mine.objects() returned int",),
    ),
    "null-byte": Case({"broken/__init__.py": "x = 1\0\n"}, ("null bytes",), marked=None),
    "not-utf8": Case({"broken/__init__.py": "x = '\udcff'\n"}, ("syntax error",), marked=None),
    "missing-path": Case(
        {"dev/__init__.py": "x = 1\n"}, ("does not exist", "dev"), target="stacks/prod", marked=None
    ),
    "folder-without-init": Case(
        {"broken/readme.txt": "hi\n"}, ("without __init__.py",), marked=None
    ),
    "not-python": Case(
        {"broken/__init__.py": "x = 1\n"},
        ("not a Python file",),
        target="stacks/broken/__init__.pyc",
        marked=None,
    ),
    "hidden-name": Case(
        {"broken/__init__.py": "x = 1\n"},
        ("hidden folder",),
        target="stacks/.hidden.py",
        marked=None,
    ),
    **{
        f"named-{env}": Case(
            {f"{env}/__init__.py": STDLIB_NAMED}, (), target=f"stacks/{env}", marked=None, ok=True
        )
        for env in ("json", "kubegen", "platform", "typer")
    },
    "init-file-is-its-package": Case(
        {"broken/__init__.py": STDLIB_NAMED},
        (),
        target="stacks/broken/__init__.py",  # what tab completion gives: renders output/broken
        marked=None,
        ok=True,
    ),
    "debug-build-raises": Case(
        {"broken/__init__.py": "def build():\n    raise RuntimeError('boom')  # <-\n"},
        ("RuntimeError: boom",),
        debug=True,
    ),
    "debug-syntax": Case(
        {"broken/__init__.py": "def build(:  # <-\n"}, ("syntax error",), debug=True
    ),
}


def _write(project: Path, case: Case) -> None:
    for rel, source in case.files.items():
        path = project / "stacks" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if "\udcff" in source:
            path.write_bytes(source.encode("utf-8", "surrogateescape"))
        else:
            path.write_text(textwrap.dedent(source))
    if case.target.endswith(".pyc"):
        (project / case.target).write_bytes(b"\0\0\0\0")
    if case.target.endswith(".hidden.py"):
        (project / case.target).write_text("def build():\n    pass\n")


def _marked_line(project: Path, case: Case) -> str | None:
    if case.marked is None:
        return None
    lines = (project / case.marked).read_text().splitlines()
    [number] = [i for i, line in enumerate(lines, 1) if line.endswith("# <-")]
    return f"{case.marked}:{number}"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess[str], str | None]]:
    def run(name: str) -> tuple[subprocess.CompletedProcess[str], str | None]:
        case = CASES[name]
        project = make_project(tmp_path_factory.mktemp(name))
        _write(project, case)
        debug = ["--debug"] if case.debug else []
        done = subprocess.run(
            kubegen_cmd(*debug, "render", case.target),
            cwd=project,
            env=kubegen_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        written = snapshot(project / "output")
        if case.ok:
            assert b"[1]" in written[f"{case.target.split('/')[1]}/s/configmap-c.yaml"]
        else:
            assert written == {}
        return done, _marked_line(project, case)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(CASES, pool.map(run, CASES), strict=True))


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if not (c.debug or c.ok)])
def test_broken_stack_gives_one_located_message(results, name):
    done, location = results[name]
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith("error: ")
    assert [ln for ln in done.stderr.splitlines() if ln.startswith("error: ")] == [
        done.stderr.splitlines()[0]
    ]
    assert "Traceback" not in done.stderr
    for text in CASES[name].expect:
        assert text in done.stderr
    if location is not None:
        assert done.stderr.startswith(f"error: {location}: "), done.stderr


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.debug])
def test_debug_shows_the_traceback_of_the_users_code(results, name):
    done, location = results[name]
    assert done.returncode == 2
    assert "Traceback (most recent call last)" in done.stderr
    assert location is not None
    file, line = location.rsplit(":", 1)
    assert f'{Path(file).name}", line {line}' in done.stderr
    assert done.stderr.rstrip().splitlines()[-2].startswith("error: ") or any(
        line.startswith("error: ") for line in done.stderr.splitlines()
    )
    for text in CASES[name].expect:
        assert text in done.stderr


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.ok])
def test_stack_named_like_a_module_does_not_replace_it(results, name):
    """``stacks/json``, ``stacks/kubegen``…: the stack never shadows the module kubegen uses."""
    done, _ = results[name]
    assert done.returncode == 0, done.stderr
