"""Write renders into ``output/<env>`` file by file, as one transaction a crash cannot split.

kubegen never swaps a whole env folder: a folder swap also swaps every file someone else put
there and loses what appears during the render (an editor's save, a new file, a folder's mode).
Each file kubegen owns is replaced on its own instead, by an atomic rename that refuses to hit a
file it has not checked (:mod:`kubegen._files.fsops`), and a journal makes the set atomic.
Beside the env folders, in the folder holding them (``output/``)::

    .kubegen-txn-<id>/       (.kubegen-txn-<id>.gone/ once finished, while it is deleted)
        plan.json      the changes by env, written once everything is staged
        committed      the commit point (in the transaction's first output folder only)
        new/<env>/…    the content of every created and changed file
        old/<env>/…    files moved aside (pruned ones; replaced ones on the portable path)
        back/<env>/…   files an undo took back out of the env folder

Steps: stage ``new/``, write ``plan.json``, create ``committed``, apply (a new env folder is
renamed into place whole, otherwise file by file), remove the folders the prune emptied, delete
the transaction folder. One transaction covers every stack of a ``kubegen render``, so they are
written all or none. A crash before the commit point changes nothing: the next run deletes the
staging. After it, the next run finishes the moves (:func:`recover`). A file that someone else
puts where kubegen is about to write, or a failed write, undoes the moves already made (the
commit point removed first, then in reverse) and fails the render with a message.

Every step looks at the disk before it acts (was this file placed already? is what was moved
aside kubegen's?), so the same code applies a transaction, resumes it after a crash, and undoes
it; and nothing is deleted before it was checked to carry kubegen's header.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubegen._files import fsops
from kubegen._files.fsops import Folder
from kubegen._files.tree import Changes

PREFIX = ".kubegen-txn-"
_PLAN, _COMMITTED, _DONE = "plan.json", "committed", "done"
_GONE = ".gone"  # a finished transaction's folder while it is deleted
_VERSION = 1


class Conflict(Exception):
    """A file kubegen does not own is where it must write."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"{path} {why}")
        self.path, self.why = path, why


class Unfinished(Exception):
    """An undo could not complete; the transaction folder stays for the next run."""


@dataclass(slots=True)
class EnvWrite:
    """One env folder's part of a transaction: what to write, and what the scan found."""

    env_dir: Path
    rendered: dict[str, bytes]
    changes: Changes
    existed: bool
    folders: list[str]  # folders to make for created files, parents first


def _split(rel: str) -> tuple[str, str]:
    folder, _, name = rel.rpartition("/")
    return folder, name


def _parents(rel: str) -> Iterator[str]:
    """The folders above ``rel``, deepest first."""
    folder = rel.rpartition("/")[0]
    while folder:
        yield folder
        folder = folder.rpartition("/")[0]


class _Side:
    """One env in a transaction: its folder and its staging, opened relative to the output
    folder (``root``) and the transaction folder (``txn``). ``plan`` is its part of plan.json."""

    def __init__(self, name: str, root: Folder, txn: Folder, txn_id: str) -> None:
        self.name, self.root, self.txn, self.id = name, root, txn, txn_id
        self.plan: dict[str, Any] = {}
        self._dirs: dict[tuple[str, str], Folder] = {}
        self.notes: list[str] = []
        self.undone = 0

    def show(self, rel: str = "") -> str:
        return f"{self.root.path}/{self.name}" + (f"/{rel}" if rel else "")

    def folder(self, side: str, rel_folder: str, *, create: bool = False) -> Folder:
        """``rel_folder`` in the env folder (``env``) or in the staging (``new``, ``old``,
        ``back``); staging folders are made when ``create``, env folders never are."""
        key = (side, rel_folder)
        found = self._dirs.get(key)
        if found is None:
            if rel_folder:
                parent_rel, _, name = rel_folder.rpartition("/")
                parent = self.folder(side, parent_rel, create=create)
                found = parent.child(name, create=create and side != "env")
            elif side == "env":
                found = self.root.child(self.name)
            else:
                top = self.txn.child(side, create=create)
                try:
                    found = top.child(self.name, create=create)
                finally:
                    top.close()
            self._dirs[key] = found
        return found

    def forget(self) -> None:
        """Close every open folder (after the env folder moved, or when done)."""
        for folder in self._dirs.values():
            folder.close()
        self._dirs.clear()

    # --- staging ---------------------------------------------------------------------------

    def stage(self, write: EnvWrite) -> None:
        """Write every created and changed file under ``new/`` and fill in :attr:`plan`."""
        changes, rendered = write.changes, write.rendered
        top = self.folder("new", "", create=True)
        for rel in changes.created:
            folder, name = _split(rel)
            fsops.write_new(self.folder("new", folder, create=True), name, rendered[rel])
        changed: dict[str, int] = {}
        for rel in changes.changed:
            folder, name = _split(rel)
            env = self.folder("env", folder)
            mode = os.stat(name, dir_fd=env.fd, follow_symlinks=False).st_mode & 0o7777
            staged = self.folder("new", folder, create=True)
            changed[rel] = fsops.write_new(staged, name, rendered[rel], mode=mode)
        self.plan = {
            "existed": write.existed,
            "env_ino": os.fstat(top.fd).st_ino,
            "folders": write.folders,
            "created": changes.created,
            "changed": changed,
            "removed": changes.removed,
        }

    # --- forward: apply, or resume after a crash -------------------------------------------

    def forward(self) -> None:
        """Bring the env folder to the new set, doing only what is not done yet."""
        plan = self.plan
        adopted = False
        if not plan["existed"]:
            if fsops.inode(self.root, self.name) == plan["env_ino"]:
                adopted = True
            elif not fsops.exists(self.root, self.name):
                adopted = self._adopt()
        if not adopted:
            self._make_env()
            for folder in plan["folders"]:
                self._mkdir(folder)
            for rel in plan["created"]:
                self._create(rel)
        for rel, ino in plan["changed"].items():
            self._change(rel, ino)
        for rel in plan["removed"]:
            self._remove(rel)

    def _adopt(self) -> bool:
        """Rename the staged env folder into place whole, if the name is still free."""
        new_top = self.txn.child("new")
        try:
            adopted = fsops.claim(new_top, self.name, self.root, self.name)
        finally:
            new_top.close()
        if adopted:
            self.forget()  # new/<env> is output/<env> now, with its open folders
        return adopted

    def _make_env(self) -> None:
        with contextlib.suppress(FileExistsError):
            os.mkdir(self.name, dir_fd=self.root.fd)
        try:
            self.folder("env", "")
        except OSError:
            raise Conflict(self.show(), "is not a folder (it appeared during the render)") from None

    def _mkdir(self, rel_folder: str) -> None:
        parent_rel, _, name = rel_folder.rpartition("/")
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, dir_fd=self.folder("env", parent_rel).fd)
        try:
            self.folder("env", rel_folder)
        except OSError:
            raise Conflict(
                self.show(rel_folder), "is not a folder (it appeared during the render)"
            ) from None

    def _create(self, rel: str) -> None:
        folder, name = _split(rel)
        new, env = self.folder("new", folder, create=True), self._env(folder, rel)
        if not fsops.exists(new, name):
            return  # placed already
        if fsops.same(new, name, env, name):  # linked, not yet unlinked (portable path)
            os.unlink(name, dir_fd=new.fd)
            return
        try:
            fsops.place(new, name, env, name)
        except FileExistsError:
            raise Conflict(
                self.show(rel), "was created by someone else during the render"
            ) from None

    def _change(self, rel: str, ino: int) -> None:
        folder, name = _split(rel)
        new, env = self.folder("new", folder, create=True), self._env(folder, rel)
        staged = fsops.inode(new, name)
        if fsops.inode(env, name) == ino:  # in place already
            if staged == ino:  # linked, not yet unlinked (portable path)
                os.unlink(name, dir_fd=new.fd)
            return
        if staged != ino:
            return  # placed earlier: new/ holds what it replaced (or nothing)
        old = self._old_or_none(folder)
        if old is not None and fsops.exists(old, name):  # resumed: moved aside already
            if not fsops.is_ours(old, name):
                self._give_back(old, name, rel)
                raise Conflict(self.show(rel), "was replaced by someone else during the render")
            self._create(rel)
            return
        try:
            swapped = fsops.swap(new, name, env, name)
        except FileNotFoundError:  # the old file is gone: nothing to replace
            swapped = False
        if swapped:  # the new file is in place; what it replaced is in new/
            if not fsops.is_ours(new, name):
                fsops.swap(new, name, env, name)  # someone's file: give it its name back
                raise Conflict(self.show(rel), "was replaced by someone else during the render")
            return
        old = self.folder("old", folder, create=True)
        if fsops.move(env, name, old, name) and not fsops.is_ours(old, name):
            self._give_back(old, name, rel)
            raise Conflict(self.show(rel), "was replaced by someone else during the render")
        self._create(rel)

    def _old_or_none(self, folder: str) -> Folder | None:
        """``old/<env>/<folder>`` if it exists (made only when something is moved aside)."""
        try:
            return self.folder("old", folder)
        except FileNotFoundError:
            return None

    def _env(self, folder: str, rel: str) -> Folder:
        """The env folder ``folder`` that ``rel`` goes into; a Conflict if it is not one."""
        try:
            return self.folder("env", folder)
        except OSError:
            where = self.show(folder) if folder else self.show()
            raise Conflict(where, f"is no longer a folder, so {rel} cannot be written") from None

    def _remove(self, rel: str) -> None:
        folder, name = _split(rel)
        env = self._env_or_none(folder)
        if env is None:
            return  # its folder is gone or replaced: the file is not there as kubegen's
        old = self.folder("old", folder, create=True)
        if fsops.exists(old, name):
            if not fsops.is_ours(old, name):
                self._give_back(old, name, rel)
            return
        if fsops.move(env, name, old, name) and not fsops.is_ours(old, name):
            self._give_back(old, name, rel)  # someone's file now: it stays

    def _give_back(self, held: Folder, name: str, rel: str) -> None:
        """Put a file that is not kubegen's back at ``rel``; if that name was taken again
        meanwhile, keep it beside under a new name and say so."""
        env = self._env_folder_for(rel)
        try:
            fsops.place(held, name, env, name)
            return
        except FileExistsError:
            pass
        kept = f"{name}.kubegen-kept-{self.id}"
        fsops.place(held, name, env, kept)
        self.notes.append(
            f"{self.show(rel)} appeared twice while kubegen moved it; the "
            f"earlier copy is kept as {kept}"
        )

    def _env_folder_for(self, rel: str) -> Folder:
        """The env folder holding ``rel``, made again if a prune removed it."""
        folder = _split(rel)[0]
        parts = [p for p in folder.split("/") if p]
        for depth in range(len(parts) + 1):
            here = "/".join(parts[:depth])
            try:
                self.folder("env", here)
            except FileNotFoundError:
                parent_rel, _, leaf = here.rpartition("/")
                if here:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(leaf, dir_fd=self.folder("env", parent_rel).fd)
                else:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(self.name, dir_fd=self.root.fd)
                self.folder("env", here)
        return self.folder("env", folder)

    def prune(self) -> None:
        """Remove the folders that removed files left empty (never one holding anything),
        deepest first: a cluster's folder empties only once its namespace folders are gone."""
        folders = {folder for rel in self.plan["removed"] for folder in _parents(rel)}
        for folder in sorted(folders, key=lambda f: (-f.count("/"), f)):
            parent_rel, _, name = folder.rpartition("/")
            opened = self._dirs.pop(("env", folder), None)
            if opened is not None:
                opened.close()
            with contextlib.suppress(OSError):  # not empty (or gone): someone's files are in it
                os.rmdir(name, dir_fd=self.folder("env", parent_rel).fd)

    # --- backward: undo what the disk shows was done ---------------------------------------

    def backward(self) -> None:
        plan = self.plan
        for rel in reversed(plan["removed"]):
            self._unremove(rel)
        for rel, ino in reversed(list(plan["changed"].items())):
            self._unchange(rel, ino)
        if not plan["existed"] and fsops.inode(self.root, self.name) == plan["env_ino"]:
            self._unadopt()
            return
        for rel in reversed(plan["created"]):
            self._uncreate(rel)
        for folder in reversed(plan["folders"]):
            self._rmdir(folder)
        if not plan["existed"]:
            self._rmdir("")

    def _env_or_none(self, folder: str) -> Folder | None:
        try:
            return self.folder("env", folder)
        except OSError:
            return None

    def _unremove(self, rel: str) -> None:
        folder, name = _split(rel)
        old = self._old_or_none(folder)
        if old is not None and fsops.exists(old, name):
            env = self._env_folder_for(rel)
            if not fsops.exists(env, name):
                self._give_back(old, name, rel)
                self.undone += 1

    def _take_back(self, rel: str, keep: int | None) -> bool:
        """Move kubegen's file at ``rel`` into ``back/``; give it back if it is someone's
        (or, with ``keep``, not that inode). True if kubegen's file was taken."""
        folder, name = _split(rel)
        env = self._env_or_none(folder)
        if env is None:
            return False
        if (not fsops.is_ours(env, name)) if keep is None else fsops.inode(env, name) != keep:
            return False  # checked before the move too: someone's file is left in place
        back = self.folder("back", folder, create=True)
        if not fsops.move(env, name, back, name):
            return False
        ours = fsops.is_ours(back, name) if keep is None else fsops.inode(back, name) == keep
        if not ours:
            self._give_back(back, name, rel)
            return False
        return True

    def _unchange(self, rel: str, ino: int) -> None:
        folder, name = _split(rel)
        env = self._env_or_none(folder)
        if env is None:
            return
        old = self._old_or_none(folder)
        held = old is not None and fsops.exists(old, name)
        if fsops.inode(env, name) != ino:  # not in place; perhaps moved aside only
            if held and old is not None and not fsops.exists(env, name):
                self._give_back(old, name, rel)
            return
        new = self.folder("new", folder, create=True)
        if held and old is not None:  # portable path: the old file waits in old/
            if self._take_back(rel, ino):
                self._give_back(old, name, rel)
                self.undone += 1
            return
        if fsops.exists(new, name) and fsops.inode(new, name) != ino:  # exchanged
            if fsops.swap(new, name, env, name):
                if fsops.inode(new, name) != ino:  # raced: someone's file; undo the swap
                    fsops.swap(new, name, env, name)
                else:
                    self.undone += 1
            elif self._take_back(rel, ino):
                self._give_back(new, name, rel)
                self.undone += 1

    def _uncreate(self, rel: str) -> None:
        folder, name = _split(rel)
        new = self.folder("new", folder, create=True)
        env = self._env_or_none(folder)
        if env is None:
            return
        if fsops.exists(new, name) and not fsops.same(new, name, env, name):
            return  # never placed
        if self._take_back(rel, None):
            self.undone += 1

    def _unadopt(self) -> None:
        """The whole env folder was new: take kubegen's files back out, leave anyone else's,
        and remove the folders that are left empty."""
        env = self.folder("env", "")
        files: list[str] = []
        folders: list[str] = []
        for top, dirs, names, _ in os.fwalk(dir_fd=env.fd):
            prefix = "" if top == "." else top.removeprefix("./") + "/"
            folders.extend(prefix + d for d in dirs)
            files.extend(prefix + n for n in names)
        for rel in files:
            if self._take_back(rel, None):
                self.undone += 1
        for folder in sorted(folders, key=lambda f: -f.count("/")):
            self._rmdir(folder)
        self._rmdir("")

    def _rmdir(self, rel_folder: str) -> None:
        parent_rel, _, name = rel_folder.rpartition("/")
        key = ("env", rel_folder)
        found = self._dirs.pop(key, None)
        if found is not None:
            found.close()
        try:
            if rel_folder:
                parent = self._env_or_none(parent_rel)
                if parent is not None:
                    os.rmdir(name, dir_fd=parent.fd)
            else:
                os.rmdir(self.name, dir_fd=self.root.fd)
        except OSError:
            pass  # not empty: someone's files are in it

    # --- recovery: what an interrupted transaction left in the staging ---------------------

    def sweep(self) -> None:
        """Give back every file in the staging that is not kubegen's (one an interrupted step
        moved aside before it could check it), so deleting the staging loses nothing."""
        for side in ("new", "old", "back"):
            try:
                top = self.folder(side, "")
            except FileNotFoundError:
                continue
            for path, _dirs, names, fd in os.fwalk(dir_fd=top.fd):
                prefix = "" if path == "." else path.removeprefix("./") + "/"
                holder = Folder(fd, "")
                for name in names:
                    if not fsops.is_ours(holder, name):
                        rel = prefix + name
                        self._give_back(self.folder(side, _split(rel)[0]), name, rel)


@dataclass(slots=True)
class _Part:
    """A transaction's folder in one output folder, with the envs it holds."""

    root: Folder
    name: str
    txn: Folder | None = None
    sides: list[_Side] = field(default_factory=list)

    def make(self) -> None:
        os.mkdir(self.name, dir_fd=self.root.fd)
        self.txn = self.root.child(self.name)

    @property
    def path(self) -> str:
        return f"{self.root.path}/{self.name}"

    def write_plan(self, plan: dict[str, Any]) -> None:
        assert self.txn is not None
        fsops.write_new(self.txn, _PLAN + ".part", json.dumps(plan).encode())
        os.rename(_PLAN + ".part", _PLAN, src_dir_fd=self.txn.fd, dst_dir_fd=self.txn.fd)

    def close(self) -> None:
        for side in self.sides:
            side.forget()
        if self.txn is not None:
            self.txn.close()
            self.txn = None

    def remove(self) -> None:
        """Delete the transaction folder: renamed first, in one atomic step, so a crash while
        its files are deleted never leaves a plan without its commit point (which the next
        run would take for an unfinished render and undo) or with half its saved files."""
        self.close()
        _discard(self.root, self.name)


def _discard(root: Folder, name: str) -> None:
    gone = name if name.endswith(_GONE) else name + _GONE
    if gone != name:
        try:
            os.rename(name, gone, src_dir_fd=root.fd, dst_dir_fd=root.fd)
        except FileNotFoundError:
            return
        except OSError:  # the name is taken (it cannot be, but never lose the plan to it)
            gone = name
    shutil.rmtree(gone, dir_fd=root.fd, ignore_errors=True)


def run(writes: list[EnvWrite]) -> list[str]:
    """Apply ``writes`` as one transaction; return notes (files kept under another name).

    Raises:
        Conflict: a file kubegen does not own is where it must write; everything was undone.
        OSError: the disk refused a step; everything was undone.
        Unfinished: the undo itself failed; the transaction folder is left for the next run.
    """
    txn_id = os.urandom(6).hex()
    name = PREFIX + txn_id
    groups: dict[str, list[EnvWrite]] = {}
    for write in writes:
        groups.setdefault(os.path.abspath(write.env_dir.parent), []).append(write)
    marker = os.path.join(next(iter(groups)), name, _COMMITTED)
    parts: list[_Part] = []
    try:
        _stage(groups, name, txn_id, marker, parts)
        try:
            os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # commit
        except OSError:
            for part in parts:
                part.remove()
            raise
        try:
            for part in parts:
                for side in part.sides:
                    side.forward()
        except (Conflict, OSError) as exc:
            _undo(parts, marker, exc)
            raise
        for part in parts:
            for side in part.sides:
                side.prune()
        notes = [note for part in parts for side in part.sides for note in side.notes]
        for part in reversed(parts):  # the first holds the commit point: removed last
            part.remove()
        return notes
    finally:
        for part in parts:
            part.close()
            part.root.close()


def _stage(
    groups: dict[str, list[EnvWrite]], name: str, txn_id: str, marker: str, parts: list[_Part]
) -> None:
    try:
        for root_path, writes in groups.items():
            part = _Part(Folder.open(root_path, follow=True), name)
            parts.append(part)
            part.make()
            assert part.txn is not None
            for write in writes:
                side = _Side(write.env_dir.name, part.root, part.txn, txn_id)
                part.sides.append(side)
                side.stage(write)
        others = [part.path for part in parts[1:]]
        for index, part in enumerate(parts):
            plan = {
                "version": _VERSION,
                "id": txn_id,
                "commit": marker,
                "participants": others if index == 0 else [],
                "envs": {side.name: side.plan for side in part.sides},
            }
            part.write_plan(plan)
    except BaseException:
        for part in parts:
            part.remove()
        raise


def _undo(parts: list[_Part], marker: str, cause: BaseException) -> None:
    """Roll a failed transaction back; on failure leave its folders for the next run."""
    try:
        os.unlink(marker)  # uncommitted: a crash from here on is undone by recover()
        for part in reversed(parts):
            for side in reversed(part.sides):
                side.backward()
                side.sweep()
    except OSError as exc:
        raise Unfinished(f"undoing it failed too: {exc.strerror or exc}") from cause
    for part in parts:
        part.remove()


# --- recovery ------------------------------------------------------------------------------


def pending(root: Path) -> list[str]:
    """Names of transaction folders in ``root`` (none while no run was interrupted)."""
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n.startswith(PREFIX))


def recover(root: Path, names: list[str] | None = None) -> list[str]:
    """Finish or undo what interrupted runs left in ``root`` (call under its lock); return one
    line per repair, naming the env folder and what was done. ``names``: the transaction
    folders, if the caller listed ``root`` already."""
    names = pending(root) if names is None else names
    if not names:
        return []
    folder = Folder.open(root, follow=True)
    try:
        return [note for name in names for note in _recover_one(folder, name)]
    finally:
        folder.close()


def _read_plan(txn: Folder) -> dict[str, Any] | None:
    try:
        fd = os.open(_PLAN, os.O_RDONLY, dir_fd=txn.fd)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        try:
            plan = json.loads(handle.read())
        except ValueError:
            return None
    return plan if isinstance(plan, dict) and plan.get("version") == _VERSION else None


def _recover_one(root: Folder, name: str) -> list[str]:
    info = os.stat(name, dir_fd=root.fd, follow_symlinks=False)
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, "reserved for kubegen's transactions", name)
    if name.endswith(_GONE):  # finished (or undone) and being deleted: the env folders are final
        _discard(root, name)
        return [f"{root.path}: deleted what a finished render left behind"]
    part = _Part(root, name, root.child(name))
    assert part.txn is not None
    plan = _read_plan(part.txn)
    where = root.path
    if plan is None:  # staged only: nothing in the env folders was touched
        part.remove()
        return [f"{where}: deleted the staging of a render interrupted before it wrote anything"]
    if fsops.exists(part.txn, _DONE):  # applied; kept only as another folder's commit point
        return _release(part, plan, [])
    txn_id = str(plan["id"])
    for env, env_plan in plan["envs"].items():
        side = _Side(env, root, part.txn, txn_id)
        side.plan = env_plan
        part.sides.append(side)
    committed = os.path.lexists(plan["commit"])
    notes: list[str] = []
    if committed:
        notes += _finish(part, plan)
    else:
        for side in reversed(part.sides):
            side.backward()
            side.sweep()
            what = f"undid {side.undone} file moves of" if side.undone else "deleted the staging of"
            notes.append(f"{side.show()}: {what} a render interrupted before it finished")
    notes += [note for side in part.sides for note in side.notes]
    return _release(part, plan, notes)


def _release(part: _Part, plan: dict[str, Any], notes: list[str]) -> list[str]:
    """Delete a recovered transaction folder, unless it holds the commit point another output
    folder's part still needs: then only its staging goes, and ``done`` marks it applied."""
    assert part.txn is not None
    holder = plan["commit"].startswith(part.path + "/")
    if holder and any(os.path.lexists(other) for other in plan["participants"]):
        if not fsops.exists(part.txn, _DONE):
            fsops.write_new(part.txn, _DONE, b"")
        part.close()
        for side_name in ("new", "old", "back"):
            shutil.rmtree(f"{part.name}/{side_name}", dir_fd=part.root.fd, ignore_errors=True)
    else:
        part.remove()
    return notes


def _finish(part: _Part, plan: dict[str, Any]) -> list[str]:
    """Roll a committed transaction forward; on a conflict, undo it (in every folder)."""
    notes: list[str] = []
    try:
        for side in part.sides:
            side.forward()
    except Conflict as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(plan["commit"])
        for side in reversed(part.sides):
            side.backward()
            side.sweep()
        return [f"{exc.path} could not be finished ({exc.why}); the previous files are back"]
    for side in part.sides:
        side.prune()
        side.sweep()
        count = len(side.plan["created"]) + len(side.plan["changed"]) + len(side.plan["removed"])
        notes.append(f"{side.show()}: finished a render interrupted while writing ({count} files)")
    return notes
