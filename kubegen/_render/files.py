"""Turn a stack's manifests into the exact bytes of every file under ``output/<env>/``."""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kubegen._errors import KubegenError, ValidationError
from kubegen._manifests import SORTED_MAPS, ManifestObject, canonical, canonical_order
from kubegen._render.cache import (
    CacheFields,
    Reuse,
    cache_fields,
    cache_line,
    object_digest,
    recorded_lint_key,
    reusable,
)
from kubegen._render.layout import (
    HEADER,
    KUSTOMIZATION,
    kustomization,
    layer_kustomizations,
    object_paths,
)
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


def render_files(
    objects: Sequence[ManifestObject],
    layers: Sequence[str] = (),
    *,
    nested: bool = False,
    clean: Collection[ManifestObject] | None = None,
    previous: Mapping[str, bytes] | None = None,
    lint_key: str | None = None,
) -> dict[str, bytes]:
    """Relative path → file content, sorted by path; includes kustomization.yaml (and one per
    layer of ``layers``, the stack's declared layers, when objects carry a layer). ``nested``:
    the files go into a cluster's folder inside the env folder.

    ``clean``: the objects no per-object rule hit (their files say ``lint=clean``), ``lint_key``
    the key that holds under (see :mod:`kubegen._render.cache`); ``previous``: the files on disk,
    whose unchanged documents are reused instead of emitted again.

    Every object is checked against the limits of :mod:`kubegen._render.limits`; a value the
    emitter cannot write is a :class:`ValidationError` naming the object, never a crash.
    """
    planned = plan_files(objects, layers, nested=nested, previous=previous, lint_key=lint_key)
    planned.emit()
    return planned.files(clean or ())


@dataclass(slots=True)
class PlannedFiles:
    """A stack's files in three steps, so the lint can run while the YAML is emitted: the
    paths and digests with what the files on disk offer (:func:`plan_files`), then
    :meth:`emit` for what they do not, then :meth:`files` once the lint says what is clean."""

    objects: Sequence[ManifestObject]
    paths: list[str]
    digests: list[str | None]
    reuse: list[Reuse | None]
    support: dict[str, bytes]  # the kustomization.yaml files
    documents: list[bytes | None] = field(default_factory=list)

    def known_clean(self) -> list[ManifestObject]:
        """Objects whose unchanged file says no per-object rule hits them under this lint key."""
        return [
            obj for obj, reuse in zip(self.objects, self.reuse, strict=True)
            if reuse is not None and reuse.clean
        ]

    def emit(self) -> None:
        """Emit (and check against the limits) every object whose file cannot be reused."""
        self.documents = [
            reuse.document if reuse is not None else _render_one(obj, path)
            for obj, path, reuse in zip(self.objects, self.paths, self.reuse, strict=True)
        ]

    def files(self, clean: Collection[ManifestObject]) -> dict[str, bytes]:
        """Every file's bytes, sorted by path; ``clean`` as in :func:`render_files`."""
        clean_ids = {id(obj) for obj in clean}
        files = dict(self.support)
        for obj, path, digest, document, reuse in zip(
            self.objects, self.paths, self.digests, self.documents, self.reuse, strict=True
        ):
            assert document is not None  # emit() ran
            if digest is None:  # no faithful digest: no cache line either
                files[path] = _HEADER_BYTES + document
                continue
            is_clean = id(obj) in clean_ids
            if reuse is not None and reuse.was_clean == is_clean:
                files[path] = reuse.data  # the same bytes again
                continue
            line = cache_line(digest, document, clean=is_clean)
            files[path] = _HEADER_BYTES + line + document
        return dict(sorted(files.items()))


def plan_files(
    objects: Sequence[ManifestObject],
    layers: Sequence[str] = (),
    *,
    nested: bool = False,
    previous: Mapping[str, bytes] | None = None,
    lint_key: str | None = None,
    checked: Mapping[str, CacheFields] | None = None,
) -> PlannedFiles:
    """The first step of :func:`render_files`: paths, digests, and which files on disk hold
    exactly what emitting would write again. A previous file is clean only under the same
    ``lint_key`` as its folder's previous ``kustomization.yaml`` records. ``checked``: the
    cache lines of ``previous``, checked ahead (:func:`~kubegen._render.cache.checked_lines`
    of the same bytes)."""
    paths = object_paths(objects)
    support = {KUSTOMIZATION: kustomization(paths, nested=nested, lint_key=lint_key).encode()}
    for path, text in layer_kustomizations(paths, layers).items():
        support[path] = text.encode()
    old = previous or {}
    same_key = lint_key is not None and recorded_lint_key(old.get(KUSTOMIZATION)) == lint_key
    digests: list[str | None] = []
    reuse = []
    for path, obj in zip(paths, objects, strict=True):
        data = old.get(path)
        fields = None
        if data is not None:
            fields = cache_fields(data) if checked is None else checked.get(path)
        digest = object_digest(path, obj.body, None if fields is None else fields[0])
        found = reusable(data, digest, fields)
        if found is not None and found.clean and not same_key:
            found.clean = False
        digests.append(digest)
        reuse.append(found)
    return PlannedFiles(objects, paths, digests, reuse, support)


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
    return document


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
        # canonical() sorts nested label-like maps in place: on a copy (aliases kept, so the
        # bytes are the same), or a vendored CRD whose schema has a property named `labels`
        # would come out of its first render reordered, and its object digest change
        try:
            body = copy.deepcopy(obj.body)
        except Exception:  # a value that cannot be copied: the emitter refuses it as before
            body = obj.body
        return dump(canonical(body))
