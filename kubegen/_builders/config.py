"""ConfigMaps: configuration data as literals (files and Jinja2 templates build on this)."""

from __future__ import annotations

import hashlib
import re
from typing import ClassVar

from pydantic import Field, field_validator

from kubegen._builders.base import Resource
from kubegen._manifests import ManifestObject
from kubegen._values import InvalidValue

_KEY_RE = re.compile(r"[-._a-zA-Z0-9]+\Z")
CONFIGMAP_MAX_BYTES = 1024 * 1024  # the API server's limit on a ConfigMap's data


class ConfigMap(Resource):
    """Non-secret configuration, as ``key: text`` pairs; keys render sorted.

    Args:
        name: DNS-1123 subdomain.
        data: file name → content. Keys are ``[-._a-zA-Z0-9]+`` (they become file names when
            mounted); the total must stay under 1 MiB, the API server's limit.
        immutable: mark the ConfigMap immutable (defaults to False).
    """

    api_version: ClassVar[str] = "v1"
    kind: ClassVar[str] = "ConfigMap"

    data: dict[str, str] = Field(default_factory=dict)
    immutable: bool = False

    @field_validator("data")
    @classmethod
    def _check_data(cls, data: dict[str, str]) -> dict[str, str]:
        total = 0
        for key, value in data.items():
            if not _KEY_RE.match(key) or key in (".", "..") or len(key) > 253:
                raise InvalidValue(
                    f"key {key!r} is not a valid ConfigMap key: use letters, digits, '-', '_' "
                    "and '.' (at most 253 characters; not '.' or '..')",
                    fix=f"rename the key, e.g. {re.sub(r'[^-._a-zA-Z0-9]', '-', key)[:253]!r}",
                )
            total += len(key.encode()) + len(value.encode())
        if total > CONFIGMAP_MAX_BYTES:
            raise InvalidValue(
                f"data totals {total} bytes; a ConfigMap holds at most 1 MiB",
                fix="split the data over several ConfigMaps or ship it in the image",
            )
        return data

    def sha256(self) -> str:
        """Digest of the data, for the pod-template annotation that rolls pods on change."""
        digest = hashlib.sha256()
        for key in sorted(self.data):
            digest.update(key.encode() + b"\0" + self.data[key].encode() + b"\0")
        return digest.hexdigest()

    def manifests(self) -> list[ManifestObject]:
        body: dict[str, object] = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(),
        }
        if self.immutable:
            body["immutable"] = True
        body["data"] = dict(sorted(self.data.items()))
        return [self.manifest(body)]
