"""The env folders of ``render|check|diff PATH...``, read in a forked child during start-up.

Before a command can compare or reuse a stack's files, kubegen imports its builders (pydantic
and its models: ~0.15 s) and runs the stack's code. Reading the env folder does not depend on
either, and a 1,000-service folder holds 7,000 files (~0.05 s to read). So :func:`start`, called
before those imports, forks a child that reads each stack's folder in the order the command
will ask for them and hands each over through a pipe (:class:`kubegen._background.Series`);
:func:`take` returns it where the command reads it. The result and any error are the same as a
read at that point: the child runs the very function the command would, and when no child ran,
the command asks for another folder, or the child failed, :func:`take` reads it then, in this
process, raising the error there.

Only a large folder is worth a fork (the fork and the pipe cost ~2 ms, more in a large process
such as a test run): :data:`PREFETCH_FROM` bytes of kustomization files, about 500 objects.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kubegen._background import Series
from kubegen._errors import KubegenError
from kubegen._render.layout import KUSTOMIZATION
from kubegen._stack_path import resolve_env_dir

if TYPE_CHECKING:
    from kubegen._files.tree import EnvTree
    from kubegen._render.cache import CacheFields

__all__ = ["PREFETCH_FROM", "checked_tree", "env_tree", "signed_tree", "start", "stop", "take"]

T = TypeVar("T")

#: Bytes of an env folder's kustomization files (its own and its cluster folders') from which
#: its files are read in a child: each object's file is one line of about 40 bytes.
PREFETCH_FROM = 20_000

Reader = Callable[[Path], Any]


def env_tree(env_dir: Path) -> EnvTree:
    """What ``check --full`` and ``diff --full`` compare against
    (:func:`kubegen._files.writer.read_env`)."""
    from kubegen._files.writer import read_env

    return read_env(env_dir)


def checked_tree(env_dir: Path) -> tuple[EnvTree, dict[str, CacheFields]]:
    """What ``check`` and ``diff`` compare against, with the cache lines of its files checked
    (:func:`kubegen._render.cache.checked_lines`): hashing 7,000 files' text is done by the
    child too."""
    from kubegen._render.cache import checked_lines

    tree = env_tree(env_dir)
    return tree, checked_lines(tree.owned)


def signed_tree(env_dir: Path) -> tuple[EnvTree, dict[str, CacheFields]] | None:
    """What a render reads first, without the lock: the files it may reuse, their checked
    cache lines, and their signatures, which spare reading them again under the lock (see
    :func:`kubegen._files.tree.scan`). Only a cache (a file read half-written just misses),
    so an unreadable folder is simply none."""
    from kubegen._files.tree import scan
    from kubegen._render.cache import checked_lines

    try:
        tree = scan(env_dir, signed=True)
    except (KubegenError, OSError):
        return None
    return tree, checked_lines(tree.owned)


class _Started:
    """The reads a child was started for, in order, and how many were taken."""

    def __init__(self, keys: list[tuple[Reader, Path]], series: Series[Any]) -> None:
        self.keys = keys
        self.series = series
        self.taken = 0


_started: _Started | None = None


def start(paths: Sequence[Path], out: Path | None, read: Reader) -> None:
    """Read the env folder of each of ``paths`` with ``read`` in a child, when one is large.

    A path whose folder cannot be resolved (no such stack) ends the list there: the command
    reports it at the same point as without a child.
    """
    global _started
    stop()
    folders: list[Path] = []
    for path in paths:
        try:
            folders.append(resolve_env_dir(path, out)[1])
        except (KubegenError, OSError):
            break
    if not any(_large(folder) for folder in folders):
        return
    computes = [(lambda folder=folder: read(folder)) for folder in folders]
    series: Series[Any] = Series(computes)
    if series.forked:
        _started = _Started([(read, folder) for folder in folders], series)


def take(read: Callable[[Path], T], env_dir: Path) -> T:
    """``read(env_dir)``: the child's value when it read that folder next, else read here."""
    started = _started
    if started is not None and started.taken < len(started.keys):
        if started.keys[started.taken] == (read, env_dir):
            started.taken += 1
            value: T = started.series.result()
            return value
        stop()  # asked in another order: read everything here from now on
    return read(env_dir)


def stop() -> None:
    """Drop what was not taken and let the child end."""
    global _started
    if _started is not None:
        _started.series.close()
        _started = None


def _large(env_dir: Path) -> bool:
    """Whether the kustomization files of ``env_dir`` and its direct subfolders (a cluster's
    folder has its own) list at least :data:`PREFETCH_FROM` bytes of files."""
    total = 0
    try:
        with os.scandir(env_dir) as entries:
            for entry in entries:
                if entry.name == KUSTOMIZATION:
                    total += entry.stat(follow_symlinks=False).st_size
                elif entry.is_dir(follow_symlinks=False):
                    total += _size(os.path.join(entry.path, KUSTOMIZATION))
    except OSError:
        return False
    return total >= PREFETCH_FROM


def _size(path: str) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0

