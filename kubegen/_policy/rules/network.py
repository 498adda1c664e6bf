"""Network isolation and exposure (KG501–KG504).

Kubernetes allows all traffic to and from a pod until some NetworkPolicy selects it for that
direction. So every pod-bearing workload must be selected by a policy that isolates ingress and by
one that isolates egress (a namespace default-deny counts: its empty ``podSelector`` selects every
pod). Selection is evaluated like the API server: the policy's namespace must be the pod's, its
``podSelector`` (``matchLabels`` and ``matchExpressions``) must match the pod template labels, and
its effective ``policyTypes`` must include the direction. When ``policyTypes`` is omitted
Kubernetes assumes ``Ingress``, plus ``Egress`` if the policy has egress rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubegen._manifests import ManifestObject
from kubegen._policy.context import POD_KINDS, LintContext, PodView, as_dict, as_list
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import E, I, W, rule
from kubegen._policy.rules import show, show_labels
from kubegen._policy.selectors import SelectorIndex, selector_matches

LEVELS = Levels(baseline=W, restricted=E, prod=E)
KIA_NET = "Kubernetes in Action (2nd ed.), 'Securing cluster nodes and the network'"
NSA_NET = "NSA/CISA Kubernetes Hardening Guidance v1.2, 'Network separation and hardening'"
TAGS = ("security", "network")


def policy_types(policy: ManifestObject) -> set[str]:
    """The directions a NetworkPolicy isolates, with Kubernetes' defaulting applied."""
    spec = as_dict(policy.body.get("spec"))
    declared = as_list(spec.get("policyTypes"))
    if declared:
        return {str(t) for t in declared}
    return {"Ingress", "Egress"} if as_list(spec.get("egress")) else {"Ingress"}


def policies_by_namespace(ctx: LintContext) -> dict[str, list[ManifestObject]]:
    """NetworkPolicies grouped by namespace: a pod can only be selected by its own namespace's."""
    index: dict[str, list[ManifestObject]] = {}
    for policy in ctx.of_kind("NetworkPolicy"):
        index.setdefault(policy.namespace or "default", []).append(policy)
    return index


def selecting_policies(
    policies: list[ManifestObject], pod: PodView, direction: str
) -> list[ManifestObject]:
    """Those of ``policies`` that select ``pod`` for ``direction`` (``Ingress``/``Egress``)."""
    found = []
    for policy in policies:
        selector: Any = as_dict(policy.body.get("spec")).get("podSelector")
        if direction in policy_types(policy) and selector_matches(selector, pod.labels):
            found.append(policy)
    return found


def _labels_path(pod: PodView) -> str:
    if pod.obj.kind == "Pod":
        return "metadata.labels"
    return pod.path.rpartition(".")[0] + ".metadata.labels"


def _uncovered(ctx: LintContext, direction: str) -> Iterator[Hit]:
    index = {
        namespace: SelectorIndex(
            [
                (as_dict(policy.body.get("spec")).get("podSelector"), policy)
                for policy in policies
                if direction in policy_types(policy)
            ]
        )
        for namespace, policies in policies_by_namespace(ctx).items()
    }
    for pod in ctx.pods:
        found = index.get(pod.namespace)
        if found is None or not found.any_match(pod.labels):
            message = (
                f"no NetworkPolicy in namespace {pod.namespace!r} selects pods labelled "
                f"{show_labels(pod.labels)} for {direction}"
            )
            yield Hit(pod.obj, _labels_path(pod), message)


@rule(
    "KG501",
    name="network-policy-ingress",
    title="Every workload is isolated for ingress by a NetworkPolicy",
    levels=LEVELS,
    reason="A pod no NetworkPolicy selects for Ingress accepts connections from every pod in "
    "the cluster, so one compromised pod can reach all of them.",
    sources=(KIA_NET, NSA_NET),
    fix="Add a default-deny NetworkPolicy for the namespace (podSelector: {}, policyTypes: "
    "[Ingress, Egress]) and allow only the declared connections.",
    scanners=(
        "Polaris missingNetworkPolicy",
        "kube-score pod-networkpolicy",
        "kube-linter non-isolated-pod",
        "kubescape C-0260, C-0030, C-0054",
        "Checkov CKV2_K8S_6",
    ),
    tags=TAGS,
    kinds=POD_KINDS,
)
def network_policy_ingress(ctx: LintContext) -> Iterator[Hit]:
    return _uncovered(ctx, "Ingress")


@rule(
    "KG502",
    name="network-policy-egress",
    title="Every workload is isolated for egress by a NetworkPolicy",
    levels=LEVELS,
    reason="A pod no NetworkPolicy selects for Egress can reach any address: the API server, "
    "cloud metadata endpoints, other tenants, the internet (exfiltration).",
    sources=(KIA_NET, NSA_NET),
    fix="Add a default-deny policy for the namespace with policyTypes [Ingress, Egress], then "
    "allow DNS and the declared connections.",
    scanners=("kubescape C-0030", "Polaris missingNetworkPolicy", "kube-linter non-isolated-pod"),
    tags=TAGS,
    kinds=POD_KINDS,
)
def network_policy_egress(ctx: LintContext) -> Iterator[Hit]:
    return _uncovered(ctx, "Egress")


@rule(
    "KG503",
    name="service-exposed",
    title="Services are ClusterIP unless exposure is intended",
    levels=Levels(baseline=W, restricted=W, prod=W),
    reason="NodePort opens the port on every node's address; LoadBalancer provisions an "
    "external address. Either bypasses the Ingress/Gateway where TLS and auth live.",
    sources=(KIA_NET, NSA_NET),
    fix="Use type ClusterIP behind an Ingress or Gateway, or waive KG503 for the one Service "
    "meant to be public (e.g. the ingress controller's).",
    scanners=("kube-score service-type", "kube-linter exposed-services"),
    tags=TAGS,
    kinds=("Service",),
)
def service_exposed(ctx: LintContext) -> Iterator[Hit]:
    for service in ctx.of_kind("Service"):
        kind = as_dict(service.body.get("spec")).get("type")
        if kind in ("NodePort", "LoadBalancer"):
            yield Hit(service, "spec.type", f"type is {show(kind)}")


K8S_HOST_NETWORK = (
    "Kubernetes docs, 'NetworkPolicy and hostNetwork pods' (https://kubernetes.io/docs/concepts/"
    "services-networking/network-policies/#networkpolicy-and-hostnetwork-pods)"
)


@rule(
    "KG504",
    name="network-policy-host-network",
    title="NetworkPolicies are not relied on for hostNetwork pods (note)",
    levels=Levels(baseline=I, restricted=I, prod=I),
    reason="A hostNetwork pod shares its node's network: most network plugins cannot tell its "
    "traffic from the node's, so they ignore it when matching podSelector and namespaceSelector. "
    "A policy selecting such pods does not restrict them, and a rule naming them as peers does "
    "not match their traffic, which comes from the node's address.",
    sources=(K8S_HOST_NETWORK, KIA_NET),
    fix="Protect hostNetwork pods with node-level controls (a host firewall, cloud security "
    "groups, the plugin's host policies such as Calico HostEndpoint or Cilium host policies); "
    "in other pods' policies, allow their traffic with an ipBlock of the node addresses.",
    scanners=(),
    tags=TAGS,
    kinds=("NetworkPolicy",),
)
def network_policy_host_network(ctx: LintContext) -> Iterator[Hit]:
    host = [pod for pod in ctx.pods if pod.spec.get("hostNetwork") is True]
    if not host:
        return
    namespaces = {
        ns.name: {**as_dict(ns.metadata.get("labels")), NAME_LABEL: ns.name}
        for ns in ctx.of_kind("Namespace")
    }
    for policy in ctx.of_kind("NetworkPolicy"):
        yield from _host_network_hits(policy, host, namespaces)


NAME_LABEL = "kubernetes.io/metadata.name"


def _host_network_hits(
    policy: ManifestObject, host: list[PodView], namespaces: dict[str, dict[str, Any]]
) -> Iterator[Hit]:
    namespace = policy.namespace or "default"
    spec = as_dict(policy.body.get("spec"))
    selected = [p for p in host if p.namespace == namespace
                and selector_matches(spec.get("podSelector"), p.labels)]
    if selected:
        yield Hit(policy, "spec.podSelector",
                  f"selects {_names(selected)}, whose pods run with hostNetwork: most network "
                  "plugins apply no NetworkPolicy to them",
                  fix="protect them with node-level controls (a host firewall, cloud security "
                  "groups, the plugin's host policies such as Calico HostEndpoint or Cilium "
                  "host policies)")
    for key, peers_key, way in (("ingress", "from", "comes from"), ("egress", "to", "goes to")):
        for i, item in enumerate(as_list(spec.get(key))):
            for j, peer in enumerate(as_list(as_dict(item).get(peers_key))):
                named = [p for p in host if _peer_selects(as_dict(peer), namespace, p, namespaces)]
                if named:
                    verb = "allow_from" if key == "ingress" else "allow_to"
                    yield Hit(policy, f"spec.{key}[{i}].{peers_key}[{j}]",
                              f"names {_names(named)} as a peer, whose pods run with "
                              f"hostNetwork: their traffic {way} the node's address, which "
                              "most network plugins do not match with pod or namespace "
                              "selectors",
                              fix=f"allow the nodes' addresses instead: {verb}(cidr='<node "
                              "subnet>', port=…) on the workload")


def _peer_selects(
    peer: dict[str, Any], namespace: str, pod: PodView, namespaces: dict[str, dict[str, Any]]
) -> bool:
    if "ipBlock" in peer or not peer:
        return False
    if "namespaceSelector" in peer:
        labels = namespaces.get(pod.namespace, {NAME_LABEL: pod.namespace})
        if not selector_matches(peer["namespaceSelector"], labels):
            return False
    elif pod.namespace != namespace:
        return False
    return "podSelector" not in peer or selector_matches(peer["podSelector"], pod.labels)


def _names(pods: list[PodView]) -> str:
    return ", ".join(dict.fromkeys(pod.obj.display for pod in pods))
