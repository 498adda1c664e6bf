"""Who may do what, read from rendered RBAC objects (plain manifests, not builders).

:class:`RoleIndex` finds the rules of a Role or ClusterRole in a set of manifests, expanding
aggregated ClusterRoles the way the aggregation controller does (rules of every other ClusterRole
whose labels match a selector, by name order, transitively). :func:`access_rows` turns bindings
into one row per subject × namespace × resource × resourceNames, with the verbs allowed and the
binding → role path that allows them. ``kubegen access`` prints these rows; the stack checks use
the index to see whether a ClusterRole grants only namespaced resources.

A RoleBinding grants only inside its namespace: the rules of its role that name cluster-scoped
resources or non-resource URLs become rows marked ``granted=False`` (never listed as granted),
and rules on ``namespaces`` grant only reading or changing the binding's own namespace, by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubegen._builders.rbac.catalog import (
    NAMESPACE_OBJECT_VERBS,
    RBAC_GROUP,
    scope_of,
    verb_sort_key,
)

ALL_NAMESPACES = "*"
_SUBJECT_ORDER = {"ServiceAccount": 0, "User": 1, "Group": 2}
AGGREGATE_LABEL_PREFIX = f"{RBAC_GROUP}/aggregate-to-"


def _strs(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else []


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _rbac(body: Mapping[str, Any], *kinds: str) -> bool:
    api_version = str(body.get("apiVersion", ""))
    return api_version.rpartition("/")[0] == RBAC_GROUP and body.get("kind") in kinds


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A label selector (``matchLabels`` and ``matchExpressions``) against ``labels``."""
    for key, value in _dict(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        label, op = str(_dict(expr).get("key")), str(_dict(expr).get("operator"))
        values = _strs(_dict(expr).get("values"))
        present = label in labels
        ok = {
            "In": present and labels.get(label) in values,
            "NotIn": not present or labels.get(label) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(op, False)
        if not ok:
            return False
    return True  # an empty selector matches everything, as in Kubernetes


@dataclass(frozen=True, slots=True)
class SourcedRule:
    """A rule and the chain of roles it came through (``("ClusterRole a", "ClusterRole b")``)."""

    rule: Mapping[str, Any]
    path: tuple[str, ...]


class RoleIndex:
    """The Roles and ClusterRoles of a set of manifests, by name, aggregation expanded."""

    def __init__(self, bodies: Iterable[Mapping[str, Any]]) -> None:
        self._cluster: dict[str, Mapping[str, Any]] = {}
        self._roles: dict[tuple[str, str], Mapping[str, Any]] = {}
        for body in bodies:
            meta = _dict(body.get("metadata"))
            name = str(meta.get("name", ""))
            if _rbac(body, "ClusterRole"):
                self._cluster[name] = body
            elif _rbac(body, "Role"):
                self._roles[(str(meta.get("namespace") or ""), name)] = body

    def find(self, kind: str, name: str, namespace: str | None) -> Mapping[str, Any] | None:
        """The role's manifest, or None when the set does not hold it."""
        if kind == "ClusterRole":
            return self._cluster.get(name)
        return self._roles.get((namespace or "", name))

    def rules(self, kind: str, name: str, namespace: str | None) -> list[SourcedRule] | None:
        """The role's effective rules (aggregated ClusterRoles expanded), None if unknown."""
        body = self.find(kind, name, namespace)
        if body is None:
            return None
        if kind == "ClusterRole":
            return self._cluster_rules(name, frozenset())
        return [SourcedRule(_dict(r), (f"Role {name}",)) for r in body.get("rules") or []]

    def _cluster_rules(self, name: str, seen: frozenset[str]) -> list[SourcedRule]:
        body = self._cluster[name]
        here = f"ClusterRole {name}"
        own = [SourcedRule(_dict(r), (here,)) for r in body.get("rules") or []]
        aggregation = _dict(body.get("aggregationRule"))
        selectors = [_dict(s) for s in aggregation.get("clusterRoleSelectors") or []]
        if not selectors:
            return own
        out: list[SourcedRule] = []
        for other in sorted(self._cluster):
            if other == name or other in seen:
                continue
            labels = {str(k): str(v) for k, v in _dict(
                _dict(self._cluster[other].get("metadata")).get("labels")).items()}
            if any(selector_matches(s, labels) for s in selectors):
                for item in self._cluster_rules(other, seen | {name}):
                    out.append(SourcedRule(item.rule, (here, *item.path)))
        return out

    def is_aggregated(self, name: str) -> bool:
        """True when the ClusterRole ``name`` has an aggregationRule."""
        body = self._cluster.get(name)
        return body is not None and bool(_dict(body.get("aggregationRule")))


def namespaced_only(rules: Iterable[Mapping[str, Any]]) -> bool:
    """True when every rule names only resources kubegen knows to be namespaced.

    Non-resource URLs, wildcards, cluster-scoped and unknown (custom) resources make it False:
    then a cluster-wide grant may be needed, or kubegen cannot tell.
    """
    seen = False
    for rule in rules:
        if rule.get("nonResourceURLs"):
            return False
        for group in _strs(rule.get("apiGroups")):
            for resource in _strs(rule.get("resources")):
                seen = True
                if scope_of(group, resource) != "namespaced":
                    return False
    return seen


@dataclass(frozen=True, slots=True)
class Subject:
    """Who is granted: ``ServiceAccount shop/api``, ``User jane``, ``Group devs``."""

    kind: str
    name: str
    namespace: str | None = None

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"

    def sort_key(self) -> tuple[int, str, str]:
        return (_SUBJECT_ORDER.get(self.kind, 3), self.namespace or "", self.name)


@dataclass(frozen=True, slots=True)
class AccessRow:
    """``subject`` may do ``verbs`` on ``resource`` (``names`` only, if any) in ``namespace``.

    ``namespace`` is ``*`` for a ClusterRoleBinding. ``api_group`` is None and ``resource`` holds
    the path for a non-resource URL. ``resolved`` is False when the role is not in the manifests
    (an external role): then ``resource`` is None and ``verbs`` empty. ``via`` lists each
    binding → role path that grants the row. ``granted`` is False for what the role names but
    the binding cannot grant (a RoleBinding's cluster-scoped resources and URLs).
    """

    subject: Subject
    namespace: str
    api_group: str | None
    resource: str | None
    names: tuple[str, ...]
    verbs: tuple[str, ...]
    via: tuple[tuple[str, ...], ...]
    resolved: bool = True
    granted: bool = True

    def sort_key(self) -> tuple[Any, ...]:
        return (
            not self.granted,
            self.subject.sort_key(),
            self.namespace,
            self.api_group is None,
            self.api_group or "",
            self.resource or "",
            self.names,
            self.via,
        )


@dataclass(slots=True)
class _Cell:
    verbs: set[str] = field(default_factory=set)
    via: set[tuple[str, ...]] = field(default_factory=set)


# (subject, namespace, api group, resource, names, resolved, granted)
_CellKey = tuple[Subject, str, str | None, str | None, tuple[str, ...], bool, bool]


def access_rows(bodies: Sequence[Mapping[str, Any]]) -> list[AccessRow]:
    """Every grant the bindings in ``bodies`` make, one row per distinct target, sorted."""
    index = RoleIndex(bodies)
    cells: dict[_CellKey, _Cell] = {}
    for body in bodies:
        if _rbac(body, "RoleBinding", "ClusterRoleBinding"):
            _add_binding(body, index, cells)
    rows = [
        AccessRow(
            subject=key[0], namespace=key[1], api_group=key[2], resource=key[3], names=key[4],
            verbs=tuple(sorted(cell.verbs, key=verb_sort_key)),
            via=tuple(sorted(cell.via)), resolved=key[5], granted=key[6],
        )
        for key, cell in cells.items()
    ]
    return sorted(rows, key=AccessRow.sort_key)


def _add_binding(
    body: Mapping[str, Any], index: RoleIndex, cells: dict[_CellKey, _Cell]
) -> None:
    meta = _dict(body.get("metadata"))
    cluster_wide = body.get("kind") == "ClusterRoleBinding"
    namespace = ALL_NAMESPACES if cluster_wide else str(meta.get("namespace") or "")
    ref = _dict(body.get("roleRef"))
    kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
    binding = f"{body.get('kind')} {meta.get('name')}"
    rules = index.rules(kind, name, None if cluster_wide else namespace)
    subjects = [_subject(_dict(s), namespace) for s in body.get("subjects") or []]
    for subject in subjects:
        if rules is None:
            key: _CellKey = (subject, namespace, None, None, (), False, True)
            cells.setdefault(key, _Cell()).via.add((binding, f"{kind} {name}"))
            continue
        for sourced in rules:
            verbs = _strs(sourced.rule.get("verbs"))
            for group, resource, names in _targets(sourced.rule):
                parts = [(names, verbs, True)]
                if not cluster_wide:
                    parts = _in_namespace(group, resource, names, verbs, namespace)
                for shown, allowed, granted in parts:
                    cell_key = (subject, namespace, group, resource, shown, True, granted)
                    cell = cells.setdefault(cell_key, _Cell())
                    cell.verbs.update(allowed)
                    cell.via.add((binding, *sourced.path))


def _in_namespace(
    group: str | None, resource: str | None, names: tuple[str, ...], verbs: list[str],
    namespace: str,
) -> list[tuple[tuple[str, ...], list[str], bool]]:
    """What a RoleBinding in ``namespace`` makes of one target: (names, verbs, granted) parts."""
    if group is None or resource is None:  # a non-resource URL
        return [(names, verbs, False)]
    if scope_of(group, resource) != "cluster":
        return [(names, verbs, True)]
    if group != "" or resource.partition("/")[0] != "namespaces":
        return [(names, verbs, False)]
    own = [v for v in verbs if v in NAMESPACE_OBJECT_VERBS or v == "*"]
    own = list(NAMESPACE_OBJECT_VERBS) if "*" in own else own
    others = [v for v in verbs if v not in NAMESPACE_OBJECT_VERBS and v != "*"]
    parts: list[tuple[tuple[str, ...], list[str], bool]] = []
    if own:
        if not names or namespace in names:
            parts.append(((namespace,), own, True))
        foreign = tuple(name for name in names if name != namespace)
        if foreign:
            parts.append((foreign, own, False))
    if others:
        parts.append((names, others, False))
    return parts


def not_granted_reason(row: AccessRow) -> str:
    """Why a RoleBinding cannot grant a ``granted=False`` row."""
    if row.api_group is None:
        return "a non-resource URL: only a ClusterRoleBinding grants it"
    if row.api_group == "" and (row.resource or "").partition("/")[0] == "namespaces":
        if row.names and row.namespace not in row.names:
            return f"a RoleBinding grants only its own namespace, {row.namespace}"
        return (f"a RoleBinding grants only {', '.join(NAMESPACE_OBJECT_VERBS)} of its own "
                "namespace")
    return "cluster-scoped: a RoleBinding grants only inside its namespace"


def _subject(subject: Mapping[str, Any], binding_namespace: str) -> Subject:
    kind = str(subject.get("kind", ""))
    namespace = subject.get("namespace")
    if kind == "ServiceAccount" and not namespace and binding_namespace != ALL_NAMESPACES:
        namespace = binding_namespace
    return Subject(kind, str(subject.get("name", "")), str(namespace) if namespace else None)


def _targets(rule: Mapping[str, Any]) -> Iterable[tuple[str | None, str | None, tuple[str, ...]]]:
    names = tuple(_strs(rule.get("resourceNames")))
    for url in _strs(rule.get("nonResourceURLs")):
        yield (None, url, ())
    for group in _strs(rule.get("apiGroups")):
        for resource in _strs(rule.get("resources")):
            yield (group, resource, names)


def service_accounts(bodies: Iterable[Mapping[str, Any]]) -> list[Subject]:
    """The ServiceAccounts defined in ``bodies``, sorted."""
    found = {
        Subject("ServiceAccount", str(meta.get("name", "")), str(meta.get("namespace") or None))
        for body in bodies
        if body.get("kind") == "ServiceAccount" and body.get("apiVersion") == "v1"
        for meta in [_dict(body.get("metadata"))]
    }
    return sorted(found, key=Subject.sort_key)
