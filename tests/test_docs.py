"""Every Python example in ``docs/*.md`` runs, so the documentation cannot rot.

Convention for documentation pages (one page per builder, e.g. ``docs/gitops.md``):

- Every fenced block opened with ```` ```python ```` is a **self-contained program**: it imports
  what it uses from ``kubegen``, builds a ``Stack``, renders it in memory with the public
  ``render(stack)`` (``{relative path: text}``, exactly what ``kubegen render`` would write,
  after the same policy gate) and
  **asserts** something the page shows (a field value, a file name, an error message).
  Blocks share nothing: each runs in a fresh namespace, compiled without this file's
  ``from __future__`` flags, so it behaves like a user's stack module.
- A ```` ```yaml ```` block that starts with kubegen's generated-by header shows rendered output:
  it must be, byte for byte, one of the files the closest ```` ```python ```` block above it left
  in its variable ``files``. So shown YAML cannot drift from what kubegen renders either.
- A ```` ```mermaid ```` block whose second line is ``%% kubegen graph: <env>`` must be exactly
  what ``kubegen graph stacks/<env>`` prints for this repository's example stacks.
- A ```` ```console ```` block that starts with ``$ kubegen access stacks/<env>`` must show
  exactly what that command prints in this repository.
- Snippets that must not run use another info string: ```` ```pycon ````, ```` ```console ````,
  ```` ```yaml ```` (without the header), ```` ```text ````.
- Blocks run in-process with a temporary working directory (a block must not rely on the repo's
  files), which holds the committed upstream data its page is given in ``PAGE_DATA`` (the
  worked example of ``third-party.md`` runs on the real ``helm template`` output of the
  cert-manager chart as ``vendor/cert-manager/``). Line numbers in tracebacks are those of the
  Markdown file, so a failing example is reported as ``docs/<page>.md:<line>``; the test id is
  ``<page>.md:<line of the fence>``.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kubegen._render.layout import HEADER

DOCS = Path(__file__).resolve().parent.parent / "docs"
_DATA = Path(__file__).resolve().parent / "data"
#: page → {folder in the block's working directory: committed test data copied there}
PAGE_DATA = {
    "third-party.md": {"vendor/cert-manager": _DATA / "vendor" / "cert-manager-v1.16.2-helm"},
}
_FENCE = re.compile(r"^```(python|yaml)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


@dataclass(frozen=True)
class Example:
    """One runnable block: its page, the line of its first code line, and its source.

    ``shows`` holds the rendered-output YAML blocks that follow it (before the next example).
    """

    page: Path
    line: int
    source: str
    shows: list[tuple[int, str]] = field(default_factory=list, compare=False)

    @property
    def id(self) -> str:
        return f"{self.page.name}:{self.line - 1}"


def examples(folder: Path = DOCS) -> list[Example]:
    """Every ```python block of every page in ``folder``, in file and line order."""
    found: list[Example] = []
    for page in sorted(folder.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        current: Example | None = None
        for match in _FENCE.finditer(text):
            first_line = text.count("\n", 0, match.start(2)) + 1
            lang, body = match.group(1), match.group(2)
            if lang == "python":
                current = Example(page, first_line, body)
                found.append(current)
            elif body.startswith(HEADER):
                assert current is not None, (
                    f"{page.name}:{first_line - 1}: rendered YAML needs a python example above it"
                )
                current.shows.append((first_line - 1, body))
    return found


EXAMPLES = examples()


def test_the_docs_have_examples():
    assert EXAMPLES, f"no ```python blocks found in {DOCS}"


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example_runs(example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert re.search(r"^\s*assert\b", example.source, re.M), (
        f"{example.id}: an example must assert something it shows"
    )
    monkeypatch.chdir(tmp_path)
    for folder, data in PAGE_DATA.get(example.page.name, {}).items():
        shutil.copytree(data, tmp_path / folder)
    namespace = _run(example)
    _check_shown_yaml(example, namespace)


def _run(example: Example) -> dict[str, Any]:
    padded = "\n" * (example.line - 1) + example.source  # tracebacks show Markdown line numbers
    name = example.page.relative_to(example.page.parent.parent).as_posix()
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    exec(compile(padded, name, "exec", dont_inherit=True), namespace)
    return namespace


def _check_shown_yaml(example: Example, namespace: dict[str, Any]) -> None:
    if not example.shows:
        return
    files = namespace.get("files")
    assert isinstance(files, dict), (
        f"{example.id}: the rendered YAML shown below it needs the example to keep `files`"
    )
    rendered = {c.decode() if isinstance(c, bytes) else c for c in files.values()}
    for line, shown in example.shows:
        assert shown in rendered, (
            f"{example.page.name}:{line}: this YAML is not what the example above renders; "
            "paste the current output"
        )


_GRAPH = re.compile(
    r"^```mermaid[ \t]*\n(flowchart LR\n  %% kubegen graph: (\S+)\n.*?)^```", re.M | re.S
)
GRAPHS = [
    (page, env, body)
    for page in sorted(DOCS.glob("*.md"))
    for body, env in _GRAPH.findall(page.read_text(encoding="utf-8"))
]


def test_the_network_page_shows_the_example_graph():
    assert [(page.name, env) for page, env, _ in GRAPHS] == [("network.md", "prod")]


@pytest.mark.parametrize(
    ("page", "env", "shown"), GRAPHS, ids=[f"{p.name}:{e}" for p, e, _ in GRAPHS]
)
def test_shown_graph_is_current(page: Path, env: str, shown: str):
    from kubegen._cli.graph import Format, graph_text

    stack = DOCS.parent / "stacks" / env
    assert graph_text([stack], Format.mermaid) == shown, (
        f"{page.name}: the graph of stacks/{env} changed; paste `kubegen graph stacks/{env}`"
    )


_ACCESS = re.compile(r"^```console[ \t]*\n\$ kubegen access (stacks/\S+)\n(.*?)^```", re.M | re.S)
ACCESS = [
    (page, stack, body)
    for page in sorted(DOCS.glob("*.md"))
    for stack, body in _ACCESS.findall(page.read_text(encoding="utf-8"))
]


def test_the_rbac_page_shows_the_example_access_table():
    assert [(page.name, stack) for page, stack, _ in ACCESS] == [("rbac.md", "stacks/prod")]


@pytest.mark.parametrize(
    ("page", "stack", "shown"), ACCESS, ids=[f"{p.name}:{s}" for p, s, _ in ACCESS]
)
def test_shown_access_table_is_current(
    page: Path, stack: str, shown: str, monkeypatch: pytest.MonkeyPatch
):
    from typer.testing import CliRunner

    from kubegen._cli.app import app

    monkeypatch.chdir(DOCS.parent)
    result = CliRunner().invoke(app, ["access", stack])
    assert (result.exit_code, result.stdout) == (0, shown), (
        f"{page.name}: `kubegen access {stack}` prints something else now; paste its output"
    )


def test_harness_finds_blocks_and_reports_markdown_lines(tmp_path: Path):
    page = tmp_path / "docs" / "page.md"
    page.parent.mkdir()
    page.write_text(
        "# T\n\n```python\nx = 1\n```\n\n```pycon\n>>> 1\n```\n\n"
        "```python\ny = 2\nassert y == 3\n```\n"
    )
    found = examples(page.parent)
    assert [(e.id, e.line, e.source) for e in found] == [
        ("page.md:3", 4, "x = 1\n"),
        ("page.md:11", 12, "y = 2\nassert y == 3\n"),
    ]
    with pytest.raises(AssertionError) as info:
        _run(found[1])
    frame = info.traceback[-1]
    assert (Path(str(frame.path)).as_posix(), frame.lineno + 1) == ("docs/page.md", 13)


def test_shown_yaml_must_be_rendered_output(tmp_path: Path):
    page = tmp_path / "docs" / "page.md"
    page.parent.mkdir()
    shown = HEADER + "kind: Namespace\n"
    page.write_text(
        "```python\nfiles = {'a.yaml': " + repr(shown.encode()) + "}\nassert files\n```\n\n"
        f"```yaml\n{shown}```\n\n```yaml\nnot: rendered output\n```\n\n"
        f"```python\nfiles = {{}}\nassert True\n```\n\n```yaml\n{shown}```\n"
    )
    first, second = examples(page.parent)
    assert [line for line, _ in first.shows] == [6]
    _check_shown_yaml(first, _run(first))
    with pytest.raises(AssertionError, match=re.escape("page.md:20: this YAML is not what")):
        _check_shown_yaml(second, _run(second))


def test_python_dataclasses_work_in_examples(tmp_path: Path):
    page = tmp_path / "docs" / "page.md"
    page.parent.mkdir()
    page.write_text(
        "```python\nfrom dataclasses import dataclass\n\n\n@dataclass\nclass Env:\n"
        "    name: str\n\n\nassert Env('dev').name == 'dev'\n```\n"
    )
    (example,) = examples(page.parent)
    _run(example)


_CODE_BLOCK = re.compile(r"^```(python|pycon)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
_PUBLIC_DUNDERS = frozenset({"__file__", "__version__", "__all__", "__name__"})


def private_uses(source: str, lang: str = "python") -> list[str]:
    """Names an example takes from kubegen that are not public API (``kubegen.__all__``)."""
    import ast

    import kubegen

    if lang != "python":  # interactive snippets: only their import lines are plain Python
        lines = [line[4:] for line in source.splitlines() if line.startswith((">>> ", "... "))]
        source = "\n".join(lines)
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "kubegen":
            if node.module != "kubegen":
                found.append(f"from {node.module} import ...")
            else:
                found += [f"kubegen.{a.name}" for a in node.names if a.name not in kubegen.__all__]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("kubegen.")]
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id == "kubegen"
              and node.attr not in kubegen.__all__ and node.attr not in _PUBLIC_DUNDERS):
            found.append(f"kubegen.{node.attr}")
    return found


PAGES = [*sorted(DOCS.glob("*.md")), DOCS.parent / "README.md"]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_examples_use_only_public_names(page: Path):
    text = page.read_text(encoding="utf-8")
    for match in _CODE_BLOCK.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        uses = private_uses(match.group(2), match.group(1))
        assert not uses, f"{page.name}:{line}: examples use public names only; found {uses}"


def test_private_uses_are_found():
    assert private_uses("from kubegen._files.writer import write_env\n") == [
        "from kubegen._files.writer import ..."
    ]
    assert private_uses("import kubegen._policy\nimport kubegen\nkubegen._api.render(s)\n") == [
        "kubegen._policy", "kubegen._api"
    ]
    assert private_uses("from kubegen import Stack, render_files\n") == ["kubegen.render_files"]
    assert private_uses(">>> from kubegen._x import y\n", "pycon") == ["from kubegen._x import ..."]
    assert private_uses("from kubegen import Stack, check, write\nkubegen.__file__\n") == []
