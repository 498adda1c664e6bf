"""Where in the user's code an object was built, so errors and lint findings point at it."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

_KUBEGEN_DIR = str(Path(__file__).resolve().parent)


def _pydantic_dir() -> str | None:
    module = sys.modules.get("pydantic")
    file = getattr(module, "__file__", None)
    return str(Path(file).resolve().parent) if file else None


@dataclass(frozen=True, slots=True)
class Origin:
    """A source location: the file (relative to the working directory when inside it) and line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


_base_dir: str = str(Path.cwd())
# absolute filename -> shown path; a stack's builders come from a handful of files, and relpath
# is the costliest part of capture(). Cleared when the base folder changes.
_shown: dict[str, str] = {}
# (absolute filename, line) -> its Origin (immutable, so shared): a stack that builds in a loop
# makes thousands of builders on a few lines. Cleared with _shown.
_origins: dict[tuple[str, int], Origin] = {}


def set_base_dir(path: str | os.PathLike[str]) -> None:
    """Show origins relative to ``path`` (the project root) instead of the working directory."""
    global _base_dir
    _base_dir = str(Path(path).resolve())
    _shown.clear()
    _origins.clear()


def base_dir() -> str:
    """The folder origins are shown relative to (see :func:`set_base_dir`)."""
    return _base_dir


def display_path(filename: str) -> str:
    """``filename`` relative to the base folder when inside it, with ``/`` separators."""
    shown = _shown.get(filename)
    if shown is None:
        shown = _display_path(filename)
        if os.path.isabs(filename):  # a relative one depends on the working directory
            _shown[filename] = shown
    return shown


def absolute_path(shown: str) -> Path:
    """The absolute path of a file shown by :func:`display_path` (relative to the base folder)."""
    path = Path(shown)
    return path if path.is_absolute() else Path(_base_dir) / path


def _display_path(filename: str) -> str:
    try:
        rel = os.path.relpath(filename, _base_dir)
    except ValueError:  # pragma: no cover - other drive on Windows
        return filename
    return filename if rel.startswith("..") else rel.replace(os.sep, "/")


def capture(skip: tuple[str, ...] | None = None) -> Origin | None:
    """Return the innermost caller frame outside kubegen and pydantic.

    Cheap enough to call once per builder: a frame walk of a few steps, no traceback objects;
    whether a file is kubegen's or pydantic's is looked up once per file (:data:`_skipped`).
    """
    if skip is None and _prefix_cache is not None:
        known = _skipped
        frame = sys._getframe(1)
        while frame is not None:
            filename = frame.f_code.co_filename
            internal = known.get(filename)
            if internal is None:
                internal = known[filename] = _internal(filename, _prefix_cache)
            if not internal:
                return _origin_at(filename, frame.f_lineno)
            frame = frame.f_back  # type: ignore[assignment]
        return None
    prefixes = skip or _prefixes()
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _internal(filename, prefixes):
            return _origin_at(filename, frame.f_lineno)
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _internal(filename: str, prefixes: tuple[str, ...]) -> bool:
    return filename.startswith(prefixes) or filename.startswith("<frozen")


def _origin_at(filename: str, line: int) -> Origin:
    key = (filename, line)
    found = _origins.get(key)
    if found is None:
        found = Origin(display_path(filename), line)
        if filename in _shown:  # an absolute path, so the same everywhere
            _origins[key] = found
    return found


# co_filename -> whether capture() passes over its frames (kubegen's, pydantic's, the import
# system's), once the prefixes are final (pydantic imported; see _prefixes).
_skipped: dict[str, bool] = {}
_prefix_cache: tuple[str, ...] | None = None


def _prefixes() -> tuple[str, ...]:
    global _prefix_cache
    if _prefix_cache is not None:
        return _prefix_cache
    pyd = _pydantic_dir()
    if pyd is None:
        return (_KUBEGEN_DIR,)
    _prefix_cache = (_KUBEGEN_DIR, pyd)
    return _prefix_cache
