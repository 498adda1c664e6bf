"""Cluster facts: what a stack needs to know about the cluster its output is applied to.

A rendered folder is only "admitted and running" relative to a cluster: Pod Security Admission
levels of namespaces kubegen does not render, where the API server and DNS answer (NetworkPolicy
egress), which Kubernetes version validates the objects. These facts are not in any manifest, so
they are declared once, typed, and shared by every stack that targets the cluster
(``Stack(..., cluster=PROD_EU)``), and by the GitOps objects that deliver to it.

Nothing here renders an object; a :class:`Cluster` is read by the stack's derivations and checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Required, TypedDict, Unpack

from pydantic import Field, ValidationInfo, field_validator

from kubegen._builders.base import Builder
from kubegen._builders.core import PodSecurityLevel
from kubegen._builders.network.cidrs import check_cidr
from kubegen._builders.network.defaults import ClusterDNS
from kubegen._builders.network.edge import ClusterGateway, IngressController
from kubegen._values import DNSLabel, InvalidValue, check_dns_label

_VERSION_RE = re.compile(r"1\.(0|[1-9][0-9]*)\Z")


class ApiServerArgs(TypedDict, total=False):
    addresses: Required[list[str] | tuple[str, ...]]
    port: int


class ApiServer(Builder):
    """Where pods reach the Kubernetes API server, for the egress rule a grant needs.

    NetworkPolicies match traffic after the ``kubernetes.default`` Service address has been
    translated to the API server's own endpoints, so an egress rule must name those endpoints
    (``kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes``), not
    the Service's cluster IP.

    Args:
        addresses: the endpoints as CIDRs (``"10.0.0.10/32"``, or the control plane's subnet).
        port: the endpoints' port. Defaults to 443 (managed clusters); kubeadm uses 6443.
    """

    addresses: list[str] = Field(min_length=1)
    port: int = Field(default=443, ge=1, le=65535)

    def __init__(self, /, **data: Unpack[ApiServerArgs]) -> None:
        super().__init__(**data)

    @field_validator("addresses")
    @classmethod
    def _check_addresses(cls, value: list[str]) -> list[str]:
        return [check_cidr(item) for item in value]


class ClusterArgs(TypedDict, total=False):
    kubernetes_version: str | None
    api_server: ApiServer | None
    api_egress_elsewhere: str | None
    dns: ClusterDNS
    namespaces: Mapping[str, PodSecurityLevel]
    ingress: IngressController | None
    gateways: Sequence[ClusterGateway]


class Cluster(Builder):
    """A Kubernetes cluster that rendered output is applied to, described by its facts.

    Args:
        name: DNS-1123 label naming the cluster (``prod-eu``).
        kubernetes_version: its ``MAJOR.MINOR`` version; the default target version of the
            stacks on it (schemas, API removals, Pod Security Standards). None: kubegen's default.
        api_server: where pods reach the API server (:class:`ApiServer`); None when unknown.
            A workload granted API access gets an egress NetworkPolicy ``<workload>-api-server``
            to it; a stack that grants API access needs it (or ``api_egress_elsewhere``).
        api_egress_elsewhere: the reason kubegen derives no API-server egress on this cluster:
            something else allows it (a CNI policy for the ``kube-apiserver`` entity, a
            NetworkPolicy you write). Exclusive with ``api_server``. Defaults to None.
        dns: where cluster DNS runs. Defaults to :class:`ClusterDNS` ``()`` (kube-dns/CoreDNS
            in ``kube-system``).
        namespaces: namespaces the cluster has that stacks do not render (installed by the
            platform: ``kube-system``, ``ingress-nginx``, …), each with its Pod Security
            Admission ``enforce`` level, so workloads placed there are checked against it.
        ingress: the cluster's ingress controller (:class:`~kubegen.IngressController`): the
            pods every :class:`~kubegen.Ingress` of the stacks hands traffic to, so their
            backends admit them. None when unknown (each Ingress then names its controller).
        gateways: the Gateway API Gateways HTTPRoutes attach to
            (:class:`~kubegen.ClusterGateway`). Defaults to none.
    """

    name: DNSLabel
    kubernetes_version: str | None = None
    api_server: ApiServer | None = None
    api_egress_elsewhere: str | None = None
    dns: ClusterDNS = Field(default_factory=ClusterDNS)
    namespaces: dict[str, PodSecurityLevel] = Field(default_factory=dict)
    ingress: IngressController | None = None
    gateways: tuple[ClusterGateway, ...] = ()

    def __init__(self, name: str, /, **data: Unpack[ClusterArgs]) -> None:
        super().__init__(name=name, **data)

    @field_validator("kubernetes_version")
    @classmethod
    def _check_version(cls, value: str | None) -> str | None:
        if value is not None and not _VERSION_RE.match(value):
            raise InvalidValue(
                f"kubernetes_version {value!r} is not MAJOR.MINOR", fix="write e.g. '1.33'"
            )
        return value

    @field_validator("api_egress_elsewhere")
    @classmethod
    def _check_elsewhere(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not value.strip():
            raise InvalidValue(
                "api_egress_elsewhere needs a reason",
                fix="say what allows pods to reach the API server, e.g. 'Cilium: the "
                "platform's CiliumClusterwideNetworkPolicy allows the kube-apiserver entity'",
            )
        if info.data.get("api_server") is not None:
            raise InvalidValue(
                "api_egress_elsewhere says kubegen derives no API-server egress, but "
                "api_server asks it to",
                fix="pass api_server=ApiServer(...) or api_egress_elsewhere='why', not both",
            )
        return value.strip()

    @field_validator("namespaces")
    @classmethod
    def _check_namespaces(
        cls, value: dict[str, PodSecurityLevel]
    ) -> dict[str, PodSecurityLevel]:
        for name in value:
            check_dns_label(name)
        return value

    @field_validator("gateways")
    @classmethod
    def _distinct_gateways(cls, value: tuple[ClusterGateway, ...]) -> tuple[ClusterGateway, ...]:
        seen = [(g.namespace, g.name, g.section) for g in value]
        if len(set(seen)) != len(seen):
            raise InvalidValue("a gateway (namespace, name, section) is listed twice",
                               fix="list each Gateway listener once")
        return value

    def pod_security_of(self, namespace: str) -> PodSecurityLevel | None:
        """The declared ``enforce`` level of a namespace the cluster has, or None if unknown."""
        return self.namespaces.get(namespace)


__all__ = ["ApiServer", "Cluster", "PodSecurityLevel"]
