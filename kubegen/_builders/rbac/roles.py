"""``Role`` and ``ClusterRole``: sets of rules, checked by the least-privilege guards.

A Role grants inside its namespace; a ClusterRole is either bound per namespace by RoleBindings
(reuse across namespaces), bound cluster-wide by a ClusterRoleBinding, or assembled from other
ClusterRoles by label (``aggregate_from``). The guards run when the role is built and again when
it is rendered; ``allow={"<guard>": "<reason>"}`` opts out, rendered as
``kubegen.dev/opt-out-rbac-<guard>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Unpack

from pydantic import ValidationInfo, field_validator, model_validator

from kubegen._builders.base import ResourceArgs
from kubegen._builders.rbac.catalog import NAMESPACE_OBJECT_VERBS, out_of_namespace
from kubegen._builders.rbac.guarded import Guarded
from kubegen._builders.rbac.guards import (
    GUARDS,
    Guard,
    enforce,
    rule_findings,
)
from kubegen._builders.rbac.rules import Rule
from kubegen._manifests import ManifestObject
from kubegen._values import InvalidValue, LabelMap


class RuleSetArgs(ResourceArgs, total=False):
    rules: Sequence[Rule]
    allow: Mapping[str, str]


class _RuleSet(Guarded):
    """What Role and ClusterRole share: rules, opt-outs, guard checks, rendering."""

    def __init__(self, name: str, /, **data: Any) -> None:  # keeps the positional name typed
        super().__init__(name, **data)



    rules: tuple[Rule, ...] = ()


    def rule_dicts(self) -> list[dict[str, Any]]:
        """The rules as Kubernetes writes them."""
        return [rule.as_dict() for rule in self.rules]

    def check_guards(self) -> None:
        """Raise for a guarded rule not allowed, or an ``allow`` entry nothing needs."""
        decided = [g for g in GUARDS if g not in self._stack_guards]
        enforce(rule_findings(self.rule_dicts()), self.allow, self.place(), decided=decided)

    def _body(self) -> dict[str, Any]:
        return {"rules": self.rule_dicts()}

    def manifests(self) -> list[ManifestObject]:
        """One object; guards are checked again, in case fields changed after construction."""
        self.check_guards()
        for guard, reason in self.allow.items():
            self.opt_out(f"rbac-{guard}", reason)
        body: dict[str, Any] = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(),
        }
        body.update(self._body())
        return [self.manifest(body)]


class Role(_RuleSet):
    """Rules that apply inside one namespace (the stack's, unless ``namespace`` is given).

    ``Role("config-reader", rules=[Rule.read("configmaps")])``.

    Args:
        name: DNS-1123 subdomain.
        rules: at least one :class:`Rule`; rules on non-resource URLs or on cluster-scoped
            resources (nodes, persistentvolumes…) are refused, since a Role cannot grant them.
        allow: least-privilege guards opted out, ``{guard id: reason}``; see ``guards``.
            Defaults to none.

    See https://kubernetes.io/docs/reference/access-authn-authz/rbac/#role-example.
    """

    kind: ClassVar[str] = "Role"

    def __init__(self, name: str, /, **data: Unpack[RuleSetArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("rules")
    @classmethod
    def _namespaced_rules(cls, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        for i, rule in enumerate(rules):
            check_namespaced_rule(i, rule)
        return rules

    @model_validator(mode="after")
    def _has_rules(self) -> Role:
        if not self.rules:
            raise InvalidValue(
                "a Role needs at least one rule", fix="e.g. rules=[Rule.read('configmaps')]"
            )
        return self


def check_namespaced_rule(i: int, rule: Rule) -> None:
    """Refuse, in a Role, what only a ClusterRole (bound cluster-wide) can grant."""
    fix = "use a ClusterRole bound by a ClusterRoleBinding for cluster-wide access"
    parts = out_of_namespace(rule.as_dict())
    if not parts:
        return
    first = parts[0]
    if first.kind == "url":
        raise InvalidValue(
            f"rules[{i}] names non-resource URLs, which only a ClusterRole can grant", fix=fix
        )
    if first.kind == "namespaces":
        raise InvalidValue(
            f"rules[{i}] grants {first.describe()}, but a Role grants only "
            f"{', '.join(NAMESPACE_OBJECT_VERBS)} of its own namespace (listing, watching and "
            "creating namespaces are cluster-wide requests)",
            fix=f"keep verbs={list(NAMESPACE_OBJECT_VERBS[:1])} to read this namespace, or "
            + fix,
        )
    cluster = list(dict.fromkeys(p.resource for p in parts if p.kind == "cluster"))
    raise InvalidValue(
        f"rules[{i}] names cluster-scoped {', '.join(cluster)}, which a Role cannot grant "
        "(it grants only inside its namespace)",
        fix=fix,
    )


class ClusterRoleArgs(RuleSetArgs, total=False):
    aggregate_from: Sequence[Mapping[str, str]]


class ClusterRole(_RuleSet):
    """Rules without a namespace: bound per namespace by RoleBindings, or cluster-wide.

    Args:
        name: DNS-1123 subdomain.
        rules: the rules. Must be empty when ``aggregate_from`` is set (the controller fills them).
        aggregate_from: label selectors (``matchLabels``); every ClusterRole whose labels match
            one of them contributes its rules (``aggregationRule.clusterRoleSelectors``).
            Defaults to none.
        allow: least-privilege guards opted out, ``{guard id: reason}``; ``cluster-scope`` is
            decided by the stack, which sees how the role is bound. Defaults to none.

    See https://kubernetes.io/docs/reference/access-authn-authz/rbac/#aggregated-clusterroles.
    """

    kind: ClassVar[str] = "ClusterRole"
    cluster_scoped: ClassVar[bool] = True
    _stack_guards: ClassVar[tuple[Guard, ...]] = ("cluster-scope",)

    aggregate_from: tuple[LabelMap, ...] = ()

    def __init__(self, name: str, /, **data: Unpack[ClusterRoleArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("aggregate_from")
    @classmethod
    def _selectors(
        cls, selectors: tuple[dict[str, str], ...], info: ValidationInfo
    ) -> tuple[dict[str, str], ...]:
        if any(not labels for labels in selectors):
            raise InvalidValue(
                "an empty selector matches every ClusterRole, cluster-admin included",
                fix="select by a label, e.g. {'rbac.example.com/aggregate-to-monitoring': 'true'}",
            )
        if selectors and info.data.get("rules"):
            raise InvalidValue(
                "an aggregated ClusterRole gets its rules from the roles it selects; rules "
                "written here would be overwritten by the controller",
                fix="move the rules into a ClusterRole that carries the selected label",
            )
        return selectors

    @model_validator(mode="after")
    def _has_rules(self) -> ClusterRole:
        if not self.rules and not self.aggregate_from:
            raise InvalidValue(
                "a ClusterRole needs rules or aggregate_from",
                fix="e.g. rules=[Rule.read('configmaps')]",
            )
        return self

    def _body(self) -> dict[str, Any]:
        if not self.aggregate_from:
            return super()._body()
        selectors = [{"matchLabels": dict(sorted(m.items()))} for m in self.aggregate_from]
        # No `rules` key: the aggregation controller owns it, and GitOps tools must not fight it.
        return {"aggregationRule": {"clusterRoleSelectors": selectors}}
