"""Turn a stack's manifests into the exact bytes of every file under ``output/<env>/``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from kubegen._errors import KubegenError, ValidationError
from kubegen._manifests import SORTED_MAPS, ManifestObject, canonical, canonical_order
from kubegen._render.layout import HEADER, KUSTOMIZATION, kustomization, object_paths
from kubegen._render.limits import (
    check_annotations_for_kustomize,
    check_data_size,
    check_file_name,
    check_kustomize_keys,
    check_no_plaintext_secret,
    check_object_size,
    check_portable_text,
)
from kubegen._render.yaml_emitter import dump, take_noticed_keys

_HEADER_BYTES = HEADER.encode()


def render_files(objects: Sequence[ManifestObject]) -> dict[str, bytes]:
    """Relative path → file content, sorted by path; includes kustomization.yaml.

    Every object is checked against the limits of :mod:`kubegen._render.limits`; a value the
    emitter cannot write is a :class:`ValidationError` naming the object, never a crash.
    """
    paths = object_paths(objects)
    files = {
        path: _render_one(obj, path) for path, obj in zip(paths, objects, strict=True)
    }
    files[KUSTOMIZATION] = kustomization(paths).encode()
    return dict(sorted(files.items()))


def _render_one(obj: ManifestObject, path: str) -> bytes:
    obj = _without_empty_annotations(obj)
    check_file_name(obj, path)
    check_no_plaintext_secret(obj)
    check_data_size(obj)
    check_annotations_for_kustomize(obj)
    take_noticed_keys()  # what an earlier, failed object left
    try:
        document = _document(obj).encode()
    except KubegenError as exc:
        raise exc.located(origin=obj.origin, resource=obj.display) from None
    except Exception as exc:  # an unrepresentable value: report it, do not crash
        raise ValidationError(
            f"cannot be rendered as YAML: {type(exc).__name__}: {str(exc)[:300]}",
            origin=obj.origin,
            resource=obj.display,
            fix="use only strings, numbers, booleans, null, lists and string-keyed mappings",
        ) from exc
    noticed = take_noticed_keys()
    if noticed:
        check_kustomize_keys(obj, noticed)
    check_object_size(obj, document)
    check_portable_text(obj, document)
    return _HEADER_BYTES + document


def _without_empty_annotations(obj: ManifestObject) -> ManifestObject:
    """An empty ``metadata.annotations`` map is left out (here and in a List's items):
    kustomize drops it, and to the API server it is the same as none, so the file says what
    every consumer reads. The object itself is not changed."""
    top = _empty_notes(obj.body)
    items = obj.body.get("items") if obj.kind.endswith("List") else None
    listed = items if isinstance(items, list) else []
    if not top and not any(_empty_notes(item) for item in listed):
        return obj
    body = _dropped_notes(obj.body) if top else dict(obj.body)
    if listed:
        body["items"] = [_dropped_notes(item) if _empty_notes(item) else item for item in listed]
    return replace(obj, body=body)


def _empty_notes(item: object) -> bool:
    meta = item.get("metadata") if isinstance(item, dict) else None
    return isinstance(meta, dict) and meta.get("annotations") == {}


def _dropped_notes(item: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in item["metadata"].items() if k != "annotations"}
    return {**item, "metadata": meta}


def _document(obj: ManifestObject) -> str:
    """``dump(canonical(obj.body))``, written in one pass without copying the body.

    Anything the one pass refuses or fails on goes through the two-pass path, which then
    raises exactly the error it always raised.
    """
    try:
        return dump(canonical_order(obj.body), SORTED_MAPS)
    except Exception:  # Unfusable or an invalid value: the slow path decides
        return dump(canonical(obj.body))
