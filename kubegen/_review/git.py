"""The base side of a review: which commit, and the committed output files at it.

Everything goes through the ``git`` command (no library): ``rev-parse``, ``merge-base``,
``ls-tree`` and one ``cat-file --batch`` for the blobs that differ from what the code renders
now (equal blobs are recognised by their object id, computed from the rendered bytes, and never
read). The base is, by default, the merge base of HEAD with the default branch, found as
``$GITHUB_BASE_REF`` (the target of a GitHub pull request), ``origin/HEAD``, ``origin/main``,
``origin/master``, ``main``, ``master``, or asked from ``origin``. A shallow CI clone gets the
missing branch or commit fetched at depth 1; where the merge base is still out of reach the
branch tip is used and a note says so. On the default branch itself (checked out, or a detached
HEAD as in CI after a push) the base is HEAD's parent, so the review shows what HEAD changed.
With no commit to compare with (an empty repository, a first commit) there is no base and
everything is "added".
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from kubegen._errors import KubegenError
from kubegen._review.model import Base

__all__ = ["Repo", "find_base"]

_FIXED_BRANCHES = ("origin/main", "origin/master", "main", "master")
_TIMEOUT = 300  # seconds for one git command (a fetch over a slow network included)


class GitFailed(Exception):
    """A git command exited non-zero; the message is its first line of stderr."""


@dataclass(slots=True)
class Repo:
    """A git working tree, driven through the ``git`` command."""

    root: Path
    _shallow: bool | None = field(default=None, repr=False)
    _format: str | None = field(default=None, repr=False)

    @classmethod
    def find(cls, start: Path) -> Repo:
        """The repository holding ``start`` (a folder)."""
        try:
            out = _git(start, "rev-parse", "--show-toplevel")
        except GitFailed as exc:
            raise KubegenError(
                f"Unable to review: {start} is not inside a git repository ({exc})",
                fix="run kubegen review in the repository that commits the output "
                "(git init, then commit the rendered output/)",
            ) from None
        return cls(Path(out.decode().strip()))

    def git(self, *args: str, stdin: bytes | None = None) -> bytes:
        return _git(self.root, *args, stdin=stdin)

    def commit(self, ref: str) -> str | None:
        """The commit ``ref`` names here, or None."""
        try:
            out = self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except GitFailed:
            return None
        return out.decode().strip() or None

    def shallow(self) -> bool:
        if self._shallow is None:
            out = self.git("rev-parse", "--is-shallow-repository").decode().strip()
            self._shallow = out == "true"
        return self._shallow

    def has_origin(self) -> bool:
        return "origin" in self.git("remote").decode().split()

    def fetch(self, *refspec: str) -> None:
        """``git fetch origin REFSPEC`` (at depth 1 in a shallow clone, which it stays)."""
        depth = ["--depth=1"] if self.shallow() else []
        self.git("fetch", "--no-tags", "--quiet", *depth, "origin", *refspec)

    def fetch_branch(self, branch: str) -> str | None:
        """Fetch ``origin``'s ``branch`` into ``origin/<branch>``; its commit, or None."""
        try:
            self.fetch(f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
        except GitFailed:
            return None
        return self.commit(f"origin/{branch}")

    def merge_base(self, a: str, b: str) -> str | None:
        try:
            return self.git("merge-base", a, b).decode().strip() or None
        except GitFailed:
            return None

    def parents(self, commit: str) -> list[str]:
        """The parents a commit records (also those a shallow clone cut off)."""
        raw = self.git("cat-file", "commit", commit).decode("utf-8", "replace")
        head = raw.partition("\n\n")[0]
        return [line.split()[1] for line in head.splitlines() if line.startswith("parent ")]

    def files(self, commit: str, folder: str) -> dict[str, str]:
        """Regular files under ``folder`` at ``commit``: path relative to it → blob id."""
        prefix = folder.rstrip("/") + "/"
        out = self.git("ls-tree", "-r", "-z", commit, "--", prefix)
        found: dict[str, str] = {}
        for entry in out.split(b"\0"):
            if not entry:
                continue
            meta, _, path = entry.partition(b"\t")
            mode, kind, oid = meta.split(b" ")
            name = path.decode("utf-8", "surrogateescape")
            if kind == b"blob" and mode in (b"100644", b"100755") and name.startswith(prefix):
                found[name[len(prefix) :]] = oid.decode()
        return found

    def blobs(self, oids: list[str]) -> dict[str, bytes]:
        """The contents of the blobs ``oids``, read by one ``git cat-file --batch``."""
        if not oids:
            return {}
        out = self.git("cat-file", "--batch", stdin="".join(f"{o}\n" for o in oids).encode())
        found: dict[str, bytes] = {}
        pos = 0
        for oid in oids:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            if len(header) != 3:
                raise KubegenError(f"Unable to read blob {oid} from git: {out[pos:end]!r}")
            size = int(header[2])
            found[oid] = out[end + 1 : end + 1 + size]
            pos = end + 1 + size + 1
        return found

    def blob_id(self, data: bytes) -> str:
        """The object id git gives ``data`` as a blob (SHA-1, or SHA-256 repositories)."""
        return hashlib.new(
            self._hash(), b"blob %d\0" % len(data) + data, usedforsecurity=False
        ).hexdigest()

    def _hash(self) -> str:
        if self._format is None:
            try:
                out = self.git("rev-parse", "--show-object-format").decode().strip()
            except GitFailed:  # git before 2.25 knows SHA-1 only
                out = ""
            self._format = out if out in ("sha1", "sha256") else "sha1"
        return self._format


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, env=env,
            timeout=_TIMEOUT, check=False,
        )
    except FileNotFoundError:
        raise KubegenError(
            "Unable to review: the git command is not installed", fix="install git"
        ) from None
    except subprocess.TimeoutExpired:
        raise GitFailed(f"git {args[0]} took more than {_TIMEOUT} s") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitFailed(lines[0] if lines else f"git {args[0]} exited {done.returncode}")
    return done.stdout


# --- choosing the base ---------------------------------------------------------------------


def find_base(repo: Repo, ref: str | None) -> Base:
    """The base commit: ``ref``'s merge base with HEAD, or the default one (see the module)."""
    if ref is not None:
        return _given(repo, ref)
    head = repo.commit("HEAD")
    if head is None:
        return Base(None, None, "no commits yet", ("no commits yet: everything is added",))
    found = _default_branch(repo)
    if found is None:
        return Base(
            None,
            None,
            "no default branch",
            (
                "no default branch found ($GITHUB_BASE_REF, origin/HEAD, main, master): "
                "everything is shown as added; pass --base REF to compare with a commit",
            ),
        )
    name, tip = found
    merge_base = repo.merge_base(head, tip)
    if merge_base is None:
        return _tip(repo, name, tip)
    if merge_base == head and _on_branch(repo, name):
        return _parent(repo, head, name)
    return Base(merge_base, name, f"merge base of HEAD and {name}")


def _on_branch(repo: Repo, name: str) -> bool:
    """Whether HEAD is the default branch itself (checked out, or detached as in CI pushes);
    a feature branch without commits of its own is not."""
    try:
        current = repo.git("symbolic-ref", "-q", "--short", "HEAD").decode().strip()
    except GitFailed:
        return True  # detached
    return current == name.removeprefix("origin/")


def _given(repo: Repo, ref: str) -> Base:
    if ref.startswith("-") or not ref.strip():
        raise KubegenError(f"Unable to review: {ref!r} is not a git ref", fix="pass --base REF")
    tip = repo.commit(ref)
    if tip is None:
        tip = _fetch_ref(repo, ref)
    head = repo.commit("HEAD")
    if head is None:
        return Base(tip, ref, f"{ref} (HEAD has no commits)")
    merge_base = repo.merge_base(head, tip)
    if merge_base is None:
        return _tip(repo, ref, tip)
    how = ref if merge_base == tip else f"merge base of HEAD and {ref}"
    return Base(merge_base, ref, how)


def _fetch_ref(repo: Repo, ref: str) -> str:
    """Fetch a ref this clone lacks (a shallow CI checkout); say how when it cannot."""
    how = f"git fetch --depth=1 origin {ref.removeprefix('origin/')}"
    problem = "there is no remote 'origin'"
    if repo.has_origin():
        try:
            if ref.startswith("origin/"):
                branch = ref.removeprefix("origin/")
                repo.fetch(f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
                tip = repo.commit(ref)
            else:
                repo.fetch(ref)
                tip = repo.commit("FETCH_HEAD")
            if tip is not None:
                return tip
            problem = "the fetch brought no commit"
        except GitFailed as exc:
            problem = f"`{how}` failed: {exc}"
    raise KubegenError(
        f"Unable to review against {ref}: it is not in this clone and {problem}",
        fix=f"fetch it first ({how}; in GitHub Actions, actions/checkout with fetch-depth: 0), "
        "or pass another --base",
    )


def _default_branch(repo: Repo) -> tuple[str, str] | None:
    """(name, commit) of the branch to compare with, fetching it when only the remote has it."""
    wanted = os.environ.get("GITHUB_BASE_REF", "").strip()
    if wanted:
        name = f"origin/{wanted}"
        tip = repo.commit(name) or _fetch_ref(repo, name)
        return name, tip
    try:
        symbolic = repo.git("symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD")
        candidates = [symbolic.decode().strip()]
    except GitFailed:
        candidates = []
    for name in [*candidates, *_FIXED_BRANCHES]:
        found = repo.commit(name)
        if found is not None:
            return name, found
    if not repo.has_origin():
        return None
    branch = candidates[0].removeprefix("origin/") if candidates else _remote_head(repo)
    if branch is None:
        return None
    fetched = repo.fetch_branch(branch)
    return (f"origin/{branch}", fetched) if fetched is not None else None


def _remote_head(repo: Repo) -> str | None:
    """The branch ``origin``'s HEAD points to (``git ls-remote --symref origin HEAD``)."""
    try:
        out = repo.git("ls-remote", "--symref", "origin", "HEAD").decode()
    except GitFailed:
        return None
    for line in out.splitlines():
        if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
            return line[len("ref: refs/heads/") : -len("\tHEAD")]
    return None


def _tip(repo: Repo, name: str, tip: str) -> Base:
    if repo.shallow():
        note = (
            f"shallow clone: the merge base of HEAD and {name} is not in it, so this compares "
            f"with the tip of {name} (exact for a pull request's merge commit; check out with "
            "fetch-depth: 0 for the exact merge base)"
        )
    else:
        note = f"HEAD and {name} share no history: this compares with the tip of {name}"
    return Base(tip, name, f"tip of {name}", (note,))


def _parent(repo: Repo, head: str, name: str) -> Base:
    """HEAD is already on the default branch: review what HEAD itself changed."""
    parents = repo.parents(head)
    if not parents:
        return Base(
            None, name, "HEAD is the first commit",
            ("HEAD is the repository's first commit: everything is added",),
        )
    parent = repo.commit(parents[0])
    if parent is None:  # cut off by a shallow clone
        try:
            repo.fetch(parents[0])
        except GitFailed as exc:
            raise KubegenError(
                f"Unable to review HEAD: its parent {parents[0][:12]} is not in this shallow "
                f"clone and fetching it failed ({exc})",
                fix="check out with fetch-depth: 2 (or 0), or pass --base REF",
            ) from None
        parent = parents[0]
    return Base(
        parent, "HEAD~1", f"parent of HEAD: HEAD is on {name}",
        (f"HEAD is on {name}: this reviews what HEAD changed; --base HEAD shows only what is "
         "not committed yet",),
    )
