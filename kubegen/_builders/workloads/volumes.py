"""Volume sources a container mounts: config and secret files, scratch space, claims, pod info.

``Container(mounts={"/etc/app": ConfigFiles(settings), "/run/secrets/db": SecretFiles(db)})``.
The pod template collects the sources of all its containers into ``volumes``, one per distinct
source, named after what they hold (``config-settings``, ``secret-db``); a source used twice is
one volume. ConfigMap and Secret files are read-only and default to mode 0440 so the pod's
``fsGroup`` (not "other") can read them (0444 when the pod has no fsGroup). Only volume types
the ``restricted`` Pod Security profile allows are offered, plus :class:`HostPath`, which carries
its own reason (and a second one to be writable).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, Required, TypedDict, Unpack

from pydantic import Field, field_validator, model_validator

from kubegen._builders.base import Builder
from kubegen._builders.config import ConfigMap
from kubegen._builders.secrets import SealedSecret, Secret, SecretSource
from kubegen._builders.workloads.env import FieldRef, ResourceRef
from kubegen._values import (
    DNSLabel,
    DNSSubdomain,
    InvalidValue,
    Quantity,
    QuantityLike,
    Reason,
)

GROUP_MODE = 0o440  # owner and the pod's fsGroup
WORLD_MODE = 0o444  # without an fsGroup the files stay root-owned: "other" must read them


_NOT_SLUG_RE = re.compile(r"[^a-z0-9]+")
# (text, limit) -> slug: a pure function asked for every mount on every render. Cleared when full.
_SLUGS: dict[tuple[str, int], str] = {}


def volume_slug(text: str, limit: int = 63) -> str:
    """A DNS-1123 label made from ``text`` (``/var/cache/nginx`` → ``var-cache-nginx``)."""
    key = (text, limit)
    slug = _SLUGS.get(key)
    if slug is None:
        slug = _NOT_SLUG_RE.sub("-", text.lower()).strip("-")[:limit].strip("-") or "root"
        if len(_SLUGS) >= 4096:
            _SLUGS.clear()
        _SLUGS[key] = slug
    return slug


class VolumeSourceArgs(TypedDict, total=False):
    name: str | None


class VolumeSource(Builder):
    """Base of mountable sources. ``name`` overrides the derived volume name."""

    name: DNSLabel | None = None

    # Its own __init__, so type checkers call the runtime one, not a synthesized one.
    def __init__(self, /, **data: Any) -> None:
        super().__init__(**data)

    def volume_name(self) -> str:
        """The name of the pod volume this source becomes."""
        return self.name or self.default_name()

    def default_name(self) -> str:
        raise NotImplementedError

    def volume(self, *, fs_group: bool = True) -> dict[str, Any] | None:
        """The pod's ``volumes`` entry; ``fs_group`` tells whether the pod sets an fsGroup."""
        raise NotImplementedError

    def read_only(self) -> bool:
        """Whether mounts of this source are read-only unless :class:`Mount` says otherwise."""
        return True

    def checksum(self) -> tuple[str, str, str] | None:
        """(kind, object name, sha256) of a kubegen-built object this source reads, if any."""
        return None


def _items(items: dict[str, str] | None) -> list[dict[str, str]] | None:
    if items is None:
        return None
    return [{"key": key, "path": path} for key, path in items.items()]


def _mode(mode: int | None, fs_group: bool) -> int:
    if mode is not None:
        return mode
    return GROUP_MODE if fs_group else WORLD_MODE


class ConfigFilesArgs(VolumeSourceArgs, total=False):
    items: Mapping[str, str] | None
    mode: int | None
    optional: bool


class ConfigFiles(VolumeSource):
    """A ConfigMap's keys as files (KiA: config mounted as files, updated in place).

    Args:
        config: a stack :class:`~kubegen.ConfigMap` (hashed into the pod template) or a name.
        items: key → relative file path, to mount only some keys; default all keys.
        mode: file mode (defaults to 0o440, or 0o444 when the pod has no fsGroup).
        optional: start the pod even when the ConfigMap (or a key of ``items``) is missing,
            with the files left out (``optional: true``); defaults to False: the pod waits.
    """

    config: ConfigMap | DNSSubdomain
    items: dict[str, str] | None = None
    mode: int | None = Field(default=None, ge=0, le=0o777)
    optional: bool = False

    def __init__(self, config: ConfigMap | str, /, **data: Unpack[ConfigFilesArgs]) -> None:
        Builder.__init__(self, config=config, **data)

    @property
    def config_name(self) -> str:
        return self.config if isinstance(self.config, str) else self.config.name

    def default_name(self) -> str:
        return volume_slug(f"config-{self.config_name}")

    @model_validator(mode="after")
    def _known_keys(self) -> ConfigFiles:
        if isinstance(self.config, ConfigMap) and self.items:
            missing = sorted(set(self.items) - set(self.config.data))
            if missing:
                raise InvalidValue(
                    f"ConfigMap {self.config.name!r} has no key(s) {', '.join(missing)}",
                    fix="mount keys the ConfigMap has, or add them",
                )
        return self

    def volume(self, *, fs_group: bool = True) -> dict[str, Any]:
        mode = _mode(self.mode, fs_group)
        source: dict[str, Any] = {"name": self.config_name, "defaultMode": mode}
        if self.items is not None:
            source["items"] = _items(self.items)
        if self.optional:
            source["optional"] = True
        return {"name": self.volume_name(), "configMap": source}

    def checksum(self) -> tuple[str, str, str] | None:
        if isinstance(self.config, str):
            return None
        return ("configmap", self.config.name, self.config.sha256())


class SecretFilesArgs(VolumeSourceArgs, total=False):
    items: Mapping[str, str] | None
    mode: int | None
    optional: bool


class SecretFiles(VolumeSource):
    """A Secret's keys as files: how kubegen hands secrets to containers by default.

    Args:
        secret: a :class:`~kubegen.SecretRef`, ``Secret``, ``ExternalSecret``, ``SealedSecret``
            or a Secret name.
        items: key → relative file path; default all keys.
        mode: file mode (defaults to 0o440: owner and the pod's fsGroup; 0o444 without one).
        optional: start the pod even when the Secret (or a key of ``items``) is missing, with
            the files left out (``optional: true``); defaults to False: the pod waits.
    """

    secret: SecretSource | DNSSubdomain
    items: dict[str, str] | None = None
    mode: int | None = Field(default=None, ge=0, le=0o777)
    optional: bool = False

    def __init__(self, secret: SecretSource | str, /, **data: Unpack[SecretFilesArgs]) -> None:
        Builder.__init__(self, secret=secret, **data)

    @property
    def secret_name(self) -> str:
        return self.secret if isinstance(self.secret, str) else self.secret.secret_name

    def default_name(self) -> str:
        return volume_slug(f"secret-{self.secret_name}")

    def volume(self, *, fs_group: bool = True) -> dict[str, Any]:
        mode = _mode(self.mode, fs_group)
        source: dict[str, Any] = {"secretName": self.secret_name, "defaultMode": mode}
        if self.items is not None:
            source["items"] = _items(self.items)
        if self.optional:
            source["optional"] = True
        return {"name": self.volume_name(), "secret": source}

    def checksum(self) -> tuple[str, str, str] | None:
        if isinstance(self.secret, (Secret, SealedSecret)):
            return ("secret", self.secret.secret_name, self.secret.checksum())
        return None


class EmptyDirArgs(VolumeSourceArgs, total=False):
    size_limit: QuantityLike | None
    memory: bool


class EmptyDir(VolumeSource):
    """Scratch space that lives as long as the pod; writable (the root filesystem is not).

    Args:
        size_limit: evict the pod when it grows beyond this (unset by default).
        memory: back it with RAM (``medium: Memory``); counts against the memory limit.
    """

    size_limit: Quantity | None = None
    memory: bool = False

    def __init__(self, /, **data: Unpack[EmptyDirArgs]) -> None:
        super().__init__(**data)

    def default_name(self) -> str:
        raise InvalidValue(
            "an EmptyDir mounted through mounts= needs a name",
            fix="pass EmptyDir(name='cache'), or list the path in writable=[...]",
        )

    def read_only(self) -> bool:
        return False

    def volume(self, *, fs_group: bool = True) -> dict[str, Any]:
        source: dict[str, Any] = {}
        if self.memory:
            source["medium"] = "Memory"
        if self.size_limit is not None:
            source["sizeLimit"] = self.size_limit
        return {"name": self.volume_name(), "emptyDir": source}


AccessMode = Literal["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]


class ClaimArgs(VolumeSourceArgs, total=False):
    access_mode: AccessMode | None


class Claim(VolumeSource):
    """A PersistentVolumeClaim: an existing claim, or a StatefulSet's claim template by name.

    Args:
        claim: the claim's name (for a StatefulSet, the name of one of its claim templates).
        access_mode: the access mode of an existing claim the stack does not render, for the
            rollout check (see docs/checks.md): ``ReadWriteMany``/``ReadOnlyMany`` claims can
            serve pods on several nodes at once. Unset: the claim's mode is unknown and counts
            as ``ReadWriteOnce``, what most StorageClasses provision. A claim the stack renders
            (a ``Manifest`` PersistentVolumeClaim) is read from its ``accessModes``.
    """

    claim: DNSSubdomain
    access_mode: AccessMode | None = None

    def __init__(self, claim: str, /, **data: Unpack[ClaimArgs]) -> None:
        Builder.__init__(self, claim=claim, **data)

    def default_name(self) -> str:
        return volume_slug(self.claim)

    def read_only(self) -> bool:
        return False

    def volume(self, *, fs_group: bool = True) -> dict[str, Any] | None:
        return {"name": self.volume_name(), "persistentVolumeClaim": {"claimName": self.claim}}


class DownwardFilesArgs(VolumeSourceArgs, total=False):
    labels: bool | None
    annotations: bool | None
    items: Mapping[str, FieldRef | ResourceRef] | None
    mode: int | None


# What a downwardAPI *volume* may expose (env vars may also read spec.* and status.*).
_VOLUME_FIELDS = ("metadata.name", "metadata.namespace", "metadata.uid")
_VOLUME_KEYED = ("metadata.labels[", "metadata.annotations[")


class DownwardFiles(VolumeSource):
    """A downwardAPI volume: pod metadata and container resources as files, kept up to date.

    Args:
        labels: write the pod's labels to ``labels`` (defaults to True without ``items``).
        annotations: write its annotations to ``annotations`` (defaults to True without
            ``items``).
        items: relative file path → what to write there: a :class:`~kubegen.FieldRef` of
            ``metadata.name``/``namespace``/``uid`` or one label or annotation
            (``Downward.pod_name()``, ``Downward.label("team")``), or a
            :class:`~kubegen.ResourceRef` with ``container=`` (``ResourceRef("limits.memory",
            container="app", divisor="1Mi")``). Defaults to none.
        mode: file mode (``defaultMode``); Kubernetes' default (0o644) when unset.
        name: the volume name (defaults to ``podinfo``).

    See https://kubernetes.io/docs/concepts/workloads/pods/downward-api/; *Kubernetes in
    Action* (2nd ed.), "Accessing pod metadata".
    """

    labels: bool | None = None
    annotations: bool | None = None
    items: dict[str, FieldRef | ResourceRef] | None = None
    mode: int | None = Field(default=None, ge=0, le=0o777)

    def __init__(self, /, **data: Unpack[DownwardFilesArgs]) -> None:
        super().__init__(**data)

    @model_validator(mode="after")
    def _something(self) -> DownwardFiles:
        if not (self.with_labels or self.with_annotations or self.items):
            raise InvalidValue(
                "a DownwardFiles volume with neither labels, annotations nor items is empty",
                fix="keep labels=True or annotations=True, or pass items={...}",
            )
        for path, ref in (self.items or {}).items():
            _check_item(path, ref, self)
        return self

    @property
    def with_labels(self) -> bool:
        return self.labels if self.labels is not None else not self.items

    @property
    def with_annotations(self) -> bool:
        return self.annotations if self.annotations is not None else not self.items

    def default_name(self) -> str:
        return "podinfo"

    def volume(self, *, fs_group: bool = True) -> dict[str, Any]:
        items: list[dict[str, Any]] = [
            {"path": field, "fieldRef": {"fieldPath": f"metadata.{field}"}}
            for field, wanted in (("labels", self.with_labels),
                                  ("annotations", self.with_annotations))
            if wanted
        ]
        for path, ref in (self.items or {}).items():
            items.append({"path": path, **ref.render()})
        source: dict[str, Any] = {"items": items}
        if self.mode is not None:
            source["defaultMode"] = self.mode
        return {"name": self.volume_name(), "downwardAPI": source}


def _check_item(path: str, ref: FieldRef | ResourceRef, files: DownwardFiles) -> None:
    field = f"items.{path}"
    if not path or path.startswith("/") or ".." in path.split("/"):
        raise InvalidValue(f"item path {path!r} must be a relative path without '..'",
                           fix="write e.g. 'cpu_limit' or 'info/pod_name'", field=field,
                           value=path)
    if path in ("labels", "annotations") and getattr(files, f"with_{path}"):
        raise InvalidValue(f"item path {path!r} is where {path}=True writes already",
                           fix=f"name the file otherwise, or pass {path}=False", field=field,
                           value=path)
    if isinstance(ref, FieldRef) and not (
        ref.path in _VOLUME_FIELDS or ref.path.startswith(_VOLUME_KEYED)
    ):
        raise InvalidValue(
            f"{ref.path} is available as an env value, not in a downwardAPI volume (files "
            f"hold only {', '.join(_VOLUME_FIELDS)}, labels and annotations)",
            fix="pass it through env= instead (e.g. env={'NODE': Downward.node_name()})",
            field=field, value=ref.path,
        )
    if isinstance(ref, ResourceRef) and ref.container is None:
        raise InvalidValue(
            "a resource in a downwardAPI volume must name its container",
            fix=f"pass ResourceRef({ref.resource!r}, container='<container name>')",
            field=field, value=ref.resource,
        )


HostPathType = Literal[
    "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket", "CharDevice", "BlockDevice"
]


class HostPathArgs(VolumeSourceArgs, total=False):
    type: HostPathType | None
    reason: Required[str]
    allow_write: str | None


class HostPath(VolumeSource):
    """A node directory or file (``hostPath``): breaks pod isolation, so it carries its reason.

    ``HostPath("/var/log", reason="ships the node's logs")`` is mounted read-only;
    ``HostPath("/run/containerd/containerd.sock", type="Socket", reason="…",
    allow_write="talks to containerd over its socket")`` may be mounted writable. Each reason is
    rendered on the workload per volume (``kubegen.dev/opt-out-host-path.<volume>``,
    ``…-host-path-write.<volume>``), so every node path in a pod has its own, and a Pod Security
    level of ``privileged`` is needed where it runs (see docs/checks.md).

    Args:
        path: absolute path on the node.
        reason: why the pod needs this node path (required).
        allow_write: why a container must write to it; without it every mount is read-only and
            ``Mount(..., read_only=False)`` is refused.
        type: the hostPath type check (defaults to ``Directory``: it must exist); None
            renders no ``type``: Kubernetes' own default (stored as ``""``), no check before
            mounting (what most upstream node agents write).
        name: the volume name (defaults to ``host-`` and the path, e.g. ``host-var-log``).

    See https://kubernetes.io/docs/concepts/storage/volumes/#hostpath.
    """

    path: str
    type: HostPathType | None = "Directory"
    reason: Reason
    allow_write: Reason | None = None

    def __init__(self, path: str, /, **data: Unpack[HostPathArgs]) -> None:
        Builder.__init__(self, path=path, **data)

    def read_only(self) -> bool:
        return self.allow_write is None

    @field_validator("path")
    @classmethod
    def _absolute(cls, path: str) -> str:
        if not path.startswith("/"):
            raise InvalidValue(
                f"host path {path!r} is relative; the kubelet resolves it against nothing "
                "predictable",
                fix=f"use the absolute path on the node, e.g. '/{path.lstrip('./')}'",
            )
        if ".." in path.split("/"):
            raise InvalidValue(
                f"host path {path!r} contains '..', which the API server refuses",
                fix="write the path without '..' segments",
            )
        return path

    def default_name(self) -> str:
        return volume_slug(f"host-{self.path}")

    def volume(self, *, fs_group: bool = True) -> dict[str, Any]:
        host: dict[str, Any] = {"path": self.path}
        if self.type is not None:
            host["type"] = self.type
        return {"name": self.volume_name(), "hostPath": host}


MountPropagation = Literal["None", "HostToContainer", "Bidirectional"]


class MountArgs(TypedDict, total=False):
    sub_path: str | None
    read_only: bool | None
    propagation: MountPropagation | None


class Mount(Builder):
    """A mount with options, when the plain source is not enough.

    Args:
        source: what to mount.
        sub_path: mount one file or folder of the volume, a relative path without ``..``
            (files mounted this way do not update).
        read_only: override the source's default (read-only for config, secrets, pod info).
        propagation: ``mountPropagation``: ``HostToContainer`` lets a node agent see mounts the
            host makes later under a :class:`HostPath` (node-exporter on ``/``);
            ``Bidirectional`` also shares the container's mounts with the host and needs a
            privileged container; ``None`` is Kubernetes' default. Unset by default.

    See https://kubernetes.io/docs/concepts/storage/volumes/#mount-propagation.
    """

    source: ConfigFiles | SecretFiles | EmptyDir | Claim | DownwardFiles | HostPath
    sub_path: str | None = None
    read_only: bool | None = None
    propagation: MountPropagation | None = None

    def __init__(self, source: AnySource, /, **data: Unpack[MountArgs]) -> None:
        Builder.__init__(self, source=source, **data)

    @model_validator(mode="after")
    def _writable_host_path(self) -> Mount:
        source = self.source
        if isinstance(source, HostPath) and self.read_only is False and not source.allow_write:
            raise InvalidValue(
                f"a writable mount of HostPath({source.path!r}) needs its own reason: its "
                "reason covers reading the node path, not writing to it",
                fix=f"pass HostPath({source.path!r}, reason=..., allow_write='why a container "
                "writes to the node'), or keep the mount read-only",
                field="read_only",
                value=False,
            )
        return self

    @field_validator("sub_path")
    @classmethod
    def _relative(cls, sub_path: str | None) -> str | None:
        if sub_path is not None and (
            not sub_path or sub_path.startswith("/") or ".." in sub_path.split("/")
        ):
            raise InvalidValue(
                f"sub_path {sub_path!r} must be a non-empty relative path without '..' (a "
                "file or folder inside the volume)",
                fix=f"write e.g. sub_path='{sub_path.strip('/').replace('..', '') or 'app.conf'}'",
            )
        return sub_path


AnySource = ConfigFiles | SecretFiles | EmptyDir | Claim | DownwardFiles | HostPath
