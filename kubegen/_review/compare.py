"""Compare two versions of a stack's objects through the analysis models.

Both sides go through the same readers ``kubegen graph``, ``kubegen access`` and ``kubegen lint``
use (:mod:`kubegen._analysis.flows`, :mod:`kubegen._analysis.access`, the policy engine), plus
:mod:`kubegen._analysis.opt_outs` and :mod:`kubegen._analysis.workloads`; this module only takes
set differences. Objects identical on both sides are the *same* Python objects (the reader
shares unchanged files), which lets per-object comparisons skip them by identity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from kubegen._analysis.access import AccessRow, access_rows
from kubegen._analysis.flows import (
    INPUT_KINDS,
    FlowGraph,
    Node,
    Pod,
    Topology,
    flow_graph,
    read_topology,
)
from kubegen._analysis.immutable import immutable_changes
from kubegen._analysis.opt_outs import Exemption, exemptions
from kubegen._analysis.workloads import WorkloadFacts, autoscalers, workload_facts
from kubegen._builders.rbac.catalog import ADMIN_ROLES, POD_EXEC_SUBRESOURCES, verb_sort_key
from kubegen._coherence.namespaces import Mode, namespace_policies
from kubegen._coherence.pod_security import LEVELS
from kubegen._manifests import ManifestObject
from kubegen._policy import Finding, Report
from kubegen._review.model import (
    AdmissionChange,
    ExemptionChange,
    FieldChange,
    FindingChange,
    FlowChange,
    ObjectChange,
    PermissionChange,
    StackReview,
    WorkloadChange,
)

__all__ = ["Side", "compare"]

Key = tuple[str, str, str, str]


@dataclass(slots=True)
class Side:
    """One version of a stack: its objects by identity, with their file paths."""

    objects: dict[Key, ManifestObject]
    paths: dict[Key, str]

    @classmethod
    def of(cls, items: Iterable[tuple[str, ManifestObject]]) -> Side:
        objects: dict[Key, ManifestObject] = {}
        paths: dict[Key, str] = {}
        for path, obj in items:
            objects[obj.key] = obj
            paths[obj.key] = path
        return cls(objects, paths)


def compare(
    env: str,
    stack: str,
    output: str,
    base: Side,
    head: Side,
    reports: Callable[[], tuple[Report, Report]],
) -> StackReview:
    """Every change from ``base`` to ``head``, by topic.

    ``reports`` gives the two sides' lint reports (base, head); it is called last, so the base
    can be linted in the background meanwhile.
    """
    review = StackReview(env=env, stack=stack, output=output)
    changed = _changed_keys(base, head)
    if not changed:
        return review
    review.objects = _objects(base, head, changed)
    before, after = list(base.objects.values()), list(head.objects.values())
    if _network_may_differ(base, head, changed):
        review.flows = _flows(flow_graph(before), flow_graph(after))
    review.permissions = _permissions(
        access_rows([o.body for o in before]), access_rows([o.body for o in after])
    )
    review.admission = _admission(base, head, changed)
    review.exemptions = _exemptions(base, head, changed)
    review.workloads = _workloads(base, head, changed)
    review.findings = _findings(*reports())
    return review


# --- objects -------------------------------------------------------------------------------


def _changed_keys(base: Side, head: Side) -> list[Key]:
    """The objects that differ (unchanged ones are the same object on both sides), in order."""
    return [
        key
        for key in sorted(set(base.objects) | set(head.objects), key=_key_order)
        if base.objects.get(key) is not head.objects.get(key)
    ]


def _objects(base: Side, head: Side, changed: Sequence[Key]) -> list[ObjectChange]:
    out: list[ObjectChange] = []
    for key in changed:
        old, new = base.objects.get(key), head.objects.get(key)
        _, kind, namespace, name = key
        if old is None:
            out.append(ObjectChange("created", kind, namespace or None, name, head.paths[key]))
        elif new is None:
            out.append(
                ObjectChange(
                    "deleted", kind, namespace or None, name, base.paths[key], _lost(old)
                )
            )
        else:
            out.append(ObjectChange("changed", kind, namespace or None, name, head.paths[key]))
    order = {"deleted": 0, "created": 1, "changed": 2}
    return sorted(out, key=lambda c: order[c.change])


def _key_order(key: Key) -> tuple[str, str, str, str]:
    group, kind, namespace, name = key
    return (namespace, kind, name, group)


def _lost(obj: ManifestObject) -> str | None:
    """What deleting ``obj`` destroys beyond itself, or None for a stateless object."""
    if (obj.group, obj.kind) == ("apps", "StatefulSet"):
        spec = obj.body.get("spec") or {}
        claims = [
            str((c.get("metadata") or {}).get("name", "?"))
            for c in spec.get("volumeClaimTemplates") or []
            if isinstance(c, Mapping)
        ]
        policy = (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get(
            "whenDeleted", "Retain"
        )
        if not claims:
            return "its pods go with it"
        fate = (
            "are deleted with it (persistentVolumeClaimRetentionPolicy whenDeleted: Delete)"
            if policy == "Delete"
            else "stay (whenDeleted: Retain) and are reused if it comes back"
        )
        named = ", ".join(claims)
        return f"its pods go with it; the volumes of its claim templates ({named}) {fate}"
    if (obj.group, obj.kind) == ("", "PersistentVolumeClaim"):
        return "its volume is deleted if its StorageClass reclaims with Delete (the usual default)"
    if (obj.group, obj.kind) == ("", "PersistentVolume"):
        return "its data is deleted when its persistentVolumeReclaimPolicy is Delete"
    if (obj.group, obj.kind) == ("", "Namespace"):
        return (
            "every object in the namespace goes with it, volumes and Secrets this output does "
            "not hold included"
        )
    return None


# --- network -------------------------------------------------------------------------------


def _network_may_differ(base: Side, head: Side, changed: Sequence[Key]) -> bool:
    """False when no changed object can change the flows, so neither graph is computed.

    Only Namespaces, NetworkPolicies and pod-running objects feed the flow model; a pod-running
    object changed in nothing a selector can see (its namespace, ports, or a label whose key
    some policy selector names) leaves every flow as it was. A 1,000-service image bump
    changes each pod's ``app.kubernetes.io/version`` label, which no selector reads.
    """
    pairs = [(base.objects.get(key), head.objects.get(key)) for key in changed]
    relevant = [p for p in pairs if any(o is not None and o.kind in INPUT_KINDS for o in p)]
    if not relevant:
        return False
    if any(o is not None and o.kind in ("Namespace", "NetworkPolicy") for p in relevant for o in p):
        return True
    policies = [o for o in head.objects.values() if o.kind == "NetworkPolicy"]
    keys = _selector_keys(read_topology(policies))
    old = read_topology([b for b, _ in relevant if b is not None])
    new = read_topology([h for _, h in relevant if h is not None])
    return _visible(old, keys) != _visible(new, keys)


def _selector_keys(topology: Topology) -> frozenset[str]:
    """Every label key a pod selector of these policies (or of their peers) names."""
    found: set[str] = set()
    for policy in topology.policies:
        spec = policy.get("spec") or {}
        selectors = [spec.get("podSelector")]
        for direction, peers in (("ingress", "from"), ("egress", "to")):
            for rule in spec.get(direction) or []:
                selectors += [peer.get("podSelector") for peer in rule.get(peers) or []]
        for selector in selectors:
            if isinstance(selector, Mapping):
                found.update(selector.get("matchLabels") or {})
                found.update(e.get("key") for e in selector.get("matchExpressions") or [])
    return frozenset(found)


def _visible(topology: Topology, keys: frozenset[str]) -> list[Pod]:
    """The pods with only the labels selectors can see, in a stable order."""
    pods = [
        replace(pod, labels={k: v for k, v in pod.labels.items() if k in keys})
        for pod in topology.pods
    ]
    return sorted(pods, key=lambda pod: (pod.namespace, pod.node.label))


def _flow_set(graph: FlowGraph) -> set[tuple[Node, Node, str]]:
    return {(f.source, f.target, port) for f in graph.flows for port in f.ports}


def _flows(before: FlowGraph, after: FlowGraph) -> list[FlowChange]:
    old, new = _flow_set(before), _flow_set(after)
    changes = [FlowChange("added", *flow) for flow in new - old]
    changes += [FlowChange("removed", *flow) for flow in old - new]
    return sorted(changes, key=_flow_order)


def _node_order(node: Node) -> tuple[str, int, str]:
    kinds = {"workload": 0, "pods": 1, "ipblock": 2, "anywhere": 3}
    return (node.namespace or "~", kinds.get(node.kind, 4), node.label)


def _flow_order(change: FlowChange) -> tuple[object, ...]:
    return (_node_order(change.source), _node_order(change.target), change.port, change.change)


# --- access --------------------------------------------------------------------------------

_GrantKey = tuple[str, str, str, tuple[str, ...]]
_BOUND = "?"  # the one "verb" of a binding to a role whose rules are not in the output


def _grants(rows: Sequence[AccessRow]) -> dict[_GrantKey, tuple[set[str], AccessRow]]:
    """(subject, namespace, resource text, names) → (verbs, one row for the details); rows a
    binding cannot grant (a RoleBinding's cluster-scoped resources) are not permissions."""
    out: dict[_GrantKey, tuple[set[str], AccessRow]] = {}
    for row in rows:
        if not row.granted:  # named by the role, but beyond what its binding can grant
            continue
        key = (str(row.subject), row.namespace, _resource(row), row.names)
        verbs, _ = out.setdefault(key, (set(), row))
        verbs.update(row.verbs if row.resolved else (_BOUND,))
    return out


def _resource(row: AccessRow) -> str:
    """``configmaps``, ``deployments.apps``, ``/metrics``, or the role an external row binds."""
    if not row.resolved or row.resource is None:
        roles = sorted({path[-1] for path in row.via})
        return " / ".join(roles) + " (rules not in the output)"
    if row.api_group is None:
        return row.resource
    base, slash, sub = row.resource.partition("/")
    group = f".{row.api_group}" if row.api_group else ""
    return f"{base}{group}{slash}{sub}"


def _permissions(before: Sequence[AccessRow], after: Sequence[AccessRow]) -> list[PermissionChange]:
    old, new = _grants(before), _grants(after)
    out: list[PermissionChange] = []
    for change, this, other in (("added", new, old), ("removed", old, new)):
        for key, (verbs, row) in this.items():
            missing = verbs - other.get(key, (set(), row))[0]
            if missing:
                ordered = tuple(v for v in _ordered_verbs(missing))
                out.append(
                    PermissionChange(
                        change,  # type: ignore[arg-type]
                        subject=key[0],
                        namespace=key[1],
                        resource=key[2],
                        names=key[3],
                        verbs=ordered if row.resolved else (),
                        flags=_flags(row, ordered),
                        via=tuple(" > ".join(path) for path in row.via),
                    )
                )
    return sorted(out, key=lambda p: (p.subject, p.namespace, p.resource, p.names, p.change))


def _ordered_verbs(verbs: set[str]) -> list[str]:
    return sorted(verbs, key=verb_sort_key)


def _flags(row: AccessRow, verbs: Sequence[str]) -> tuple[str, ...]:
    flags: list[str] = []
    if not row.resolved:
        roles = {path[-1] for path in row.via}
        if any(role.split(" ", 1)[-1] in ADMIN_ROLES for role in roles):
            flags.append("admin-role")
        flags.append("external-role")
    group, resource = row.api_group, row.resource or ""
    base = resource.partition("/")[0]
    if row.resolved and group in ("", "*") and base in ("secrets", "*"):
        flags.append("secrets")
    if "*" in verbs or "*" in resource or group == "*":
        flags.append("wildcard")
    if set(verbs) & {"escalate", "bind", "impersonate", "*"} and row.resolved:
        flags.append("escalation")
    if resource in POD_EXEC_SUBRESOURCES and set(verbs) & {"create", "get", "*"}:
        flags.append("pod-exec")
    if row.namespace == "*":
        flags.append("cluster-wide")
    return tuple(flags)


# --- hardening -----------------------------------------------------------------------------


_MODES = ("enforce", "audit", "warn")


def _admission(base: Side, head: Side, changed: Sequence[Key]) -> list[AdmissionChange]:
    """Pod Security modes of the Namespaces changed, and of those created below restricted,
    read as admission reads them (a missing ``warn`` follows ``enforce``); a deleted Namespace
    is an object deletion."""
    out: list[AdmissionChange] = []
    for key in changed:
        old, new = base.objects.get(key), head.objects.get(key)
        if new is None or new.kind != "Namespace" or new.api_version != "v1":
            continue
        after = namespace_policies([new])[new.name]
        before = namespace_policies([old])[old.name] if old is not None else None
        for mode in _MODES:
            was = None if before is None else getattr(before, mode)
            now = getattr(after, mode)
            weaker = _rank(now) < (_rank(was) if before is not None else len(LEVELS) - 1)
            if (was == now) if before is not None else not weaker:
                continue  # unchanged, or a new namespace at the restricted default
            shown = None if before is None else _mode_text(was)
            out.append(AdmissionChange(new.name, mode, shown, _mode_text(now), weaker))
    return out


def _mode_text(mode: Mode | None) -> str:
    if mode is None:
        return "unset"
    version = f" v{mode.version[0]}.{mode.version[1]}" if mode.version is not None else ""
    return f"{mode.level}{version}"


def _rank(mode: Mode | None) -> int:
    """privileged 0 < baseline 1 < restricted 2; unset is the cluster's default, privileged
    unless its admission configuration says otherwise."""
    return 0 if mode is None else LEVELS.index(mode.level)


def _exemptions(base: Side, head: Side, changed: Sequence[Key]) -> list[ExemptionChange]:
    out: list[ExemptionChange] = []
    for key in changed:
        old_obj, new_obj = base.objects.get(key), head.objects.get(key)
        resource = (new_obj or old_obj).display  # type: ignore[union-attr]
        old = {(e.kind, e.name, e.container): e.reason for e in _of(old_obj)}
        new = {(e.kind, e.name, e.container): e.reason for e in _of(new_obj)}
        for ident, reason in new.items():
            if ident not in old:
                out.append(ExemptionChange("added", resource, *ident, reason))
            elif old[ident] != reason:
                out.append(ExemptionChange("changed", resource, *ident, reason, old[ident]))
        for ident, reason in old.items():
            if ident not in new:
                out.append(ExemptionChange("removed", resource, *ident, reason))
    return out


def _of(obj: ManifestObject | None) -> list[Exemption]:
    return exemptions(obj) if obj is not None else []


def _finding_key(finding: Finding) -> tuple[str, tuple[str, str, str, str], str]:
    return (finding.rule_id, finding.object_key, finding.path)


def _findings(before: Report, after: Report) -> list[FindingChange]:
    old_open = {_finding_key(f) for f in before.findings if not f.waived}
    new_all = {_finding_key(f) for f in after.findings}
    seen: set[tuple[str, tuple[str, str, str, str], str]] = set()
    out: list[FindingChange] = []
    for finding in after.findings:
        key = _finding_key(finding)
        if not finding.waived and key not in old_open and key not in seen:
            seen.add(key)
            out.append(_finding_change("new", finding))
    for finding in before.findings:
        key = _finding_key(finding)
        if not finding.waived and key not in new_all and key not in seen:
            seen.add(key)
            out.append(_finding_change("fixed", finding))
    return out


def _finding_change(change: str, finding: Finding) -> FindingChange:
    return FindingChange(
        change,  # type: ignore[arg-type]
        rule_id=finding.rule_id,
        severity=str(finding.severity),
        resource=finding.resource,
        path=finding.path,
        message=finding.message,
        location=finding.location if change == "new" else "",
    )


# --- workloads -----------------------------------------------------------------------------


def _scalers(side: Side) -> dict[Key, str]:
    """The replicas ``side``'s HorizontalPodAutoscalers set, by target workload."""
    return autoscalers(o for o in side.objects.values() if o.kind == "HorizontalPodAutoscaler")


def _workloads(base: Side, head: Side, changed: Sequence[Key]) -> list[WorkloadChange]:
    out: list[WorkloadChange] = []
    old_scale, new_scale = _scalers(base), _scalers(head)
    seen = set(changed)
    rescaled = sorted(  # unchanged workloads whose autoscaler changed
        (key for key in old_scale.keys() | new_scale.keys()
         if old_scale.get(key) != new_scale.get(key) and key not in seen),
        key=_key_order,
    )
    for key in [*changed, *rescaled]:
        old, new = base.objects.get(key), head.objects.get(key)
        if old is None or new is None:
            continue
        warnings = [
            f"{field} is immutable: the API server refuses this update, so the sync fails until "
            f"{new.display} is deleted and recreated"
            + (" (kubectl delete --cascade=orphan keeps its pods)" if new.kind != "Job" else "")
            for field in immutable_changes(old, new)
        ]
        before = workload_facts(old, old_scale.get(key))
        after = workload_facts(new, new_scale.get(key))
        fields = _facts(before, after) if before is not None and after is not None else []
        if fields or warnings:
            out.append(WorkloadChange(new.display, tuple(fields), tuple(warnings)))
    return out


def _facts(before: WorkloadFacts, after: WorkloadFacts) -> list[FieldChange]:
    out = _diff(before.pod, after.pod, None)
    for name in _union(before.containers, after.containers):
        old, new = before.containers.get(name), after.containers.get(name)
        if old is None or new is None:
            image = (new or old or {}).get("image", "")
            out.append(
                FieldChange("container", name, None if old is None else image,
                            None if new is None else image)
            )
            continue
        out.extend(_diff(old, new, name))
    for name in _union(before.claims, after.claims):
        old_claim, new_claim = before.claims.get(name), after.claims.get(name)
        if old_claim != new_claim:
            out.append(FieldChange("volumeClaimTemplate", name, old_claim, new_claim))
    return out


def _union(a: Mapping[str, object], b: Mapping[str, object]) -> list[str]:
    return [*a, *(name for name in b if name not in a)]


def _diff(old: Mapping[str, str], new: Mapping[str, str], part: str | None) -> list[FieldChange]:
    return [
        FieldChange(name, part, old.get(name), new.get(name))
        for name in _union(old, new)
        if old.get(name) != new.get(name)
    ]
