"""Limits checked on every rendered object, whatever builder made it.

Builders validate their own fields (names ≤ 63/253, label values ≤ 63, ConfigMap data ≤ 1 MiB,
annotations ≤ 256 KiB); what only shows once an object is rendered is checked here, at render
time, before anything is written:

- the object's size: etcd refuses a request over 1.5 MiB (``--max-request-bytes`` default), so
  the API server would reject it at apply time;
- its file name: ``<kind>-<name>.yaml`` must fit the 255-byte limit of common filesystems;
- plaintext secrets: a ``Secret`` (also inside a ``List``; any API group, to be safe) with
  ``data`` or ``stringData`` would put secret values in git. Until an explicit-allow
  annotation exists (the workloads builders decide its name), such an object is refused.
"""

from __future__ import annotations

from typing import Any

from kubegen._errors import PolicyError, ValidationError
from kubegen._manifests import ManifestObject

MAX_OBJECT_BYTES = 1536 * 1024  # etcd's default request limit: 1.5 MiB
MAX_FILE_NAME_BYTES = 255  # NAME_MAX of ext4, xfs, btrfs, APFS, NTFS


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
        if item.get("data") or item.get("stringData"):
            raise PolicyError(
                f"a Secret{where} with data or stringData would commit secret values to git "
                "in plaintext",
                origin=obj.origin,
                resource=obj.display,
                fix="reference the secret instead: an ExternalSecret or a SealedSecret, "
                "mounted as files",
            )


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
