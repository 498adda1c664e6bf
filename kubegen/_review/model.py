"""What ``kubegen review`` reports: the changes between two versions of a stack's output.

Every change is a small frozen record with ``change`` (``added``/``removed``, ``new``/``fixed``,
``created``/``deleted``/``changed``) and the facts a reviewer needs; :class:`StackReview`
groups them by topic and derives the risk line and the ``--fail-on`` categories from them.
The formats (text, Markdown, JSON) only present these records.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from kubegen._analysis.flows import Node
from kubegen._builders.network.routes import API_SERVER_NAME

__all__ = [
    "CATEGORIES",
    "AdmissionChange",
    "Base",
    "ExemptionChange",
    "FieldChange",
    "FindingChange",
    "FlowChange",
    "ObjectChange",
    "PermissionChange",
    "Review",
    "StackReview",
    "WorkloadChange",
]

#: ``--fail-on`` categories, each with what triggers it.
CATEGORIES: dict[str, str] = {
    "new-permission": "a subject gains a permission",
    "risky-permission": "a gained permission on secrets, with a wildcard, an escalation verb, "
    "pod exec, cluster-wide, or through a role outside the output",
    "new-flow": "a network flow is added (any peer)",
    "new-egress": "a flow is added from a workload to an IP block or to anywhere (not the "
    "Kubernetes API: a route to it comes with a grant, under new-flow)",
    "new-ingress": "a flow is added from an IP block or from anywhere to a workload",
    "admission": "a namespace's Pod Security enforce level is lowered (or unset), or a "
    "namespace is created below restricted",
    "opt-out": "an opt-out or a waiver is added (or its reason changes)",
    "host-access": "an opt-out is added for a privileged container, a host namespace "
    "(network, PID, IPC) or a hostPath volume",
    "new-finding": "a lint finding appears (unwaived)",
    "deletion": "an object is deleted",
    "stateful-deletion": "a StatefulSet, PersistentVolumeClaim, volume claim template or "
    "Namespace is deleted",
    "image": "a container image changes",
    "workload": "replicas, resources, probes, strategy or images of a workload change",
    "any": "anything in the output changes",
}

#: Opt-outs that reach the node itself (``kubegen.dev/opt-out-<name>``), as the risk line says.
HOST_ACCESS: dict[str, str] = {
    "privileged": "privileged",
    "host-network": "host namespace",
    "host-pid": "host namespace",
    "host-ipc": "host namespace",
    "host-path": "hostPath",
    "host-path-write": "hostPath",
}

#: Node kinds outside the cluster's pods: a flow to one is "egress", from one "ingress".
OUTSIDE_KINDS = frozenset({"ipblock", "anywhere"})


@dataclass(frozen=True, slots=True)
class Base:
    """The commit the committed output is read from.

    ``commit`` is None when there is no base (no commits yet, or a first commit): then everything
    is "added". ``ref`` is what was asked for or found (``origin/main``); ``how`` says how the
    commit was chosen; ``notes`` say what the reader should know (a shallow clone…).
    """

    commit: str | None
    ref: str | None
    how: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FlowChange:
    """A flow ``source`` → ``target`` on one port added or removed."""

    change: Literal["added", "removed"]
    source: Node
    target: Node
    port: str

    @property
    def enforced(self) -> bool:
        """False when a side runs with hostNetwork: most network plugins do not apply
        NetworkPolicies to such pods, so the flow is what the policies say, not what happens."""
        return not (self.source.host_network or self.target.host_network)

    @property
    def to_api_server(self) -> bool:
        """To the cluster's API server (the route a grant implies), not to the outside."""
        return self.target.kind == "ipblock" and self.target.label == API_SERVER_NAME

    @property
    def egress(self) -> bool:
        """From a workload to an IP block (other than the API server's) or anywhere."""
        return self.target.kind in OUTSIDE_KINDS and not self.to_api_server

    @property
    def ingress(self) -> bool:
        """From an IP block or anywhere to a workload."""
        return self.source.kind in OUTSIDE_KINDS


@dataclass(frozen=True, slots=True)
class PermissionChange:
    """``subject`` gains or loses ``verbs`` on ``resource`` (``names`` only) in ``namespace``.

    ``namespace`` is ``*`` for a cluster-wide grant. ``flags`` name what makes it risky:
    ``secrets``, ``wildcard``, ``escalation``, ``pod-exec``, ``cluster-wide``, ``admin-role``,
    ``external-role`` (the role's rules are not in the output, ``resource`` names the role).
    """

    change: Literal["added", "removed"]
    subject: str
    namespace: str
    resource: str
    names: tuple[str, ...]
    verbs: tuple[str, ...]
    flags: tuple[str, ...]
    via: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AdmissionChange:
    """A namespace's Pod Security Admission mode (``enforce``, ``audit``, ``warn``) changed.

    ``before``/``after`` read ``restricted``, ``baseline v1.30`` (a pinned version) or ``unset``
    (the cluster's default applies, which is ``privileged`` unless configured); None when the
    namespace is not in the output on that side. ``weaker``: pods the old level refused are
    admitted now (or a new namespace admits more than ``restricted``).
    """

    namespace: str
    mode: str
    before: str | None
    after: str | None
    weaker: bool


@dataclass(frozen=True, slots=True)
class ExemptionChange:
    """An opt-out or waiver on ``resource`` added, removed or given another reason."""

    change: Literal["added", "removed", "changed"]
    resource: str
    kind: Literal["opt-out", "waiver"]
    name: str
    container: str | None
    reason: str
    before: str | None = None  # the previous reason, for "changed"

    @property
    def volume(self) -> str | None:
        """The volume a per-volume opt-out (``host-path.<volume>``) names, in ``container``."""
        return self.container if self.name.startswith("host-path") else None

    @property
    def where(self) -> str:
        """`` (container api)``, `` (volume host-proc)`` or nothing, as the formats show it."""
        if self.container is None:
            return ""
        return f" (volume {self.volume})" if self.volume else f" (container {self.container})"


@dataclass(frozen=True, slots=True)
class FindingChange:
    """A lint finding that is new (unwaived now, not before) or fixed (gone now)."""

    change: Literal["new", "fixed"]
    rule_id: str
    severity: str
    resource: str
    path: str
    message: str
    location: str = ""  # stack file:line of the object, for new findings


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One fact of a workload, before and after (``None``: absent on that side).

    ``part`` is the container (``api``, ``init:migrate``) or volume claim template the fact
    belongs to, None for pod-level facts (``replicas``, ``strategy``…).
    """

    field: str
    part: str | None
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class WorkloadChange:
    """The changed facts of one workload present on both sides, and warnings about them."""

    resource: str
    fields: tuple[FieldChange, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectChange:
    """An object created, deleted or changed; ``warning`` for deletions that lose data."""

    change: Literal["created", "deleted", "changed"]
    kind: str
    namespace: str | None
    name: str
    path: str
    warning: str | None = None

    @property
    def resource(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else (
            f"{self.kind} {self.name}"
        )


@dataclass(slots=True)
class StackReview:
    """Every change of one stack, by topic, each list in a stable order."""

    env: str
    stack: str
    output: str  # the env folder, relative to the repository root
    notes: list[str] = field(default_factory=list)
    flows: list[FlowChange] = field(default_factory=list)
    permissions: list[PermissionChange] = field(default_factory=list)
    admission: list[AdmissionChange] = field(default_factory=list)
    exemptions: list[ExemptionChange] = field(default_factory=list)
    findings: list[FindingChange] = field(default_factory=list)
    workloads: list[WorkloadChange] = field(default_factory=list)
    objects: list[ObjectChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.objects)

    def risks(self) -> list[tuple[str, int, str]]:
        """``(category, count, text)`` for the risk line, most important first."""
        out: list[tuple[str, int, str]] = []
        gained = [p for p in self.permissions if p.change == "added"]
        if gained:
            flags = Counter(flag for p in gained for flag in p.flags)
            detail = ", ".join(f"{n} {_FLAG_TEXT.get(f, f)}" for f, n in sorted(flags.items()))
            text = _plural(len(gained), "new permission") + (f" ({detail})" if detail else "")
            out.append(("new-permission", len(gained), text))
        added = [f for f in self.flows if f.change == "added"]
        egress = _count({(_peer(f.target), f.source, f.port) for f in added if f.egress})
        for peer, n in egress:
            out.append(("new-egress", n, f"{n} new egress to {peer}"))
        ingress = _count({(_peer(f.source), f.target, f.port) for f in added if f.ingress})
        for peer, n in ingress:
            out.append(("new-ingress", n, f"{n} new ingress from {peer}"))
        api = {(f.source, f.port) for f in added if f.to_api_server}
        if api:
            text = f"{len(api)} new route{'s' if len(api) > 1 else ''} to the Kubernetes API"
            out.append(("new-flow", len(api), text))
        inside = [f for f in added if not f.egress and not f.ingress and not f.to_api_server]
        if inside:
            out.append(("new-flow", len(inside), _plural(len(inside), "new flow")))
        n = sum(1 for a in self.admission if a.weaker and a.mode == "enforce")
        if n:
            out.append(("admission", n, _plural(n, "weaker Pod Security level")))
        for kind in ("opt-out", "waiver"):
            new = [e for e in self.exemptions if e.kind == kind and e.change != "removed"]
            if new:
                host = Counter(HOST_ACCESS[e.name] for e in new if e.name in HOST_ACCESS)
                detail = ", ".join(f"{n} {what}" for what, n in sorted(host.items()))
                text = _plural(len(new), kind) + (f" ({detail})" if detail else "")
                out.append(("opt-out", len(new), text))
        n = sum(1 for f in self.findings if f.change == "new")
        if n:
            out.append(("new-finding", n, _plural(n, "new finding")))
        stateful = sum(1 for o in self.objects if o.change == "deleted" and o.warning)
        stateful += sum(1 for w in self.workloads for f in w.fields if _lost_claim(f))
        if stateful:
            out.append(("stateful-deletion", stateful, _plural(stateful, "stateful deletion")))
        deleted = sum(1 for o in self.objects if o.change == "deleted" and not o.warning)
        if deleted:
            noun = "other deletion" if stateful else "deletion"
            out.append(("deletion", deleted, _plural(deleted, noun)))
        refused = sum(len(w.warnings) for w in self.workloads)
        if refused:
            text = _plural(refused, "immutable field change") + " (the sync fails until recreated)"
            out.append(("workload", refused, text))
        images = sum(1 for w in self.workloads for f in w.fields if f.field == "image")
        if images:
            out.append(("image", images, _plural(images, "image change")))
        return out

    def risk_line(self) -> str:
        """``2 new permissions (1 on secrets), 1 new egress to internet (IPv4), 1 opt-out``."""
        if not self.changed:
            return "no changes"
        risks = self.risks()
        if not risks:
            return "no new permissions, flows, exceptions or findings; nothing deleted"
        return ", ".join(text for _, _, text in risks)

    def categories(self) -> set[str]:
        """The ``--fail-on`` categories these changes trigger."""
        found = {category for category, _, _ in self.risks()}
        if "stateful-deletion" in found:
            found.add("deletion")
        if any(f.change == "added" for f in self.flows):
            found.add("new-flow")
        if any(e.kind == "opt-out" and e.change == "added" and e.name in HOST_ACCESS
               for e in self.exemptions):
            found.add("host-access")
        if any(p.change == "added" and p.flags for p in self.permissions):
            found.add("risky-permission")
        if self.workloads:
            found.add("workload")
        if self.changed:
            found.add("any")
        return found


_FLAG_TEXT = {
    "secrets": "on secrets",
    "wildcard": "with a wildcard",
    "escalation": "with escalation verbs",
    "pod-exec": "to exec into pods",
    "cluster-wide": "cluster-wide",
    "admin-role": "through an admin role",
    "external-role": "through a role outside the output",
}


def _peer(node: Node) -> str:
    """IPv4 and IPv6 internet blocks count as one peer, "the internet"."""
    return "the internet" if node.label.startswith("internet (") else node.label


def _count(flows: set[tuple[str, Node, str]]) -> list[tuple[str, int]]:
    """Distinct (workload, port) flows per outside peer, by peer."""
    return sorted(Counter(peer for peer, _, _ in flows).items())


def _lost_claim(change: FieldChange) -> bool:
    return change.field == "volumeClaimTemplate" and change.after is None


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(slots=True)
class Review:
    """The review of every stack given, against one base commit."""

    base: Base
    stacks: list[StackReview]

    def categories(self) -> set[str]:
        return set().union(*(s.categories() for s in self.stacks)) if self.stacks else set()
