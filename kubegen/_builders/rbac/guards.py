"""Least-privilege guards: grants that are errors unless opted out with a reason.

Each guard has an id. Builders take ``allow={"<id>": "<reason>"}``; the reason is rendered as
the annotation ``kubegen.dev/opt-out-rbac-<id>`` on the object, so the weakening shows in review.
Objects given as raw ``Manifest`` data are checked too and opt out with that annotation.

The guards read rules and bindings in their Kubernetes shape (dicts), so builders, grants and
raw manifests share one implementation. A wildcard is reported by ``wildcard`` alone: the other
guards look at resources and verbs the rule *names* (a ``*`` verb counts as every verb).

==================  ========================================================================
``wildcard``        ``*`` in verbs, resources (also ``*/scale``), apiGroups or nonResourceURLs
``admin-role``      a binding to the built-in ClusterRoles ``cluster-admin``, ``admin``, ``edit``
``escalation-verbs``  the verbs ``escalate``, ``bind``, ``impersonate``
``pod-exec``        ``create`` or ``get`` (websocket exec) on pods/exec, attach, portforward
``secrets-read``    ``get``/``list``/``watch`` on secrets without ``resourceNames``
``cluster-scope``   a ClusterRoleBinding whose rules name only namespaced resources; a ClusterRole
                    of only namespaced rules that RoleBindings of one namespace alone use
``public-subject``  the subjects ``system:anonymous``, ``system:unauthenticated``,
                    ``system:authenticated``
``out-of-namespace``  a RoleBinding (or raw Role) whose rules name cluster-scoped resources,
                    non-resource URLs, or namespaces beyond reading or changing its own: it can
                    never grant them (decided by the stack, which sees the bound role's rules)
==================  ========================================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from kubegen._builders.base import OPT_OUT_PREFIX
from kubegen._builders.rbac.catalog import (
    ADMIN_ROLES,
    POD_EXEC_SUBRESOURCES,
    PUBLIC_SUBJECTS,
)
from kubegen._errors import ValidationError
from kubegen._origin import Origin
from kubegen._values import InvalidValue

Guard = Literal[
    "wildcard",
    "admin-role",
    "escalation-verbs",
    "pod-exec",
    "secrets-read",
    "cluster-scope",
    "public-subject",
    "out-of-namespace",
]
GUARDS: tuple[Guard, ...] = get_args(Guard)
RULE_GUARDS: tuple[Guard, ...] = ("wildcard", "escalation-verbs", "pod-exec", "secrets-read")
BINDING_GUARDS: tuple[Guard, ...] = ("admin-role", "public-subject")
ANNOTATION_PREFIX = OPT_OUT_PREFIX + "rbac-"

_ESCALATION_VERBS = ("escalate", "bind", "impersonate")
_CORE = ("", "*")

# Builder field names, for errors about objects the user built with keyword arguments.
SNAKE_FIELDS = {
    "apiGroups": "api_groups",
    "resourceNames": "resource_names",
    "nonResourceURLs": "non_resource_urls",
    "roleRef": "role",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One guarded grant: which guard, where in the object (field, value), why, and what instead."""

    guard: Guard
    field: str
    value: Any
    message: str
    fix: str


def annotation_for(guard: str) -> str:
    """``kubegen.dev/opt-out-rbac-<guard>``: where the reason of an opt-out is rendered."""
    return ANNOTATION_PREFIX + guard


def check_allow(allow: Mapping[str, str]) -> dict[str, str]:
    """Validate an ``allow={guard: reason}`` map: known guard ids, non-blank reasons."""
    for guard, reason in allow.items():
        if guard not in GUARDS:
            raise InvalidValue(
                f"{guard!r} is not a guard id", fix=f"use one of: {', '.join(GUARDS)}"
            )
        if not reason.strip():
            raise InvalidValue(
                f"allowing {guard!r} needs a reason", fix=f"allow={{{guard!r}: 'why it is needed'}}"
            )
    return {guard: reason.strip() for guard, reason in allow.items()}


def allowed_by_annotations(metadata: Mapping[str, Any]) -> dict[str, str]:
    """The opt-outs a raw manifest carries as ``kubegen.dev/opt-out-rbac-<guard>`` annotations."""
    notes = metadata.get("annotations") or {}
    if not isinstance(notes, Mapping):
        return {}
    return {
        key[len(ANNOTATION_PREFIX):]: str(value)
        for key, value in notes.items()
        if isinstance(key, str) and key.startswith(ANNOTATION_PREFIX) and str(value).strip()
    }


def _strs(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else []


def rule_findings(rules: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """Findings of the rule guards (wildcard, escalation, pod exec, secrets) over ``rules``."""
    found: list[Finding] = []
    for i, rule in enumerate(rules):
        found.extend(_wildcards(i, rule))
        found.extend(_named(i, rule))
    return found


def _wildcards(i: int, rule: Mapping[str, Any]) -> Iterable[Finding]:
    meaning = {
        "verbs": "every verb, including escalate, bind and impersonate",
        "resources": "every resource (or every resource's subresource), including secrets",
        "apiGroups": "every API group, including ones installed later",
        "nonResourceURLs": "every non-resource URL of the API server",
    }
    for key, what in meaning.items():
        values = _strs(rule.get(key))
        if any("*" in v and not (key == "nonResourceURLs" and v != "*") for v in values):
            yield Finding(
                "wildcard",
                f"rules[{i}].{key}",
                values,
                f"'*' grants {what}",
                f"list exactly the {key} the subject needs",
            )


def _named(i: int, rule: Mapping[str, Any]) -> Iterable[Finding]:
    verbs = set(_strs(rule.get("verbs")))
    resources = _strs(rule.get("resources"))
    core = bool(set(_strs(rule.get("apiGroups"))) & set(_CORE))
    escalation = [v for v in _strs(rule.get("verbs")) if v in _ESCALATION_VERBS]
    if escalation:
        yield Finding(
            "escalation-verbs",
            f"rules[{i}].verbs",
            escalation,
            f"{', '.join(escalation)}: the subject could grant itself more than it has, or act "
            "as another identity",
            "drop these verbs; only controllers that manage RBAC need them",
        )
    exec_like = [r for r in resources if r in POD_EXEC_SUBRESOURCES]
    if core and exec_like and verbs & {"create", "get", "*"}:
        yield Finding(
            "pod-exec",
            f"rules[{i}].resources",
            exec_like,
            f"{', '.join(exec_like)}: a shell or a tunnel into running containers "
            "(create, or get over websockets)",
            "read logs with Rule.read('pods/log') instead, or run the task as a Job",
        )
    reads = verbs & {"get", "list", "watch", "*"}
    if core and "secrets" in resources and reads and not _strs(rule.get("resourceNames")):
        yield Finding(
            "secrets-read",
            f"rules[{i}].resourceNames",
            [],
            "reads every Secret in scope, not just the ones the subject needs",
            "name the Secrets: resource_names=['db-credentials']",
        )


def binding_findings(body: Mapping[str, Any]) -> list[Finding]:
    """Findings of the binding guards (admin roles, public subjects) over a binding's body."""
    found: list[Finding] = []
    ref = body.get("roleRef")
    ref = ref if isinstance(ref, Mapping) else {}
    if ref.get("kind") == "ClusterRole" and ref.get("name") in ADMIN_ROLES:
        found.append(
            Finding(
                "admin-role",
                "roleRef.name",
                ref.get("name"),
                f"the built-in ClusterRole {ref.get('name')!r} grants broad power "
                "(edit and admin include secrets, pods/exec and more)",
                "bind a Role with the rules the subject needs (Rule.read(...) …)",
            )
        )
    subjects = body.get("subjects") if isinstance(body.get("subjects"), list) else []
    for j, subject in enumerate(subjects or []):
        name = subject.get("name") if isinstance(subject, Mapping) else None
        if name in PUBLIC_SUBJECTS:
            found.append(
                Finding(
                    "public-subject",
                    f"subjects[{j}].name",
                    name,
                    f"{name!r} stands for every caller"
                    + (" that presents any credential" if name.endswith("authenticated") else ""),
                    "bind the ServiceAccounts, users or groups that need access",
                )
            )
    return found


@dataclass(frozen=True, slots=True)
class Place:
    """Where an object was built and how its author opts out, for error messages."""

    resource: str
    origin: Origin | None
    how: str  # "pass allow={{'{guard}': '<why>'}} to Role(…)"; may use {annotation} too
    snake: bool = True  # the author used builder keywords (api_groups), not manifest keys


def enforce(
    findings: Iterable[Finding],
    allowed: Mapping[str, str],
    place: Place,
    *,
    decided: Iterable[Guard] = GUARDS,
) -> None:
    """Raise for the first finding not allowed, then for an allowance no finding needed.

    ``decided`` names the guards whose findings are complete at this point; an ``allow`` entry for
    one of them that matches nothing is an error too, so opt-out annotations never go stale.
    """
    found = list(findings)
    for finding in found:
        if finding.guard not in allowed:
            raise _error(finding, place)
    used = {f.guard for f in found}
    for guard in decided:
        if guard in allowed and guard not in used:
            raise ValidationError(
                f"allow={{{guard!r}: …}} is not needed: nothing here trips the {guard!r} guard",
                fix="remove it, so the opt-out annotation says only what is true",
                origin=place.origin,
                resource=place.resource,
                field="allow",
                value={guard: allowed[guard]},
            )


def _error(finding: Finding, place: Place) -> ValidationError:
    field = finding.field
    if place.snake:
        for camel, snake in SNAKE_FIELDS.items():
            field = field.replace(camel, snake)
        field = field.replace("role.name", "role")
    note = annotation_for(finding.guard)
    opt_out = place.how.format(guard=finding.guard, annotation=note)
    if "{annotation}" not in place.how:
        opt_out += f" (rendered as annotation {note})"
    return ValidationError(
        f"{finding.message} (least-privilege guard {finding.guard!r})",
        fix=f"{finding.fix}; if it is really needed, {opt_out}",
        origin=place.origin,
        resource=place.resource,
        field=field,
        value=finding.value,
    )
