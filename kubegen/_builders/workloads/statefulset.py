"""StatefulSet (KiA "StatefulSets"): pods with stable names, DNS entries and their own storage.

Defaults: a governing headless Service of the same name, made automatically (``serviceName``),
so pod *i* is reachable as ``<name>-<i>.<name>.<namespace>.svc.cluster.local``
(:meth:`StatefulSet.pod_dns_names`); ``OrderedReady`` pod management; RollingUpdate
(``partition`` for canaries); claims retained when the StatefulSet is deleted or scaled down
(data outlives mistakes); a PodDisruptionBudget and topology spread when replicas > 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal, Required, TypedDict, Unpack

from pydantic import Field, model_validator

from kubegen._builders.base import Builder, assigning_namespace, empty_list
from kubegen._builders.service import Service
from kubegen._builders.workloads.container import PlannedMount
from kubegen._builders.workloads.deployment import ReplicatedWorkload, ReplicatedWorkloadArgs
from kubegen._builders.workloads.pod import Role
from kubegen._builders.workloads.volumes import AccessMode, Claim
from kubegen._errors import ValidationError
from kubegen._manifests import ManifestObject
from kubegen._values import (
    DNSLabel,
    DNSSubdomain,
    InvalidValue,
    Quantity,
    QuantityLike,
    check_dns1035_label,
    seconds,
)

STORAGE_CLAIM = "data"


def _read_write_once() -> list[AccessMode]:
    return ["ReadWriteOnce"]


class VolumeClaimArgs(TypedDict, total=False):
    size: Required[QuantityLike]
    storage_class: str | None
    access_modes: list[AccessMode] | tuple[AccessMode, ...]


class VolumeClaim(Builder):
    """A volumeClaimTemplate: each pod gets its own PersistentVolumeClaim ``<claim>-<pod>``.

    Mount it in a container with ``mounts={"/var/lib/data": Claim("<name>")}``.

    Args:
        name: DNS-1123 label, referenced by :class:`~kubegen.Claim`.
        size: requested storage (``'10Gi'``).
        storage_class: the StorageClass; the cluster default when unset.
        access_modes: defaults to ``["ReadWriteOnce"]``.
    """

    name: DNSLabel
    size: Quantity
    storage_class: DNSSubdomain | None = None
    access_modes: list[AccessMode] = Field(default_factory=_read_write_once, min_length=1)

    def __init__(self, name: str, /, **data: Unpack[VolumeClaimArgs]) -> None:
        Builder.__init__(self, name=name, **data)

    def render(self, labels: dict[str, str]) -> dict[str, Any]:
        spec: dict[str, Any] = {"accessModes": list(self.access_modes)}
        if self.storage_class is not None:
            spec["storageClassName"] = self.storage_class
        spec["resources"] = {"requests": {"storage": self.size}}
        return {"metadata": {"name": self.name, "labels": dict(sorted(labels.items()))},
                "spec": spec}


class StatefulSetArgs(ReplicatedWorkloadArgs, total=False):
    storage: QuantityLike | None
    storage_path: str
    storage_class: str | None
    claims: Sequence[VolumeClaim]
    pod_management: Literal["OrderedReady", "Parallel"]
    strategy: Literal["RollingUpdate", "OnDelete"]
    partition: int
    claims_when_deleted: Literal["Retain", "Delete"]
    claims_when_scaled: Literal["Retain", "Delete"]
    publish_not_ready: bool
    peers: bool
    cluster_domain: str


class StatefulSet(ReplicatedWorkload):
    """A hardened StatefulSet with its governing headless Service.

    ``StatefulSet("postgres", image="postgres:16.4@sha256:…", port=Port(5432, name="pg"),
    readiness=ExecProbe([...]), liveness=TcpProbe(), storage="20Gi",
    storage_path="/var/lib/postgresql/data")``.

    Args:
        storage: shorthand for one claim template named ``data`` of this size, mounted in the
            first main container at ``storage_path``.
        storage_path: where ``storage`` is mounted (defaults to ``/data``).
        storage_class: StorageClass of the ``storage`` claim (cluster default when unset).
        claims: further :class:`VolumeClaim` templates; mount them with ``Claim(name)``.
        pod_management: ``OrderedReady`` (default: one pod at a time) or ``Parallel``.
        strategy: ``RollingUpdate`` (default: pods are replaced one at a time, highest ordinal
            first) or ``OnDelete`` (a pod gets the new template only when you delete it: for
            databases upgraded by hand or by an operator).
        partition: only pods with an ordinal ≥ partition get a new template (defaults to 0;
            RollingUpdate only).
        claims_when_deleted / claims_when_scaled: ``Retain`` (default) or ``Delete``.
        publish_not_ready: list pods in the headless Service before they are ready, so peers
            can find each other while bootstrapping (defaults to False).
        peers: open the pods' ports between the StatefulSet's own replicas (replication, peer
            discovery, gossip: the point of a StatefulSet, KiA "StatefulSets"), as a derived
            NetworkPolicy ``<name>-peers``. Defaults to True; False leaves them closed.
        cluster_domain: the cluster's DNS domain for :meth:`pod_dns_names` (``cluster.local``).

    Manifests: the StatefulSet, its headless Service, its ServiceAccount, and a
    PodDisruptionBudget when replicas > 1. The probe rule is that of :class:`Deployment`.
    """

    api_version: ClassVar[str] = "apps/v1"
    kind: ClassVar[str] = "StatefulSet"

    storage: Quantity | None = None
    storage_path: str = "/data"
    storage_class: DNSSubdomain | None = None
    claims: list[VolumeClaim] = Field(default_factory=empty_list)
    pod_management: Literal["OrderedReady", "Parallel"] = "OrderedReady"
    strategy: Literal["RollingUpdate", "OnDelete"] = "RollingUpdate"
    partition: int = Field(default=0, ge=0)
    claims_when_deleted: Literal["Retain", "Delete"] = "Retain"
    claims_when_scaled: Literal["Retain", "Delete"] = "Retain"
    publish_not_ready: bool = False
    peers: bool = True
    cluster_domain: str = "cluster.local"

    def __init__(self, name: str, /, **data: Unpack[StatefulSetArgs]) -> None:
        super().__init__(name, **data)

    @model_validator(mode="after")
    def _check_claims(self) -> StatefulSet:
        if assigning_namespace(self):  # nothing below reads it
            return self
        if self.strategy == "OnDelete" and self.partition:
            raise InvalidValue(
                "partition= stages a RollingUpdate; with strategy='OnDelete' you pick the pods",
                fix="drop partition=, or use strategy='RollingUpdate'",
                field="partition", value=self.partition,
            )
        try:
            check_dns1035_label(self.name)
        except InvalidValue as exc:
            raise InvalidValue(
                f"the name {self.name!r} also names the governing headless Service, so it "
                + exc.message,
                fix=exc.fix,
            ) from None
        names = [claim.name for claim in self.claim_templates()]
        if len(set(names)) != len(names):
            raise InvalidValue(
                f"claim templates {', '.join(names)} repeat a name (storage= is named "
                f"'{STORAGE_CLAIM}')",
                fix="give every VolumeClaim its own name",
            )
        mounted = {m.source.claim for m in self._claim_mounts()}
        unmounted = [n for n in names if n not in mounted and not self._auto_mounted(n)]
        if unmounted:
            raise InvalidValue(
                f"claim template(s) {', '.join(unmounted)} are not mounted by any container",
                fix=f"add mounts={{'/path': Claim('{unmounted[0]}')}} to a container",
            )
        return self

    def claim_templates(self) -> list[VolumeClaim]:
        """Every volumeClaimTemplate: ``storage=``'s ``data`` first, then ``claims``."""
        templates = list(self.claims)
        if self.storage is not None:
            templates.insert(
                0, VolumeClaim(STORAGE_CLAIM, size=self.storage, storage_class=self.storage_class)
            )
        return templates

    def _auto_mounted(self, claim: str) -> bool:
        return claim == STORAGE_CLAIM and self.storage is not None

    def _claim_mounts(self) -> list[Any]:
        return [
            m
            for _, name, c in self.pod_containers()
            for m in c.planned_mounts(name)
            if isinstance(m.source, Claim)
        ]

    def _provided_volume(self, mount: PlannedMount) -> bool:
        source = mount.source
        if not isinstance(source, Claim):
            return False
        if source.claim not in {c.name for c in self.claim_templates()}:
            return False
        if source.volume_name() != source.claim:
            raise InvalidValue(
                f"Claim({source.claim!r}) of a claim template cannot be renamed to "
                f"{source.volume_name()!r}",
                fix="drop name= from the Claim",
            )
        return True

    def _extra_mounts(
        self, role: Role, name: str, token_mounts: tuple[dict[str, Any], ...]
    ) -> tuple[dict[str, Any], ...]:
        extra = super()._extra_mounts(role, name, token_mounts)
        first_main = next(n for r, n, _ in self.pod_containers() if r == "main")
        if self.storage is not None and role == "main" and name == first_main:
            extra = ({"name": STORAGE_CLAIM, "mountPath": self.storage_path}, *extra)
        return extra

    def peer_ports(self) -> dict[str, tuple[int, str]]:
        """Every named port, open between the replicas unless ``peers=False``."""
        return self.named_ports() if self.peers else {}

    @property
    def service_name(self) -> str:
        """The governing headless Service (named like the StatefulSet)."""
        return self.name

    def pod_dns_name(self, ordinal: int) -> str:
        """The stable DNS name of pod ``ordinal``: ``<name>-<i>.<service>.<ns>.svc.<domain>``."""
        namespace = self.namespace or (self._stack.namespace if self._stack else None)
        if namespace is None:
            raise ValidationError(
                "the pod DNS names need a namespace",
                resource=self.display,
                origin=self._origin,
                fix="add the StatefulSet to a Stack with a namespace, or pass namespace=",
            )
        return f"{self.name}-{ordinal}.{self.service_name}.{namespace}.svc.{self.cluster_domain}"

    def pod_dns_names(self) -> list[str]:
        """The stable DNS names of all pods, ordinal 0 first (replicas from the stack defaults)."""
        return [self.pod_dns_name(i) for i in range(self.replica_count(self.defaults))]

    def headless_service(self) -> Service:
        """The governing Service: ``clusterIP: None`` over all named ports."""
        build: Any = Service  # positional name: see Resource.__init__
        service: Service = build(
            self.service_name,
            target=self,
            type="Headless",
            publish_not_ready=self.publish_not_ready,
            namespace=self.namespace,
        )
        service._origin = self._origin
        service._stack = self._stack
        return service

    def build_manifests(self) -> list[ManifestObject]:
        defaults = self.prepare()
        scale = self.scale(defaults)
        strategy: dict[str, Any] = {"type": self.strategy}
        if self.partition:
            strategy["rollingUpdate"] = {"partition": self.partition}
        spec: dict[str, Any] = {
            **scale.spec(),
            "selector": {"matchLabels": self.selector_labels()},
            "serviceName": self.service_name,
            "podManagementPolicy": self.pod_management,
            "updateStrategy": strategy,
            "minReadySeconds": seconds(self.min_ready),
            "revisionHistoryLimit": self.revision_history,
            "persistentVolumeClaimRetentionPolicy": {
                "whenDeleted": self.claims_when_deleted,
                "whenScaled": self.claims_when_scaled,
            },
            "template": self.pod_template(defaults, spread=self.spread(scale.most)),
        }
        templates = self.claim_templates()
        if templates:
            spec["volumeClaimTemplates"] = [c.render(self.selector_labels()) for c in templates]
        body = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(labels=self.object_labels()),
            "spec": spec,
        }
        service = self.headless_service().manifests()
        return [self.manifest(body), *service, *self.owned_objects(scale.least)]
