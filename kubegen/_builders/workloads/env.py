"""Environment variable values: literals, ConfigMap and Secret keys, and the Downward API.

``Container(env={...})`` maps names to values in author order (rendered as a list in that
order). A value is a string, a :class:`ConfigMapKey`, a :class:`SecretKey`, or a Downward API
reference made with :class:`Downward` (KiA "Accessing pod metadata"). Secrets belong in files
(:class:`~kubegen.SecretFiles`); a SecretKey in env needs the container's ``allow_secret_env``.
"""

from __future__ import annotations

import re
from typing import Any, Literal, TypedDict, Unpack

from pydantic import field_validator, model_validator

from kubegen._builders.base import Builder, NoArgs
from kubegen._builders.config import ConfigMap
from kubegen._builders.secrets import SecretSource
from kubegen._values import DNSLabel, InvalidValue, Quantity, QuantityLike, check_data_key

_FIELD_PATHS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
_KEYED_FIELD_RE = re.compile(r"metadata\.(labels|annotations)\['[^']+'\]\Z")

ResourceField = Literal[
    "requests.cpu",
    "limits.cpu",
    "requests.memory",
    "limits.memory",
    "requests.ephemeral-storage",
    "limits.ephemeral-storage",
]


class ConfigMapKeyArgs(TypedDict, total=False):
    optional: bool


class ConfigMapKey(Builder):
    """One key of a ConfigMap as an env value.

    Args:
        config: a :class:`~kubegen.ConfigMap` of the stack (its content is hashed into the pod
            template, so changes roll the pods) or the name of one managed elsewhere.
        key: the key to read.
        optional: start even when the key is missing (defaults to False).
    """

    config: ConfigMap | str
    key: str
    optional: bool = False

    def __init__(
        self, config: ConfigMap | str, key: str, /, **data: Unpack[ConfigMapKeyArgs]
    ) -> None:
        super().__init__(config=config, key=key, **data)

    @property
    def config_name(self) -> str:
        return self.config if isinstance(self.config, str) else self.config.name

    @field_validator("key")
    @classmethod
    def _key_syntax(cls, key: str) -> str:
        return check_data_key(key, "ConfigMap")

    @model_validator(mode="after")
    def _known_key(self) -> ConfigMapKey:
        if isinstance(self.config, ConfigMap) and self.key not in self.config.data:
            raise InvalidValue(
                f"ConfigMap {self.config.name!r} has no key {self.key!r} "
                f"(keys: {', '.join(sorted(self.config.data)) or 'none'})",
                fix="use one of its keys or add the key to the ConfigMap",
            )
        return self

    def render(self) -> dict[str, Any]:
        ref: dict[str, Any] = {"name": self.config_name, "key": self.key}
        if self.optional:
            ref["optional"] = True
        return {"configMapKeyRef": ref}


class SecretKeyArgs(TypedDict, total=False):
    optional: bool


class SecretKey(Builder):
    """One key of a Secret as an env value (needs the container's ``allow_secret_env``).

    Args:
        secret: a :class:`~kubegen.SecretRef`, ``Secret``, ``ExternalSecret`` or
            ``SealedSecret``, or a Secret name.
        key: the key to read.
        optional: start even when the key is missing (defaults to False).
    """

    secret: SecretSource | str
    key: str
    optional: bool = False

    def __init__(
        self, secret: SecretSource | str, key: str, /, **data: Unpack[SecretKeyArgs]
    ) -> None:
        super().__init__(secret=secret, key=key, **data)

    @field_validator("key")
    @classmethod
    def _key_syntax(cls, key: str) -> str:
        return check_data_key(key, "Secret")

    @property
    def secret_name(self) -> str:
        return self.secret if isinstance(self.secret, str) else self.secret.secret_name

    def render(self) -> dict[str, Any]:
        ref: dict[str, Any] = {"name": self.secret_name, "key": self.key}
        if self.optional:
            ref["optional"] = True
        return {"secretKeyRef": ref}


class FieldRef(Builder):
    """A pod field as an env value (``fieldRef``); build it with :class:`Downward`."""

    path: str

    def __init__(self, path: str, /, **data: Unpack[NoArgs]) -> None:
        super().__init__(path=path, **data)

    @field_validator("path")
    @classmethod
    def _supported(cls, path: str) -> str:
        if path in ("metadata.labels", "metadata.annotations"):
            what = path.partition(".")[2]
            raise InvalidValue(
                f"field path {path!r} (all the pod's {what}) is only a file of a downwardAPI "
                f"volume, and kubegen writes it with DownwardFiles({what}=True)",
                fix=f"mount DownwardFiles({what}=True, items={{...}}) for the file, or read one "
                f"key: Downward.{what[:-1]}('<key>')",
            )
        if path not in _FIELD_PATHS and not _KEYED_FIELD_RE.match(path):
            raise InvalidValue(
                f"field path {path!r} is not available through the Downward API: use one of "
                f"{', '.join(_FIELD_PATHS)}, metadata.labels['<key>'] or "
                "metadata.annotations['<key>']",
                fix="build it with Downward, e.g. Downward.pod_name()",
            )
        return path

    def render(self) -> dict[str, Any]:
        return {"fieldRef": {"fieldPath": self.path}}


class ResourceRefArgs(TypedDict, total=False):
    divisor: QuantityLike | None
    container: str | None


class ResourceRef(Builder):
    """A container's resource request or limit as an env value or file (``resourceFieldRef``).

    Args:
        resource: ``requests.cpu``, ``limits.memory``, …
        divisor: unit of the value (``'1m'`` gives millicores, ``'1Mi'`` mebibytes); the
            Kubernetes default is 1 (whole cores, rounded up; bytes).
        container: the container whose resources to read; defaults to the one the env belongs to
            (required in a downwardAPI volume).
    """

    resource: ResourceField
    divisor: Quantity | None = None
    container: DNSLabel | None = None

    def __init__(self, resource: ResourceField, /, **data: Unpack[ResourceRefArgs]) -> None:
        super().__init__(resource=resource, **data)

    def render(self) -> dict[str, Any]:
        ref: dict[str, Any] = {}
        if self.container is not None:
            ref["containerName"] = self.container
        ref["resource"] = self.resource
        if self.divisor is not None:
            ref["divisor"] = self.divisor
        return {"resourceFieldRef": ref}


EnvValue = str | ConfigMapKey | SecretKey | FieldRef | ResourceRef


class Downward:
    """Downward API helpers: what a pod may know about itself, as env values.

    ``env={"POD_NAME": Downward.pod_name(), "GOMAXPROCS": Downward.cpu_limit()}``. For labels and
    annotations as files (they change while the pod runs), mount :class:`~kubegen.DownwardFiles`.
    """

    @staticmethod
    def pod_name() -> FieldRef:
        """The pod's name (``metadata.name``)."""
        return FieldRef("metadata.name")

    @staticmethod
    def namespace() -> FieldRef:
        """The pod's namespace (``metadata.namespace``)."""
        return FieldRef("metadata.namespace")

    @staticmethod
    def pod_uid() -> FieldRef:
        """The pod's UID (``metadata.uid``)."""
        return FieldRef("metadata.uid")

    @staticmethod
    def pod_ip() -> FieldRef:
        """The pod's IP (``status.podIP``)."""
        return FieldRef("status.podIP")

    @staticmethod
    def host_ip() -> FieldRef:
        """The node's IP (``status.hostIP``)."""
        return FieldRef("status.hostIP")

    @staticmethod
    def node_name() -> FieldRef:
        """The node the pod runs on (``spec.nodeName``)."""
        return FieldRef("spec.nodeName")

    @staticmethod
    def service_account() -> FieldRef:
        """The pod's ServiceAccount name (``spec.serviceAccountName``)."""
        return FieldRef("spec.serviceAccountName")

    @staticmethod
    def label(key: str) -> FieldRef:
        """One label's value (``metadata.labels['<key>']``)."""
        return FieldRef(f"metadata.labels['{key}']")

    @staticmethod
    def annotation(key: str) -> FieldRef:
        """One annotation's value (``metadata.annotations['<key>']``)."""
        return FieldRef(f"metadata.annotations['{key}']")

    @staticmethod
    def cpu_request(divisor: str | None = None) -> ResourceRef:
        """The container's CPU request, in units of ``divisor`` (default 1 core, rounded up)."""
        return ResourceRef("requests.cpu", divisor=divisor)

    @staticmethod
    def cpu_limit(divisor: str | None = None) -> ResourceRef:
        """The container's CPU limit (node allocatable when unset), in units of ``divisor``."""
        return ResourceRef("limits.cpu", divisor=divisor)

    @staticmethod
    def memory_request(divisor: str | None = None) -> ResourceRef:
        """The container's memory request, in units of ``divisor`` (default bytes)."""
        return ResourceRef("requests.memory", divisor=divisor)

    @staticmethod
    def memory_limit(divisor: str | None = None) -> ResourceRef:
        """The container's memory limit, in units of ``divisor`` (default bytes)."""
        return ResourceRef("limits.memory", divisor=divisor)


def render_env(name: str, value: EnvValue) -> dict[str, Any]:
    """One entry of a container's ``env`` list."""
    if isinstance(value, str):
        return {"name": name, "value": value}
    return {"name": name, "valueFrom": value.render()}

