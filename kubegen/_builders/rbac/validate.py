"""RBAC checks that need the whole stack, run by ``derive_access`` before anything is emitted.

1. References: every binding's role and ServiceAccount subjects must be defined by the stack
   (builders, raw ``Manifest`` objects, or — for ServiceAccounts — the account a workload runs
   as), unless the reference is marked ``external=True``; a reference marked external that the
   stack does define is an error too, so the marker stays true.
2. Tokens: a binding whose subject is the ServiceAccount of a workload that was never granted
   anything is refused: such pods mount no token, and the workload must not hold permissions.
3. Raw ``Manifest`` Roles and bindings pass the same least-privilege guards as builders; they
   opt out with the annotation ``kubegen.dev/opt-out-rbac-<guard>``. ``Vendored`` objects are
   upstream's as they are: they only count as defined for references, and are linted.
4. ``cluster-scope``: a ClusterRoleBinding whose (aggregated) rules name only namespaced
   resources, and a ClusterRole of namespaced rules that only RoleBindings of a single namespace
   use, are refused unless allowed: a namespaced grant would do.
5. ``out-of-namespace``, the other way round: a RoleBinding whose role (aggregation expanded)
   names cluster-scoped resources, non-resource URLs, or namespaces beyond its own, and a raw
   Role that does, are refused unless allowed: the binding can never grant those, so the
   grant would silently be less than it says (``grant(ClusterRole(...))`` of nodes without
   ``cluster_wide=True``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from kubegen._analysis.access import (
    AGGREGATE_LABEL_PREFIX,
    RoleIndex,
    namespaced_only,
)
from kubegen._builders.base import Resource
from kubegen._builders.core import Manifest
from kubegen._builders.rbac.accounts import ServiceAccount
from kubegen._builders.rbac.bindings import RoleBinding, Subject, _Binding
from kubegen._builders.rbac.catalog import (
    NAMESPACED_ONLY_BUILTIN_ROLES,
    RBAC_GROUP,
    OutOfScope,
    out_of_namespace,
)
from kubegen._builders.rbac.guards import (
    BINDING_GUARDS,
    RULE_GUARDS,
    Finding,
    Guard,
    Place,
    allowed_by_annotations,
    binding_findings,
    enforce,
    rule_findings,
)
from kubegen._builders.rbac.refs import ServiceAccountRef
from kubegen._builders.rbac.roles import ClusterRole, Role, _RuleSet
from kubegen._builders.workloads.base import Workload
from kubegen._errors import ConflictError

if TYPE_CHECKING:
    from kubegen._stack import Stack

_RAW_HINT = "add the annotation {annotation}: '<why>' to its metadata"
_RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")


@dataclass(slots=True)
class _Inventory:
    """What the stack defines, by identity."""

    roles: set[tuple[str, str, str]] = field(default_factory=set)  # (kind, namespace, name)
    accounts: set[tuple[str, str]] = field(default_factory=set)  # (namespace, name)
    workloads: dict[tuple[str, str], list[Workload]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Item:
    """An RBAC object of the stack as the guards see it."""

    body: Mapping[str, Any]
    allowed: Mapping[str, str]
    place: Place
    derived: bool


def check_stack(stack: Stack, derived: Sequence[Resource]) -> None:
    """Raise the first reference, token or least-privilege error of the stack's RBAC."""
    resources = [*stack, *derived]
    raw = [(res, body) for res in stack if isinstance(res, Manifest)
           for body in (res.manifests()[0].body,) if not _is_rbac(body) or _well_formed(body)]
    # Vendored sources define roles and accounts a binding may name; their own RBAC is linted
    # (KG401-KG406, reported per source), not refused: it is upstream's, as it is.
    vendored = [body for res in stack if getattr(res, "is_vendored", False)
                for body in res.bodies()]  # type: ignore[attr-defined]
    inventory = _inventory(resources, [body for _, body in raw] + vendored)
    for res in resources:
        if isinstance(res, _Binding):
            _check_role(res, inventory, stack)
            for j, subject in enumerate(res.subjects):
                _check_subject(res, j, subject, inventory, stack)
    items = [_raw_item(res, body) for res, body in raw if _is_rbac(body)]
    for item in items:
        _check_raw(item)
    derived_ids = {id(res) for res in derived}
    items += [
        _Item(res.manifests()[0].body, res.allow, res.place(), id(res) in derived_ids)
        for res in resources
        if isinstance(res, _Binding | _RuleSet)
    ]
    index = RoleIndex(i.body for i in items)
    _check_cluster_scope(items, index)
    _check_out_of_namespace(items, index)


_RULE_LISTS = ("apiGroups", "resources", "resourceNames", "nonResourceURLs", "verbs")


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _well_formed(body: Mapping[str, Any]) -> bool:
    """Whether a raw RBAC object has the API's shapes (lists of strings, maps) the guards
    read. A malformed one (hostile YAML: ``rules: 1.5``) is left out of them: the schema
    check (KG001) refuses it, with its field, when the stack is linted."""
    if body.get("kind") in ("Role", "ClusterRole"):
        rules = body.get("rules") or []
        return isinstance(rules, list) and all(
            isinstance(rule, Mapping) and all(_strings(rule.get(key) or []) for key in _RULE_LISTS)
            for rule in rules)
    subjects = body.get("subjects") or []
    return isinstance(body.get("roleRef") or {}, Mapping) and isinstance(subjects, list) and all(
        isinstance(subject, Mapping) for subject in subjects)


def _is_rbac(body: Mapping[str, Any]) -> bool:
    group = str(body.get("apiVersion", "")).rpartition("/")[0]
    return group == RBAC_GROUP and body.get("kind") in _RBAC_KINDS


def _meta(body: Mapping[str, Any]) -> tuple[str, str]:
    meta = body.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name", ""))


def _inventory(resources: Iterable[Resource], raw: Iterable[Mapping[str, Any]]) -> _Inventory:
    inv = _Inventory()
    for res in resources:
        if isinstance(res, Role):
            inv.roles.add(("Role", res.namespace or "", res.name))
        elif isinstance(res, ClusterRole):
            inv.roles.add(("ClusterRole", "", res.name))
        elif isinstance(res, ServiceAccount):
            inv.accounts.add((res.namespace or "", res.name))
        elif isinstance(res, Workload):
            key = (res.namespace or "", res.service_account_name)
            inv.accounts.add(key)
            inv.workloads.setdefault(key, []).append(res)
    for body in raw:
        namespace, name = _meta(body)
        if _is_rbac(body) and body.get("kind") in ("Role", "ClusterRole"):
            kind = str(body["kind"])
            inv.roles.add((kind, namespace if kind == "Role" else "", name))
        elif body.get("apiVersion") == "v1" and body.get("kind") == "ServiceAccount":
            inv.accounts.add((namespace, name))
    return inv


def _conflict(binding: _Binding, message: str, fix: str, field: str, value: Any) -> ConflictError:
    return ConflictError(
        message, fix=fix, origin=binding.origin, resource=binding.display, field=field, value=value
    )


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(set(known)), n=1, cutoff=0.5)
    return f"did you mean {close[0]!r}? " if close else ""


def _check_role(binding: _Binding, inv: _Inventory, stack: Stack) -> None:
    role = binding.role
    if isinstance(role, Role | ClusterRole):
        if role._stack is not stack:
            raise _conflict(
                binding, f"binds {role.kind} {role.name}, which was never added to the stack",
                "add it with stack.add(...), or bind a role that exists outside the stack with "
                "RoleRef(name, external=True)", "role", role.name,
            )
        local = isinstance(binding, RoleBinding) and isinstance(role, Role)
        if local and role.namespace != binding.namespace:
            raise _conflict(
                binding, f"binds Role {role.namespace}/{role.name}, but a RoleBinding can "
                f"only reference a Role of its own namespace ({binding.namespace})",
                "create the RoleBinding in the Role's namespace, or bind a ClusterRole",
                "role", role.name,
            )
        return
    namespace = (binding.namespace or "") if role.kind == "Role" else ""
    defined = (role.kind, namespace, role.name) in inv.roles
    where = f" in namespace {namespace}" if namespace else ""
    if role.external and defined:
        raise _conflict(
            binding, f"marks {role.kind} {role.name} as external, but the stack defines it",
            "drop external=True (or pass the role's builder) so the reference is checked",
            "role", role.name,
        )
    if not role.external and not defined:
        known = [n for k, ns, n in inv.roles if k == role.kind and ns == namespace]
        raise _conflict(
            binding, f"binds {role.kind} {role.name}, which the stack does not define{where}",
            f"{_suggest(role.name, known)}define it in the stack, or mark it as existing outside "
            f"the stack: RoleRef({role.name!r}, kind={role.kind!r}, external=True)",
            "role", role.name,
        )


def _check_subject(
    binding: _Binding, j: int, subject: Subject, inv: _Inventory, stack: Stack
) -> None:
    where = f"subjects[{j}]"
    if isinstance(subject, ServiceAccount):
        if subject._stack is not stack:
            raise _conflict(
                binding, f"binds ServiceAccount {subject.name}, which was never added to the stack",
                "add it with stack.add(...)", where, subject.name,
            )
        key = (subject.namespace or "", subject.name)
    elif isinstance(subject, ServiceAccountRef):
        namespace = subject.namespace or binding.subject_namespace()
        if not namespace:
            raise _conflict(
                binding, f"ServiceAccount {subject.name} has no namespace",
                "pass ServiceAccountRef(name, namespace='…'), or give the Stack a namespace",
                where, subject.name,
            )
        key = (namespace, subject.name)
        _check_account_ref(binding, where, subject, key, inv)
    else:
        return
    _check_token(binding, where, key, inv)


def _check_account_ref(
    binding: _Binding, where: str, ref: ServiceAccountRef, key: tuple[str, str], inv: _Inventory
) -> None:
    defined = key in inv.accounts
    shown = f"{key[0]}/{key[1]}"
    if ref.external and defined:
        raise _conflict(
            binding, f"marks ServiceAccount {shown} as external, but the stack defines it",
            "drop external=True so the reference is checked", where, ref.name,
        )
    if not ref.external and not defined:
        known = [n for ns, n in inv.accounts if ns == key[0]]
        raise _conflict(
            binding, f"binds ServiceAccount {shown}, which the stack does not define",
            f"{_suggest(ref.name, known)}add ServiceAccount({ref.name!r}), or mark it as existing "
            f"outside the stack: ServiceAccountRef({ref.name!r}, namespace={key[0]!r}, "
            "external=True)",
            where, ref.name,
        )


def _check_token(binding: _Binding, where: str, key: tuple[str, str], inv: _Inventory) -> None:
    for workload in inv.workloads.get(key, []):
        access = workload.api_access
        automount = getattr(workload, "allow_token_automount", None) is not None
        if (access is None or not access.api) and not automount:
            raise _conflict(
                binding, f"binds ServiceAccount {key[0]}/{key[1]}, which {workload.display} "
                "runs as without any grant: its pods mount no API token and must hold no "
                "permissions",
                f"grant through the workload ({workload.name}.grant(...) binds and mounts the "
                f"token), give {workload.name} a ServiceAccount of its own, or (a workload "
                "migrated as it is) pass it allow_token_automount='why'",
                where, key[1],
            )


def _raw_item(res: Resource, body: Mapping[str, Any]) -> _Item:
    place = Place(res.display, res.origin, _RAW_HINT, snake=False)
    return _Item(body, allowed_by_annotations(body.get("metadata") or {}), place, False)


def _check_raw(item: _Item) -> None:
    body = item.body
    decided: tuple[Guard, ...] = RULE_GUARDS + BINDING_GUARDS
    if body.get("kind") in ("Role", "ClusterRole"):
        rules = [r for r in body.get("rules") or [] if isinstance(r, Mapping)]
        findings = rule_findings(rules)
        if body.get("kind") == "Role":
            findings += _role_out_of_namespace(rules)
            decided += ("out-of-namespace",)
    else:
        findings = binding_findings(body)
    enforce(findings, item.allowed, item.place, decided=decided)


def _role_out_of_namespace(rules: Sequence[Mapping[str, Any]]) -> list[Finding]:
    for i, rule in enumerate(rules):
        parts = out_of_namespace(rule)
        if parts:
            return [Finding(
                "out-of-namespace", f"rules[{i}]", rule,
                f"names {_listed(parts)}, which a Role can never grant: it grants only inside "
                "its namespace",
                "make it a ClusterRole bound by a ClusterRoleBinding, or drop those rules",
            )]
    return []


def _listed(parts: Sequence[OutOfScope]) -> str:
    return ", ".join(dict.fromkeys(part.describe() for part in parts))


def _check_out_of_namespace(items: Sequence[_Item], index: RoleIndex) -> None:
    """RoleBindings whose role names what a RoleBinding cannot grant."""
    for item in items:
        if item.body.get("kind") != "RoleBinding":
            continue
        finding = _binding_out_of_namespace(item.body, index)
        if finding is not None and item.derived:  # grant(role) without cluster_wide=True
            finding = replace(
                finding, field="cluster_wide", value=False,
                fix="pass cluster_wide=True to grant() (a ClusterRoleBinding grants them), or "
                "grant a role without those rules",
            )
        decided: tuple[Guard, ...] = () if item.derived else ("out-of-namespace",)
        enforce([finding] if finding else [], item.allowed, item.place, decided=decided)


def _binding_out_of_namespace(body: Mapping[str, Any], index: RoleIndex) -> Finding | None:
    namespace, _ = _meta(body)
    ref = body.get("roleRef") or {}
    kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
    if kind != "ClusterRole":  # a Role's own rules are checked where the Role is
        return None
    rules = index.rules(kind, name, namespace)
    parts = [part for sourced in rules or [] for part in out_of_namespace(sourced.rule)]
    if not parts:
        return None
    return Finding(
        "out-of-namespace", "roleRef.name", name,
        f"binds ClusterRole {name} in namespace {namespace}, but its rules name "
        f"{_listed(parts)}, which a RoleBinding can never grant: it grants only inside its "
        "namespace",
        "bind it with a ClusterRoleBinding for cluster-wide access, or bind a ClusterRole "
        "without those rules",
    )


def _check_cluster_scope(items: Sequence[_Item], index: RoleIndex) -> None:
    bound_cluster_wide: set[str] = set()
    bound_in: dict[str, set[str]] = {}
    for item in items:
        ref = item.body.get("roleRef") or {}
        if item.body.get("kind") == "ClusterRoleBinding":
            bound_cluster_wide.add(str(ref.get("name")))
        elif item.body.get("kind") == "RoleBinding" and ref.get("kind") == "ClusterRole":
            bound_in.setdefault(str(ref.get("name")), set()).add(_meta(item.body)[0])
    for item in items:
        kind = item.body.get("kind")
        if kind == "ClusterRoleBinding":
            finding = _binding_scope(item.body, index)
            if finding is not None and item.derived:  # the author wrote grant(cluster_wide=True)
                finding = replace(finding, field="cluster_wide", value=True)
        elif kind == "ClusterRole":
            finding = _role_scope(item.body, bound_cluster_wide, bound_in)
        else:
            continue
        # A grant's allow may serve several derived objects: only unmet findings are errors.
        decided: tuple[Guard, ...] = () if item.derived else ("cluster-scope",)
        enforce([finding] if finding else [], item.allowed, item.place, decided=decided)


def _binding_scope(body: Mapping[str, Any], index: RoleIndex) -> Finding | None:
    name = str((body.get("roleRef") or {}).get("name", ""))
    rules = index.rules("ClusterRole", name, None)
    if rules is None:
        narrow = name in NAMESPACED_ONLY_BUILTIN_ROLES
    else:
        narrow = namespaced_only(r.rule for r in rules)
    if not narrow:
        return None
    return Finding(
        "cluster-scope", "roleRef.name", name,
        f"grants ClusterRole {name} in every namespace, but its rules name only namespaced "
        "resources",
        "bind it with a RoleBinding in each namespace that needs it (grant(namespace=…))",
    )


def _role_scope(
    body: Mapping[str, Any], cluster_wide: set[str], bound_in: Mapping[str, set[str]]
) -> Finding | None:
    _, name = _meta(body)
    labels = (body.get("metadata") or {}).get("labels") or {}
    if body.get("aggregationRule") or any(
        str(k).startswith(AGGREGATE_LABEL_PREFIX) for k in labels
    ):
        return None
    rules = [r for r in body.get("rules") or [] if isinstance(r, Mapping)]
    namespaces = bound_in.get(name, set())
    if name in cluster_wide or len(namespaces) != 1 or not namespaced_only(rules):
        return None
    (namespace,) = namespaces
    return Finding(
        "cluster-scope", "kind", "ClusterRole",
        f"only RoleBindings in namespace {namespace} use it and its rules name only namespaced "
        f"resources, so a Role in {namespace} would do",
        f"make it a Role in namespace {namespace}",
    )
