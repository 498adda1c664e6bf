"""Python source for ``kubegen import manifests``: builder calls and literals at 100 columns.

What fits on a line stays on it; otherwise one argument, list item or dict entry per line,
nested alike, as a person (and ruff's E501 at 100 columns) would write it. A string too long
for its line becomes parenthesized pieces (implicit concatenation, split after newlines or
spaces where it can be); a line that still cannot fit (a key nested deeper than a line is
wide) says ``# noqa: E501``. File modes stay octal.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from typing import Any

WIDTH = 100
_DEEP = 48
_URL_END = re.compile(r"https?://\S*$")
_PIECES = re.compile(r"[^\n ]*(?:\n| +|$)")


@functools.lru_cache(maxsize=512)
def literal(body: str, indent: int) -> str:
    """A JSON object as a Python literal starting at column ``indent``; cached, since the
    importer writes each one often."""
    return _value(json.loads(body), indent, indent, 0)


def fitted(code: str) -> str:
    """``code`` with ``# noqa: E501`` on each line ruff would still find too long (no line of
    it may be inside a string: the importer's code has no multi-line strings)."""
    return "\n".join(f"{line}  # noqa: E501" if _too_long(line) else line
                     for line in code.split("\n"))


def _too_long(line: str) -> bool:
    """Whether ruff's E501 flags ``line``: wider than :data:`WIDTH`, unless it is one "word"
    (no whitespace past the indentation) or ends with a URL that starts within the width
    (https://docs.astral.sh/ruff/rules/line-too-long/)."""
    if len(line) <= WIDTH or not re.search(r"\s", line.strip()):
        return False
    url = _URL_END.search(line)
    return url is None or url.start() >= WIDTH


def _value(value: Any, indent: int, used: int, tail: int) -> str:
    """``value`` at ``indent``, its first line already ``used`` wide, ``tail`` characters
    (a comma) following it."""
    out: list[str] = []
    _write(value, indent, used, tail, out)
    return "".join(out)


def _write(value: Any, indent: int, used: int, tail: int, out: list[str]) -> None:
    """:func:`_value` into ``out`` (fragments joined once: deep objects stay linear)."""
    if _fits(value, WIDTH - used - tail):
        out.append(repr(value))
        return
    pad = indent + (4 if indent < _DEEP else 1)  # deep objects (CRD schemas) nest narrower
    margin = "\n" + " " * pad
    if isinstance(value, dict) and value:
        out.append("{")
        for key, item in value.items():
            shown = f"{key!r}: "
            out.append(margin + shown)
            _write(item, pad, pad + len(shown), 1, out)
            out.append(",")
        out.append("\n" + " " * indent + "}")
        return
    if isinstance(value, list) and value:
        out.append("[")
        for item in value:
            out.append(margin)
            _write(item, pad, pad, 1, out)
            out.append(",")
        out.append("\n" + " " * indent + "]")
        return
    if isinstance(value, str):
        chunks = _chunks(value, WIDTH - pad)
        if chunks:  # on lines of their own, even one: it did not fit after its key
            out.append("(" + "".join(margin + repr(chunk) for chunk in chunks))
            out.append("\n" + " " * indent + ")")
            return
    out.append(repr(value))


def _fits(value: Any, room: int) -> bool:
    """Whether ``repr(value)`` is at most ``room`` wide, without writing out a big one."""
    return _width(value, room) <= room


def _width(value: Any, room: int) -> int:
    """The width of ``repr(value)``, or more than ``room`` once it is known to exceed it."""
    if isinstance(value, dict):
        total = 2 + max(0, 2 * (len(value) - 1))
        for key, item in value.items():
            total += len(repr(key)) + 2 + _width(item, room - total)
            if total > room:
                return total
        return total
    if isinstance(value, list):
        total = 2 + max(0, 2 * (len(value) - 1))
        for item in value:
            total += _width(item, room - total)
            if total > room:
                return total
        return total
    return len(repr(value))


def _chunks(text: str, width: int) -> list[str]:
    """``text`` in pieces whose reprs fit ``width``: cut after a newline or a space where one
    is near enough, else anywhere."""
    width = max(width, 20)  # nested deeper than a line is wide: that line says noqa
    out: list[str] = []
    current = ""
    for piece in _PIECES.findall(text):
        if not piece:
            continue
        if current and len(repr(current + piece)) > width:
            out.append(current)
            current = ""
        while piece and len(repr(piece)) > width:  # one word too long for a line: cut it
            size = max(1, width - 2)
            while size > 1 and len(repr(piece[:size])) > width:
                size -= 1
            if current:
                out.append(current)
                current = ""
            out.append(piece[:size])
            piece = piece[size:]
        current += piece
        if piece.endswith("\n"):  # a line of the text ends its piece of code too
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return out


def wrapped(call: str, indent: int, used: int | None = None) -> str:
    """A builder call as a person would write it: what fits on a line of 100 stays on it,
    else one argument (list item, dict entry) per line, nested calls alike; modes in octal.
    ``used``: the width of its first line before it (by default, room for ``x = stack.add(``
    and the closing ``)``)."""
    node = ast.parse(call, mode="eval").body
    return _code(node, indent, indent + len("stack.add()") + 6 if used is None else used)


def _flat(node: Any) -> str:
    if isinstance(node, ast.Call):
        return f"{ast.unparse(node.func)}({', '.join(_parts(node))})"
    if isinstance(node, ast.List):
        return f"[{', '.join(_flat(e) for e in node.elts)}]"
    return ast.unparse(node)


def _parts(node: Any) -> list[str]:
    parts = [_flat(arg) for arg in node.args]
    for kw in node.keywords:
        value = kw.value
        if kw.arg == "mode" and isinstance(value, ast.Constant) and isinstance(value.value, int):
            parts.append(f"mode={oct(value.value)}")
        else:
            parts.append(f"{kw.arg}={_flat(value)}")
    return parts


def _code(node: Any, indent: int, used: int) -> str:
    """``node`` at ``indent``, its first line already ``used`` columns wide."""
    text = _flat(node)
    if len(text) + used <= 100:
        return text
    pad = indent + 4
    lines: list[str] = []
    if isinstance(node, ast.Call):
        head, close = f"{ast.unparse(node.func)}(", ")"
        lines = [_code(arg, pad, pad + 1) for arg in node.args]
        for kw, flat in zip(node.keywords, _parts(node)[len(node.args):], strict=True):
            name = f"{kw.arg}="
            lines.append(flat if kw.arg == "mode" else
                         name + _code(kw.value, pad, pad + len(name) + 1))
    elif isinstance(node, ast.List):
        head, close = "[", "]"
        lines = [_code(e, pad, pad + 1) for e in node.elts]
    elif isinstance(node, ast.Dict) and None not in node.keys:
        head, close = "{", "}"
        for key, value in zip(node.keys, node.values, strict=True):
            shown = f"{_flat(key)}: "
            lines.append(shown + _code(value, pad, pad + len(shown) + 1))
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _value(node.value, indent, used, 1)
    else:
        return text
    inner = "".join(f"\n{' ' * pad}{line}," for line in lines)
    return f"{head}{inner}\n{' ' * indent}{close}"
