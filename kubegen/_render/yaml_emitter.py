"""The canonical YAML emitter: the exact bytes kubegen commits to git.

Why our own emitter instead of PyYAML's or ruamel's: their output varies with versions and
settings (line folding, quoting heuristics, YAML 1.1 vs 1.2 resolution), while the files we write
are read by YAML 1.1-era parsers (go-yaml in kubectl, kustomize, Argo CD and Flux; PyYAML) as
well as YAML 1.2 ones, and must not change between runs. So the rules are small and fixed:

* key order is the caller's dict order; block style, kubectl-style sequences (``- `` at the key's
  indent), ``{}``/``[]`` for empty containers, ``\\n`` line ends and one final newline;
* a string is plain only if it is made of a conservative set of characters *and* no YAML 1.1 or
  1.2 parser could read it as anything but a string (``on``, ``0755``, ``12:30``, ``2001-12-14``…);
  multi-line strings become ``|`` literals when that is exact, otherwise everything is
  double-quoted with escapes for every invisible or non-printable character;
* values Kubernetes cannot hold (NaN, infinities, integers beyond int64) are refused rather than
  silently mangled by a Go parser.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

__all__ = ["Unfusable", "dump", "take_noticed_keys"]

# A block literal: (header such as "|2-", content lines without indentation, the original text).
_Block = tuple[str, tuple[str, ...], str]

# Plain scalars: ASCII letters, digits and a few harmless punctuation marks, no leading indicator
# (a leading "-" only when glued to the next character), no trailing space or colon.
_PLAIN: Final = re.compile(
    r"(?:[A-Za-z0-9_./]|-(?=[^ ]))(?:[A-Za-z0-9_./:@+=, -]*[A-Za-z0-9_./@+=,-])?"
)
# Anything number- or date-like under YAML 1.1 (PyYAML), 1.2 (ruamel, whose floats include "._")
# or go-yaml (which strips "_" and takes 0x/0o/0b). Deliberately broad: quoting a harmless "1.2.3"
# costs nothing, leaving "1_0.5", "0o17" or "12:30" plain would change the data.
_NUMBER_OR_DATE: Final = re.compile(
    r"[-+]?\.?[0-9_][0-9A-Fa-fOoXx_.:+-]*\Z|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
)
# Words some YAML 1.1/1.2 resolver maps to bool, null, inf/nan, merge or value keys (lowercased).
_RESERVED: Final = frozenset(
    {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "<<", "="}
    | {".inf", "-.inf", "+.inf", ".nan"}
)
# Characters never written raw: C0/C1 controls, DEL, NBSP, soft hyphen, zero-width and bidi
# controls (invisible in review), line/paragraph separators and NEL (line breaks in YAML 1.1),
# BOM, non-characters, tag characters, and lone surrogates (no UTF-8 encoding at all).
_INVISIBLE: Final = (
    r"\x00-\x08\x0b-\x1f\x7f-\xa0\xad\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    r"\ufeff\ufff9-\ufffb\ufffe\uffff\ud800-\udfff\U000e0000-\U000e007f"
)
_NOT_LITERAL: Final = re.compile(f"[{_INVISIBLE}]")
_NEEDS_ESCAPE: Final = re.compile(f'[\\\\"\\t\\n{_INVISIBLE}]')
_ESCAPES: Final = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}

# Parsers refuse implicit keys longer than 1024 characters; longer keys use "? key".
_MAX_IMPLICIT_KEY: Final = 1000
_CACHE_MAX_LEN: Final = 200  # only short strings repeat often enough to be worth caching
# Keys this long (or "<<") are noted for the renderer, which checks whether kustomize can read
# them back (a merge key, or a key over 1024 characters once JSON-escaped); never cached, so
# each document that holds one is noted.
_NOTICE_LEN: Final = 170
_noticed: list[str] = []
_CACHE_MAX_ITEMS: Final = 50_000
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1

_tails: dict[str, str | _Block] = {}  # string -> " text\n" after its key or dash, or a literal
_tails_get: Final = _tails.get
_UNSORTED: Final[frozenset[str]] = frozenset()


class _Level(NamedTuple):
    """What one nesting depth needs, made once: the indent and its cache of key lines."""

    pad: str
    lines: dict[str, str]  # key -> pad + "rendered-key:" (cleared in place when full)
    lines_get: Any  # lines.get, bound once
    bullet: str  # pad + "-"
    dash: str  # pad + "- "
    cut: int  # len(pad) + 2: what a first nested line loses to the dash


def _make_level(depth: int) -> _Level:
    pad = "  " * depth
    lines: dict[str, str] = {}
    return _Level(pad, lines, lines.get, pad + "-", pad + "- ", len(pad) + 2)


_levels: Final = tuple(_make_level(depth) for depth in range(32))  # documents nest ~12 deep
_deep_levels: dict[int, _Level] = {}


def _level(depth: int) -> _Level:
    """The level at a ``depth`` beyond the prebuilt ones, made once (``setdefault`` keeps one
    per depth even when threads race, and each is built for its own depth)."""
    level = _deep_levels.get(depth)
    if level is None:
        level = _deep_levels.setdefault(depth, _make_level(depth))
    return level


class Unfusable(Exception):
    """``dump(d, sorted_maps)`` met a shape where it may differ from sorting ``d`` first.

    Sorting first (``canonical``) never enters a sorted map or a list held directly in a list;
    if a container there is shared with another place, the in-place sort shows through it. The
    fused path does not sort in place, so it refuses such shapes (never seen in Kubernetes
    objects) and the caller sorts first.
    """


class _Kept(str):
    """An empty entry placed after a ``|+`` literal; if it ends the document, the literal is
    rewritten double-quoted (a file cannot end in ``|+``: EOF fixers would eat its blank lines).
    """

    block: _Block


def dump(data: Mapping[str, Any], sorted_maps: frozenset[str] = _UNSORTED) -> str:
    """Emit one YAML document (no ``---``, no ``...``) for plain JSON-like data.

    Args:
        data: a mapping whose values are dict, list, str, int, float, bool or None, nested.
        sorted_maps: keys whose mapping values are written in sorted key order (their own
            contents as they are), wherever they appear outside such a map and outside lists
            nested directly in lists; default none. ``dump(d, SORTED_MAPS)`` writes what
            ``dump(canonical(d))`` writes without copying or re-walking ``d``.

    Returns:
        The document text, ending in exactly one newline; the same data always gives the same text.

    Raises:
        TypeError: a value or key of another type (a set, a tuple, a non-str key…).
        ValueError: NaN, an infinity, an int outside int64, or a lone surrogate in a string.

    Every string comes back exactly from PyYAML, ruamel and go-yaml. kustomize, which re-reads
    values as JSON, still cannot carry DEL, C1 controls (U+0080-U+009F) or U+FFFE/U+FFFF, nor
    map keys over 1024 characters; refuse those where the value is validated.
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"cannot emit a {type(data).__name__} as a document; expected a mapping")
    top = data if isinstance(data, dict) else dict(data.items())
    if not top:
        return "{}\n"
    out: list[str] = []
    _mapping(top, 0, out, sorted_maps)
    last = out[-1]
    if last.__class__ is _Kept:
        _unkeep(out, last)
    return "".join(out)


def _mapping(d: dict[Any, Any], depth: int, out: list[str], sort: frozenset[str]) -> None:
    """Append ``d``'s lines at nesting ``depth``; maps at a key in ``sort`` are written sorted.

    The hot loop of rendering: one cached key line and, for a string, one cached tail per entry.
    """
    try:
        level = _levels[depth]
    except IndexError:
        level = _level(depth)
    append, lines_get = out.append, level.lines_get
    for k, v in d.items():
        line = lines_get(k)
        if line is None:
            line = _key_line(k, level)
        t = v.__class__
        if t is str:
            s = _tails_get(v)
            if s is None:
                s = _style(v)
            if s.__class__ is str:
                append(line + s)
            else:
                _literal(line, s, level.pad + "  ", out)  # type: ignore[arg-type]
        elif t is dict:
            if not v:
                append(line + " {}\n")
                continue
            append(line + "\n")
            if sort and k in sort:
                _mapping(_sorted_flat(v), depth + 1, out, _UNSORTED)
            else:
                _mapping(v, depth + 1, out, sort)
        elif t is list:
            if v:
                append(line + "\n")
                _sequence(v, depth, out, sort)
            else:
                append(line + " []\n")
        elif t is bool:
            append(line + (" true\n" if v else " false\n"))
        elif t is int and _INT64_MIN <= v <= _INT64_MAX:
            append(f"{line} {v}\n")
        else:
            v, t = _normalize(v)
            if t is object:
                append(f"{line} {v}\n")
            else:  # a str, dict or list subclass, copied as the exact type: rare
                _mapping({k: v}, depth, out, sort)


def _sequence(items: list[Any], depth: int, out: list[str], sort: frozenset[str]) -> None:
    """Append a kubectl-style sequence: the dash at ``depth``'s indent, content one deeper."""
    try:
        level = _levels[depth]
    except IndexError:
        level = _level(depth)
    append, bullet, dash, cut = out.append, level.bullet, level.dash, level.cut
    for v in items:
        t = v.__class__
        if t is str:
            s = _tails_get(v)
            if s is None:
                s = _style(v)
            if s.__class__ is str:
                append(bullet + s)
            else:
                _literal(bullet, s, level.pad + "  ", out)  # type: ignore[arg-type]
        elif t is dict or t is list:
            if v:
                start = len(out)
                if t is dict:
                    _mapping(v, depth + 1, out, sort)
                elif sort:  # sort-then-dump leaves lists in lists alone: aliasing could show
                    raise Unfusable("a list inside a list")
                else:
                    _sequence(v, depth + 1, out, sort)
                out[start] = dash + out[start][cut:]  # first entry goes on the dash line
            else:
                append(dash + ("{}\n" if t is dict else "[]\n"))
        elif t is bool:
            append(bullet + (" true\n" if v else " false\n"))
        elif t is int and _INT64_MIN <= v <= _INT64_MAX:
            append(f"{dash}{v}\n")
        else:
            v, t = _normalize(v)
            if t is object:
                append(f"{dash}{v}\n")
            else:  # a str, dict or list subclass, copied as the exact type: rare
                _sequence([v], depth, out, sort)


def _sorted_flat(d: dict[Any, Any]) -> dict[Any, Any]:
    """``d`` sorted by key; refused if it holds a container (see :class:`Unfusable`)."""
    for value in d.values():
        if value.__class__ is not str and isinstance(value, (dict, list)):
            raise Unfusable("a container inside a sorted map")
    return dict(sorted(d.items()))


def _literal(line: str, block: _Block, indent: str, out: list[str]) -> None:
    """Append a block literal; a ``|+`` one is followed by a :class:`_Kept` marker."""
    header, lines, _ = block
    out.append(f"{line} {header}\n")
    out.extend(indent + ln + "\n" if ln else "\n" for ln in lines)
    if header[-1] == "+":
        mark = _Kept()
        mark.block = block
        out.append(mark)


def _unkeep(out: list[str], mark: _Kept) -> None:
    """The document ends in a ``|+`` literal: write that one double-quoted instead."""
    header, lines, text = mark.block
    start = len(out) - 2 - len(lines)  # header line, content lines, marker
    head = out[start]
    out[start:] = [f"{head[: len(head) - len(header) - 2]} {_quote(text)}\n"]


def _normalize(v: Any) -> tuple[Any, type]:
    """Map anything but exact str/dict/list to (value, kind); kind ``object`` means rendered."""
    if v is None:
        return "null", object
    if isinstance(v, bool):
        return ("true" if v else "false"), object
    if isinstance(v, int):
        if not _INT64_MIN <= v <= _INT64_MAX:
            raise ValueError(f"cannot emit int {v}: outside int64, Go parsers would read a float")
        return int.__repr__(v), object
    if isinstance(v, float):
        return _float(v), object
    if isinstance(v, str):
        return str.__str__(v), str
    if isinstance(v, dict):
        return dict(v), dict
    if isinstance(v, list):
        return list(v), list
    raise TypeError(
        f"cannot emit a value of type {type(v).__name__}: {v!r:.80}; "
        "expected dict, list, str, int, float, bool or None"
    )


def _float(v: float) -> str:
    """Shortest round-trip repr, made YAML 1.1 readable: a dot and a signed exponent."""
    if not math.isfinite(v):
        raise ValueError(f"cannot emit float {v!r}: Kubernetes YAML has no NaN or infinity")
    text = float.__repr__(v)  # "1.5", "1e+20", "1e-05", "2.5e-07": exponents are always signed
    if "e" in text and "." not in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


def _key_line(k: Any, level: _Level) -> str:
    """The indent + the rendered key + ``:``; cached for short keys, explicit ``?`` for huge
    ones."""
    if type(k) is not str:
        if not isinstance(k, str):
            raise TypeError(f"cannot emit a mapping key of type {type(k).__name__}: {k!r:.80}")
        k = str.__str__(k)
    text = k if _is_plain(k) else _quote(k)
    pad = level.pad
    noticed = len(k) > _NOTICE_LEN or k == "<<"
    if noticed:
        _noticed.append(k)
    if len(text) > _MAX_IMPLICIT_KEY:
        return f"{pad}? {text}\n{pad}:"
    line = f"{pad}{text}:"
    if not noticed:
        if len(level.lines) >= _CACHE_MAX_ITEMS:
            level.lines.clear()
        level.lines[k] = line
    return line


def take_noticed_keys() -> list[str]:
    """The long (over 170 characters) and ``<<`` keys written since the last call; clears.

    Costs nothing per key: only keys missing from the key-line cache are looked at, and these
    keys are never cached. See :func:`kubegen._render.limits.check_kustomize_keys`.
    """
    if not _noticed:
        return []
    found = list(_noticed)
    _noticed.clear()
    return found


def _style(s: str) -> str | _Block:
    """Decide plain / block literal / double-quoted for a value, and remember short ones.

    Returns ``" text\n"`` (what follows the key or dash) or a block literal.
    """
    if _is_plain(s):
        styled: str | _Block = f" {s}\n"
    elif "\n" in s and s[0] != "\t" and not s.isspace() and not _NOT_LITERAL.search(s):
        styled = _block(s)
    else:
        styled = f" {_quote(s)}\n"
    if len(s) <= _CACHE_MAX_LEN:
        if len(_tails) >= _CACHE_MAX_ITEMS:
            _tails.clear()
        _tails[s] = styled
    return styled


def _is_plain(s: str) -> bool:
    """True if ``s`` is safe unquoted: allowed characters and no non-string reading anywhere."""
    if not _PLAIN.fullmatch(s) or ": " in s:
        return False
    if s[0] in "-.0123456789" and (_NUMBER_OR_DATE.match(s) or s.startswith(("---", "..."))):
        return False
    return s.lower() not in _RESERVED


def _block(s: str) -> _Block:
    """A ``|`` literal for ``s`` (has a newline, no invisible characters, no leading tab).

    Chomping follows the trailing newlines (``-`` none, clip one, ``+`` several). The explicit
    indentation indicator is given when the text starts with a space or an empty line, where
    parsers would otherwise guess the indentation from that line. A leading tab is never put in
    a literal: kustomize re-emits such a literal without an indicator and then rejects its own
    output ("found a tab character where an indentation space is expected").
    """
    if s[-1] != "\n":
        body, chomp = s, "-"
    else:
        body = s[:-1]
        chomp = "+" if body.endswith("\n") else ""
    indicator = "2" if s[0] in " \n" else ""
    return f"|{indicator}{chomp}", tuple(body.split("\n")), s


def _quote(s: str) -> str:
    """Double-quote ``s``; escape backslash, quote, tab, newline and every invisible character."""
    return '"' + _NEEDS_ESCAPE.sub(_escape, s) + '"'


def _escape(match: re.Match[str]) -> str:
    """One character as a YAML double-quoted escape (``\\xNN`` etc., understood everywhere)."""
    c = match.group()
    known = _ESCAPES.get(c)
    if known is not None:
        return known
    code = ord(c)
    if 0xD800 <= code <= 0xDFFF:
        raise ValueError(f"cannot emit lone surrogate U+{code:04X}: it has no UTF-8 encoding")
    if code < 0x100:
        return f"\\x{code:02X}"
    return f"\\u{code:04X}" if code < 0x10000 else f"\\U{code:08X}"
