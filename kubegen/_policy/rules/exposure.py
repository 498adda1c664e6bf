"""Ports opened outside the cluster that a NetworkPolicy still closes (KG507).

A ``NodePort`` or ``LoadBalancer`` Service, and a container's ``hostPort``, accept connections
from outside the cluster: clients on the internet, or the nodes themselves once kube-proxy has
translated the address (``externalTrafficPolicy: Cluster`` hands the pod the node's address as
source). None of those sources is a pod, so once a NetworkPolicy isolates the pods for ingress
(a namespace's default-deny), only a rule with an ``ipBlock`` (or one admitting every source)
lets them in; otherwise every outside connection times out while the Service looks healthy
(*Kubernetes in Action*, "Services" and "Securing cluster nodes and the network"). kubegen never
opens that route by itself: ``allow_from(cidr=…)`` says who may come in (docs/network.md).

A warning, not an error: the exposure itself is an opt-out with its reason (``allow_external``,
``allow_host_ports``) that must pass the render gate alone, and a plugin that does not enforce
NetworkPolicies lets the traffic in anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubegen._manifests import ManifestObject
from kubegen._policy.context import POD_KINDS, LintContext, PodView, as_dict, as_list
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import W, rule
from kubegen._policy.rules.api_server import _container_port, _port_allowed
from kubegen._policy.rules.network import KIA_NET, policies_by_namespace, selecting_policies

K8S_NETPOL = (
    "Kubernetes docs, 'Network Policies': isolation, and ipBlock for traffic from outside the "
    "cluster (https://kubernetes.io/docs/concepts/services-networking/network-policies/)"
)
K8S_SOURCE_IP = (
    "Kubernetes docs, 'Using Source IP' (NodePort and LoadBalancer traffic SNATed to the node's "
    "address unless externalTrafficPolicy is Local)"
)


def _from_outside(policies: list[ManifestObject], number: int | None, name: str | None) -> bool:
    """Whether an ingress rule of ``policies`` admits a source outside the cluster's pods."""
    for policy in policies:
        for item in as_list(as_dict(policy.body.get("spec")).get("ingress")):
            entry = as_dict(item)
            if not _port_allowed(as_list(entry.get("ports")), number, name):
                continue
            peers = as_list(entry.get("from"))
            if not peers or any("ipBlock" in as_dict(peer) for peer in peers):
                return True
    return False


def _closed(
    pod: PodView, policies: list[ManifestObject], target: Any
) -> tuple[list[ManifestObject], str] | None:
    """The isolating policies and the port shown, when none of them lets outsiders in."""
    isolating = selecting_policies(policies, pod, "Ingress")
    if not isolating or pod.spec.get("hostNetwork") is True:
        return None  # not isolated, or policies do not apply to it (KG504)
    number, named = _container_port(pod, target)
    if _from_outside(isolating, number, named):
        return None
    shown = f"{target!r}" + (f" ({number})" if isinstance(target, str) and number else "")
    return isolating, shown


_FIX = ("say who may connect: allow_from(cidr='<clients or nodes CIDR>', port=…) on the "
        "workload (reason= when the CIDR is broad, e.g. the internet), or an ingress rule with "
        "that ipBlock")


@rule(
    "KG507",
    name="exposed-port-reachable",
    title="Ports opened outside the cluster admit outside traffic through the NetworkPolicies",
    levels=Levels(baseline=W, restricted=W, prod=W),
    reason="NodePort and LoadBalancer Services and host ports take connections from outside "
    "the cluster, whose sources are no pods. A NetworkPolicy that isolates the pods for ingress "
    "and admits only pods drops every such connection: the exposure exists, the traffic never "
    "arrives.",
    sources=(K8S_NETPOL, K8S_SOURCE_IP, KIA_NET),
    fix="Allow the clients' (or the nodes') addresses to the port: allow_from(cidr=…, port=…) "
    "on the workload, or make the Service ClusterIP behind an Ingress.",
    scanners=(),
    tags=("availability", "network"),
    kinds=("Service", *POD_KINDS),
)
def exposed_port_reachable(ctx: LintContext) -> Iterator[Hit]:
    policies = policies_by_namespace(ctx)
    if not policies:
        return
    yield from _services(ctx, policies)
    yield from _host_ports(ctx, policies)


def _services(ctx: LintContext, policies: dict[str, list[ManifestObject]]) -> Iterator[Hit]:
    for service in ctx.of_kind("Service"):
        spec = as_dict(service.body.get("spec"))
        selector = as_dict(spec.get("selector"))
        namespace = service.namespace or "default"
        if spec.get("type") not in ("NodePort", "LoadBalancer") or not selector:
            continue
        pods = [p for p in ctx.pods if p.namespace == namespace
                and all(p.labels.get(k) == v for k, v in selector.items())]
        for index, port in enumerate(as_list(spec.get("ports"))):
            entry = as_dict(port)
            target = entry.get("targetPort", entry.get("port"))
            if not isinstance(target, (int, str)) or isinstance(target, bool):
                continue  # junk: the schema check (KG001) reports it
            for pod in pods:
                closed = _closed(pod, policies.get(namespace, []), target)
                if closed is None:
                    continue
                isolating, shown = closed
                yield Hit(
                    service, f"spec.ports[{index}]",
                    f"is a {spec['type']} Service, but {isolating[0].kind} "
                    f"{isolating[0].name} isolates its pods ({pod.obj.kind} {pod.obj.name}) for "
                    f"ingress and no rule admits a source outside the cluster (an ipBlock) on "
                    f"port {shown}: outside connections time out",
                    fix=_FIX.replace("port=…", f"port={target!r}"),
                )
                break


def _host_ports(ctx: LintContext, policies: dict[str, list[ManifestObject]]) -> Iterator[Hit]:
    for pod in ctx.pods:
        for c in pod.containers(("containers",)):
            for index, port in enumerate(as_list(c.body.get("ports"))):
                entry = as_dict(port)
                bound = entry.get("hostPort")
                if not isinstance(bound, int) or isinstance(bound, bool) or bound == 0:
                    continue
                target = entry.get("name") or entry.get("containerPort")
                if not isinstance(target, (int, str)) or isinstance(target, bool):
                    continue
                closed = _closed(pod, policies.get(pod.namespace, []), target)
                if closed is None:
                    continue
                isolating, shown = closed
                yield Hit(
                    pod.obj, f"{c.path}.ports[{index}].hostPort",
                    f"{c.label} binds hostPort {entry['hostPort']}, but {isolating[0].kind} "
                    f"{isolating[0].name} isolates the pod for ingress and no rule admits a "
                    f"source outside the cluster (an ipBlock) on port {shown}: connections to "
                    "the node's port time out",
                    fix=_FIX.replace("port=…", f"port={target!r}"),
                )
