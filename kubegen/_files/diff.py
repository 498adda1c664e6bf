"""Unified diffs between the files on disk and what the code renders now."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from kubegen._files.tree import Changes, EnvTree


def unified_diff(label: str, tree: EnvTree, rendered: dict[str, bytes], changes: Changes) -> str:
    """A ``git diff``-like text for created, changed and removed files under ``label``."""
    return "".join(_hunks(label, tree, rendered, changes))


def _hunks(
    label: str, tree: EnvTree, rendered: dict[str, bytes], changes: Changes
) -> Iterator[str]:
    for path in sorted(changes.created + changes.changed + changes.removed):
        old = tree.owned.get(path)
        new = rendered.get(path)
        old_lines = _lines(old)
        new_lines = _lines(new)
        yield from difflib.unified_diff(
            old_lines,
            new_lines,
            fromfile=f"a/{label}/{path}" if old is not None else "/dev/null",
            tofile=f"b/{label}/{path}" if new is not None else "/dev/null",
        )


def _lines(data: bytes | None) -> list[str]:
    if data is None:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines
