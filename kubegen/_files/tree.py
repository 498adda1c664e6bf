"""What is on disk in an env folder, split into files kubegen wrote and files it must not touch.

Ownership is visible in the files themselves: kubegen's files start with the generated-by header
(:data:`kubegen._render.layout.HEADER`). Anything else, and every symlink, belongs to someone
else and is never overwritten or deleted.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

from kubegen._errors import OutputError
from kubegen._render.layout import HEADER, KUSTOMIZATION, NESTED

_HEADER_BYTES = HEADER.encode()
# The header as git's ``core.autocrlf`` (Windows) or an editor leaves it: still kubegen's file,
# which then compares as changed and is rewritten with ``\n``.
_HEADERS = (_HEADER_BYTES, _HEADER_BYTES[:-1] + b"\r\n")
_NESTED_BYTES = (HEADER + NESTED).encode()
# Unbuffered reads of this size: one read holds a typical rendered file, so scanning costs
# open + 2 reads + close per file instead of a buffered file object's fstat/ioctl/reads.
_FIRST_READ = 64 * 1024
_NAME = attrgetter("name")
#: A file changed this close (ns) before a signed read began may change again unseen within
#: the clock's granularity: :func:`scan` reads it again rather than trust its signature.
_RACY_NS = 1_000_000_000
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0)


@dataclass(slots=True)
class EnvTree:
    """The files under an env folder, by relative POSIX path."""

    owned: dict[str, bytes] = field(default_factory=dict)
    foreign: set[str] = field(default_factory=set)
    foreign_links: dict[str, str] = field(default_factory=dict)
    empty_dirs: set[str] = field(default_factory=set)
    exists: bool = False  # the env folder itself exists
    repaired: list[str] = field(default_factory=list)  # what reading it first finished or undid
    # With scan(signed=True): each owned file's (inode, size, mtime, ctime) as it was read, and
    # when the reading began (ns since the epoch), for a later scan(known=...) to trust.
    signatures: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    read_at: int = 0


@dataclass(slots=True)
class Changes:
    """How the rendered set differs from the owned files on disk."""

    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # what an interrupted run left, and fixed
    warnings: list[str] = field(default_factory=list)  # files kept aside under another name

    @property
    def any(self) -> bool:
        return bool(self.created or self.changed or self.removed)

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.changed)} changed, "
            f"{len(self.removed)} removed, {len(self.unchanged)} unchanged"
        )


def scan(env_dir: Path, *, signed: bool = False, known: EnvTree | None = None) -> EnvTree:
    """Read ``env_dir`` without following symlinks; a missing folder is an empty tree.

    Only regular files are read, and a file is read in full only when it starts with the header:
    a FIFO, socket or device is foreign (never opened, so never blocks), and a large hand-made
    file costs one short read. An unreadable file or folder is an :class:`OutputError`.

    ``signed``: record each owned file's signature (see :class:`EnvTree`). ``known``: a signed
    tree read earlier (without the lock, during start-up): a file whose inode, size, mtime and
    ctime are still those it had then is taken from it unread, provided its last change (ctime,
    which no one can set back) came more than a second before that read began, so that a
    change made since cannot hide within the clock's granularity (git's "racily clean" rule).
    Any other file is read, as without ``known``.
    """
    if env_dir.is_symlink():
        raise OutputError(
            f"{env_dir} is a symlink; kubegen writes only into real folders",
            fix="replace the link with a folder, or pass --out to another folder",
        )
    if not os.path.lexists(env_dir):
        return EnvTree()
    if not env_dir.is_dir():
        raise OutputError(
            f"{env_dir} is a file, not a folder; kubegen writes an env's files into a folder there",
            fix=f"move {env_dir} away (or pass --out another folder), then render again",
        )
    tree = EnvTree(exists=True, read_at=time.time_ns() if signed else 0)
    try:
        _walk(str(env_dir), "", tree, _Reading(signed, known))
    except OSError as exc:
        raise OutputError(
            f"Unable to read {exc.filename or env_dir}: {exc.strerror or exc}",
            fix="make the output folder readable (or move the unreadable file away)",
        ) from None
    return tree


@dataclass(slots=True, frozen=True)
class _Reading:
    """How :func:`scan` reads files: recording signatures, trusting a known tree's."""

    signed: bool
    known: EnvTree | None


def _walk(folder: str, prefix: str, tree: EnvTree, reading: _Reading) -> None:
    """Add ``folder``'s entries to ``tree``; an entry that vanishes while it is read (another
    program renamed or deleted it) is simply not there."""
    try:
        with os.scandir(folder) as entries:
            found = sorted(entries, key=_NAME)
    except FileNotFoundError:
        if prefix:
            return
        raise
    if not found and prefix:
        tree.empty_dirs.add(prefix.rstrip("/"))
    if prefix and _holds_an_env(folder, found):
        _all_foreign(found, prefix, tree)  # another output folder nested here: not ours
        return
    for entry in found:
        rel = prefix + entry.name
        try:
            if entry.is_symlink():
                tree.foreign_links[rel] = os.readlink(entry.path)
            elif entry.is_dir(follow_symlinks=False):
                _walk(entry.path, rel + "/", tree, reading)
            elif not (
                entry.is_file(follow_symlinks=False)
                and (
                    _unchanged(entry, rel, tree, reading.known)
                    or _is_owned(entry.path, tree, rel, signed=reading.signed)
                )
            ):
                tree.foreign.add(rel)
        except FileNotFoundError:
            continue


def _holds_an_env(folder: str, found: list[os.DirEntry[str]]) -> bool:
    """A folder below the env folder with kubegen's own kustomization.yaml is another env's
    output (``--out output/dev/sub``): kubegen neither renders into it nor prunes it. A layer
    or cluster folder of this env is marked as such (:data:`NESTED` after the header)."""
    for entry in found:
        if entry.name == KUSTOMIZATION and entry.is_file(follow_symlinks=False):
            probe = EnvTree()
            try:
                owned = _is_owned(entry.path, probe, KUSTOMIZATION)
            except FileNotFoundError:
                return False
            head = probe.owned.get(KUSTOMIZATION, b"")[: len(_NESTED_BYTES) + 2]
            return owned and not head.replace(b"\r\n", b"\n").startswith(_NESTED_BYTES)
    return False


def _all_foreign(found: list[os.DirEntry[str]], prefix: str, tree: EnvTree) -> None:
    for entry in found:
        rel = prefix + entry.name
        if entry.is_symlink():
            tree.foreign_links[rel] = os.readlink(entry.path)
        elif entry.is_dir(follow_symlinks=False):
            try:
                with os.scandir(entry.path) as entries:
                    inner = sorted(entries, key=_NAME)
            except FileNotFoundError:
                continue
            if not inner:
                tree.empty_dirs.add(rel)
            _all_foreign(inner, rel + "/", tree)
        else:
            tree.foreign.add(rel)


def _unchanged(entry: os.DirEntry[str], rel: str, tree: EnvTree, known: EnvTree | None) -> bool:
    """Take ``rel`` from ``known`` if it is the file read then (see :func:`scan`)."""
    if known is None or (signature := known.signatures.get(rel)) is None:
        return False
    st = entry.stat(follow_symlinks=False)
    if (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) != signature:
        return False
    if st.st_ctime_ns >= known.read_at - _RACY_NS:  # changed just before that read: read again
        return False
    tree.owned[rel] = known.owned[rel]
    return True


def _is_owned(path: str, tree: EnvTree, rel: str, *, signed: bool = False) -> bool:
    """Read ``path`` into ``tree.owned`` if it starts with the header; report whether it did."""
    fd = os.open(path, _READ_FLAGS)
    try:
        st = os.fstat(fd) if signed else None  # before reading: a change while reading shows
        head = os.read(fd, _FIRST_READ)  # usually the whole file; a foreign one stops here
        if not head.startswith(_HEADERS):
            return False
        if st is not None:
            tree.signatures[rel] = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        chunk = os.read(fd, _FIRST_READ)  # b"" at the end: no copy of a one-read file
        if not chunk:
            tree.owned[rel] = head
            return True
        chunks = [head, chunk]
        while chunk := os.read(fd, _FIRST_READ):
            chunks.append(chunk)
        tree.owned[rel] = b"".join(chunks)
    finally:
        os.close(fd)
    return True


def compare(tree: EnvTree, rendered: dict[str, bytes], env_dir: Path) -> Changes:
    """Classify every path; a rendered path that hits a file kubegen does not own is an error."""
    _refuse_foreign(tree, rendered, env_dir)
    changes = Changes()
    for path, data in rendered.items():
        old = tree.owned.get(path)
        if old is None:
            changes.created.append(path)
        elif old == data:
            changes.unchanged.append(path)
        else:
            changes.changed.append(path)
    changes.removed = sorted(p for p in tree.owned if p not in rendered)
    return changes


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def folders_of(paths: list[str]) -> set[str]:
    """Every folder above ``paths`` (each distinct parent expanded once: thousands of files
    share a few folders)."""
    parents = {path.rpartition("/")[0] for path in paths} - {""}
    return {folder for parent in parents for folder in (*_parents(parent), parent)}


def _refuse_foreign(tree: EnvTree, rendered: dict[str, bytes], env_dir: Path) -> None:
    blocked = tree.foreign | set(tree.foreign_links)
    existing = [*tree.owned, *blocked, *tree.empty_dirs]
    folders = folders_of(existing) | tree.empty_dirs
    for path in rendered:
        hit = None
        if blocked:  # usually nothing foreign: no walk up each path
            hit = next((p for p in [*_parents(path), path] if p in blocked), None)
        if hit is not None:
            what = "a symlink" if hit in tree.foreign_links else "a file kubegen did not write"
        elif path in folders:
            hit, what = path, "a folder"
        else:
            continue
        raise OutputError(
            # said the same by check, which never writes, and by render, which then writes nothing
            (f"{env_dir / path} is {what}, where an object renders"
             if hit == path else f"{env_dir / path} renders under {env_dir / hit}, which is {what}")
            + ": kubegen never writes over it",
            fix="move or delete it yourself, or rename the object that renders there",
        )
