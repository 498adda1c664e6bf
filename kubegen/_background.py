"""Run one pure computation in a forked child on the second core while this process goes on.

A large render spends a third of its time linting and another third rendering YAML; both only
read the built objects. :class:`Background` forks after the objects are built, lints in the
child and pickles the report back through a pipe, while the parent renders: on this project's
2-core machine that overlap takes about 0.2 s off a 1,000-service render (see bench/).

It is an optimisation only, so it never changes a result:

* it forks only on Linux, with more than one CPU, when this process runs no other thread (user
  code may have started some; forking those is unsafe), and unless ``KUBEGEN_PARALLEL=0``;
  otherwise :meth:`Background.result` computes in this process;
* anything that goes wrong in the child (an exception, a crash, a result that does not pickle)
  makes :meth:`result` compute again here, so the real error is raised with its traceback;
* the child leaves through ``os._exit``: no atexit handlers, no flush of inherited buffers.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import struct
import sys
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import BinaryIO, Generic, TypeVar

T = TypeVar("T")

#: Set to ``0`` to keep every computation in the kubegen process.
ENV_SWITCH = "KUBEGEN_PARALLEL"


def can_fork() -> bool:
    """Whether forking is safe and useful here (see the module docstring)."""
    return (
        sys.platform == "linux"
        and hasattr(os, "fork")
        and (os.cpu_count() or 1) > 1
        and threading.active_count() == 1
        and os.environ.get(ENV_SWITCH, "1") != "0"
    )


class Background(Generic[T]):
    """``compute()`` running in a forked child; :meth:`result` returns its value.

    Use it as a context manager so that a child whose result is never asked for (the parent
    raised first) is stopped and reaped.
    """

    def __init__(self, compute: Callable[[], T], *, fork: bool = True) -> None:
        self._compute = compute
        self._pid: int | None = None
        self._fd: int | None = None
        if fork and can_fork():
            self._start()

    @property
    def forked(self) -> bool:
        """True while a child computes the result."""
        return self._pid is not None

    def _start(self) -> None:
        started = _fork(self._child)
        if started is not None:
            self._pid, self._fd = started

    def _child(self, pipe: BinaryIO) -> None:  # pragma: no cover - runs in the child
        pipe.write(pickle.dumps(self._compute(), protocol=pickle.HIGHEST_PROTOCOL))

    def result(self) -> T:
        """The computed value; computed here when no child ran or the child failed."""
        if self._pid is None:
            return self._compute()
        data, ok = self._collect()
        if ok:
            with contextlib.suppress(Exception):
                value: T = pickle.loads(data)
                return value
        return self._compute()

    def _collect(self) -> tuple[bytes, bool]:
        """Everything the child wrote, and whether it exited cleanly."""
        assert self._pid is not None and self._fd is not None
        data = b""
        try:
            with open(self._fd, "rb", closefd=True) as pipe:
                data = pipe.read()
        finally:
            self._fd = None
            _, status = os.waitpid(self._pid, 0)
            self._pid = None
        return data, os.waitstatus_to_exitcode(status) == 0

    def cancel(self) -> None:
        """Stop a child whose result is no longer wanted, and reap it."""
        if self._pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        os.waitpid(self._pid, 0)
        self._pid = None

    def __enter__(self) -> Background[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.cancel()


class Series(Generic[T]):
    """``computes`` run one after another in one forked child, each value handed over through
    the pipe as soon as it is ready, so the child computes the next while this process uses
    the last: :meth:`result` takes them in order.

    For work that may change files on disk (reading an env folder first finishes what an
    interrupted render left), the child is never killed: :meth:`close` stops reading, and the
    child, whose next write then fails, ends after the computation it is in.
    """

    def __init__(self, computes: Sequence[Callable[[], T]], *, fork: bool = True) -> None:
        self._computes = list(computes)
        self._taken = 0
        self._pid: int | None = None
        self._pipe: BinaryIO | None = None
        if fork and self._computes and can_fork():
            self._start()

    @property
    def forked(self) -> bool:
        """True while a child computes the values not taken yet."""
        return self._pid is not None

    def _start(self) -> None:
        started = _fork(self._child)
        if started is not None:
            self._pid, fd = started
            self._pipe = open(fd, "rb", closefd=True)  # noqa: SIM115 (closed by close())

    def _child(self, pipe: BinaryIO) -> None:  # pragma: no cover - runs in the child
        for compute in self._computes:
            data = pickle.dumps(compute(), protocol=pickle.HIGHEST_PROTOCOL)
            pipe.write(_FRAME.pack(len(data)))
            pipe.write(data)
            pipe.flush()

    def result(self) -> T:
        """The next value: the child's, or computed here when no child ran, or it stopped (an
        exception, a crash) before handing this one over."""
        index = self._taken
        self._taken += 1
        if self._pipe is not None:
            value = self._received()
            if value is not None:
                if self._taken == len(self._computes):
                    self.close()
                return value[0]
            self.close()
        return self._computes[index]()

    def _received(self) -> tuple[T] | None:
        assert self._pipe is not None
        with contextlib.suppress(Exception):
            head = self._pipe.read(_FRAME.size)
            if len(head) == _FRAME.size:
                (size,) = _FRAME.unpack(head)
                data = self._pipe.read(size)
                if len(data) == size:
                    return (pickle.loads(data),)
        return None

    def close(self) -> None:
        """Take no more values; wait for the child to end (see the class docstring)."""
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        if self._pid is not None:
            os.waitpid(self._pid, 0)
            self._pid = None

    def __enter__(self) -> Series[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _fork(child: Callable[[BinaryIO], None]) -> tuple[int, int] | None:
    """Fork a child that runs ``child`` on the write end of a pipe, then leaves through
    ``os._exit`` (status 1 when it raised); the child's pid and the read end, or None when
    the system cannot fork now."""
    read, write = os.pipe()
    _widen(write)
    try:
        pid = os.fork()
    except OSError:  # no memory or process slots: compute in this process instead
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # pragma: no cover - the child; its work is checked through the results
        code = 1
        try:
            os.close(read)
            gc.disable()  # short-lived: collecting would only copy the parent's pages
            with open(write, "wb", closefd=True) as pipe:
                child(pipe)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    return pid, read


def _widen(pipe: int) -> None:
    """Let the pipe hold 1 MiB (Linux's default limit for a user) instead of 64 KiB: a
    large value crosses it in a few reads, not in a hundred round trips between processes."""
    with contextlib.suppress(OSError, AttributeError):
        import fcntl

        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, 1 << 20)


_FRAME = struct.Struct("<Q")  # the length of the pickled value that follows

__all__ = ["ENV_SWITCH", "Background", "Series", "can_fork"]
