"""Checks across every stack of one run: one owner per object per cluster, and GitOps paths exist.

``kubegen render stacks/dev stacks/prod stacks/gitops`` (and ``check``/``diff``) sees the whole
repository at once: which folder each stack renders, for which cluster (``Stack(cluster=…)``),
and which folder each GitOps object delivers where (:mod:`kubegen._analysis.deliveries`). Before
anything is written, :func:`check_fleet` refuses:

- a GitOps object pointing at a folder that neither this run renders nor the repository holds
  (Argo CD or Flux would apply nothing, or fail);
- a folder delivered to a cluster its stack was not built for;
- one folder delivered twice to one cluster by the same tool (two owners of every object);
- a Flux Kustomization applying several layers of a stack at once (their order would be lost);
- two stacks rendering the same object (group, kind, namespace, name) into one cluster: the two
  folders would fight over it, and removing either environment would delete it from the other.

Clusters are known by name from ``Stack(cluster=…)`` and the ``kubegen.dev/cluster`` label or
generator values of kubegen's GitOps objects; a destination no stack or object names is known by
its address (``server https://kubernetes.default.svc`` for Argo CD, ``in-cluster`` for Flux).
Objects of folders this run does not render are not known, so a CI job checks every stack in one
``kubegen check`` call.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kubegen._analysis.deliveries import FLUX, Delivery, deliveries
from kubegen._analysis.gitops_paths import go_path_match
from kubegen._errors import ConflictError
from kubegen._manifests import ManifestObject

_CLUSTER_DIR = "_cluster"


@dataclass(frozen=True, slots=True)
class RenderedPart:
    """One Stack's output in this run.

    ``folder`` is relative to the repository root (None when rendered outside it); ``addresses``
    are the ``(tool, address)`` pairs its Cluster declares (``("Flux", "in-cluster")``).
    """

    stack: str
    folder: str | None
    cluster: str | None
    addresses: tuple[tuple[str, str], ...]
    layers: tuple[str, ...]
    objects: Sequence[ManifestObject]


@dataclass(frozen=True, slots=True)
class RenderedFolder:
    """An env folder this run writes as a whole (relative to the repository root), with the
    paths of its files relative to it."""

    folder: str
    files: Iterable[str]


@dataclass(slots=True)
class _Target:
    """A resolved delivery: the concrete folder and the cluster identity it goes to."""

    delivery: Delivery
    folder: str
    identity: str | None
    named: bool  # identity is a kubegen cluster name (not a bare address)
    reasons: list[str] = field(default_factory=list)


def check_fleet(
    parts: Sequence[RenderedPart],
    folders: Sequence[RenderedFolder],
    root: Path,
    *,
    remotes: frozenset[str] = frozenset(),
) -> None:
    """Raise :class:`ConflictError` for the first problem of the module docstring's list.

    Args:
        parts: every Stack rendered in this run.
        folders: every env folder this run writes (their files replace what is on disk).
        root: the git repository root the GitOps paths are relative to.
        remotes: normalised URLs of the repository's git remotes; a GitOps object reading
            another repository is skipped. Empty: every object reads this repository.
    """
    found = [d for part in parts for d in deliveries(part.objects) if _local(d, remotes)]
    if not found and not any(part.cluster for part in parts):
        return
    planned = _planned_dirs(folders)
    replaced = tuple(f.folder for f in folders)
    targets = _resolve(found, parts, planned, replaced, root)
    dirs = [_part_dirs(part) for part in parts]
    _check_clusters(targets, parts, dirs)
    _check_flux_layers(targets, parts)
    _check_delivered_once(targets)
    _check_owners(targets, parts, dirs)


# -- the repository ---------------------------------------------------------------------------


def repository_remotes(root: Path) -> frozenset[str]:
    """Normalised URLs of the git remotes of the repository at ``root`` (none if unknown)."""
    config = _git_dir(root / ".git")
    try:
        text = (config / "config").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    urls = re.findall(r"^\s*url\s*=\s*(\S+)\s*$", text, re.M)
    return frozenset(key for key in map(repo_key, urls) if key)


def _git_dir(dot_git: Path) -> Path:
    """The common git directory of ``.git`` (a folder, or a worktree's ``gitdir:`` file)."""
    if not dot_git.is_file():
        return dot_git
    try:
        text = dot_git.read_text(encoding="utf-8").strip()
    except OSError:
        return dot_git
    gitdir = Path(text.partition("gitdir:")[2].strip())
    gitdir = gitdir if gitdir.is_absolute() else dot_git.parent / gitdir
    try:
        common = (gitdir / "commondir").read_text(encoding="utf-8").strip()
    except OSError:
        return gitdir
    return gitdir / common if not Path(common).is_absolute() else Path(common)


_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/]*@)?([^/:]+)(?::[0-9]+)?/(.*)\Z")
_SCP_RE = re.compile(r"(?:[^@/]+@)?([^:/]+):(.*)\Z")


def repo_key(url: str) -> str:
    """``github.com/acme/platform`` for any https, ssh or scp-like URL of that repository."""
    text = url.strip()
    match = _URL_RE.match(text) or _SCP_RE.match(text)
    if match is None:
        return ""
    path = match.group(2).strip("/")
    path = path.removesuffix(".git")
    return f"{match.group(1).lower()}/{path.lower()}"


def _local(delivery: Delivery, remotes: frozenset[str]) -> bool:
    return not remotes or delivery.repo_url is None or repo_key(delivery.repo_url) in remotes


def _planned_dirs(folders: Sequence[RenderedFolder]) -> set[str]:
    """Every folder (and its ancestors) that holds a file after this run's writes."""
    dirs: set[str] = set()
    for rendered in folders:
        base = rendered.folder
        seen_parents: set[str] = set()
        for name in rendered.files:
            parent = name.rpartition("/")[0]
            if parent in seen_parents:
                continue
            seen_parents.add(parent)
            path = f"{base}/{parent}" if parent else base
            while path and path not in dirs:
                dirs.add(path)
                path = path.rpartition("/")[0]
    dirs.add("")
    return dirs


def _on_disk(root: Path, folder: str, replaced: tuple[str, ...]) -> bool:
    """Whether ``folder`` holds a file on disk that this run does not replace."""
    if any(folder == r or folder.startswith(r + "/") for r in replaced):
        return False  # this run rewrites it: only the planned files count
    start = root / folder if folder else root
    for current, dirnames, filenames in os.walk(start):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        rel = Path(current).relative_to(root).as_posix()
        if rel != "." and any(rel == r or rel.startswith(r + "/") for r in replaced):
            dirnames[:] = []
            continue
        if filenames:
            return True
    return False


def _disk_dirs(root: Path, depth: int, prefix: str) -> set[str]:
    """Folders ``depth`` levels below the root that start with ``prefix`` (for globs)."""
    start = root / prefix if prefix else root
    out: set[str] = set()
    base = len(prefix.split("/")) if prefix else 0
    for current, dirnames, _ in os.walk(start):
        rel = Path(current).relative_to(root).as_posix()
        level = 0 if rel == "." else len(rel.split("/"))
        dirnames[:] = [d for d in dirnames if d != ".git"] if level < depth else []
        if level == depth and level >= base:
            out.add(rel)
    return out


# -- resolving deliveries --------------------------------------------------------------------


def _resolve(
    found: list[Delivery],
    parts: Sequence[RenderedPart],
    planned: set[str],
    replaced: tuple[str, ...],
    root: Path,
) -> list[_Target]:
    names = _address_names(found, parts)
    targets: list[_Target] = []
    for delivery in found:
        for folder in _folders(delivery, planned, replaced, root):
            identity, named = _identity(delivery, names)
            targets.append(_Target(delivery, folder, identity, named, [delivery.what]))
    return targets


def _address_names(
    found: list[Delivery], parts: Sequence[RenderedPart]
) -> dict[tuple[str, str], str | None]:
    """``(tool, address)`` → the cluster name it stands for (None when two names claim it)."""
    names: dict[tuple[str, str], str | None] = {}

    def claim(key: tuple[str, str], name: str) -> None:
        names[key] = name if names.get(key, name) == name else None

    for part in parts:
        if part.cluster is not None:
            for key in part.addresses:
                claim(key, part.cluster)
    for delivery in found:
        if delivery.cluster is not None and delivery.address is not None:
            claim((delivery.tool, delivery.address), delivery.cluster)
    return names


def _identity(
    delivery: Delivery, names: dict[tuple[str, str], str | None]
) -> tuple[str | None, bool]:
    if delivery.address is not None:
        name = names.get((delivery.tool, delivery.address))
        if name is not None:
            return _named_cluster(name), True
    if delivery.cluster is not None:
        return _named_cluster(delivery.cluster), True
    if delivery.address is not None:
        return f"the cluster {delivery.tool} reaches at {delivery.address}", False
    return None, False


def _named_cluster(name: str) -> str:
    """How a cluster identity reads (and compares): ``cluster prod-eu``."""
    return f"cluster {name}"


def _folders(
    delivery: Delivery, planned: set[str], replaced: tuple[str, ...], root: Path
) -> list[str]:
    """The concrete folders a delivery reads; a ConflictError when there are none."""
    if not delivery.is_glob:
        if delivery.path in planned or _on_disk(root, delivery.path, replaced):
            return [delivery.path]
        raise _missing(delivery, planned)
    depth = len(delivery.path.split("/"))
    prefix = _literal_prefix(delivery.path)
    candidates = {d for d in planned if d and len(d.split("/")) == depth}
    candidates |= {d for d in _disk_dirs(root, depth, prefix)
                   if not any(d == r or d.startswith(r + "/") for r in replaced)}
    matched = sorted(
        d for d in candidates
        if go_path_match(delivery.path, d)
        and not any(go_path_match(glob, d) for glob in delivery.exclude)
    )
    if not matched:
        raise _missing(delivery, planned)
    return matched


def _literal_prefix(glob: str) -> str:
    parts: list[str] = []
    for part in glob.split("/"):
        if set(part) & set("*?[\\"):
            break
        parts.append(part)
    return "/".join(parts)


def _missing(delivery: Delivery, planned: set[str]) -> ConflictError:
    rendered = sorted(d for d in planned if d and "/" in d and d.count("/") <= 2)[:6]
    known = ", ".join(rendered) if rendered else "none"
    kind = "matches no folder" if delivery.is_glob else "is a folder"
    tail = "" if delivery.is_glob else " that no stack of this run renders and the repository "
    tail += "" if delivery.is_glob else "does not hold"
    return ConflictError(
        f"{delivery.field} = {delivery.path!r} {kind}{tail}: {delivery.tool} would have "
        f"nothing to apply for {delivery.what}",
        origin=delivery.obj.origin,
        resource=delivery.obj.display,
        fix="render the stack of that folder in the same run (e.g. `kubegen render "
        "stacks/dev stacks/prod stacks/gitops`), or correct the path; folders rendered here: "
        f"{known}",
    )


# -- checks ----------------------------------------------------------------------------------


def _covers(target: _Target, folder: str) -> bool:
    """Whether ``target`` applies the objects directly in ``folder``."""
    if folder == target.folder:
        return True
    if not target.delivery.recurse:
        return False
    return not target.folder or folder.startswith(target.folder + "/")


def _part_dirs(part: RenderedPart) -> set[str]:
    base = part.folder or ""
    out: set[str] = set()
    for obj in part.objects:
        out.add(_object_dir(base, obj))
    return out


def _object_dir(base: str, obj: ManifestObject) -> str:
    inner = obj.namespace or _CLUSTER_DIR
    if obj.layer is not None:
        inner = f"{obj.layer}/{inner}"
    return f"{base}/{inner}" if base else inner


def _check_clusters(
    targets: list[_Target], parts: Sequence[RenderedPart], part_dirs: list[set[str]]
) -> None:
    for part, dirs in zip(parts, part_dirs, strict=True):
        if part.folder is None or part.cluster is None:
            continue
        for target in targets:
            if not target.named or target.identity == _named_cluster(part.cluster):
                continue
            if any(_covers(target, d) for d in dirs):
                raise ConflictError(
                    f"{target.delivery.what} delivers {target.folder or 'the repository root'} "
                    f"to {target.identity}, but {part.stack} renders "
                    f"{part.folder} for cluster {part.cluster} (its Stack(cluster=...))",
                    origin=target.delivery.obj.origin,
                    resource=target.delivery.obj.display,
                    fix="make the Fleet and the stack agree: build the stack for the clusters "
                    "the Fleet maps its environment to (fleet.clusters(env))",
                )


def _check_flux_layers(targets: list[_Target], parts: Sequence[RenderedPart]) -> None:
    for part in parts:
        if part.folder is None or len(part.layers) < 2:
            continue
        layer_dirs = {layer: f"{part.folder}/{layer}" for layer in part.layers}
        for target in targets:
            if target.delivery.tool != FLUX:
                continue
            held = [layer for layer, d in layer_dirs.items()
                    if _covers(target, d) and d != target.folder]
            if len(held) > 1:
                raise ConflictError(
                    f"{target.delivery.what} applies {target.folder or 'the repository root'}, "
                    f"which holds the layers {', '.join(held)} of {part.stack}: one Kustomization "
                    "applies them all at once, so their order is lost",
                    origin=target.delivery.obj.origin,
                    resource=target.delivery.obj.display,
                    fix="declare the stack's layers in its Environment (Environment(..., "
                    "layers=...)) so Flux gets one Kustomization per layer, each depending on "
                    "the one before",
                )


def _check_delivered_once(targets: list[_Target]) -> None:
    by_place: dict[tuple[str, str], list[_Target]] = {}
    for target in targets:
        if target.identity is not None:
            by_place.setdefault((target.delivery.tool, target.identity), []).append(target)
    for (tool, identity), group in by_place.items():
        for i, later in enumerate(group):
            for earlier in group[:i]:
                if earlier.delivery is later.delivery:
                    continue
                if _covers(earlier, later.folder) or _covers(later, earlier.folder):
                    raise ConflictError(
                        f"{later.delivery.what} delivers {later.folder or 'the repository root'}"
                        f" to {identity}, and {earlier.delivery.what} already delivers "
                        f"{earlier.folder or 'the repository root'} there: two {tool} owners "
                        "of the same objects would fight over them",
                        origin=later.delivery.obj.origin,
                        resource=later.delivery.obj.display,
                        fix="deliver each folder to a cluster once (one Application, or one "
                        "Kustomization per layer folder)",
                    )


def _check_owners(
    targets: list[_Target], parts: Sequence[RenderedPart], part_dirs: list[set[str]]
) -> None:
    owners: dict[str, dict[tuple[str, str, str, str], tuple[int, ManifestObject]]] = {}
    for index, part in enumerate(parts):
        places = _places(part, targets, part_dirs[index])
        for obj in part.objects:
            for identity, why in places[_object_dir(part.folder or "", obj)]:
                seen = owners.setdefault(identity, {})
                first = seen.setdefault(obj.key, (index, obj))
                if first[0] != index:
                    raise _two_owners(parts[first[0]], first[1], part, obj, identity, why)


def _places(
    part: RenderedPart, targets: list[_Target], dirs: set[str]
) -> dict[str, list[tuple[str, str]]]:
    """For each folder of the part's objects: the clusters they go to, and why."""
    out: dict[str, list[tuple[str, str]]] = {}
    for folder in dirs:
        found: dict[str, str] = {}
        if part.cluster is not None:
            found[_named_cluster(part.cluster)] = (
                f"{part.stack} is built with Stack(cluster={part.cluster!r})"
            )
        if part.folder is not None:
            for target in targets:
                if target.identity is not None and _covers(target, folder):
                    found.setdefault(target.identity, target.delivery.what)
        out[folder] = sorted(found.items())
    return out


def _two_owners(
    first_part: RenderedPart,
    first: ManifestObject,
    part: RenderedPart,
    obj: ManifestObject,
    identity: str,
    why: str,
) -> ConflictError:
    def where(p: RenderedPart, o: ManifestObject) -> str:
        details = [d for d in (p.folder, f"at {o.origin}" if o.origin else None) if d]
        return f"{p.stack} ({', '.join(details)})" if details else p.stack

    return ConflictError(
        f"is rendered by {where(first_part, first)} and by {where(part, obj)}, and both go to "
        f"{identity} ({why}): two owners of one object overwrite each other, and removing "
        "either environment would delete it from the other",
        origin=obj.origin,
        resource=obj.display,
        fix="render the shared object in one stack only (e.g. a platform stack both "
        "environments build on), give it another name or namespace in one environment, or map "
        "the environments to different clusters in the Fleet",
    )


__all__ = [
    "RenderedFolder",
    "RenderedPart",
    "check_fleet",
    "repo_key",
    "repository_remotes",
]
