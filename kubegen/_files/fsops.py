"""Single-file moves and checks, relative to open folders, never through a symlink.

The writer changes ``output/<env>`` one file at a time (:mod:`kubegen._files.txn`), so every
step must be atomic on its own and must never replace a file kubegen does not own:

* :func:`place` moves a staged file to a name that must be free: ``renameat2(RENAME_NOREPLACE)``,
  else ``link`` + ``unlink``. Both fail with ``EEXIST`` instead of replacing whatever appeared
  at that name meanwhile (a file someone created, an editor's save).
* :func:`swap` exchanges two names atomically (``renameat2(RENAME_EXCHANGE)``): a changed file is
  replaced with no moment where its name is missing, and what was there comes back to kubegen to
  be checked; without it (macOS, filesystems without the flag) the caller moves the old file
  aside first, checks it, then places the new one.
* :func:`is_ours` reads the first bytes of a file that was just moved aside: kubegen's files
  start with the generated-by header; anything else was someone else's and is put back.

Folders are opened with ``O_NOFOLLOW`` and each name is resolved relative to its folder's
descriptor, so a folder swapped for a symlink while kubegen runs is never written through.
``KUBEGEN_RENAMEAT2=0`` turns ``renameat2`` off (the portable path), for tests and for
filesystems that misreport it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from typing import Any

from kubegen._render.layout import HEADER

_HEADER = HEADER.encode()
_HEADER_CRLF = _HEADER[:-1] + b"\r\n"  # the header after ``core.autocrlf`` (see tree.py)
_NOREPLACE, _EXCHANGE = 1, 2
_UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP})
_NO_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.EXDEV})
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_READ = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0)

_renameat2: Any = None  # the libc function once looked up; False where there is none


def _libc_renameat2() -> Any:
    """``renameat2`` from libc (Linux, glibc ≥ 2.28 or musl), or False."""
    global _renameat2
    if _renameat2 is None:
        _renameat2 = False
        if os.environ.get("KUBEGEN_RENAMEAT2", "1") != "0":
            import ctypes  # only when a render writes

            try:
                function = ctypes.CDLL(None, use_errno=True).renameat2
            except (OSError, AttributeError):
                function = None
            if function is not None:
                function.argtypes = [
                    ctypes.c_int,
                    ctypes.c_char_p,
                    ctypes.c_int,
                    ctypes.c_char_p,
                    ctypes.c_uint,
                ]
                _renameat2 = (function, ctypes.get_errno)
    return _renameat2


def reset() -> None:
    """Look ``renameat2`` up again on next use (tests toggle ``KUBEGEN_RENAMEAT2``)."""
    global _renameat2
    _renameat2 = None


class Folder:
    """An open folder; files in it are named relative to its descriptor."""

    __slots__ = ("fd", "path")

    def __init__(self, fd: int, path: str) -> None:
        self.fd, self.path = fd, path

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, follow: bool = False) -> Folder:
        """Open ``path`` as a folder; a symlink there fails with ``ELOOP`` unless ``follow``."""
        fd = os.open(path, _DIR_FLAGS | (0 if follow else _NOFOLLOW))
        return cls(fd, os.fspath(path))

    def child(self, name: str, *, create: bool = False) -> Folder:
        """The folder ``name`` inside this one (made first if ``create`` and missing)."""
        if create:
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, dir_fd=self.fd)
        fd = os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=self.fd)
        return Folder(fd, f"{self.path}/{name}")

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def show(self, name: str) -> str:
        """The path of ``name`` in this folder, for messages."""
        return f"{self.path}/{name}"


def _rename2(src: Folder, a: str, dst: Folder, b: str, flags: int) -> bool:
    """``renameat2`` with ``flags``; False where the kernel or filesystem does not support it."""
    found = _libc_renameat2()
    if not found:
        return False
    function, get_errno = found
    if function(src.fd, os.fsencode(a), dst.fd, os.fsencode(b), flags) == 0:
        return True
    err = get_errno()
    if err in _UNSUPPORTED:
        return False
    raise OSError(err, os.strerror(err), dst.show(b))


def place(src: Folder, a: str, dst: Folder, b: str) -> None:
    """Move ``src/a`` to ``dst/b``; ``FileExistsError`` if anything is at ``dst/b`` by then."""
    if _rename2(src, a, dst, b, _NOREPLACE):
        return
    try:
        os.link(a, b, src_dir_fd=src.fd, dst_dir_fd=dst.fd, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        # A filesystem without hard links: the name is checked, then taken (not atomic).
        if exists(dst, b):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), dst.show(b)) from None
        os.rename(a, b, src_dir_fd=src.fd, dst_dir_fd=dst.fd)
        return
    os.unlink(a, dir_fd=src.fd)


def claim(src: Folder, a: str, dst: Folder, b: str) -> bool:
    """Rename ``src/a`` (a folder) to the free name ``dst/b`` atomically; False where that
    cannot be done atomically (no ``renameat2``) or ``dst/b`` exists by then."""
    try:
        return _rename2(src, a, dst, b, _NOREPLACE)
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            return False
        raise


def swap(a_dir: Folder, a: str, b_dir: Folder, b: str) -> bool:
    """Exchange ``a_dir/a`` and ``b_dir/b`` atomically; False where that is not supported."""
    return _rename2(a_dir, a, b_dir, b, _EXCHANGE)


def move(src: Folder, a: str, dst: Folder, b: str) -> bool:
    """Move ``src/a`` into kubegen's own folder ``dst`` as ``b``; False if ``src/a`` is gone."""
    try:
        os.rename(a, b, src_dir_fd=src.fd, dst_dir_fd=dst.fd)
    except FileNotFoundError:
        return False
    return True


def exists(folder: Folder, name: str) -> bool:
    try:
        os.stat(name, dir_fd=folder.fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def inode(folder: Folder, name: str) -> int | None:
    """The inode number at ``folder/name`` (not following a symlink), or None if missing."""
    try:
        return os.stat(name, dir_fd=folder.fd, follow_symlinks=False).st_ino
    except FileNotFoundError:
        return None


def same(a_dir: Folder, a: str, b_dir: Folder, b: str) -> bool:
    """Whether two names are links to one file (both exist)."""
    first, second = inode(a_dir, a), inode(b_dir, b)
    return first is not None and first == second


def is_ours(folder: Folder, name: str) -> bool:
    """True for a regular file that starts with kubegen's header (a symlink, folder, FIFO or
    any other file is someone else's)."""
    try:
        fd = os.open(name, _READ, dir_fd=folder.fd)
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        return os.read(fd, len(_HEADER_CRLF)).startswith((_HEADER, _HEADER_CRLF))
    except OSError:
        return False
    finally:
        os.close(fd)


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL


def write_new(folder: Folder, name: str, data: bytes, *, mode: int | None = None) -> int:
    """Create ``folder/name`` (it must not exist) holding ``data``.

    Plain ``os.open``/``os.write`` (mode 0o666 less the umask unless ``mode`` is given): a
    buffered file object costs more than the write itself for thousands of small files. Returns
    the file's inode number when ``mode`` is given (a replaced file: the plan records it), else 0.
    """
    fd = os.open(name, _CREATE, 0o666, dir_fd=folder.fd)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if mode is None:
            return 0
        os.fchmod(fd, mode)
        return os.fstat(fd).st_ino
    finally:
        os.close(fd)
