"""Load a stack module from a path and call its ``build()``, reporting failures at user lines.

A stack is a package (``stacks/prod/__init__.py``) or a file (``stacks/prod.py``). Its parent
folder goes on ``sys.path`` so stacks import shared code from siblings (``stacks/shop/``) with
nothing installed. Any failure becomes one :class:`StackLoadError` naming file and line.

``build()`` returns one :class:`Stack` (rendered into ``output/<env>/``) or, for an environment
that runs on several clusters, a list with one ``Stack(cluster=…)`` per cluster, each rendered
into ``output/<env>/<cluster>/``. A list of one is the single-cluster case: ``output/<env>/``,
as :meth:`kubegen.Fleet.folder` lays it out.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import inspect
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, ModuleType, TracebackType
from typing import Any, TextIO, TypeVar

from kubegen._errors import Interrupted, KubegenError, StackLoadError
from kubegen._origin import Origin
from kubegen._origin import display_path as _shown
from kubegen._stack import Stack
from kubegen._stack_path import locate

_KUBEGEN_DIR = str(Path(__file__).resolve().parent) + os.sep
_MAX_SUMMARY = 1000  # characters of the user's exception shown in the one-line message
_LOADED: set[str] = set()  # sys.modules names this loader registered (and may replace)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StackPart:
    """One Stack of an environment and the folder under ``output/<env>/`` it renders into:
    ``""`` for the environment's folder itself, a cluster's name when it has several."""

    folder: str
    stack: Stack


@dataclass(frozen=True, slots=True)
class LoadedStack:
    """A built environment: its Stack (or one per cluster) with the names it renders under."""

    env: str
    path: Path
    module_file: Path
    parts: tuple[StackPart, ...]

    @property
    def stack(self) -> Stack:
        """The environment's one Stack; an error when it renders one per cluster."""
        if len(self.parts) != 1:
            raise StackLoadError(
                f"stack {_shown(str(self.module_file))} builds one Stack per cluster "
                f"({', '.join(p.folder for p in self.parts)}), not one",
                fix="take every one: kubegen.load_stacks(path), and render each into its "
                "cluster's folder",
            )
        return self.parts[0].stack


def load_stack(path: Path) -> LoadedStack:
    """Import the stack at ``path`` and build it.

    Every failure is one :class:`StackLoadError` (or the builder's own :class:`KubegenError`)
    naming the user's file and line; the original exception stays chained as ``__cause__`` so
    ``--debug`` shows its traceback.
    """
    module_file, env = locate(path)
    module = _import(module_file, env)
    build = getattr(module, "build", None)
    if not callable(build):
        raise StackLoadError(
            f"stack module {_shown(str(module_file))} defines no build() function",
            origin=Origin(_shown(str(module_file)), 1),
            fix="add `def build() -> Stack:` returning the stack's objects",
        )
    built = guarded(build, module_file, "build()", fallback=line_of(build))
    where = line_of(build) or Origin(_shown(str(module_file)), 1)
    return LoadedStack(env=env, path=path, module_file=module_file, parts=stack_parts(built, where))


def stack_parts(
    built: object, where: Origin | None, given: str = "build() returned"
) -> tuple[StackPart, ...]:
    """The folders of what ``build()`` returned: a Stack, or a list of Stacks, one per cluster
    (``where``: the line errors point at when no Stack names one; ``given``: how they say
    where the value came from)."""
    if isinstance(built, Stack):
        return (StackPart("", built),)
    if not isinstance(built, Sequence) or isinstance(built, (str, bytes)):
        if inspect.iscoroutine(built):
            built.close()
        raise StackLoadError(
            f"{given} {type(built).__name__}, not a Stack",
            origin=where,
            fix="end build() with `return stack` where stack = Stack(...), or return a list "
            "with one Stack(cluster=...) per cluster",
        )
    stacks = list(built)
    wrong = [type(item).__name__ for item in stacks if not isinstance(item, Stack)]
    if not stacks or wrong:
        raise StackLoadError(
            f"{given} a list of {', '.join(wrong) or 'nothing'}, not of Stacks",
            origin=where,
            fix="return one Stack, or a list with one Stack(cluster=...) per cluster",
        )
    if len(stacks) == 1:
        return (StackPart("", stacks[0]),)
    return tuple(
        StackPart(_cluster_folder(stack, stacks, where, given), stack) for stack in stacks
    )


def _cluster_folder(
    stack: Stack, stacks: list[Stack], where: Origin | None, given: str
) -> str:
    if stack.cluster is None:
        raise StackLoadError(
            f"{given} {len(stacks)} Stacks and Stack {stack.name} has no cluster, so "
            "kubegen cannot tell which folder (output/<env>/<cluster>/) it renders into",
            origin=stack.origin or where,
            fix="pass cluster=... to every Stack of the list (one per cluster of the fleet)",
        )
    name = stack.cluster.name
    if sum(1 for other in stacks if other.cluster is not None and other.cluster.name == name) > 1:
        raise StackLoadError(
            f"{given} two Stacks for cluster {name!r}; both would render into "
            f"output/<env>/{name}/",
            origin=stack.origin or where,
            fix="return one Stack per cluster",
        )
    return name


@contextmanager
def isolated() -> Iterator[None]:
    """Run stack code so that it cannot move kubegen's output or corrupt what it prints.

    The working directory and the environment are restored afterwards (kubegen resolved its
    paths before, but messages and later steps must not depend on what a stack did), and so
    is the interpreter state kubegen relies on: ``sys.stderr``, the handlers of SIGINT and
    SIGTERM, the umask (which would make
    rendered files unreadable) and ``sys.path`` (kubegen imports modules lazily; entries the
    stack added are kept, after kubegen's); see :func:`guarded` for the recursion limit.
    Anything the stack prints goes to stderr, at the file-descriptor level too (a subprocess,
    a C library), so ``lint -f sarif > results.sarif`` stays valid SARIF.
    """
    try:
        cwd: int | None = os.open(".", os.O_RDONLY)
    except OSError:
        cwd = None
    environ = dict(os.environ)
    path, stderr = list(sys.path), sys.stderr
    handlers = {signum: signal.getsignal(signum) for signum in _SIGNALS}
    umask = os.umask(0o022)
    os.umask(umask)
    saved_stdout, saved_fd = sys.stdout, _redirect_stdout()
    try:
        yield
    finally:
        sys.stderr = stderr
        _restore_stdout(saved_stdout, saved_fd)
        if cwd is not None:
            os.fchdir(cwd)
            os.close(cwd)
        if os.environ != environ:
            os.environ.clear()
            os.environ.update(environ)
        if sys.path != path:
            sys.path[:] = path + [p for p in sys.path if p not in path]
        os.umask(umask)
        _restore_handlers(handlers)


#: Signals whose handlers a stack may not keep: Ctrl-C and SIGTERM must still stop a render
#: cleanly (see :func:`kubegen._cli.commands.catch_signals`).
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _restore_handlers(handlers: dict[signal.Signals, Any]) -> None:
    for signum, handler in handlers.items():
        if handler is not None and signal.getsignal(signum) is not handler:
            with suppress(ValueError):  # not the main thread (a library caller's thread)
                signal.signal(signum, handler)


def _redirect_stdout() -> int | None:
    """Point stdout (``sys.stdout`` and fd 1) at stderr; return the saved fd 1, if any."""
    with suppress(Exception):
        sys.stdout.flush()
    sys.stdout = sys.stderr
    try:
        saved = os.dup(1)
    except OSError:
        return None  # no fd 1: nothing to protect
    try:
        os.dup2(2, 1)
    except OSError:
        os.close(saved)
        return None
    return saved


def _restore_stdout(stdout: TextIO, saved: int | None) -> None:
    with suppress(Exception):
        sys.stderr.flush()
    sys.stdout = stdout
    if saved is not None:
        os.dup2(saved, 1)
        os.close(saved)


def guarded(
    call: Callable[[], T], module_file: Path, what: str, *, fallback: Origin | None = None
) -> T:
    """Run user code (``build()``, a resource's ``manifests()``) and report its failures.

    A :class:`KubegenError` passes through, located at the user's line if it has no origin yet;
    any other exception, ``SystemExit`` and ``RecursionError`` included, becomes a
    :class:`StackLoadError` at the innermost user frame (else ``fallback``).
    """
    pid, limit = os.getpid(), sys.getrecursionlimit()
    try:
        return call()
    except KubegenError as exc:
        raise exc.located(origin=_user_frame(exc.__traceback__) or fallback) from None
    except RecursionError as exc:
        raise _from_exception(exc, module_file, f"{what} recursed too deeply", fallback) from exc
    except BaseException as exc:
        if _interrupt(exc):
            raise
        raise _from_exception(exc, module_file, f"{what} raised", fallback) from exc
    finally:
        _leave_if_forked(pid)
        sys.setrecursionlimit(limit)  # a stack that lowered it leaves kubegen's own code be


def _import(module_file: Path, env: str) -> ModuleType:
    is_package = module_file.name == "__init__.py"
    search_root = module_file.parent.parent if is_package else module_file.parent
    _add_search_root(str(search_root))
    name = _module_name(env, module_file)
    spec = importlib.util.spec_from_file_location(
        name,
        module_file,
        loader=_FromSource(name, str(module_file)),
        submodule_search_locations=[str(module_file.parent)] if is_package else None,
    )
    if spec is None or spec.loader is None:  # pragma: no cover - only for non-.py paths
        raise StackLoadError(f"cannot import {module_file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    _LOADED.add(name)
    writes_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no cache of stack code that a quick edit could outdate
    pid, limit = os.getpid(), sys.getrecursionlimit()
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        line = (exc.text or "").strip()
        raise StackLoadError(
            f"syntax error: {exc.msg}" + (f" in `{line}`" if line else ""),
            origin=Origin(_shown(exc.filename or str(module_file)), exc.lineno or 1),
            fix="correct the Python syntax at that line",
        ) from exc
    except KubegenError as exc:
        sys.modules.pop(name, None)
        raise exc.located(origin=_user_frame(exc.__traceback__)) from None
    except BaseException as exc:
        sys.modules.pop(name, None)
        if _interrupt(exc):
            raise
        raise _from_exception(exc, module_file, "importing the stack raised") from exc
    finally:
        _leave_if_forked(pid)
        sys.setrecursionlimit(limit)
        sys.dont_write_bytecode = writes_bytecode
    return module


def _leave_if_forked(pid: int) -> None:
    """End a child that stack code made with ``os.fork()`` and that returned into kubegen.

    Only the process that ran kubegen renders: a second render from a copy of it would race
    the first for the same files. The child leaves at once, without flushing the output it
    inherited (which its parent prints) and without running exit handlers.
    """
    if os.getpid() != pid:
        os._exit(0)


class _FromSource(importlib.machinery.SourceFileLoader):
    """Compiles the stack module from its source every time, never from ``__pycache__``.

    Python trusts cached bytecode whose source has the same size and the same mtime in whole
    seconds: a stack edited to text of the same length within the second it was last loaded
    (an image tag bumped by a script, ``1.4.2`` to ``1.4.3``) would render the old code. Shared
    modules the stack imports are not cached while it loads either (``dont_write_bytecode``)."""

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        return self.source_to_code(self.get_data(path), path)


def _add_search_root(root: str) -> None:
    """Put the stacks folder on ``sys.path`` after the standard library, before site-packages.

    Sibling packages (``stacks/shop``) then win over installed distributions, while a stack or
    sibling named like a standard module (``json``, ``platform``, ``logging``) never shadows it
    for kubegen and its libraries.
    """
    if root in sys.path:
        return
    installed = ("site-packages", "dist-packages")
    index = next((i for i, p in enumerate(sys.path) if p.endswith(installed)), len(sys.path))
    sys.path.insert(index, root)


def _module_name(env: str, module_file: Path) -> str:
    """The ``sys.modules`` name to load the stack under.

    The env name itself, so a package stack can import itself absolutely, unless that name is
    a standard module or taken by a module kubegen did not load (``json``, ``platform``,
    ``kubegen`` itself): such a module is never replaced; the stack gets a private name
    instead. A stack loaded earlier under the name from another file (two stacks named alike)
    is forgotten first.
    """
    cached = sys.modules.get(env)
    if env in sys.stdlib_module_names and env not in _LOADED:
        cached = cached or sys  # never register a stack under a standard module's name
    if cached is None or getattr(cached, "__file__", None) == str(module_file):
        return env
    if env not in _LOADED:
        env = f"_kubegen_stack_{env}"
    for name in [n for n in sys.modules if n == env or n.startswith(env + ".")]:
        del sys.modules[name]
    return env


def _interrupt(exc: BaseException) -> bool:
    """A signal the process received, not an exception of the stack's own.

    The CLI raises :class:`Interrupted` for SIGINT and SIGTERM, so any other
    ``KeyboardInterrupt`` (like ``GeneratorExit`` or a ``BaseException`` subclass) comes
    from the stack. Without that handler (a library caller) a ``KeyboardInterrupt`` may be
    Ctrl-C and passes through.
    """
    if isinstance(exc, Interrupted):
        return True
    return isinstance(exc, KeyboardInterrupt) and (
        signal.getsignal(signal.SIGINT) is signal.default_int_handler
    )


def _from_exception(
    exc: BaseException, module_file: Path, what: str, fallback: Origin | None = None
) -> StackLoadError:
    origin = _user_frame(exc.__traceback__) or fallback or Origin(_shown(str(module_file)), 1)
    summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if isinstance(exc, RecursionError):
        summary = "RecursionError: maximum recursion depth exceeded"
    elif isinstance(exc, SystemExit):
        summary = f"SystemExit({exc.code!r}): the stack called sys.exit()"
    if len(summary) > _MAX_SUMMARY:
        summary = summary[: _MAX_SUMMARY - 3] + "..."
    from kubegen._builders.errors import unexpected_keyword_fix

    return StackLoadError(
        f"{what}: {summary}",
        origin=origin,
        fix=unexpected_keyword_fix(exc)
        or "fix the stack code at that line (run with --debug for the full traceback)",
    )


def _user_frame(tb: TracebackType | None) -> Origin | None:
    """The innermost traceback frame in the user's code (not kubegen, not the stdlib)."""
    found: Origin | None = None
    stdlib = str(Path(traceback.__file__).parent) + os.sep
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith((_KUBEGEN_DIR, stdlib, "<")) and "-packages" not in filename:
            found = Origin(_shown(filename), tb.tb_lineno)
        tb = tb.tb_next
    return found


def line_of(func: object) -> Origin | None:
    code = getattr(func, "__code__", None)
    return Origin(_shown(code.co_filename), code.co_firstlineno) if code is not None else None


