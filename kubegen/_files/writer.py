"""Replace an env folder's files as one atomic step.

The new tree is built beside the old one (``output/.<env>.kubegen-new``): unchanged and foreign
files are hard-linked (so they keep their inode and mtime), new and changed files written, and
the two folders swapped with ``renameat2(RENAME_EXCHANGE)``. A crash at any point leaves either
the old or the new complete set; the next run clears the leftovers. Where the kernel or
filesystem lacks the exchange, two renames are used (``env → .<env>.kubegen-old``, then
``stage → env``) and the next run restores the old folder if it was cut between them.

The ``.<env>.kubegen-new`` and ``.<env>.kubegen-old`` names are reserved for kubegen; anything
else found there (a file, a symlink) is refused rather than deleted or followed.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path

from kubegen._errors import OutputError
from kubegen._files.lock import output_lock
from kubegen._files.tree import Changes, EnvTree, compare, scan

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_NO_EXCHANGE = (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP)


def write_env(env_dir: Path, rendered: dict[str, bytes], *, lock_timeout: float = 60.0) -> Changes:
    """Make ``env_dir`` hold exactly ``rendered`` plus the files kubegen does not own.

    Waits up to ``lock_timeout`` seconds (default 60) for another render of the same output
    folder. Raises :class:`OutputError` when a rendered path would hit a foreign file or
    symlink, or when the disk refuses a write; ``env_dir`` is then left as it was.
    """
    _refuse_unsafe_target(env_dir)
    try:
        env_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(exc, env_dir.parent) from None
    with output_lock(env_dir.parent, timeout=lock_timeout):
        recover(env_dir)
        tree = scan(env_dir)
        changes = compare(tree, rendered, env_dir)  # a clash with a foreign file is named first
        _refuse_foreign_folder(env_dir, tree)
        if not changes.any:
            return changes
        _refuse_read_only(env_dir)
        stage = _sibling(env_dir, "new")
        try:
            _build_stage(stage, env_dir, tree, rendered, changes)
            _keep_mode(env_dir, stage)
            _swap(stage, env_dir)
        except OSError as exc:
            _remove_tree(stage)
            raise _os_error(exc, env_dir) from None
        _remove_tree(stage)  # after the swap it holds the old tree; a leftover is recovered
    return changes


def read_env(env_dir: Path) -> EnvTree:
    """Scan ``env_dir`` under a shared lock, so a concurrent render is never seen half-done.

    A swap cut between its two renames (fallback path) left the old set at
    ``.<env>.kubegen-old``; that is what the next render restores, so that is what is read.
    """
    with output_lock(env_dir.parent, shared=True):
        old = _sibling(env_dir, "old")
        if _reserved_dir(old) and not os.path.lexists(env_dir):
            return scan(old)
        return scan(env_dir)


def recover(env_dir: Path) -> None:
    """Finish or undo a swap that a killed process left half done (call under the lock)."""
    old, new = _sibling(env_dir, "old"), _sibling(env_dir, "new")
    try:
        if _reserved_dir(old):
            if os.path.lexists(env_dir):
                shutil.rmtree(old)
            else:
                old.rename(env_dir)
        if _reserved_dir(new):
            shutil.rmtree(new)
    except OSError as exc:
        raise OutputError(
            f"Unable to clear what an interrupted render left in {env_dir.parent}: "
            f"{exc.strerror or exc}",
            fix=f"remove {old.name} and {new.name} from {env_dir.parent} by hand",
        ) from None


def _refuse_unsafe_target(env_dir: Path) -> None:
    """Refuse a folder that cannot be an env folder: a render replaces the whole folder.

    ``--out .``, ``--out ~`` or ``--out <a repository root>`` would rebuild the working
    directory, a home folder or a git checkout (files hard-linked, folders recreated with
    default permissions, anything created meanwhile lost).
    """
    target = env_dir.resolve()
    here, home = Path.cwd().resolve(), Path(os.path.expanduser("~")).resolve()
    if target in (here, *here.parents) or target in (home, *home.parents):
        why = "it holds the current directory or the home folder"
    elif any(os.path.lexists(env_dir / marker) for marker in (".git", "pyproject.toml")):
        why = "it is a project or repository root"
    else:
        return
    raise OutputError(
        f"refusing to use {env_dir} as an output folder: {why}, and a render replaces the "
        "whole folder",
        fix="pass --out a dedicated folder, e.g. output/<env> or deploy/<env>",
    )


def _refuse_foreign_folder(env_dir: Path, tree: EnvTree) -> None:
    """Adopt an existing folder only if it is empty or already holds kubegen's files."""
    others = len(tree.foreign) + len(tree.foreign_links)
    if others and not tree.owned:
        raise OutputError(
            f"refusing to render into {env_dir}: it holds files kubegen did not write ({others}) "
            "and none it did, so it is not an output folder",
            fix="render into an empty or new folder (move those files away first), or pass "
            "--out another folder",
        )


def _refuse_read_only(env_dir: Path) -> None:
    """A read-only env folder is a user's "do not touch": refuse rather than swap it away."""
    if os.path.isdir(env_dir) and not os.access(env_dir, os.W_OK):
        raise OutputError(
            f"Unable to write {env_dir}: the folder is read-only; the previous files are unchanged",
            fix=f"make it writable (chmod u+w {env_dir}) if kubegen should update it",
        )


def _keep_mode(env_dir: Path, stage: Path) -> None:
    """Give the new env folder the permissions of the one it replaces."""
    if os.path.isdir(env_dir):
        os.chmod(stage, stat.S_IMODE(os.stat(env_dir).st_mode))


def _reserved_dir(path: Path) -> bool:
    """True for a real folder at a reserved name; a file or symlink there is refused."""
    if not os.path.lexists(path):
        return False
    if path.is_symlink() or not path.is_dir():
        raise OutputError(
            f"{path} is not a folder kubegen made; the name is reserved for interrupted renders",
            fix=f"move {path} away by hand, then render again",
        )
    return True


def _sibling(env_dir: Path, what: str) -> Path:
    return env_dir.parent / f".{env_dir.name}.kubegen-{what}"


def _build_stage(
    stage: Path, env_dir: Path, tree: EnvTree, rendered: dict[str, bytes], changes: Changes
) -> None:
    stage.mkdir()
    made: set[str] = set()  # folders made in the stage: one mkdir per folder, not per file
    # Files are named by plain strings: a Path per file costs more than a link. ``rel`` is a
    # clean relative path (scandir names or checked layout paths), so this is str(stage / rel).
    base, old = os.fspath(stage), os.fspath(env_dir)

    def folder_of(rel: str) -> str:
        parent = rel.rpartition("/")[0]
        if parent not in made:
            (stage / parent).mkdir(parents=True, exist_ok=True)
            made.add(parent)
        return f"{base}/{rel}"

    for folder in sorted(tree.empty_dirs):
        (stage / folder).mkdir(parents=True, exist_ok=True)
    for rel in sorted(tree.foreign) + changes.unchanged:
        _link(f"{old}/{rel}", folder_of(rel))
    for rel, target in sorted(tree.foreign_links.items()):
        os.symlink(target, folder_of(rel))
    for rel in changes.created + changes.changed:
        _write_file(folder_of(rel), rendered[rel])


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _write_file(dest: str | Path, data: bytes) -> None:
    """Create ``dest`` (it never exists: the stage is fresh) holding exactly ``data``.

    Plain ``os.open``/``os.write`` (mode 0o666 less the umask, like ``open(dest, "xb")``): a
    buffered file object costs more than the write itself for thousands of small files.
    """
    fd = os.open(dest, _CREATE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _link(src: str | Path, dest: str | Path) -> None:
    """Hard-link ``src`` to ``dest`` (its folder exists), or copy it where links fail."""
    try:
        os.link(src, dest, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dest, follow_symlinks=False)


def _swap(stage: Path, env_dir: Path) -> None:
    if not os.path.lexists(env_dir):
        stage.rename(env_dir)
        return
    if _exchange(stage, env_dir):
        return
    old = _sibling(env_dir, "old")
    env_dir.rename(old)
    try:
        stage.rename(env_dir)
    except OSError:
        old.rename(env_dir)
        raise
    _remove_tree(old)  # the new set is in place; a leftover old tree is cleared by recover()


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two folders (Linux renameat2); False where it is not supported."""
    import ctypes  # only when a render writes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in _NO_EXCHANGE:
        return False
    raise OSError(err, os.strerror(err), str(b))


def _remove_tree(path: Path) -> None:
    """Best-effort removal of a stage or old tree; what is left is cleared by :func:`recover`."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)


def _os_error(exc: OSError, where: Path) -> OutputError:
    reason = exc.strerror or str(exc)
    culprit = f" ({exc.filename})" if exc.filename else ""
    return OutputError(
        f"Unable to write {where}: {reason}{culprit}; the previous files are unchanged",
        fix="check permissions and free disk space, then render again",
    )
