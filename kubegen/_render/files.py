"""Turn a stack's manifests into the exact bytes of every file under ``output/<env>/``."""

from __future__ import annotations

from collections.abc import Sequence

from kubegen._manifests import ManifestObject, canonical
from kubegen._render.layout import HEADER, KUSTOMIZATION, kustomization, object_paths
from kubegen._render.yaml_emitter import dump


def render_files(objects: Sequence[ManifestObject]) -> dict[str, bytes]:
    """Relative path → file content, sorted by path; includes kustomization.yaml."""
    paths = object_paths(objects)
    files = {
        path: (HEADER + dump(canonical(obj.body))).encode()
        for path, obj in zip(paths, objects, strict=True)
    }
    files[KUSTOMIZATION] = kustomization(paths).encode()
    return dict(sorted(files.items()))
