"""Read kubegen's YAML files back into the data they were written from.

``kubegen review`` compares the objects committed at a git ref with what the code renders now,
so it parses the committed files. They are almost always kubegen's own output, written by
:func:`kubegen._render.yaml_emitter.dump` in a small fixed style: block mappings, kubectl-style
sequences, ``{}``/``[]``, plain scalars that can only mean what they say (every string a YAML
parser could read as something else is double-quoted), double-quoted strings with a fixed set of
escapes, and ``|`` literals. :func:`read_document` parses exactly that style, line by line,
several times faster than a general YAML parser in Python, and gives back what was dumped,
types included (``read(dump(x)) == x`` is a property test). A file in any other style (edited
by hand, written by an older version) goes to the general reader of third-party YAML
(:mod:`kubegen._vendor.yaml_reader`, YAML 1.1 scalars as kubectl reads them), so every valid
file is read as the cluster would; only the speed differs.
"""

from __future__ import annotations

import re
from typing import Any

from kubegen._render.yaml_emitter import _is_plain

__all__ = ["UnreadableYaml", "read_document"]


class UnreadableYaml(ValueError):
    """The text is not one YAML mapping (the message says why)."""


class _OtherStyle(Exception):
    """Not the emitter's style: let the general parser decide."""


_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"-?[0-9]+\.[0-9]+(?:e[-+][0-9]+)?\Z")
_LITERAL = re.compile(r"\|(2?)([-+]?)\Z")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")
_SIMPLE_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r", "0": "\0"}
_WORDS: dict[str, Any] = {"true": True, "false": False, "null": None}


def read_document(text: str | bytes) -> dict[str, Any]:
    """The mapping one YAML file holds (leading ``#`` comment lines, such as kubegen's header,
    are skipped).

    Raises:
        UnreadableYaml: the text is not valid YAML, or not a single mapping.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnreadableYaml(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return _Reader(text).document()
    except _OtherStyle:
        return _general(text)


def _general(text: str) -> dict[str, Any]:
    """Any other YAML, read the way kubectl reads it (:mod:`kubegen._vendor.yaml_reader`)."""
    from kubegen._values import InvalidValue
    from kubegen._vendor.yaml_reader import read_documents

    try:
        documents = read_documents(text)
    except InvalidValue as exc:
        raise UnreadableYaml(f"invalid YAML: {exc.message}") from None
    if len(documents) != 1 or not isinstance(documents[0].data, dict):
        raise UnreadableYaml(f"expected one mapping, found {len(documents)} document(s)")
    data: dict[str, Any] = documents[0].data
    return data


class _Reader:
    """A recursive descent over the lines of one document in the emitter's style."""

    def __init__(self, text: str) -> None:
        lines = text.split("\n")
        if lines[-1] != "":
            raise _OtherStyle  # the emitter ends every document with a newline
        lines.pop()
        start = 0
        while start < len(lines) and lines[start].startswith("#"):
            start += 1
        self.lines = lines
        self.i = start

    def document(self) -> dict[str, Any]:
        if self.i < len(self.lines) and self.lines[self.i] == "{}":
            self.i += 1
            result: dict[str, Any] = {}
        else:
            result = self.mapping(0, None)
        if self.i != len(self.lines):
            raise _OtherStyle
        return result

    def _indent(self, i: int) -> int:
        line = self.lines[i]
        return len(line) - len(line.lstrip(" "))

    def mapping(self, indent: int, first: str | None) -> dict[str, Any]:
        """Entries at ``indent``; ``first`` is the entry already read off a sequence dash."""
        out: dict[str, Any] = {}
        if first is not None:
            self.i += 1
            key, value = self.entry(first, indent)
            out[key] = value
        lines = self.lines
        while self.i < len(lines):
            line = lines[self.i]
            depth = self._indent(self.i)
            if depth < indent:
                break
            text = line[indent:]
            if depth > indent or text.startswith("- ") or not text:
                raise _OtherStyle
            self.i += 1
            key, value = self.entry(text, indent)
            if key in out:
                raise _OtherStyle  # a duplicate key: the general parser says what it means
            out[key] = value
        if not out:
            raise _OtherStyle
        return out

    def entry(self, text: str, indent: int) -> tuple[str, Any]:
        """``key: value`` (the line is consumed; nested content follows it)."""
        if text[0] == '"':
            match = _QUOTED.match(text)
            if match is None:
                raise _OtherStyle
            key, rest = _unescape(match.group(1)), text[match.end() :]
            if not rest.startswith(":"):
                raise _OtherStyle
            rest = rest[1:]
        else:
            cut = text.find(": ")
            if cut < 0:
                if not text.endswith(":"):
                    raise _OtherStyle
                cut = len(text) - 1
            key, rest = text[:cut], text[cut + 1 :]
            if not _is_plain(key):
                raise _OtherStyle  # the emitter would have quoted it
        if not rest:
            return key, self.nested(indent)
        if rest[0] != " ":
            raise _OtherStyle
        return key, self.value(rest[1:], indent + 2)

    def nested(self, indent: int) -> Any:
        """What follows ``key:`` on the next lines: a sequence at ``indent`` or a mapping below."""
        if self.i >= len(self.lines):
            raise _OtherStyle
        depth = self._indent(self.i)
        text = self.lines[self.i][depth:]
        if depth == indent and text.startswith("- "):
            return self.sequence(indent)
        if depth == indent + 2:
            return self.mapping(indent + 2, None)
        raise _OtherStyle

    def sequence(self, indent: int, first: str | None = None) -> list[Any]:
        """Items at ``indent``; ``first`` is the item already read off an outer dash."""
        out: list[Any] = []
        lines = self.lines
        if first is not None:
            out.append(self.item(first, indent))
        while self.i < len(lines):
            depth = self._indent(self.i)
            text = lines[self.i][depth:]
            if depth != indent or not text.startswith("- "):
                if depth > indent:
                    raise _OtherStyle
                break
            out.append(self.item(text[2:], indent))
        return out

    def item(self, text: str, indent: int) -> Any:
        """One sequence item whose text follows ``- `` on the current line."""
        inner = indent + 2
        if text.startswith("- "):
            return self.sequence(inner, text[2:])
        if text[0] == '"':
            match = _QUOTED.match(text)
            if match is None:
                raise _OtherStyle
            if match.end() == len(text):
                self.i += 1
                return _unescape(match.group(1))
            return self.mapping(inner, text)
        if ": " in text or text.endswith(":"):
            return self.mapping(inner, text)
        self.i += 1
        return self.value(text, inner)

    def value(self, text: str, inner: int) -> Any:
        """A scalar, ``{}``/``[]`` or literal; the line holding it is already consumed."""
        first = text[0]
        if first == '"':
            match = _QUOTED.fullmatch(text)
            if match is None:
                raise _OtherStyle
            return _unescape(match.group(1))
        if first == "|":
            return self.literal(text, inner)
        if text == "{}":
            return {}
        if text == "[]":
            return []
        return _plain(text)

    def literal(self, header: str, indent: int) -> str:
        """A ``|`` block whose content lines are indented by ``indent``."""
        match = _LITERAL.match(header)
        if match is None:
            raise _OtherStyle
        lines, pad = self.lines, " " * indent
        body: list[str] = []
        while self.i < len(lines):
            line = lines[self.i]
            if line and not line.startswith(pad):
                break
            body.append(line[indent:])
            self.i += 1
        if not body or (not match.group(1) and body[0][:1] in ("", " ")):
            raise _OtherStyle  # the indentation would be guessed from the first line
        if not body[-1] and match.group(2) != "+":
            raise _OtherStyle  # trailing blank lines are only written with "+"
        text = "\n".join(body)
        return text if match.group(2) == "-" else text + "\n"


def _plain(text: str) -> Any:
    """A plain scalar as the emitter writes one: true/false/null, an int, a float or a string
    it would not have quoted; anything else was written by someone else."""
    word = _WORDS.get(text, text)
    if word is not text:
        return word
    if text[0] in "-0123456789":
        if _INT.match(text):
            return int(text)
        if _FLOAT.match(text):
            return float(text)
    if not _is_plain(text):
        raise _OtherStyle
    return text


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body
    return _ESCAPE.sub(_escape, body)


def _escape(match: re.Match[str]) -> str:
    code = match.group(1)
    simple = _SIMPLE_ESCAPES.get(code)
    if simple is not None:
        return simple
    if len(code) > 1:
        return chr(int(code[1:], 16))
    raise _OtherStyle
