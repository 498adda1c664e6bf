"""The API server and the pods it talks with, once NetworkPolicies isolate them (KG505, KG506).

KG505: admission webhooks the API server can still call. KG506: pods granted API access that can
still reach the API server.

An admission webhook (``ValidatingWebhookConfiguration``/``MutatingWebhookConfiguration``) named
by ``clientConfig.service`` is called by the API server, through that Service, on the pods it
selects. The API server is no pod: its calls come from the control plane's addresses (or, on
clusters that tunnel them, from the tunnel's agent pods in ``kube-system``). Once a NetworkPolicy
isolates the webhook's pods for ingress (a namespace default-deny, or the ingress policy a
``connect_to`` derives for another client), only the rules of those policies let traffic in, and
the usual ones name pods: the API server's calls then time out, and with ``failurePolicy: Fail``
(the default) every request the webhook intercepts is refused (cert-manager's webhook: every
Certificate, Issuer…). So for each webhook Service whose pods are isolated, some ingress rule
must admit its target port from an ``ipBlock``, from every source, or from ``kube-system``.

Which ``ipBlock``: when the stack's ``Cluster`` declares the API server's addresses
(``Cluster(api_server=ApiServer(addresses=[…], port=…))``), an ipBlock counts only for the
addresses its ``cidr`` contains and its ``except`` ranges leave in, and every declared address
must be let through (the API server runs on each; the ``kubernetes`` Service balances over all
of them); KG506 also matches the rule's ports against the declared port. Without declared
addresses any ipBlock counts, as kubegen cannot tell an unrelated CIDR from the control plane's;
the fix then says how to declare them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Any

from kubegen._manifests import ManifestObject
from kubegen._policy.context import LintContext, PodView, as_dict, as_list
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import E, W, rule
from kubegen._policy.rules.identity import (
    _is_bound,
    _service_accounts,
    bound_accounts,
    service_account_of,
)
from kubegen._policy.rules.network import policies_by_namespace, selecting_policies

K8S_WEBHOOKS = (
    "Kubernetes docs, 'Dynamic Admission Control': webhook service reference and failure "
    "policy (https://kubernetes.io/docs/reference/access-authn-authz/"
    "extensible-admission-controllers/)"
)
K8S_NETPOL = (
    "Kubernetes docs, 'Network Policies': isolation and ipBlock "
    "(https://kubernetes.io/docs/concepts/services-networking/network-policies/)"
)
_KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
_SYSTEM = {"kubernetes.io/metadata.name": "kube-system"}
_DECLARE = ("declare the API server's addresses with Cluster(..., api_server=ApiServer("
            "addresses=[...])) to have kubegen match ipBlocks against them (without them any "
            "ipBlock counts)")

Network = IPv4Network | IPv6Network


def _network(value: Any) -> Network | None:
    try:
        return ip_network(str(value), strict=False)
    except ValueError:
        return None


def _declared(ctx: LintContext) -> tuple[list[Network], int] | None:
    """The API server's addresses and port the stack's Cluster declares, if it does."""
    facts = ctx.facts
    found = getattr(facts, "api_server", None)
    if found is None:
        return None
    addresses, port = found
    networks = [n for n in map(_network, addresses) if n is not None]
    return (networks, port) if networks else None


def _inside(inner: Network, outer: Network | None) -> bool:
    return outer is not None and inner.version == outer.version and inner.subnet_of(
        outer)  # type: ignore[arg-type]


def _carved(block: dict[str, Any], address: Network) -> list[str]:
    """The ``except`` ranges of an ipBlock that take some of ``address`` out."""
    out = []
    for item in as_list(block.get("except")):
        carved = _network(item)
        if carved is not None and carved.version == address.version and carved.overlaps(
                address):
            out.append(str(item))
    return out


def _holds(block: dict[str, Any], address: Network) -> bool:
    """Whether an ipBlock lets all of ``address`` through: its cidr contains it and no
    ``except`` range takes any of it out."""
    return _inside(address, _network(block.get("cidr"))) and not _carved(block, address)


def _why_not(blocks: list[tuple[dict[str, Any], bool]], address: Network) -> str:
    """Why no ipBlock of ``blocks`` (each with whether its rule's ports match) lets
    ``address`` through, for the message."""
    for block, ported in blocks:
        if not _inside(address, _network(block.get("cidr"))):
            continue
        carved = _carved(block, address)
        if carved:
            return f"the ipBlock {block.get('cidr')} excepts {', '.join(carved)}, which holds it"
        if not ported:
            return f"the rule with ipBlock {block.get('cidr')} allows other ports"
    shown = sorted({str(b.get("cidr")) for b, _ in blocks})
    if not shown:
        return "no rule has an ipBlock"
    return f"no ipBlock contains it ({', '.join(shown)} {'do' if len(shown) > 1 else 'does'} not)"


def _uncovered(
    blocks: list[tuple[dict[str, Any], bool]], addresses: Sequence[Network]
) -> tuple[Network, str] | None:
    """The first declared address no ipBlock on a matching port lets through, and why."""
    for address in addresses:
        if not any(ported and _holds(block, address) for block, ported in blocks):
            return address, _why_not(blocks, address)
    return None


@rule(
    "KG505",
    name="admission-webhook-reachable",
    title="Admission webhooks stay reachable from the API server when their pods are isolated",
    levels=Levels(baseline=W, restricted=E, prod=E),
    reason="The API server calls an admission webhook from the control plane, not from a pod: "
    "a NetworkPolicy that isolates the webhook's pods for ingress and admits only pods drops "
    "those calls, and with failurePolicy Fail every request the webhook intercepts is refused "
    "(with Ignore, it is let through unchecked).",
    sources=(K8S_WEBHOOKS, K8S_NETPOL),
    fix="Allow the control plane's addresses to the webhook's port: "
    "allow_from(cidr='<control-plane CIDR>', port='<port>') on the workload (a vendored one: "
    "source.workload(name)), or an ingress rule with that ipBlock in the policy. With "
    "Cluster(api_server=ApiServer(addresses=[...])) declared, the ipBlock must contain every "
    "address (its except ranges leaving them in); without them, any ipBlock counts.",
    tags=("availability", "network"),
    kinds=("NetworkPolicy",),
)
def admission_webhook_reachable(ctx: LintContext) -> Iterator[Hit]:
    configurations = list(ctx.of_kind(*_KINDS))
    if not configurations:
        return
    services = {(s.namespace or "default", s.name): s for s in ctx.of_kind("Service")}
    policies = policies_by_namespace(ctx)
    callers: dict[tuple[str, str, int], list[str]] = {}
    for config in configurations:
        for index, webhook in enumerate(as_list(config.body.get("webhooks"))):
            ref = as_dict(as_dict(as_dict(webhook).get("clientConfig")).get("service"))
            if ref.get("name") and ref.get("namespace"):
                port = ref.get("port", 443)  # the API's default
                key = (str(ref["namespace"]), str(ref["name"]),
                       port if isinstance(port, int) else 443)
                callers.setdefault(key, []).append(
                    f"{config.kind} {config.name} webhooks[{index}]")
    declared = _declared(ctx)
    for (namespace, name, port), used_by in callers.items():
        service = services.get((namespace, name))
        if service is not None:
            yield from _unreachable(ctx, service, port, used_by, policies.get(namespace, []),
                                    declared[0] if declared else None)


def _unreachable(
    ctx: LintContext,
    service: ManifestObject,
    port: int,
    used_by: list[str],
    policies: list[ManifestObject],
    addresses: list[Network] | None,
) -> Iterator[Hit]:
    spec = as_dict(service.body.get("spec"))
    selector = as_dict(spec.get("selector"))
    entry = next((as_dict(p) for p in as_list(spec.get("ports")) if as_dict(p).get("port") == port),
                 None)
    if not selector or entry is None:
        return
    target = entry.get("targetPort", port)
    reported: set[str] = set()
    for pod in ctx.pods:
        if pod.namespace != (service.namespace or "default") or pod.spec.get("hostNetwork") is True:
            continue
        if any(pod.labels.get(k) != v for k, v in selector.items()):
            continue
        isolating = selecting_policies(policies, pod, "Ingress")
        number, named = _container_port(pod, target)
        if not isolating:
            continue
        missing = _not_admitted(isolating, number, named, addresses)
        if missing is None:
            continue
        policy = next((p for p in isolating if p.vendor is None), isolating[0])
        if policy.name in reported:
            continue
        reported.add(policy.name)
        shown = f"{target!r}" + (f" ({number})" if isinstance(target, str) and number else "")
        where = (f"isolates the pods of {pod.obj.kind} {pod.obj.name} for ingress, which serve "
                 f"the admission webhook Service {service.namespace}/{service.name} "
                 f"({', '.join(used_by)}), and no ingress rule selecting them admits the API "
                 "server")
        workload = f"on the workload (a vendored one: source.workload({pod.obj.name!r}))"
        if missing is _ANY:
            yield Hit(
                policy, "spec.podSelector",
                f"{where} (an ipBlock, every source or kube-system) on port {shown}: its calls "
                "will fail",
                fix="allow the control plane's addresses to it: allow_from(cidr='<control-plane "
                f"CIDR>', port={target!r}) {workload}; {_DECLARE}",
            )
            continue
        address, why = missing
        yield Hit(
            policy, "spec.podSelector",
            f"{where} from its address {address} (the Cluster's api_server) on port {shown}: "
            f"{why}; its calls will fail",
            fix=f"allow it: allow_from(cidr={str(address)!r}, port={target!r}) {workload}, or "
            "an ingress rule with an ipBlock that contains it (where a tunnel's agents bring the "
            "calls, allow_from(namespace='kube-system') instead)",
        )


def _container_port(pod: PodView, target: Any) -> tuple[int | None, str | None]:
    """The port number and name ``target`` (a Service targetPort) means in ``pod``."""
    for container in as_list(pod.spec.get("containers")):
        for entry in as_list(as_dict(container).get("ports")):
            item = as_dict(entry)
            if target in (item.get("name"), item.get("containerPort")):
                number = item.get("containerPort")
                name = item.get("name")
                return (number if isinstance(number, int) else None,
                        name if isinstance(name, str) else None)
    return (target, None) if isinstance(target, int) else (None, target)


_ANY = (ip_network("0.0.0.0/0"), "")  # refused with no declared address to name


def _not_admitted(
    isolating: list[ManifestObject], number: int | None, name: str | None,
    addresses: list[Network] | None,
) -> tuple[Network, str] | None:
    """None when the ingress rules of ``isolating`` admit the API server on that port: from
    every source, from ``kube-system`` (a tunnel's agents), or from ipBlocks (that let every
    declared address through, when the Cluster declares them). Else the first address left
    out and why (:data:`_ANY` without declared addresses)."""
    blocks: list[tuple[dict[str, Any], bool]] = []
    for policy in isolating:
        for item in as_list(as_dict(policy.body.get("spec")).get("ingress")):
            rule_ = as_dict(item)
            ported = _port_allowed(as_list(rule_.get("ports")), number, name)
            peers = [as_dict(peer) for peer in as_list(rule_.get("from"))]
            if ported and (not peers or any(_outside_pods(peer) for peer in peers
                                            if "ipBlock" not in peer)):
                return None
            blocks += [(as_dict(peer["ipBlock"]), ported) for peer in peers if "ipBlock" in peer]
    if addresses is None:
        return None if any(ported for _, ported in blocks) else _ANY
    return _uncovered(blocks, addresses)


def _port_allowed(ports: list[Any], number: int | None, name: str | None) -> bool:
    if not ports:
        return True
    for entry in map(as_dict, ports):
        if entry.get("protocol", "TCP") != "TCP":
            continue
        port = entry.get("port")
        end = entry.get("endPort")
        if port is None or (name is not None and port == name):
            return True
        if isinstance(port, int) and number is not None and (
            port == number or (isinstance(end, int) and port <= number <= end)
        ):
            return True
    return False


def _outside_pods(peer: dict[str, Any]) -> bool:
    """A namespace selector that takes in ``kube-system`` (tunnel agents)."""
    if "namespaceSelector" not in peer:
        return False
    selector = as_dict(peer.get("namespaceSelector"))
    labels = as_dict(selector.get("matchLabels"))
    expressions = as_list(selector.get("matchExpressions"))
    return not expressions and all(_SYSTEM.get(k) == v for k, v in labels.items())


@rule(
    "KG506",
    name="api-server-reachable",
    title="Pods granted API access can reach the API server when isolated for egress",
    levels=Levels(baseline=W, restricted=E, prod=E),
    reason="A pod whose ServiceAccount is bound to a role calls the API server (a controller, "
    "an operator, a webhook renewing its certificate). The API server is outside every pod "
    "selector: once a NetworkPolicy isolates the pod for egress, only an ipBlock rule (or one "
    "to every destination) lets those calls out, and without one the pod cannot watch or "
    "update anything; a vendored controller under a namespace's default-deny crash-loops.",
    sources=(K8S_NETPOL, "Kubernetes docs, 'Accessing the Kubernetes API from a Pod' "
             "(https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/)"),
    fix="Allow the API server's addresses and port: allow_to(cidr='<API server address>/32', "
    "port=<its port>) on the workload (a vendored one: source.workload(name)); kubegen's own "
    "workloads get it from their grants and the Cluster's api_server; a cluster whose own "
    "policies let pods reach it says so with Cluster(..., api_egress_elsewhere='why'). With "
    "Cluster(api_server=ApiServer(addresses=[...], port=...)) declared, the rule must reach "
    "every address on that port (ipBlocks containing them, except ranges leaving them in); "
    "without them, any ipBlock on any port counts.",
    tags=("availability", "network"),
    kinds=("NetworkPolicy",),
)
def api_server_reachable(ctx: LintContext) -> Iterator[Hit]:
    if ctx.facts is not None and ctx.facts.api_egress_elsewhere:
        return  # the cluster's own policies let pods reach it (Cilium toEntities…)
    bound = bound_accounts(ctx)
    if not bound:
        return
    accounts = _service_accounts(ctx)
    policies = policies_by_namespace(ctx)
    declared = _declared(ctx)
    reported: set[tuple[str, str]] = set()
    for pod in ctx.pods:
        account = service_account_of(pod) or "default"
        if pod.spec.get("hostNetwork") is True or not _is_bound(bound, pod.namespace, account):
            continue
        if not _has_token(pod, accounts.get((pod.namespace, account))):
            continue
        isolating = selecting_policies(policies.get(pod.namespace, []), pod, "Egress")
        if not isolating:
            continue
        missing = _unreached(isolating, declared)
        if missing is None:
            continue
        policy = next((p for p in isolating if p.vendor is None), isolating[0])
        if (policy.name, pod.obj.name) in reported:
            continue
        reported.add((policy.name, pod.obj.name))
        where = (f"isolates the pods of {pod.obj.kind} {pod.obj.name} for egress, whose "
                 f"ServiceAccount {account!r} is bound to a role, and no egress rule selecting "
                 "them reaches")
        workload = f"on the workload (a vendored one: source.workload({pod.obj.name!r}))"
        if declared is None:
            yield Hit(
                policy, "spec.podSelector",
                f"{where} outside the pod network (an ipBlock or every destination): their "
                "calls to the API server will fail",
                fix="allow the API server: allow_to(cidr='<API server address>/32', port=<its "
                f"port>) {workload}; {_DECLARE}",
            )
            continue
        address, why = missing
        port = declared[1]
        yield Hit(
            policy, "spec.podSelector",
            f"{where} the API server at {address} port {port} (the Cluster's api_server): "
            f"{why}; their calls to it will fail",
            fix=f"allow it: allow_to(cidr={str(address)!r}, port={port}) {workload}, or an "
            "egress rule with an ipBlock that contains it on that port",
        )


def _has_token(pod: PodView, account: ManifestObject | None) -> bool:
    """Whether the pod gets an API token: automounted (the pod's setting wins, then its
    account's, then true) or in a projected ``serviceAccountToken`` volume."""
    value = pod.spec.get("automountServiceAccountToken")
    if value is None and account is not None:
        value = account.body.get("automountServiceAccountToken")
    if value is not False:
        return True
    for volume in as_list(pod.spec.get("volumes")):
        sources = as_list(as_dict(as_dict(volume).get("projected")).get("sources"))
        if any("serviceAccountToken" in as_dict(source) for source in sources):
            return True
    return False


def _unreached(
    isolating: list[ManifestObject], declared: tuple[list[Network], int] | None
) -> tuple[Network, str] | None:
    """None when the egress rules of ``isolating`` reach the API server: a rule with no ``to``
    (every destination) or ipBlocks; with declared addresses, ipBlocks that let each of them
    through on a rule allowing the declared port. Else the first address left out and why
    (:data:`_ANY` when nothing leaves the pod network and no address is declared)."""
    blocks: list[tuple[dict[str, Any], bool]] = []
    for policy in isolating:
        for item in as_list(as_dict(policy.body.get("spec")).get("egress")):
            rule_ = as_dict(item)
            ported = declared is None or _port_allowed(as_list(rule_.get("ports")),
                                                       declared[1], None)
            peers = [as_dict(peer) for peer in as_list(rule_.get("to"))]
            if not peers and ported:
                return None
            blocks += [(as_dict(peer["ipBlock"]), ported) for peer in peers if "ipBlock" in peer]
    if declared is None:  # any ipBlock, on any port: the API server's is unknown
        return None if blocks else _ANY
    return _uncovered(blocks, declared[0])
