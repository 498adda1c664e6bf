"""Load a stack module from a path and call its ``build()``, reporting failures at user lines.

A stack is a package (``stacks/prod/__init__.py``) or a file (``stacks/prod.py``). Its parent
folder goes on ``sys.path`` so stacks import shared code from siblings (``stacks/shop/``) with
nothing installed. Any failure becomes one :class:`StackLoadError` naming file and line.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType

from kubegen._errors import KubegenError, StackLoadError
from kubegen._origin import Origin
from kubegen._origin import display_path as _shown
from kubegen._stack import Stack

_KUBEGEN_DIR = str(Path(__file__).resolve().parent)


@dataclass(frozen=True, slots=True)
class LoadedStack:
    """A built stack with the names it is rendered under."""

    env: str
    path: Path
    module_file: Path
    stack: Stack


def load_stack(path: Path) -> LoadedStack:
    """Import the stack at ``path`` and build it."""
    module_file, env = _locate(path)
    module = _import(module_file, env)
    build = getattr(module, "build", None)
    if not callable(build):
        raise StackLoadError(
            f"stack module {module_file} defines no build() function",
            origin=Origin(str(module_file), 1),
            fix="add `def build() -> Stack:` returning the stack's objects",
        )
    try:
        stack = build()
    except KubegenError:
        raise
    except RecursionError as exc:
        raise _from_exception(exc, module_file, "build() recursed too deeply") from None
    except Exception as exc:
        raise _from_exception(exc, module_file, "build() raised") from None
    if not isinstance(stack, Stack):
        raise StackLoadError(
            f"build() returned {type(stack).__name__}, not a Stack",
            origin=_line_of(build) or Origin(str(module_file), 1),
            fix="end build() with `return stack` where stack = Stack(...)",
        )
    return LoadedStack(env=env, path=path, module_file=module_file, stack=stack)


def _locate(path: Path) -> tuple[Path, str]:
    if path.is_dir():
        init = path / "__init__.py"
        if init.is_file():
            return init.resolve(), path.resolve().name
        raise StackLoadError(
            f"{path} is a folder without __init__.py, so it is not a stack package",
            fix=f"add {init} with a build() function, or pass the stack's .py file",
        )
    if path.is_file() and path.suffix == ".py":
        return path.resolve(), path.stem
    hint = ""
    parent = path.parent if path.parent.is_dir() else None
    if parent is not None:
        stacks = sorted(
            p.name for p in parent.iterdir()
            if (p / "__init__.py").is_file() or (p.suffix == ".py" and p.stem != "__init__")
        )
        if stacks:
            hint = f"; stacks in {parent}: {', '.join(stacks)}"
    raise StackLoadError(
        f"stack path {path} does not exist{hint}",
        fix="pass a stack package (stacks/prod) or module (stacks/prod.py)",
    )


def _import(module_file: Path, env: str) -> ModuleType:
    is_package = module_file.name == "__init__.py"
    search_root = module_file.parent.parent if is_package else module_file.parent
    if str(search_root) not in sys.path:
        sys.path.insert(0, str(search_root))
    _forget(env, module_file)
    spec = importlib.util.spec_from_file_location(
        env,
        module_file,
        submodule_search_locations=[str(module_file.parent)] if is_package else None,
    )
    if spec is None or spec.loader is None:  # pragma: no cover - only for non-.py paths
        raise StackLoadError(f"cannot import {module_file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[env] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(env, None)
        line = (exc.text or "").strip()
        raise StackLoadError(
            f"syntax error: {exc.msg}" + (f" in `{line}`" if line else ""),
            origin=Origin(_shown(exc.filename or str(module_file)), exc.lineno or 1),
            fix="correct the Python syntax at that line",
        ) from None
    except KubegenError:
        sys.modules.pop(env, None)
        raise
    except Exception as exc:
        sys.modules.pop(env, None)
        raise _from_exception(exc, module_file, "importing the stack raised") from None
    return module


def _forget(env: str, module_file: Path) -> None:
    """Drop a different module cached under the same name (two stacks named alike)."""
    cached = sys.modules.get(env)
    if cached is not None and getattr(cached, "__file__", None) != str(module_file):
        for name in [n for n in sys.modules if n == env or n.startswith(env + ".")]:
            del sys.modules[name]


def _from_exception(exc: BaseException, module_file: Path, what: str) -> StackLoadError:
    origin = _user_frame(exc.__traceback__) or Origin(_shown(str(module_file)), 1)
    summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if isinstance(exc, RecursionError):
        summary = "RecursionError: maximum recursion depth exceeded"
    return StackLoadError(
        f"{what}: {summary}",
        origin=origin,
        fix="fix the stack code at that line (run with --debug for the full traceback)",
    )


def _user_frame(tb: TracebackType | None) -> Origin | None:
    """The innermost traceback frame in the user's code (not kubegen, not the stdlib)."""
    found: Origin | None = None
    stdlib = str(Path(traceback.__file__).parent)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith((_KUBEGEN_DIR, stdlib, "<")) and "site-packages" not in filename:
            found = Origin(_shown(filename), tb.tb_lineno)
        tb = tb.tb_next
    return found


def _line_of(func: object) -> Origin | None:
    code = getattr(func, "__code__", None)
    return Origin(_shown(code.co_filename), code.co_firstlineno) if code is not None else None


