"""What every namespace a stack owns gets: ``default-deny`` and ``allow-dns``.

*Kubernetes in Action*, "Securing cluster nodes and the network": isolate pods first, then allow
only the traffic an application needs. A namespace the stack owns (the stack's namespace when the
stack creates it, and every :class:`~kubegen.Namespace` added to the stack) gets:

- ``default-deny``: selects every pod (``podSelector: {}``) for Ingress and Egress, no rules;
- ``allow-dns``: every pod may reach cluster DNS on UDP and TCP 53.

Cluster DNS defaults to the stack's :class:`~kubegen.Cluster` ``dns``, else the kube-dns/CoreDNS
pods (``k8s-app: kube-dns``) in ``kube-system``; add a :class:`NetworkDefaults` to the stack to
point it elsewhere, for the whole stack or for one namespace, or to turn the DNS allowance off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict, Unpack

from pydantic import Field

from kubegen._builders.base import Builder, Resource, ResourceArgs
from kubegen._builders.core import Namespace
from kubegen._builders.network.peers import pods_peer
from kubegen._builders.network.policy import (
    EgressRule,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
)
from kubegen._builders.network.selectors import LabelSelector
from kubegen._errors import ConflictError
from kubegen._manifests import ManifestObject
from kubegen._values import DNSLabel, InvalidValue, LabelMap, check_dns_label

if TYPE_CHECKING:
    from kubegen._stack import Stack

DEFAULT_DENY = "default-deny"
ALLOW_DNS = "allow-dns"


class ClusterDNSArgs(TypedDict, total=False):
    namespace: str
    pods: Mapping[str, str]
    port: int


class ClusterDNS(Builder):
    """Where the cluster's DNS servers run, so pods may query them under default-deny.

    Args:
        namespace: the DNS pods' namespace. Defaults to ``kube-system``.
        pods: labels of the DNS pods. Defaults to ``{"k8s-app": "kube-dns"}``, which both
            kube-dns and CoreDNS deployments carry.
        port: the DNS port, allowed for UDP and TCP. Defaults to 53.
    """

    namespace: DNSLabel = "kube-system"
    pods: LabelMap = Field(default_factory=lambda: {"k8s-app": "kube-dns"})
    port: int = Field(default=53, ge=1, le=65535)

    def __init__(self, /, **data: Unpack[ClusterDNSArgs]) -> None:
        super().__init__(**data)

    def rule(self, policy_namespace: str | None) -> EgressRule:
        """The egress rule that lets pods in ``policy_namespace`` query DNS."""
        return EgressRule(
            to=[self.peer(policy_namespace)],
            ports=[
                NetworkPolicyPort(port=self.port, protocol="UDP"),
                NetworkPolicyPort(port=self.port, protocol="TCP"),
            ],
        )

    def trusted_rule(self, policy_namespace: str) -> EgressRule:
        """:meth:`rule` for a validated namespace, built without revalidation (see
        :meth:`Builder.trusted`): every value in it is this object's validated fields."""
        origin = self.origin
        return EgressRule.trusted(
            origin,
            to=[self.peer(policy_namespace)],
            ports=[
                NetworkPolicyPort.trusted(origin, port=self.port, protocol="UDP"),
                NetworkPolicyPort.trusted(origin, port=self.port, protocol="TCP"),
            ],
        )

    def peer(self, policy_namespace: str | None) -> NetworkPolicyPeer:
        """The DNS pods as a peer (with a namespaceSelector unless they share the namespace)."""
        return pods_peer(self.pods, self.namespace, policy_namespace, self.origin)


class NetworkDefaultsArgs(ResourceArgs, total=False):
    name: str
    dns: ClusterDNS | None


class NetworkDefaults(Resource):
    """Network settings for the stack's namespaces; renders nothing itself.

    ``stack.add(NetworkDefaults(dns=ClusterDNS(pods={"k8s-app": "coredns"})))`` applies to every
    namespace the stack owns; with ``namespace="batch"`` to that namespace only (which wins over
    the stack-wide settings).

    Args:
        namespace: one namespace the stack owns, or None (the default) for all of them.
        dns: where cluster DNS runs; None leaves out the ``allow-dns`` policy (stricter: pods
            resolve no names). Defaults to :class:`ClusterDNS` ``()``.
    """

    api_version: ClassVar[str] = "kubegen.dev/v1"
    kind: ClassVar[str] = "NetworkDefaults"

    dns: ClusterDNS | None = Field(default_factory=ClusterDNS)

    def __init__(self, /, **data: Unpack[NetworkDefaultsArgs]) -> None:
        super().__init__(data.pop("name", "network-defaults"), **data)

    def attach(self, stack: Stack) -> None:
        """Keep ``namespace=None``: it means every namespace of the stack, not the default one."""
        self._stack = stack

    def manifests(self) -> list[ManifestObject]:
        return []


def owned_namespaces(stack: Stack) -> list[str]:
    """The namespaces ``stack`` creates, sorted: its own (if created) and added Namespaces."""
    owned = {res.name for res in stack if isinstance(res, Namespace)}
    if stack.create_namespace and stack.namespace:
        owned.add(stack.namespace)
    return sorted(owned)


def dns_settings(stack: Stack) -> dict[str | None, ClusterDNS | None]:
    """Namespace (None: stack-wide) → DNS settings, from the stack's NetworkDefaults."""
    found: dict[str | None, NetworkDefaults] = {}
    owned = owned_namespaces(stack)
    for res in stack:
        if not isinstance(res, NetworkDefaults):
            continue
        first = found.setdefault(res.namespace, res)
        if first is not res:
            where = f" (first at {first.origin})" if first.origin else ""
            raise ConflictError(
                f"sets the network defaults of {_scope(res.namespace)} twice{where}",
                origin=res.origin,
                resource=res.display,
                fix="keep one NetworkDefaults per namespace (and one without a namespace)",
            )
        if res.namespace is not None and res.namespace not in owned:
            raise ConflictError(
                f"names namespace {res.namespace!r}, which the stack does not create "
                f"(it creates: {', '.join(owned) or 'none'})",
                origin=res.origin,
                resource=res.display,
                fix="add Namespace(...) to the stack, or drop namespace= to apply to all",
            )
    cluster = stack.cluster
    settings: dict[str | None, ClusterDNS | None] = {
        None: cluster.dns if cluster is not None else ClusterDNS()
    }
    settings.update({ns: res.dns for ns, res in found.items()})
    return settings


def _scope(namespace: str | None) -> str:
    return f"namespace {namespace}" if namespace else "the whole stack"


def dns_for(
    settings: dict[str | None, ClusterDNS | None], namespace: str | None
) -> ClusterDNS | None:
    """The DNS settings that apply in ``namespace``: its own, else the stack-wide ones."""
    return settings[namespace] if namespace in settings else settings[None]


def namespace_policies(stack: Stack, namespace: str, dns: ClusterDNS | None) -> list[NetworkPolicy]:
    """``default-deny`` (and ``allow-dns`` unless DNS is off) for one owned namespace.

    Built from validated values without revalidation; a namespace name that is no DNS label
    (which NetworkPolicy.namespace requires) takes the validating constructors instead.
    """
    try:
        check_dns_label(namespace)
    except InvalidValue:
        return _validated_namespace_policies(stack, namespace, dns)
    origin = _namespace_origin(stack, namespace)
    every_pod = LabelSelector.trusted(origin)
    out = [
        NetworkPolicy.trusted(
            origin,
            name=DEFAULT_DENY,
            namespace=namespace,
            pod_selector=every_pod,
            policy_types=["Ingress", "Egress"],
        )
    ]
    if dns is not None:
        out.append(
            NetworkPolicy.trusted(
                origin,
                name=ALLOW_DNS,
                namespace=namespace,
                pod_selector=every_pod,
                policy_types=["Egress"],
                egress=[dns.trusted_rule(namespace)],
            )
        )
    for policy in out:
        policy.attach(stack)
    return out


def _validated_namespace_policies(
    stack: Stack, namespace: str, dns: ClusterDNS | None
) -> list[NetworkPolicy]:
    every_pod = LabelSelector()
    out = [
        NetworkPolicy(
            DEFAULT_DENY,
            namespace=namespace,
            pod_selector=every_pod,
            policy_types=["Ingress", "Egress"],
        )
    ]
    if dns is not None:
        out.append(
            NetworkPolicy(
                ALLOW_DNS,
                namespace=namespace,
                pod_selector=every_pod,
                policy_types=["Egress"],
                egress=[dns.rule(namespace)],
            )
        )
    for policy in out:
        policy.attach(stack)
        policy._origin = _namespace_origin(stack, namespace)
    return out


def _namespace_origin(stack: Stack, namespace: str) -> Any:
    for res in stack:
        if isinstance(res, Namespace) and res.name == namespace:
            return res.origin
    return stack.origin
