"""Limits checked on every rendered object, whatever builder made it.

Builders validate their own fields (names ≤ 63/253, label values ≤ 63, ConfigMap data ≤ 1 MiB,
annotations ≤ 256 KiB); what only shows once an object is rendered is checked here, at render
time, before anything is written:

- the object's size: etcd refuses a request over 1.5 MiB (``--max-request-bytes`` default), so
  the API server would reject it at apply time;
- a ConfigMap's or Secret's data: at most 1 MiB (keys and decoded values), whatever builder
  made it (the ``Manifest`` escape hatch included);
- its file name: ``<kind>-<name>.yaml`` must fit the 255-byte limit of common filesystems;
- text kustomize cannot carry: DEL, the C1 controls (U+0080-U+009F, NEL included) and the
  non-characters U+FFFE/U+FFFF. The emitter escapes them correctly, but ``kustomize build``
  (what Argo CD and Flux run on ``output/<env>``) rejects them ("control characters are not
  allowed") or turns NEL into a space. Found cheaply: the emitter writes each as an escape, so
  only a document holding such an escape is searched, and the error names the field;
- plaintext secrets: a ``Secret`` (also inside a ``List``; any API group, to be safe) with
  ``data`` or ``stringData`` would put secret values in git. It is refused unless it carries
  an explicit allow with a reason: :data:`ALLOW_PLAINTEXT_SECRET` (what
  ``Secret(..., allow_plaintext="why")`` renders) or a waiver of policy rule KG801
  (``kubegen.dev/waive-kg801``), whatever builder made it and whatever the policy profile
  (``baseline`` only warns about KG801; this guard does not depend on the profile).
"""

from __future__ import annotations

import re
from typing import Any

from kubegen._builders.base import OPT_OUT_PREFIX
from kubegen._errors import PolicyError, ValidationError
from kubegen._manifests import ManifestObject
from kubegen._policy.waivers import annotation_key

MAX_OBJECT_BYTES = 1536 * 1024  # etcd's default request limit: 1.5 MiB
MAX_DATA_BYTES = 1024 * 1024  # ConfigMap/Secret data, as the API server validates it
MAX_FILE_NAME_BYTES = 255  # NAME_MAX of ext4, xfs, btrfs, APFS, NTFS
ALLOW_PLAINTEXT_SECRET = OPT_OUT_PREFIX + "plaintext-secret"  # annotation: the reason it may
_ALLOWS = (ALLOW_PLAINTEXT_SECRET, annotation_key("KG801"))  # KG801: policy's plaintext-secret


def check_object_size(obj: ManifestObject, document: bytes) -> None:
    """Refuse an object whose rendered YAML exceeds what the API server stores."""
    if len(document) > MAX_OBJECT_BYTES:
        raise ValidationError(
            f"renders to {len(document)} bytes; the API server refuses objects over "
            f"{MAX_OBJECT_BYTES} bytes (1.5 MiB)",
            origin=obj.origin,
            resource=obj.display,
            fix="split the data over several objects, or ship large files in the image",
        )


# Escapes of the characters above, as a YAML emitter may write them (any case, any form).
_UNPORTABLE_ESCAPE = re.compile(
    rb"\\(?:x(?:7f|[89][0-9a-f])|u(?:00(?:7f|[89][0-9a-f])|fff[ef])|U0000(?:007f|00[89][0-9a-f]"
    rb"|fff[ef])|(?-i:N))",
    re.IGNORECASE,
)
_UNPORTABLE = re.compile("[\x7f-\x9f\ufffe\uffff]")


def check_portable_text(obj: ManifestObject, document: bytes) -> None:
    """Refuse strings kustomize cannot read back; search only documents that may hold one."""
    if _UNPORTABLE_ESCAPE.search(document) is None:
        return
    found = _find_unportable(obj.body, "")
    if found is not None:
        where, text = found
        char = _UNPORTABLE.search(text)
        assert char is not None
        raise ValidationError(
            f"holds U+{ord(char.group()):04X} (DEL, a C1 control or a non-character), which "
            "kustomize, as run by Argo CD and Flux, rejects or turns into a space",
            origin=obj.origin,
            resource=obj.display,
            field=where,
            value=text,
            fix="remove the character, or put binary content base64-encoded in binaryData",
        )


def _find_unportable(value: Any, where: str) -> tuple[str, str] | None:
    if isinstance(value, str):
        return (where, value) if _UNPORTABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and _UNPORTABLE.search(key):
                return path, key
            found = _find_unportable(item, path)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _find_unportable(item, f"{where}[{index}]")
            if found is not None:
                return found
    return None


def check_data_size(obj: ManifestObject) -> None:
    """Refuse a ConfigMap or Secret whose data the API server would call too long (1 MiB)."""
    if obj.kind not in ("ConfigMap", "Secret") or obj.group:
        return
    total = 0
    for field in ("data", "binaryData", "stringData"):
        values = obj.body.get(field)
        base64 = field == "binaryData" or (field == "data" and obj.kind == "Secret")
        for key, value in values.items() if isinstance(values, dict) else ():
            if isinstance(key, str) and isinstance(value, str):
                size = len(value) * 3 // 4 if base64 else len(value.encode())
                total += len(key.encode()) + size
    if total > MAX_DATA_BYTES:
        raise ValidationError(
            f"holds {total} bytes of data; the API server accepts at most {MAX_DATA_BYTES} "
            "(1 MiB) in a ConfigMap or Secret",
            origin=obj.origin,
            resource=obj.display,
            fix="split the data over several objects, or ship large files in the image",
        )


def check_file_name(obj: ManifestObject, path: str) -> None:
    """Refuse a path whose file name the filesystem could not create."""
    name = path.rpartition("/")[2]
    size = len(name.encode())
    if size > MAX_FILE_NAME_BYTES:
        room = len(obj.name) - (size - MAX_FILE_NAME_BYTES)
        raise ValidationError(
            f"its file name {name[:40]}… is {size} bytes; filesystems allow "
            f"{MAX_FILE_NAME_BYTES}",
            origin=obj.origin,
            resource=obj.display,
            field="metadata.name",
            fix=f"use a name of at most {max(room, 1)} characters",
        )


def check_no_plaintext_secret(obj: ManifestObject) -> None:
    """Refuse secret values in the output: they would be committed to git in plaintext."""
    for item, where in _secrets(obj.body, ""):
        if (item.get("data") or item.get("stringData")) and not _allowed(item):
            raise PolicyError(
                f"a Secret{where} with data or stringData would commit secret values to git "
                f"in plaintext (no {' or '.join(_ALLOWS)} annotation with a reason)",
                origin=obj.origin,
                resource=obj.display,
                fix="reference the secret instead (ExternalSecret, SealedSecret, SecretRef), or "
                "use Secret(..., allow_plaintext='why this is not sensitive') or waive KG801",
            )


def _allowed(secret: dict[str, Any]) -> bool:
    meta = secret.get("metadata")
    notes = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(notes, dict):
        return False
    reasons = [notes.get(key) for key in _ALLOWS]
    return any(isinstance(reason, str) and reason.strip() for reason in reasons)


def _secrets(body: Any, where: str) -> list[tuple[dict[str, Any], str]]:
    """Every ``kind: Secret`` in ``body``: any API group (conservative), and inside a List."""
    if not isinstance(body, dict):
        return []
    if body.get("kind") == "Secret":
        return [(body, where)]
    if body.get("kind") == "List" and isinstance(body.get("items"), list):
        found: list[tuple[dict[str, Any], str]] = []
        for index, item in enumerate(body["items"]):
            found.extend(_secrets(item, f" (items[{index}])"))
        return found
    return []
