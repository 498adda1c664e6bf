"""Read GitOps objects as deliveries: which folder of the repository goes to which cluster.

An Argo CD Application, each Application an ApplicationSet generates (list, clusters and git
directory generators) and a Flux Kustomization all say "apply this folder of that repository to
that cluster". :func:`deliveries` reads that from rendered manifests, so hand-written objects
(``Manifest({...})``) are understood like generated ones. A destination is kept as an *address*
per tool (``server https://…``, ``name prod-eu``, ``kubeConfig secretRef prod-eu-kubeconfig``,
``in-cluster``) plus, when the object says so, the kubegen cluster name (the
``kubegen.dev/cluster`` label, or the ``cluster`` value of a generator element).

ApplicationSet templates are Go templates; only plain ``{{.key}}`` / ``{{.values.key}}``
placeholders are resolved here. A path or destination using anything else is *unknown*: the
delivery is kept with what could be read, and the checks skip what they cannot know.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubegen._manifests import ManifestObject

ARGO = "Argo CD"
FLUX = "Flux"
CLUSTER_LABEL = "kubegen.dev/cluster"
IN_CLUSTER = "https://kubernetes.default.svc"

_PLACEHOLDER = re.compile(r"\{\{-?\s*\.?([A-Za-z_][A-Za-z0-9_.]*)\s*-?\}\}")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One folder (or folder glob) a GitOps object applies to one destination."""

    obj: ManifestObject
    tool: str  # ARGO or FLUX
    what: str  # how messages name it: "ApplicationSet argocd/prod (cluster prod-eu)"
    field: str  # where the path is written: "spec.path"
    path: str  # repository-relative folder ("" = the root) or glob
    is_glob: bool = False
    exclude: tuple[str, ...] = ()
    recurse: bool = True
    address: str | None = None  # None: unknown (templated)
    cluster: str | None = None  # the kubegen cluster the object names, if any
    repo_url: str | None = None  # None: the repository of the run (a Flux source not rendered)


def normal(path: Any) -> str:
    """A repository path without ``./``, empty parts or trailing ``/``."""
    text = path if isinstance(path, str) else ""
    return "/".join(p for p in text.split("/") if p not in ("", "."))


def deliveries(objects: Sequence[ManifestObject]) -> Iterator[Delivery]:
    """Every delivery the GitOps objects among ``objects`` describe."""
    sources = _flux_sources(objects)
    for obj in objects:
        if obj.kind not in ("Application", "ApplicationSet", "Kustomization"):
            continue
        spec = obj.body.get("spec")
        if not isinstance(spec, dict):
            continue
        if obj.group == "kustomize.toolkit.fluxcd.io" and obj.kind == "Kustomization":
            yield from _flux(obj, spec, sources)
        elif obj.group == "argoproj.io" and obj.kind == "Application":
            yield from _application(obj, spec, f"Application {_named(obj)}", "spec", {})
        elif obj.group == "argoproj.io" and obj.kind == "ApplicationSet":
            yield from _application_set(obj, spec)


def _named(obj: ManifestObject) -> str:
    return f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name


def _labels(meta: Any) -> Mapping[str, Any]:
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return labels if isinstance(labels, dict) else {}


def _flux_sources(objects: Sequence[ManifestObject]) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for obj in objects:
        if obj.kind == "GitRepository" and obj.group == "source.toolkit.fluxcd.io":
            spec = obj.body.get("spec")
            url = spec.get("url") if isinstance(spec, dict) else None
            if isinstance(url, str):
                out[(obj.namespace or "", obj.name)] = url
    return out


def _flux(
    obj: ManifestObject, spec: dict[str, Any], sources: dict[tuple[str, str], str]
) -> Iterator[Delivery]:
    ref = spec.get("sourceRef")
    repo_url = None
    if isinstance(ref, dict) and ref.get("kind", "GitRepository") == "GitRepository":
        namespace = ref.get("namespace") or obj.namespace or ""
        repo_url = sources.get((str(namespace), str(ref.get("name"))))
    elif isinstance(ref, dict):
        return  # a Bucket or OCIRepository: not a folder of this repository
    kube = spec.get("kubeConfig")
    address = "in-cluster"
    if isinstance(kube, dict):
        secret, config_map = kube.get("secretRef"), kube.get("configMapRef")
        if isinstance(secret, dict):
            address = f"kubeConfig secretRef {secret.get('name')}"
        elif isinstance(config_map, dict):
            address = f"kubeConfig configMapRef {config_map.get('name')}"
    cluster = _labels(obj.body.get("metadata")).get(CLUSTER_LABEL)
    yield Delivery(
        obj, FLUX, f"Kustomization {_named(obj)}", "spec.path", normal(spec.get("path")),
        address=address, cluster=cluster if isinstance(cluster, str) else None,
        repo_url=repo_url,
    )


def _destination(spec: Mapping[str, Any]) -> str | None:
    dest = spec.get("destination")
    if not isinstance(dest, dict):
        return None
    server, name = dest.get("server"), dest.get("name")
    if isinstance(name, str) and name and "{{" not in name:
        return f"name {name}"
    if isinstance(server, str) and server and "{{" not in server:
        return f"server {server.rstrip('/')}"
    if not name and not server:
        return f"server {IN_CLUSTER}"
    return None


def _application(
    obj: ManifestObject, spec: Mapping[str, Any], what: str, where: str,
    meta: Mapping[str, Any],
) -> Iterator[Delivery]:
    address = _destination(spec)
    cluster = _labels(meta or obj.body.get("metadata")).get(CLUSTER_LABEL)
    sources = [(f"{where}.source", spec.get("source"))]
    listed = spec.get("sources")
    if isinstance(listed, list):
        sources += [(f"{where}.sources[{i}]", s) for i, s in enumerate(listed)]
    for field, source in sources:
        if not isinstance(source, dict) or not isinstance(source.get("path"), str):
            continue
        path = source["path"]
        if "{{" in path:
            continue
        directory = source.get("directory")
        recurse = isinstance(directory, dict) and directory.get("recurse") is True
        repo_url = source.get("repoURL")
        yield Delivery(
            obj, ARGO, what, f"{field}.path", normal(path), recurse=recurse, address=address,
            cluster=cluster if isinstance(cluster, str) and "{{" not in cluster else None,
            repo_url=repo_url if isinstance(repo_url, str) else None,
        )


def _fill(node: Any, params: Mapping[str, Any]) -> Any:
    """``node`` with ``{{.key}}`` placeholders replaced by ``params``; unknown ones stay."""
    if isinstance(node, str):
        def value(match: re.Match[str]) -> str:
            found: Any = params
            for part in match.group(1).split("."):
                found = found.get(part) if isinstance(found, dict) else None
            return str(found) if isinstance(found, (str, int)) else match.group(0)

        return _PLACEHOLDER.sub(value, node)
    if isinstance(node, dict):
        return {k: _fill(v, params) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, params) for v in node]
    return node


def _application_set(obj: ManifestObject, spec: dict[str, Any]) -> Iterator[Delivery]:
    template = spec.get("template")
    if not isinstance(template, dict):
        return
    generators = spec.get("generators")
    for i, generator in enumerate(generators if isinstance(generators, list) else []):
        if not isinstance(generator, dict):
            continue
        where = f"spec.generators[{i}]"
        if isinstance(generator.get("list"), dict):
            elements = generator["list"].get("elements")
            for j, element in enumerate(elements if isinstance(elements, list) else []):
                if isinstance(element, dict):
                    yield from _generated(obj, template, element, f"{where}.list.elements[{j}]")
        elif isinstance(generator.get("clusters"), dict):
            values = generator["clusters"].get("values")
            params = {"values": values if isinstance(values, dict) else {}}
            yield from _generated(obj, template, params, f"{where}.clusters.values")
        elif isinstance(generator.get("git"), dict):
            yield from _git_directories(obj, template, generator["git"], where)


def _generated(
    obj: ManifestObject, template: dict[str, Any], params: Mapping[str, Any], where: str
) -> Iterator[Delivery]:
    filled = _fill(template, params)
    meta = filled.get("metadata") if isinstance(filled.get("metadata"), dict) else {}
    spec = filled.get("spec")
    if not isinstance(spec, dict):
        return
    name = meta.get("name") if isinstance(meta, dict) else None
    what = f"ApplicationSet {_named(obj)} ({where}: Application {name})"
    yield from _application(obj, spec, what, f"{where} → template.spec", meta)


def _git_directories(
    obj: ManifestObject, template: dict[str, Any], git: dict[str, Any], where: str
) -> Iterator[Delivery]:
    dirs = git.get("directories")
    if not isinstance(dirs, list):
        return
    rules = [d for d in dirs if isinstance(d, dict) and isinstance(d.get("path"), str)]
    excludes = tuple(normal(d["path"]) for d in rules if d.get("exclude") is True)
    spec = template.get("spec") if isinstance(template.get("spec"), dict) else {}
    source = spec.get("source") if isinstance(spec, dict) else None
    directory = source.get("directory") if isinstance(source, dict) else None
    recurse = isinstance(directory, dict) and directory.get("recurse") is True
    address = _destination(spec) if isinstance(spec, dict) else None
    repo_url = git.get("repoURL")
    for j, rule in enumerate(rules):
        if rule.get("exclude") is not True:
            yield Delivery(
                obj, ARGO, f"ApplicationSet {_named(obj)}",
                f"{where}.git.directories[{j}].path", normal(rule["path"]), is_glob=True,
                exclude=excludes, recurse=recurse, address=address,
                repo_url=repo_url if isinstance(repo_url, str) else None,
            )


__all__ = ["ARGO", "FLUX", "Delivery", "deliveries", "normal"]
