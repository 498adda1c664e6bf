"""Objects the RBAC layer derives from a Stack's grants: Roles and RoleBindings.

Per workload and target namespace (and ``purpose``), the rules of every grant merge into one Role
``<workload>-access`` (``<workload>-<purpose>``), in author order without repeats, bound by a
RoleBinding of the same name to the workload's own ServiceAccount. In another namespace the names
gain the workload's namespace (``shop-api-access``) so two stacks' workloads never collide there.
A granted role gets its own binding ``<workload>-<role>``. Names are readable, never hashed.

Before anything is emitted, :func:`~kubegen._builders.rbac.validate.check_stack` checks every
binding of the stack, the derived ones included, against what the stack defines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubegen._builders.base import Resource
from kubegen._builders.rbac.bindings import ClusterRoleBinding, RoleBinding
from kubegen._builders.rbac.catalog import ADMIN_ROLES
from kubegen._builders.rbac.guards import RULE_GUARDS
from kubegen._builders.rbac.intents import GRANT_HINT
from kubegen._builders.rbac.refs import RoleRef, ServiceAccountRef
from kubegen._builders.rbac.roles import ClusterRole, Role
from kubegen._builders.rbac.rules import Rule
from kubegen._builders.rbac.validate import check_stack
from kubegen._errors import KubegenError, ValidationError
from kubegen._manifests import ManifestObject
from kubegen._relations import Grant
from kubegen._values import InvalidValue, check_dns_subdomain

if TYPE_CHECKING:
    from kubegen._builders.workloads.base import Workload
    from kubegen._stack import Stack

DEFAULT_PURPOSE = "access"


def derive_access(stack: Stack) -> list[ManifestObject]:
    """Role + RoleBinding per workload and namespace granted to; checks every binding first."""
    derived = derived_objects(stack)
    check_stack(stack, derived)
    return [obj for res in derived for obj in res.manifests()]


@dataclass(slots=True)
class _Plan:
    """What one derived Role (or binding to a given role) collects from its grants."""

    grant: Grant
    target: str | None  # namespace of the objects; None when cluster-wide
    suffix: str
    role: Role | ClusterRole | RoleRef | None = None
    name: str | None = None  # chosen with grant(name=); else derived from suffix
    rules: list[Rule] = field(default_factory=list)
    allow: dict[str, str] = field(default_factory=dict)

    def add(self, grant: Grant) -> None:
        for rule in grant.rules:
            if rule not in self.rules:
                self.rules.append(rule)
        for guard, reason in grant.options.get("allow", {}).items():
            known = self.allow.get(guard)
            if known is None:
                self.allow[guard] = reason
            elif reason not in known.split("; "):
                self.allow[guard] = f"{known}; {reason}"


def derived_objects(stack: Stack) -> list[Resource]:
    """The Roles and bindings the grants of ``stack`` stand for, in grant order."""
    plans: dict[tuple[Any, ...], _Plan] = {}
    for grant in stack.grants:
        target = _target(grant)
        cluster = bool(grant.options.get("cluster_wide"))
        name = grant.options.get("name")
        if grant.rules:
            purpose = grant.options.get("purpose") or DEFAULT_PURPOSE
            key = ("rules", id(grant.workload), target, name or purpose, cluster, name)
            plans.setdefault(key, _Plan(grant, target, purpose, name=name)).add(grant)
        for role in grant.options.get("roles", ()):
            key = ("role", id(grant.workload), target, _role_key(role), cluster, name)
            plan = plans.setdefault(key, _Plan(grant, target, _slug(role.name), role=role,
                                               name=name))
            plan.add(grant)
    out: list[Resource] = []
    for plan in plans.values():
        try:
            out.extend(_objects(stack, plan))
        except KubegenError as exc:  # point at the grant, not at the render call
            exc.origin, exc.resource = plan.grant.origin, plan.grant.workload.display
            raise
    return out


def _target(grant: Grant) -> str | None:
    workload = grant.workload
    if workload.namespace is None:
        raise ValidationError(
            "has no namespace, so its ServiceAccount cannot be bound",
            fix="give the Stack a namespace, or the workload namespace='…'",
            origin=grant.origin,
            resource=workload.display,
        )
    if grant.options.get("cluster_wide"):
        return None
    return grant.namespace or workload.namespace


def _role_key(role: Role | ClusterRole | RoleRef) -> tuple[str, str | None, str]:
    if isinstance(role, RoleRef):
        return (role.kind, None, role.name)
    return (role.kind, role.namespace, role.name)


def _slug(name: str) -> str:
    """A role name as a name part: ``system:auth-delegator`` → ``system-auth-delegator``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def derived_name(workload: Workload, target: str | None, suffix: str) -> str:
    """``api-access`` at home; ``shop-api-access`` in another namespace or cluster-wide."""
    home = target is not None and target == workload.namespace
    return f"{workload.name}-{suffix}" if home else f"{workload.namespace}-{workload.name}-{suffix}"


def _objects(stack: Stack, plan: _Plan) -> list[Resource]:
    grant = plan.grant
    workload = grant.workload
    name = plan.name or derived_name(workload, plan.target, plan.suffix)
    try:
        check_dns_subdomain(name)
    except InvalidValue as exc:
        raise ValidationError(
            f"the derived name {name!r} is invalid: {exc.message}",
            fix="pass a shorter purpose= to grant(), or grant a role with a shorter role name",
            origin=grant.origin,
            resource=workload.display,
        ) from None
    cluster = plan.target is None
    rule_allow, bind_allow = _split_allow(plan, cluster)
    labels = workload.selector_labels()
    out: list[Resource] = []
    role = plan.role
    if role is None:
        role_cls = ClusterRole if cluster else Role
        role = role_cls(name, namespace=plan.target, rules=plan.rules,
                        allow=rule_allow, labels=labels)
        out.append(role)
    subject = ServiceAccountRef(workload.service_account_name,
                                namespace=workload.namespace)
    binding_cls = ClusterRoleBinding if cluster else RoleBinding
    out.append(binding_cls(name, namespace=plan.target, role=role,
                           subjects=[subject], allow=bind_allow, labels=labels))
    for obj in out:
        obj.attach(stack)
        obj._origin = grant.origin
        obj._hint = GRANT_HINT  # type: ignore[attr-defined]
    return out


def _split_allow(plan: _Plan, cluster: bool) -> tuple[dict[str, str], dict[str, str]]:
    """Route a grant's opt-outs to the object each one concerns (role or binding)."""
    rule_allow: dict[str, str] = {g: r for g, r in plan.allow.items() if g in RULE_GUARDS}
    wanted = {"cluster-scope"} if cluster else {"out-of-namespace"}
    role = plan.role
    if role is not None and role.kind == "ClusterRole" and role.name in ADMIN_ROLES:
        wanted.add("admin-role")
    bind_allow = {g: r for g, r in plan.allow.items() if g in wanted}
    return ({} if plan.role is not None else rule_allow), bind_allow
