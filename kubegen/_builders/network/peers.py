"""The other end of a connection: a workload of the stack, or a peer outside it.

A :class:`ExternalPeer` is what ``allow_from``/``allow_to``/``allow_to_internet`` record: pods
and/or a namespace outside the stack, a CIDR, or the public internet. Each knows how it renders
as ``NetworkPolicyPeer`` entries seen from a policy's namespace, and whether it is *broad* (wide
enough that a ``reason`` is required and rendered as an annotation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from kubegen._builders.network.cidrs import (
    ANY_V4,
    ANY_V6,
    PRIVATE_V4,
    PRIVATE_V6,
    check_cidr,
    check_except,
    is_broad,
)
from kubegen._builders.network.policy import IPBlock, NetworkPolicyPeer
from kubegen._builders.network.selectors import LabelSelector, labels_selector
from kubegen._origin import Origin
from kubegen._values import InvalidValue, check_dns_label, check_labels

if TYPE_CHECKING:
    from kubegen._builders.workloads.base import Workload

Direction = Literal["ingress", "egress"]

# Label every namespace carries (set by the API server since Kubernetes 1.22).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

# Why a broad rule was allowed is rendered under this annotation prefix (see Resource.opt_out).
OPT_OUT_PREFIX = "kubegen.dev/opt-out-"


def namespace_selector(namespace: str, origin: Origin | None = None) -> LabelSelector:
    """Select one namespace by the name label the API server sets on every namespace."""
    return labels_selector({NAMESPACE_NAME_LABEL: namespace}, origin)


def pods_peer(
    labels: Mapping[str, str],
    namespace: str | None,
    policy_namespace: str | None,
    origin: Origin | None = None,
) -> NetworkPolicyPeer:
    """Pods with ``labels`` in ``namespace``, as seen from a policy in ``policy_namespace``.

    Built without revalidation (see :func:`labels_selector`): a pod selector and at most one
    namespace selector always make a valid peer. ``origin``: what the peer derives from.
    """
    other = namespace is not None and namespace != policy_namespace
    pods = labels_selector(labels, origin)
    if other and namespace:
        return NetworkPolicyPeer.trusted(
            origin, pod_selector=pods, namespace_selector=namespace_selector(namespace, origin)
        )
    return NetworkPolicyPeer.trusted(origin, pod_selector=pods)


def workload_peer(
    workload: Workload, policy_namespace: str | None, origin: Origin | None = None
) -> NetworkPolicyPeer:
    """A workload's pods (by its stable selector labels), seen from ``policy_namespace``."""
    return pods_peer(workload.selector_labels(), workload.namespace, policy_namespace, origin)


@dataclass(frozen=True, slots=True)
class ExternalPeer:
    """A peer the stack does not define: pods/namespace, a CIDR, or the internet.

    Build it with :meth:`of`, which validates; the fields are normalized (sorted labels,
    normalized CIDRs) so equal peers compare equal whatever the spelling.
    """

    namespace: str | None = None
    pods: tuple[tuple[str, str], ...] | None = None
    cidr: str | None = None
    except_: tuple[str, ...] = ()
    internet: bool = False

    @classmethod
    def of(
        cls,
        *,
        namespace: str | None = None,
        pods: Mapping[str, str] | None = None,
        cidr: str | None = None,
        except_: tuple[str, ...] | list[str] = (),
    ) -> ExternalPeer:
        """Validate and normalize a peer given as pods and/or namespace, or as a CIDR.

        Raises:
            InvalidValue: nothing or too much given, or a bad name, label or CIDR.
        """
        if cidr is not None:
            if namespace is not None or pods is not None:
                raise InvalidValue(
                    "a peer is either a CIDR or pods/namespace, not both",
                    fix="declare them in two calls",
                )
            excluded = check_except(cidr, except_)
            return cls(cidr=check_cidr(cidr), except_=tuple(sorted(set(excluded))))
        if except_:
            raise InvalidValue(
                "except_ applies only to a cidr", fix="pass cidr=... or drop except_"
            )
        if namespace is None and pods is None:
            raise InvalidValue(
                "no peer given",
                fix="pass namespace=..., pods={...} (or both), or cidr=...",
            )
        if namespace is not None:
            check_dns_label(namespace)
        labels = tuple(sorted(check_labels(pods).items())) if pods is not None else None
        return cls(namespace=namespace, pods=labels)

    @classmethod
    def the_internet(cls) -> ExternalPeer:
        """Every public address: ``0.0.0.0/0`` and ``::/0`` minus private and local ranges."""
        return cls(internet=True)

    def whole_namespace(self) -> bool:
        """True when every pod of a namespace is meant (no pod labels narrow it)."""
        return self.cidr is None and not self.internet and not self.pods

    def broad_category(self, direction: Direction) -> str | None:
        """The opt-out category when this peer is broad in ``direction``, else None.

        Broad: the internet, a CIDR of prefix /0 to /8, and ingress from a whole namespace.
        """
        if self.internet:
            return "egress-internet"
        if self.cidr is not None:
            return f"{direction}-cidr" if is_broad(self.cidr) else None
        if direction == "ingress" and self.whole_namespace():
            return "ingress-namespace"
        return None

    def describe(self, own_namespace: str | None = None) -> str:
        """How messages, annotations and the graph name this peer."""
        if self.internet:
            return "the internet"
        if self.cidr is not None:
            more = f" except {', '.join(self.except_)}" if self.except_ else ""
            return f"{self.cidr}{more}"
        namespace = self.namespace or own_namespace
        where = f"namespace {namespace}" if namespace else "this namespace"
        if not self.pods:
            return f"all pods of {where}"
        labels = ",".join(f"{k}={v}" for k, v in self.pods)
        return f"pods {labels} in {where}"

    def peers(self, policy_namespace: str | None) -> list[NetworkPolicyPeer]:
        """The ``NetworkPolicyPeer`` entries for a policy in ``policy_namespace``."""
        if self.internet:
            return [_ip_block(ANY_V4, PRIVATE_V4), _ip_block(ANY_V6, PRIVATE_V6)]
        if self.cidr is not None:
            return [_ip_block(self.cidr, self.except_)]
        namespace = self.namespace or policy_namespace
        if self.pods:
            return [pods_peer(dict(self.pods), namespace, policy_namespace)]
        if namespace is None or namespace == policy_namespace:
            return [NetworkPolicyPeer(pod_selector=LabelSelector())]
        return [NetworkPolicyPeer(namespace_selector=namespace_selector(namespace))]


def _ip_block(cidr: str, excluded: tuple[str, ...]) -> NetworkPolicyPeer:
    return NetworkPolicyPeer(ip_block=IPBlock(cidr=cidr, except_=list(excluded)))
