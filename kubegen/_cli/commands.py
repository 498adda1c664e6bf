"""The bodies of ``render``, ``check`` and ``diff``, and the process entry point, without typer.

``kubegen render stacks/prod`` runs on every commit and in pre-commit hooks, so its start-up
counts. Importing typer and building its command tree and parameter converters costs about as
much as rendering a small stack. :func:`main` therefore runs the three everyday commands
directly when the arguments are nothing but stack paths; anything else (an option, ``--help``,
another command, a path typer would refuse) goes to the typer app in :mod:`kubegen._cli.app`,
which stays the one definition of the CLI and calls the same functions below. So both routes
print the same lines and exit with the same codes (``tests/test_perf_start.py`` compares them).
"""

from __future__ import annotations

import atexit
import gc
import os
import re
import shlex
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from kubegen._cli import prefetch
from kubegen._errors import DriftError, Interrupted, KubegenError
from kubegen._origin import display_path
from kubegen._stack_path import resolve_env_dir

if TYPE_CHECKING:
    from kubegen._files.tree import EnvTree
    from kubegen._pipeline import Plan
    from kubegen._render.cache import CacheFields

#: The commands :func:`main` runs without typer when given only stack paths.
FAST_COMMANDS = frozenset({"render", "check", "diff"})

# What click's ``echo`` removes from text written to something that is not a terminal.
_ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")


def echo(message: str, *, err: bool = False) -> None:
    """Write one line to stdout (or stderr) and flush, like ``typer.echo``."""
    stream: TextIO = sys.stderr if err else sys.stdout
    if "\033" in message and not stream.isatty():
        message = _ANSI.sub("", message)
    stream.write(message + "\n")
    stream.flush()


def guard(action: Callable[[], int], *, debug: bool = False) -> int:
    """Run a command body; a kubegen error becomes one ``error:`` message and exit code 2.

    So does a failure of the disk or the operating system that no step turned into a kubegen
    error (named with its file), and, as a last resort, any other exception: a message saying
    it is a bug in kubegen, never a traceback (``--debug`` shows it).
    """
    try:
        return action()
    except BrokenPipeError:
        raise  # the reader went away (``| head``): handled by the caller
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        echo(
            f"error: interrupted by {signal.Signals(signum).name}\n  Fix: run the command again "
            "(an interrupted render leaves output/ as it was before or after, never a mix)",
            err=True,
        )
        return 128 + signum
    except KubegenError as exc:
        failure: BaseException = exc
        message, fix = str(exc), None
    except OSError as exc:
        failure = exc
        where = f" ({exc.filename})" if exc.filename else ""
        message = f"Unable to complete the command: {exc.strerror or exc}{where}"
        fix = "check the path, its permissions and free disk space, then run again"
    except Exception as exc:
        failure = exc
        message = f"kubegen failed unexpectedly: {type(exc).__name__}: {str(exc)[:500]}"
        fix = "this is a bug in kubegen; run with --debug for the traceback and report it"
    if debug:
        traceback.print_exception(failure)
    echo(f"error: {message}" + (f"\n  Fix: {fix}" if fix else ""), err=True)
    return 2


def _one_out(paths: Sequence[Path], out: Path | None) -> None:
    if out is not None and len(paths) != 1:
        raise KubegenError(
            f"--out names one folder but {len(paths)} stacks were given",
            fix="pass a single stack path with --out, or drop --out",
        )


def render(paths: Sequence[Path], out: Path | None, *, full: bool = False) -> int:
    """Render stacks into output/<env>/, all or none; prints what changed per stack
    (``full``: without reusing unchanged files, see :mod:`kubegen._render.cache`)."""
    from kubegen._files.writer import write_envs
    from kubegen._pipeline import check_plans, describe, plan

    _one_out(paths, out)
    plans, known = [], []
    for path in paths:  # build and lint all before writing any
        found = None if full else _on_disk(path, out)
        tree, checked = found if found is not None else (None, None)
        known.append(tree)
        plans.append(plan(path, out=out, previous=None if tree is None else tree.owned,
                          checked=checked))
    _refuse_shared_folders(plans)
    check_plans(plans)
    results = write_envs([(item.env_dir, item.files) for item in plans], known=known)
    _report(results[0].repaired, results[0].warnings)
    for item, changes in zip(plans, results, strict=True):
        echo(describe(item, changes))
        for label, report in item.reports_by_label():
            if report.findings:
                echo(f"{label}: policy: {report.summary()}", err=True)
                for line in report.source_summaries():
                    echo(f"{label}: {line}", err=True)
    return 0


def _on_disk(path: Path, out: Path | None) -> tuple[EnvTree, dict[str, CacheFields]] | None:
    """The env folder a render of ``path`` may reuse files of (:func:`prefetch.signed_tree`)."""
    try:
        env_dir = resolve_env_dir(path, out)[1]
    except (KubegenError, OSError):  # the render itself reports it
        return None
    return prefetch.take(prefetch.signed_tree, env_dir)


def _report(repaired: Sequence[str], warnings: Sequence[str] = ()) -> None:
    """What an interrupted earlier run left and kubegen fixed, and files it kept aside."""
    for note in repaired:
        echo(f"repaired: {note}", err=True)
    for note in warnings:
        echo(f"warning: {note}", err=True)


_DRIFT = "vendored input edited by hand in "


def compare(
    paths: Sequence[Path], out: Path | None, *, drift: bool = False, full: bool = False
) -> tuple[str, list[str], list[Path]]:
    """The diff text of every stale stack, one line per stale stack saying what is wrong, and
    the stale stacks' paths; with ``drift``, also one line per stack whose vendored input was
    edited by hand (it cannot render; ``check`` calls that drift, other commands an error).
    Unchanged files are reused unless ``full`` (see :mod:`kubegen._render.cache`)."""
    from kubegen._files.tree import compare as compare_tree
    from kubegen._pipeline import check_plans, describe_stale, plan

    _one_out(paths, out)
    texts: list[str] = []
    stale: list[str] = []
    stale_paths: list[Path] = []
    planned = []
    for path in paths:
        env_dir = resolve_env_dir(path, out)[1]
        if full:
            tree, checked = prefetch.take(prefetch.env_tree, env_dir), None
        else:
            tree, checked = prefetch.take(prefetch.checked_tree, env_dir)
        try:
            item = plan(path, out=out, previous=None if full else tree.owned, checked=checked)
        except DriftError as exc:
            if not drift:
                raise
            stale.append(f"{_DRIFT}{path}: " + str(exc).replace("\n", "\n  "))
        else:
            planned.append((path, item, tree))
    plans = [item for _, item, _ in planned]
    _refuse_shared_folders(plans)
    check_plans(plans)
    for path, item, tree in planned:
        _report(tree.repaired)
        changes = compare_tree(tree, item.files, item.env_dir)
        if changes.any:
            stale.append(describe_stale(item, tree, changes))
            stale_paths.append(path)
            from kubegen._files.diff import unified_diff  # only for a stale folder

            texts.append(unified_diff(_label(item.env_dir), tree, item.files, changes))
    return "".join(texts), stale, stale_paths


def check(paths: Sequence[Path], out: Path | None, *, full: bool = False) -> int:
    """Exit 1 with a diff when the files on disk differ from what the code renders, or when
    a vendored input was edited by hand after kubegen wrote it (drift too); exit 2 on errors."""
    text, stale, stale_paths = compare(paths, out, drift=True, full=full)
    if not stale:
        echo(f"up to date: {len(paths)} stack{'s' if len(paths) != 1 else ''}")
        return 0
    write_out(text)
    for line in stale:
        echo(f"stale: {line}", err=True)
    if stale_paths:
        again = " ".join(shlex.quote(str(p)) for p in stale_paths)
        if out is not None:
            again += f" --out {shlex.quote(str(out))}"
        echo(
            f"Run `kubegen render {again}` and commit the result (hand edits to rendered files "
            "belong in the stack code).",
            err=True,
        )
    return 1


def diff(paths: Sequence[Path], out: Path | None, *, full: bool = False) -> int:
    """Print the diff between the files on disk and what the code renders; exit 0."""
    text, _, _ = compare(paths, out, full=full)
    write_out(text)
    return 0


def write_out(text: str) -> None:
    """Write ``text`` (a diff, a report) to stdout. A diff of UTF-8 files stays UTF-8 on a
    stdout whose encoding cannot hold it (``LANG=C``, ``PYTHONIOENCODING=ascii``): the bytes
    go to the underlying buffer, so ``kubegen diff > fix.patch`` still applies."""
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    if buffer is not None and not text.isascii() and not _utf8(stream):
        stream.flush()
        buffer.write(text.encode("utf-8", "surrogateescape"))
        buffer.flush()
        return
    stream.write(text)


def _utf8(stream: TextIO) -> bool:
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
    return encoding in ("utf-8", "utf8")


def catch_signals() -> None:
    """Make SIGTERM (like SIGINT) raise :class:`~kubegen._errors.Interrupted` in the main
    thread, so a render stopped by ``kill`` or a CI timeout rolls its writes back like Ctrl-C
    instead of dying halfway (the next run would repair it, but only then). A signal the caller
    set to be ignored stays ignored."""

    def interrupted(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    for signum, default in ((signal.SIGINT, signal.default_int_handler),
                            (signal.SIGTERM, signal.SIG_DFL)):  # fmt: skip
        if signal.getsignal(signum) is default:
            signal.signal(signum, interrupted)


def reopen_closed_streams() -> None:
    """Put ``/dev/null`` where stdin, stdout or stderr is closed (``kubegen check >&-``).

    Else the next file kubegen (or a stack) opens would get that descriptor, and a print, or a
    child process writing to its stdout, would land in it; and Python, finding the descriptor
    closed at start-up, leaves ``sys.stdout`` as ``None``. Output to a closed stream is
    discarded, as ``> /dev/null`` would; the exit code still tells the result.
    """
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
            if opened != fd:  # pragma: no cover - the lower descriptors are open by now
                os.dup2(opened, fd)
                os.close(opened)
        if getattr(sys, name) is None:
            mode = "r" if fd == 0 else "w"
            setattr(sys, name, open(fd, mode, encoding="utf-8", closefd=False))  # noqa: SIM115


def tolerate_encodings() -> None:
    """Let stdout and stderr show any text (``\xe9`` escapes where their encoding cannot
    hold it) rather than fail a command with UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and not _utf8(stream):
            with suppress(Exception):
                reconfigure(errors="backslashreplace")


def _refuse_shared_folders(plans: list[Plan]) -> None:
    """Two stacks rendering into one folder would silently overwrite each other."""
    seen: dict[Path, Plan] = {}
    for item in plans:
        first = seen.setdefault(Path(os.path.realpath(item.env_dir)), item)
        if first is not item:
            raise KubegenError(
                f"stacks {first.loaded.path} and {item.loaded.path} both render into "
                f"{item.env_dir}",
                fix="rename one stack folder (its name is the env folder) or render them "
                "separately with --out",
            )


def _label(env_dir: Path) -> str:
    """The env folder as diff headers show it: relative to the working directory when inside
    it, so ``git apply`` can use the diff."""
    try:
        return Path(os.path.realpath(env_dir)).relative_to(os.path.realpath(Path.cwd())).as_posix()
    except ValueError:
        return env_dir.as_posix().lstrip("/")


_BODIES: dict[str, Callable[[Sequence[Path], Path | None], int]] = {
    "render": render,
    "check": check,
    "diff": diff,
}


#: What each command reads of a stack's env folder (taken in :func:`compare` and :func:`render`).
_READS: dict[str, Callable[[Path], object]] = {
    "render": prefetch.signed_tree,
    "check": prefetch.checked_tree,
    "diff": prefetch.checked_tree,
}


def _plain_path(arg: str) -> bool:
    """Whether typer would turn ``arg`` into ``Path(arg)`` without a message of its own."""
    if not arg or arg.startswith("-"):
        return False  # an option, ``--``, ``-`` or an empty path: typer decides
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        return False  # undecodable bytes in argv
    # typer refuses an existing path that is not readable ("... is not readable.")
    return not os.path.lexists(arg) or os.access(arg, os.R_OK)


def fast_command(argv: Sequence[str]) -> Callable[[], int] | None:
    """The body to run for ``argv`` without typer, or ``None`` when typer must parse it.

    Only ``render|check|diff PATH...`` qualifies: no option (so no ``--debug``, ``--out``,
    ``--help``), at least one path, and no shell-completion request in the environment.
    """
    if len(argv) < 2 or argv[0] not in FAST_COMMANDS:
        return None
    if not all(_plain_path(arg) for arg in argv[1:]):
        return None
    if any(key.startswith("_") and key.endswith("_COMPLETE") for key in os.environ):
        return None
    body = _BODIES[argv[0]]
    paths = [Path(arg) for arg in argv[1:]]
    return lambda: body(paths, None)


def _run_fast(action: Callable[[], int]) -> int:
    """Run a command body with the exit handling of typer's standalone mode."""
    try:
        return guard(action)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        devnull = open(os.devnull, "w")  # noqa: SIM115 (stays open until exit)
        sys.stdout = sys.stderr = devnull
        return 1


def main(*, collect_cycles: bool = True) -> None:
    """Console-script and ``python -m kubegen`` entry point.

    ``collect_cycles=False`` (what :func:`run` passes, as the process ends right after)
    turns the cycle collector off for ``render|check|diff PATH...``: everything those build
    lives until the end (a collection at 1,000 services visits ~200,000 objects to free ~500
    of them, ~60 ms), and the process leaves without freeing anything (see :func:`run`).
    """
    # A render allocates millions of objects that live until exit; collect cycles 300x less
    # often (mypy's setting): ~10% of a 1,000-service render, no change in peak memory.
    gc.set_threshold(200_000, 30, 30)
    reopen_closed_streams()
    catch_signals()
    tolerate_encodings()
    from kubegen._cli import startup

    argv = sys.argv[1:]
    action = fast_command(argv)
    if action is not None:  # read the env folders meanwhile (see kubegen._cli.prefetch)
        prefetch.start([Path(arg) for arg in argv[1:]], None, _READS[argv[0]])
    startup.prepare()
    if action is not None:
        if not collect_cycles:
            gc.disable()
        try:
            sys.exit(_run_fast(action))
        finally:
            prefetch.stop()
    from kubegen._cli.app import run_app

    run_app()


def run() -> NoReturn:
    """The ``kubegen`` console script and ``python -m kubegen``: :func:`main`, then leave.

    A render of 1,000 services leaves millions of objects that the interpreter would free one
    by one on the way out (~0.05 s, nothing observable). So once stdout and stderr are flushed,
    the process ends at once with :func:`main`'s exit code, unless something still expects the
    normal shutdown: another thread, or an ``atexit`` callback (a stack's code may register
    one). Tests call :func:`main`, which raises ``SystemExit`` as usual.

    A thread the stack started gets :data:`THREAD_GRACE` seconds to end; one still running
    then (a poller that never stops) is abandoned with a warning rather than holding the
    process forever: the command's work is done and its exit code stands.
    """
    code: str | int | None = 0
    try:
        main(collect_cycles=False)
    except SystemExit as exc:
        code = exc.code
    status = 0 if code is None else code
    if not isinstance(status, int) or not 0 <= status <= 255:
        sys.exit(code)  # a message to print, an odd code: Python's own exit
    if not _nothing_left_to_run():
        try:
            lingering = _threads_still_running(THREAD_GRACE)
        except KeyboardInterrupt:
            lingering = ["interrupted while waiting"]
        if lingering:
            _abandon(lingering, status)
        sys.exit(code)  # work left (threads, atexit callbacks): Python's own exit
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed or broken stream: let Python report it as usual
        sys.exit(code)
    os._exit(status)


#: Seconds the threads a stack started may run on after the command is done.
THREAD_GRACE = 5.0


def _threads_still_running(grace: float) -> list[str]:
    """Wait up to ``grace`` seconds in all for the other non-daemon threads (which Python's
    own exit would wait for without end); the names of those still running then."""
    threading = sys.modules.get("threading")
    if threading is None:
        return []
    deadline = time.monotonic() + grace
    others = [t for t in threading.enumerate()
              if t is not threading.current_thread() and not t.daemon]  # fmt: skip
    for thread in others:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [_thread_name(t) for t in others if t.is_alive()]


def _thread_name(thread: Any) -> str:
    target = getattr(thread, "_target", None)
    code = getattr(target, "__code__", None)
    where = f" ({display_path(code.co_filename)}:{code.co_firstlineno})" if code else ""
    return f"{thread.name}{where}"


def _abandon(threads: list[str], status: int) -> NoReturn:
    """Leave now, with ``atexit`` callbacks run, though threads of the stack still run."""
    with suppress(Exception):
        echo(
            f"warning: {len(threads)} thread(s) the stack started still run "
            f"{THREAD_GRACE:g} s after kubegen finished: {', '.join(threads)}; kubegen "
            "exits without them\n  Fix: end or join them in build(), or start them with "
            "daemon=True",
            err=True,
        )
    run_callbacks = getattr(atexit, "_run_exitfuncs", None)
    if run_callbacks is not None:
        with suppress(BaseException):
            run_callbacks()
    with suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(status)


def _nothing_left_to_run() -> bool:
    """No other thread and no ``atexit`` callback: a normal exit would only free memory."""
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() != 1:
        return False
    callbacks = getattr(atexit, "_ncallbacks", None)  # CPython's count; unknown: keep them
    return callbacks is not None and callbacks() == 0

