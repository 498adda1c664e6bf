"""Users' stacks type-check: ``mypy --strict`` accepts kubegen's documented calls, refuses misuse.

Users run mypy without configuring the pydantic plugin, so that is the case that matters; our
own pyproject enables the plugin for ``kubegen/``, so the same files are checked with it too.
One mypy run per variant covers ``stacks/``, ``tests/data/typed_usage.py`` (every public builder
as documented, no error allowed) and ``tests/data/typed_misuse.py`` (exactly the errors its
``# E: <codes>`` comments name).
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import signature_rules

REPO = Path(__file__).resolve().parent.parent
USAGE = REPO / "tests" / "data" / "typed_usage.py"
MISUSE = REPO / "tests" / "data" / "typed_misuse.py"
STACKS = sorted((REPO / "stacks").glob("*/__init__.py"))

_ERROR = re.compile(
    r"^(?P<file>[^:\n]+):(?P<line>\d+): error: (?P<message>.*?)  \[(?P<code>[\w-]+)\]$"
)
_EXPECTED = re.compile(r"# E: (?P<codes>[\w-]+(?:, [\w-]+)*)$")


@dataclass(frozen=True)
class Error:
    """One mypy error: the file relative to the repository, its line and error code."""

    file: str
    line: int
    code: str
    message: str


VARIANTS = {"no plugin": [], "pydantic plugin": ["plugins = pydantic.mypy"]}


@pytest.fixture(scope="module")
def mypy_runs(tmp_path_factory) -> Iterator[dict[str, subprocess.Popen[str]]]:
    """Start ``mypy --strict`` for each variant at once (each takes ~10 s, mostly kubegen).

    Separate processes run in parallel and keep mypy's module-level state out of pytest.
    """
    runs = {}
    files = [_relative(path) for path in (*STACKS, USAGE, MISUSE)]
    for variant, extra in VARIANTS.items():
        tmp = tmp_path_factory.mktemp("mypy")
        config = tmp / "mypy.ini"
        lines = ["[mypy]", "strict = True", "python_version = 3.11", f"mypy_path = {REPO}"]
        config.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")
        command = [sys.executable, "-m", "mypy", "--config-file", str(config),
                   "--cache-dir", str(tmp / "cache"), *files]
        runs[variant] = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    yield runs
    for run in runs.values():
        if run.poll() is None:  # its tests were deselected
            run.kill()
        run.communicate()


@pytest.fixture(scope="module", params=list(VARIANTS))
def mypy_errors(request, mypy_runs) -> list[Error]:
    """The errors of one variant's run, parsed."""
    stdout, stderr = mypy_runs[request.param].communicate(timeout=300)
    assert stderr == ""
    assert "error:" in stdout  # the misuse file, at least: mypy did check something
    return [
        Error(m["file"], int(m["line"]), m["code"], m["message"])
        for m in map(_ERROR.match, stdout.splitlines())
        if m
    ]


def _relative(path: Path) -> str:
    return str(path.relative_to(REPO))


def test_stacks_and_documented_usage_type_check(mypy_errors):
    misuse = _relative(MISUSE)
    assert [e for e in mypy_errors if e.file != misuse] == []


def test_misuse_gets_exactly_the_expected_errors(mypy_errors):
    expected = {
        (number, code)
        for number, line in enumerate(MISUSE.read_text(encoding="utf-8").splitlines(), 1)
        if (match := _EXPECTED.search(line))
        for code in match["codes"].split(", ")
    }
    misuse = _relative(MISUSE)
    assert len(expected) >= 10
    assert {(e.line, e.code) for e in mypy_errors if e.file == misuse} == expected


def test_errors_name_the_keyword_and_its_type(mypy_errors):
    messages = {e.message for e in mypy_errors}
    assert 'Unexpected keyword argument "imagee" for "Deployment"; did you mean "image"?' in (
        messages
    )
    assert 'Argument "period" to "HttpProbe" has incompatible type "float"; expected ' in "\n".join(
        messages
    )


def test_usage_calls_every_public_builder():
    tree = ast.parse(USAGE.read_text(encoding="utf-8"))
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    builders = {cls.__name__ for cls in signature_rules.public_builders()}
    assert builders - called == set()


def test_usage_is_valid_at_run_time():
    spec = importlib.util.spec_from_file_location("typed_usage", USAGE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    kinds = {obj.body["kind"] for obj in module.build().objects()}
    assert {"Deployment", "StatefulSet", "DaemonSet", "CronJob", "NetworkPolicy"} <= kinds
