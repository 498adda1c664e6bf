"""Make each ``output/<env>`` hold exactly what the code renders, plus everything kubegen does
not own, untouched.

A write takes the lock of every output folder involved, finishes or undoes what an interrupted
run left (and says so), scans each env folder, refuses unsafe writes before touching anything,
and hands the changed files to one transaction (:mod:`kubegen._files.txn`): every env of one
``kubegen render`` is written, or none is. Unchanged files are not touched at all.

Names starting with ``.kubegen-txn-`` in an output folder are reserved for that transaction;
``.<env>.kubegen-new`` and ``.<env>.kubegen-old`` are what kubegen 0.1 left when a render was
killed, and are still recovered.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from kubegen._errors import OutputError
from kubegen._files import txn
from kubegen._files.lock import output_lock
from kubegen._files.tree import Changes, EnvTree, compare, folders_of, scan

__all__ = ["read_env", "recover", "write_env", "write_envs"]


def write_env(env_dir: Path, rendered: dict[str, bytes], *, lock_timeout: float = 60.0) -> Changes:
    """Make ``env_dir`` hold exactly ``rendered`` plus the files kubegen does not own.

    Waits up to ``lock_timeout`` seconds (default 60) for another render of the same output
    folder. Raises :class:`OutputError` when a rendered path would hit a foreign file or
    symlink, or when the disk refuses a write; ``env_dir`` is then left as it was.
    """
    return write_envs([(env_dir, rendered)], lock_timeout=lock_timeout)[0]


def write_envs(
    items: Sequence[tuple[Path, dict[str, bytes]]],
    *,
    lock_timeout: float = 60.0,
    known: Sequence[EnvTree | None] = (),
) -> list[Changes]:
    """Write several env folders all or none; one :class:`Changes` per item, in order.

    What an interrupted earlier run left is repaired first; the first result's ``repaired``
    lists it. Files kept under another name (see :mod:`kubegen._files.txn`) are in ``warnings``.
    ``known``: per item, its folder as a signed :func:`scan` read it before the lock was taken;
    under the lock, files still the same are not read again (see :func:`scan`).
    """
    roots = sorted({Path(os.path.abspath(env_dir.parent)) for env_dir, _ in items})
    for root in roots:
        if os.path.lexists(root) and not os.path.isdir(root):
            raise _bad_root(root, "write into")
    for env_dir, _ in items:
        _refuse_unsafe_target(env_dir)
    try:
        with ExitStack() as held:
            for root in roots:
                _prepare_root(root)
                held.enter_context(output_lock(root, timeout=lock_timeout))
            repaired = [note for root in roots for note in _recover(root)]
            results, writes = _plan(items, known)
            if writes:
                results[0].warnings.extend(_run(writes))
    except OSError as exc:
        raise _os_error(exc, items[0][0]) from None
    results[0].repaired = repaired
    return results


def _plan(
    items: Sequence[tuple[Path, dict[str, bytes]]], known: Sequence[EnvTree | None]
) -> tuple[list[Changes], list[txn.EnvWrite]]:
    """Scan and compare every env; refuse anything unsafe before a single file is written."""
    results: list[Changes] = []
    writes: list[txn.EnvWrite] = []
    for index, (env_dir, rendered) in enumerate(items):
        tree = scan(env_dir, known=known[index] if index < len(known) else None)
        changes = compare(tree, rendered, env_dir)  # a clash with a foreign file is named first
        _refuse_foreign_folder(env_dir, tree)
        results.append(changes)
        if changes.any:
            _refuse_read_only(env_dir)
            existing = folders_of([*tree.owned, *tree.foreign, *tree.foreign_links]) | set(
                tree.empty_dirs
            )
            needed = folders_of(changes.created) - existing
            folders = sorted(needed, key=lambda f: (f.count("/"), f))
            writes.append(txn.EnvWrite(env_dir, rendered, changes, tree.exists, folders))
    return results, writes


def _run(writes: list[txn.EnvWrite]) -> list[str]:
    try:
        return txn.run(writes)
    except txn.Conflict as exc:
        raise OutputError(
            f"refusing to write {exc.path}: it {exc.why}; every file is as it was before "
            "the render",
            fix="move that file away (or let the other program finish), then render again",
        ) from None
    except txn.Unfinished as exc:
        raise OutputError(
            f"Unable to write {writes[0].env_dir}: {exc.__cause__}, and {exc}",
            fix="fix the cause (permissions, free space), then run kubegen again: it finishes "
            "undoing the interrupted render first",
        ) from None


def read_env(env_dir: Path) -> EnvTree:
    """Scan ``env_dir`` under a shared lock, so a concurrent render is never seen half-done.

    If an interrupted render left work behind, it is finished (or undone) first under the
    exclusive lock, and the tree's ``repaired`` says what was done: ``check`` never compares
    against a stale or half-written folder.
    """
    root = Path(os.path.abspath(env_dir.parent))
    if os.path.lexists(root) and not os.path.isdir(root):
        raise _bad_root(root, "read")
    try:
        with output_lock(root, shared=True):
            if not _leftovers(root):
                return scan(env_dir)
        with output_lock(root):
            repaired = _recover(root)
            tree = scan(env_dir)
    except OSError as exc:
        raise OutputError(
            f"Unable to read {exc.filename or env_dir}: {exc.strerror or exc}",
            fix="make the output folder readable (or move what is in the way), then run again",
        ) from None
    tree.repaired = repaired
    return tree


def recover(env_dir: Path) -> list[str]:
    """Finish or undo whatever interrupted runs left beside ``env_dir``; one line per repair."""
    root = Path(os.path.abspath(env_dir.parent))
    if not root.is_dir():
        return []
    with output_lock(root):
        return _recover(root)


def _leftovers(root: Path) -> bool:
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return False
    return any(n.startswith(txn.PREFIX) or n.endswith(_LEGACY) for n in names)


_LEGACY = (".kubegen-new", ".kubegen-old")


def _recover(root: Path) -> list[str]:
    """Recover ``root`` (under its lock): kubegen's transactions, then 0.1's swap leftovers."""
    try:
        names = sorted(os.listdir(root))
    except FileNotFoundError:
        return []
    try:
        notes = txn.recover(root, [n for n in names if n.startswith(txn.PREFIX)])
    except NotADirectoryError as exc:
        raise _reserved(root / str(exc.filename)) from None
    except OSError as exc:
        raise OutputError(
            f"Unable to finish the interrupted render in {root}: {exc.strerror or exc}",
            fix="fix the cause (permissions, free space), then run kubegen again",
        ) from None
    for name in names:
        if name.startswith(".") and name.endswith(_LEGACY):
            notes.extend(_recover_legacy(root, name))
    return notes


def _recover_legacy(root: Path, name: str) -> list[str]:
    """kubegen 0.1 swapped whole folders: ``.<env>.kubegen-new`` is a stage to delete;
    ``.<env>.kubegen-old`` is the previous folder, restored if the env folder is missing."""
    path = root / name
    env_dir = root / name[1:].rsplit(".kubegen-", 1)[0]
    if path.is_symlink() or not path.is_dir():
        raise _reserved(path)
    try:
        if name.endswith(".kubegen-old") and not os.path.lexists(env_dir):
            path.rename(env_dir)
            return [f"{env_dir}: restored the previous files of a render interrupted mid-swap"]
        shutil.rmtree(path)
        return [f"{env_dir}: deleted {name}, left by a render interrupted mid-swap"]
    except OSError as exc:
        raise OutputError(
            f"Unable to clear what an interrupted render left in {root}: {exc.strerror or exc}",
            fix=f"remove {path} by hand",
        ) from None


def _reserved(path: Path) -> OutputError:
    return OutputError(
        f"{path} is not a folder kubegen made; the name is reserved for interrupted renders",
        fix=f"move {path} away by hand, then render again",
    )


def _prepare_root(root: Path) -> None:
    """Make the output folder if it is missing; refuse a file or broken link in its place."""
    if os.path.isdir(root):
        return
    if os.path.lexists(root):
        raise _bad_root(root, "write into")
    root.mkdir(parents=True, exist_ok=True)


def _bad_root(root: Path, verb: str) -> OutputError:
    """The output folder is something else: name what it is."""
    try:
        os.stat(root)
        what = "a file, not a folder"
    except OSError as exc:
        what = "a symlink loop" if exc.errno == errno.ELOOP else "a symlink to nothing"
    return OutputError(
        f"Unable to {verb} {root}: it is {what}, and the env folders go inside it",
        fix=f"move {root} away (kubegen makes the folder), or set [tool.kubegen] output to "
        "another folder",
    )


def _refuse_unsafe_target(env_dir: Path) -> None:
    """Refuse a folder that cannot be an env folder: a render prunes kubegen's files anywhere
    below it, so ``--out .``, ``--out ~`` or ``--out <a repository root>`` would reach into the
    working directory, a home folder or a git checkout."""
    try:
        target = env_dir.resolve()
        here, home = Path.cwd().resolve(), Path(os.path.expanduser("~")).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise OutputError(
            f"Unable to use {env_dir} as an output folder: {exc}",
            fix="remove the symlink loop, or pass --out another folder",
        ) from None
    if target in (here, *here.parents) or target in (home, *home.parents):
        why = "it holds the current directory or the home folder"
    elif any(os.path.lexists(env_dir / marker) for marker in (".git", "pyproject.toml")):
        why = "it is a project or repository root"
    else:
        return
    raise OutputError(
        f"refusing to use {env_dir} as an output folder: {why}, and a render prunes "
        "kubegen's files anywhere below it",
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
    """A read-only env folder is a user's "do not touch": refuse with a clear message."""
    if os.path.isdir(env_dir) and not os.access(env_dir, os.W_OK):
        raise OutputError(
            f"Unable to write {env_dir}: the folder is read-only; the previous files are unchanged",
            fix=f"make it writable (chmod u+w {env_dir}) if kubegen should update it",
        )


def _os_error(exc: OSError, where: Path) -> OutputError:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ELOOP:
        reason = "a symlink loop"
    culprit = f" ({exc.filename})" if exc.filename else ""
    return OutputError(
        f"Unable to write {where}: {reason}{culprit}; the previous files are unchanged",
        fix="check permissions and free disk space, then render again",
    )
