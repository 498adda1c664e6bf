"""Every Python example in ``docs/*.md`` runs, so the documentation cannot rot.

Convention for documentation pages (one page per builder, e.g. ``docs/gitops.md``):

- Every fenced block opened with ```` ```python ```` is a **self-contained program**: it imports
  what it uses from ``kubegen``, builds a ``Stack``, renders it in memory with
  ``render_files(stack.objects())`` (``from kubegen._render.files import render_files``; it
  returns ``{relative path: bytes}``, exactly what ``kubegen render`` would write) and
  **asserts** something the page shows (a field value, a file name, an error message).
  Blocks share nothing: each runs in a fresh namespace.
- Snippets that must not run use another info string: ```` ```pycon ````, ```` ```console ````,
  ```` ```yaml ````, ```` ```text ````.
- Blocks run in-process with a temporary working directory (a block must not rely on the repo's
  files). Line numbers in tracebacks are those of the Markdown file, so a failing example is
  reported as ``docs/<page>.md:<line>``; the test id is ``<page>.md:<line of the fence>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


@dataclass(frozen=True)
class Example:
    """One runnable block: its page, the line of its first code line, and its source."""

    page: Path
    line: int
    source: str

    @property
    def id(self) -> str:
        return f"{self.page.name}:{self.line - 1}"


def examples(folder: Path = DOCS) -> list[Example]:
    """Every ```python block of every page in ``folder``, in file and line order."""
    found: list[Example] = []
    for page in sorted(folder.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            first_line = text.count("\n", 0, match.start(1)) + 1
            found.append(Example(page, first_line, match.group(1)))
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
    _run(example)


def _run(example: Example) -> None:
    padded = "\n" * (example.line - 1) + example.source  # tracebacks show Markdown line numbers
    name = example.page.relative_to(example.page.parent.parent).as_posix()
    exec(compile(padded, name, "exec"), {"__name__": "__docs__"})


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
