"""Replace an env folder's files as one atomic step.

The new tree is built beside the old one (``output/.<env>.kubegen-new``): unchanged and foreign
files are hard-linked (so they are not rewritten), new and changed files written, and the two
folders swapped with ``renameat2(RENAME_EXCHANGE)``. A crash at any point leaves either the old
or the new complete set; the next run clears the leftovers. Where the kernel or filesystem lacks
the exchange, two renames are used and the next run restores the old folder if it was cut
between them.
"""

from __future__ import annotations

import ctypes
import os
import shutil
from pathlib import Path

from kubegen._errors import OutputError
from kubegen._files.lock import output_lock
from kubegen._files.tree import Changes, EnvTree, compare, scan

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def write_env(env_dir: Path, rendered: dict[str, bytes], *, lock_timeout: float = 60.0) -> Changes:
    """Make ``env_dir`` hold exactly ``rendered`` plus the files kubegen does not own."""
    try:
        env_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(exc, env_dir.parent) from None
    with output_lock(env_dir.parent, timeout=lock_timeout):
        recover(env_dir)
        tree = scan(env_dir)
        changes = compare(tree, rendered, env_dir)
        if not changes.any:
            return changes
        stage = _sibling(env_dir, "new")
        try:
            _build_stage(stage, env_dir, tree, rendered, changes)
            _swap(stage, env_dir)
        except OSError as exc:
            shutil.rmtree(stage, ignore_errors=True)
            raise _os_error(exc, env_dir) from None
        shutil.rmtree(stage, ignore_errors=True)  # after the swap it holds the old tree
    return changes


def read_env(env_dir: Path) -> EnvTree:
    """Scan ``env_dir`` under a shared lock, so a concurrent render is never seen half-done."""
    with output_lock(env_dir.parent, shared=True):
        if _sibling(env_dir, "old").exists() and not env_dir.exists():
            return scan(_sibling(env_dir, "old"))
        return scan(env_dir)


def recover(env_dir: Path) -> None:
    """Finish or undo a swap that a killed process left half done."""
    old, new = _sibling(env_dir, "old"), _sibling(env_dir, "new")
    if old.exists():
        if env_dir.exists():
            shutil.rmtree(old)
        else:
            old.rename(env_dir)
    if new.exists():
        shutil.rmtree(new)


def _sibling(env_dir: Path, what: str) -> Path:
    return env_dir.parent / f".{env_dir.name}.kubegen-{what}"


def _build_stage(
    stage: Path, env_dir: Path, tree: EnvTree, rendered: dict[str, bytes], changes: Changes
) -> None:
    stage.mkdir()
    for folder in tree.empty_dirs:
        (stage / folder).mkdir(parents=True, exist_ok=True)
    for rel in sorted(tree.foreign) + changes.unchanged:
        _link(env_dir / rel, stage / rel)
    for rel, target in tree.foreign_links.items():
        dest = stage / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, dest)
    for rel in changes.created + changes.changed:
        dest = stage / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "wb") as handle:
            handle.write(rendered[rel])


def _link(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def _swap(stage: Path, env_dir: Path) -> None:
    if not env_dir.exists():
        stage.rename(env_dir)
        return
    if _exchange(stage, env_dir):
        return
    old = _sibling(env_dir, "old")
    env_dir.rename(old)
    stage.rename(env_dir)
    old.rename(stage)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two folders (Linux renameat2); False where it is not supported."""
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
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: fall back to two renames
        return False
    raise OSError(err, os.strerror(err), str(b))


def _os_error(exc: OSError, where: Path) -> OutputError:
    reason = exc.strerror or str(exc)
    return OutputError(
        f"Unable to write {where}: {reason}; the previous files are unchanged",
        fix="check permissions and free disk space, then render again",
    )
