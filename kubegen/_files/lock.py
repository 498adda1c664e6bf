"""One writer per output folder: an advisory ``flock`` on the output folder itself.

Locking the folder (not a lock file) leaves nothing behind for git to see. Readers (``check``,
``diff``) take the lock shared, so they never see a half-swapped env folder.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kubegen._errors import OutputError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; renders are then unlocked
    fcntl = None  # type: ignore[assignment]


@contextmanager
def output_lock(folder: Path, *, shared: bool = False, timeout: float = 60.0) -> Iterator[None]:
    """Hold the lock on ``folder`` for the block; wait up to ``timeout`` seconds for it.

    ``shared`` (default False) is for readers (``check``, ``diff``); a writer takes it exclusive.
    Defaults to a 60 s wait, after which an :class:`OutputError` names the busy folder.
    """
    if fcntl is None or not folder.is_dir():
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise OutputError(
            f"Unable to lock {folder}: {exc.strerror or exc}",
            fix="make the output folder readable and writable, then run again",
        ) from None
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    deadline = time.monotonic() + timeout
    pause = 0.001  # then up to 10 ms: a waiting reader starts soon after the render ends
    try:
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputError(
                        f"another kubegen process is writing to {folder} "
                        f"(waited {timeout:g} s for its lock)",
                        fix="wait for the other render to finish, then run again",
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.01)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
