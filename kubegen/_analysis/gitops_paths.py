"""Refuse GitOps objects that would deploy the folder they are rendered into.

A Flux Kustomization rendered into ``output/gitops`` with ``path: ./output/gitops`` applies
itself: once in the cluster it can never be changed or removed from git, because it is its own
source (and pruning it prunes everything it manages). An Argo CD Application or ApplicationSet
doing the same manages itself. Which folder an object is rendered into is only known when a stack
is rendered (``output/<env>`` of the stack's project, or ``--out``), so the pipeline calls
:func:`refuse_self_deploy` after building and before anything is written.

The check works on manifests, so objects written with ``Manifest({...})`` are covered too. Paths
in the objects are relative to the git repository root: the nearest folder at or above the
project root holding ``.git``, else the project root itself. It assumes the objects point at the
repository that holds ``output/``, which is how a bootstrap stack is used.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubegen._errors import OutputError
from kubegen._manifests import ManifestObject


@dataclass(frozen=True, slots=True)
class Deploys:
    """One folder (or folder glob) a GitOps object reads from git."""

    field: str  # where the object names it, e.g. "spec.path"
    value: str  # as written in the object
    include: str  # normalised folder or glob, "" for the repository root
    exclude: tuple[str, ...] = ()
    recurse: bool = True
    is_glob: bool = False


#: The kinds :func:`_deployed` reads folders from (in their GitOps API groups).
_DEPLOYING_KINDS = frozenset({"Kustomization", "Application", "ApplicationSet"})


def repository_root(project_root: Path) -> Path:
    """The nearest folder at or above ``project_root`` holding ``.git`` (else the project)."""
    start = Path(os.path.realpath(project_root))
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def refuse_self_deploy(
    objects: Sequence[ManifestObject], *, env_dir: Path, project_root: Path
) -> None:
    """Raise :class:`OutputError` if an object would deploy the folder it is rendered into."""
    root = repository_root(project_root)
    try:
        env = Path(os.path.realpath(env_dir)).relative_to(root).as_posix()  # loops: no raise
    except ValueError:
        return  # rendered outside the repository: no object in it can read that folder
    for obj in objects:
        if obj.kind not in _DEPLOYING_KINDS:  # most objects: skip the group and spec lookups
            continue
        for deploys in _deployed(obj):
            folder = _covered_folder(deploys, env)
            if folder is not None:
                raise _self_deploy_error(obj, deploys, env, folder)


def _normal(path: Any) -> str:
    text = path if isinstance(path, str) else ""
    return "/".join(p for p in text.split("/") if p not in ("", "."))


def _deployed(obj: ManifestObject) -> Iterator[Deploys]:
    spec = obj.body.get("spec")
    if not isinstance(spec, dict):
        return
    if obj.group == "kustomize.toolkit.fluxcd.io" and obj.kind == "Kustomization":
        yield Deploys("spec.path", str(spec.get("path", "")), _normal(spec.get("path")))
    elif obj.group == "argoproj.io" and obj.kind == "Application":
        yield from _argo_sources(spec, "spec")
    elif obj.group == "argoproj.io" and obj.kind == "ApplicationSet":
        yield from _argo_generators(spec)


def _argo_sources(spec: dict[str, Any], where: str) -> Iterator[Deploys]:
    sources = [(f"{where}.source", spec.get("source"))]
    listed = spec.get("sources")
    if isinstance(listed, list):
        sources += [(f"{where}.sources[{i}]", s) for i, s in enumerate(listed)]
    for field, source in sources:
        if isinstance(source, dict) and isinstance(source.get("path"), str):
            directory = source.get("directory")
            recurse = isinstance(directory, dict) and directory.get("recurse") is True
            yield Deploys(f"{field}.path", source["path"], _normal(source["path"]),
                          recurse=recurse)


def _argo_generators(spec: dict[str, Any]) -> Iterator[Deploys]:
    template = spec.get("template")
    template_spec = template.get("spec") if isinstance(template, dict) else None
    recurse = any(d.recurse for d in _argo_sources(template_spec or {}, "template"))
    generators = spec.get("generators")
    for i, generator in enumerate(generators if isinstance(generators, list) else []):
        git = generator.get("git") if isinstance(generator, dict) else None
        dirs = git.get("directories") if isinstance(git, dict) else None
        if not isinstance(dirs, list):
            continue
        rules = [d for d in dirs if isinstance(d, dict) and isinstance(d.get("path"), str)]
        excludes = tuple(_normal(d["path"]) for d in rules if d.get("exclude") is True)
        for j, rule in enumerate(rules):
            if rule.get("exclude") is not True:
                yield Deploys(f"spec.generators[{i}].git.directories[{j}].path", rule["path"],
                              _normal(rule["path"]), excludes, recurse, is_glob=True)


def go_path_match(pattern: str, path: str) -> bool:
    """Go's ``path.Match``: ``*`` and ``?`` never cross a ``/``; ``[^…]`` negates a class."""
    pattern_parts, path_parts = pattern.split("/"), path.split("/")
    if len(pattern_parts) != len(path_parts):
        return False
    return all(
        fnmatch.fnmatchcase(name, part.replace("[^", "[!"))
        for part, name in zip(pattern_parts, path_parts, strict=True)
    )


def _ancestors_and_self(env: str) -> list[str]:
    parts = env.split("/")
    return ["/".join(parts[:n]) for n in range(len(parts), -1, -1)]


def _covered_folder(deploys: Deploys, env: str) -> str | None:
    """The folder (``env`` or an ancestor) through which ``deploys`` reaches ``env``, if any."""
    for folder in _ancestors_and_self(env):
        if folder != env and not deploys.recurse:
            continue
        if deploys.is_glob:
            hit = bool(folder) and go_path_match(deploys.include, folder)
            if hit and not any(go_path_match(e, folder) for e in deploys.exclude):
                return folder
        elif deploys.include == folder:
            return folder
    return None


def _self_deploy_error(
    obj: ManifestObject, deploys: Deploys, env: str, folder: str
) -> OutputError:
    flux = obj.group.endswith("fluxcd.io")
    written = f"{deploys.field} = {deploys.value!r}"
    place = "that folder" if folder == env else f"{folder or 'the repository root'}, which holds it"
    if deploys.is_glob:
        how = f"its git generator matches {place} ({written})"
        fix = f"exclude the folder: exclude=[{env!r}] (a directories entry with exclude: true)"
    else:
        how = f"it deploys {place} ({written})"
        example = "./output/prod" if flux else "output/prod"
        fix = (f"point it at one env folder other than {env!r} (e.g. {example!r}), or render this "
               "stack into a folder it does not deploy")
    return OutputError(
        f"would be rendered into {env}, and {how}: {'Flux' if flux else 'Argo CD'} would apply "
        "this object from its own folder, so it could never be changed or removed through git",
        fix=fix,
        origin=obj.origin,
        resource=obj.display,
    )
