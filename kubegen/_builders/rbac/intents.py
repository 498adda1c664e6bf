"""RBAC verbs on workloads: ``api.grant(Rule.read("configmaps"))`` gives its ServiceAccount access.

``grant`` records a :class:`~kubegen._relations.Grant` on the stack and turns the workload's token
on; it never edits another object. When the stack renders, ``derive_access`` turns the grants into
a Role and a RoleBinding per workload and namespace (see ``derive``). A workload that is never
granted anything mounts no token and is bound to nothing.

The least-privilege guards run here, on the line that asked for the access, so the error points
at it; ``allow={"<guard>": "<reason>"}`` opts out and is rendered on the derived objects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeAlias

from kubegen._builders.calls import checked
from kubegen._errors import ConflictError, KubegenError, ValidationError
from kubegen._origin import capture
from kubegen._relations import ApiAccess, Grant
from kubegen._values import InvalidValue, check_dns_label, check_dns_subdomain

# The RBAC builders (roles, refs, rules, guards) are imported by the functions below, on the
# first grant(): every workload class has this mixin, and a stack that grants nothing (most
# of them) should not pay for creating a dozen RBAC model classes at start-up.
if TYPE_CHECKING:
    from kubegen._builders.rbac.guards import Guard, Place
    from kubegen._builders.rbac.refs import RoleRef
    from kubegen._builders.rbac.roles import ClusterRole, Role
    from kubegen._builders.rbac.rules import Rule
    from kubegen._stack import Stack

    RoleTarget: TypeAlias = Role | ClusterRole | RoleRef

GRANT_HINT = "pass allow={{'{guard}': '<why>'}} to grant(…)"
MIN_TOKEN_SECONDS = 600  # the API server refuses shorter projected tokens
MAX_TOKEN_SECONDS = 2**32


class _GrantInvalid(InvalidValue):
    """An invalid argument of ``grant()``, with the argument's name."""

    def __init__(self, field: str, value: Any, cause: InvalidValue) -> None:
        super().__init__(cause.message, fix=cause.fix)
        self.field = field
        self.value = value


def _check_flag(value: object) -> None:
    if value is not True and value is not False:  # "yes", 1, None: not a decision
        raise InvalidValue("must be True or False", fix="cluster_wide=True (or leave it out)")


def _arg(field: str, value: Any, check: Any) -> None:
    try:
        check(value)
    except InvalidValue as exc:
        raise _GrantInvalid(field, value, exc) from None


class AccessIntents:
    """Mixin for workloads: ``grant`` records a Grant and turns token mounting on."""

    _api_access: ApiAccess | None

    if TYPE_CHECKING:
        name: str
        namespace: str | None

        @property
        def stack(self) -> Stack: ...

        @property
        def display(self) -> str: ...

    @checked
    def grant(
        self,
        *access: Rule | RoleTarget,
        namespace: str | None = None,
        purpose: str | None = None,
        cluster_wide: bool = False,
        allow: Mapping[str, str] | None = None,
        expiration_seconds: int | None = None,
        audience: str | None = None,
        name: str | None = None,
    ) -> Grant:
        """Let this workload's ServiceAccount do what ``access`` allows, and mount its token.

        ``api.grant(Rule.read("configmaps"))`` renders Role and RoleBinding ``api-access`` in the
        workload's namespace, bound to its ServiceAccount. Grants of one workload into one
        namespace (and purpose) merge into one Role, rules in author order without repeats.

        Args:
            access: :class:`Rule` objects, and/or roles to bind as they are (a ``Role``,
                ``ClusterRole`` or ``RoleRef``, e.g. ``RoleRef("view", external=True)``); a role
                gets its own binding, named ``<workload>-<role>``.
            namespace: grant inside another namespace (Role and RoleBinding go there; the subject
                stays this workload's ServiceAccount). Defaults to the workload's namespace.
            purpose: names the derived objects ``<workload>-<purpose>`` instead of
                ``<workload>-access``; grants of different purposes stay separate.
            cluster_wide: render a ClusterRole and ClusterRoleBinding (for cluster-scoped
                resources or non-resource URLs). Defaults to False.
            allow: least-privilege guards opted out, ``{guard id: reason}``; each reason is
                rendered as ``kubegen.dev/opt-out-rbac-<guard>`` on the derived objects.
            expiration_seconds: the lifetime of the workload's projected tokens, at least 600
                seconds. Defaults to the kubelet's 3607.
            audience: also mount a token for this audience (e.g. ``vault``), beside the API
                token, at ``/var/run/secrets/tokens/<audience>``.
            name: the name of the derived Role and binding (or of the binding of a granted
                role), to keep the names a migrated app had upstream; one grant then names
                one thing: its rules, or one role. Defaults to ``<workload>-<purpose>`` and
                ``<workload>-<role>`` (with the namespace in front outside the workload's).

        Returns:
            The recorded grant.
        """
        from kubegen._builders.rbac.guards import Place
        from kubegen._builders.rbac.rules import Rule

        origin = capture()
        stack = self.stack  # refuses a workload that was not added to a stack yet
        place = Place(self.display, origin, GRANT_HINT)
        try:
            options = _options(access, namespace, purpose, cluster_wide, allow or {}, name)
        except _GrantInvalid as exc:
            raise ValidationError(
                exc.message, fix=exc.fix, origin=origin, resource=self.display, field=exc.field,
                value=exc.value,
            ) from None
        rules = tuple(a for a in access if isinstance(a, Rule))
        _check_guards(rules, options, place)
        token = _merge_token(self._api_access, expiration_seconds, audience, place, api=True)
        grant = Grant(workload=self, rules=rules, namespace=namespace, origin=origin,  # type: ignore[arg-type]
                      options=options)
        stack.grants.append(grant)
        self._api_access = token
        return grant

    @checked
    def mount_token(
        self, audience: str, *, reason: str, expiration_seconds: int | None = None
    ) -> None:
        """Mount a service account token for ``audience`` without granting any RBAC.

        For a workload that proves its identity to something other than the API server (Vault's
        Kubernetes auth, a cloud's workload identity): the token is projected at
        ``/var/run/secrets/tokens/<audience>``, its pods get no API token, no Role, no route
        to the API server. A mounted credential is a weakened default, so it takes a reason,
        rendered as ``kubegen.dev/opt-out-service-account-token`` on the workload.

        Args:
            audience: who accepts the token (``vault``, ``sts.amazonaws.com``).
            reason: why the workload needs it.
            expiration_seconds: the tokens' lifetime (at least 600). Defaults to 3607.

        See https://kubernetes.io/docs/concepts/storage/projected-volumes/#serviceaccounttoken.
        """
        from kubegen._builders.rbac.guards import Place

        origin = capture()
        self.stack  # noqa: B018 - refuses a workload that was not added to a stack yet
        if not reason or not reason.strip():
            raise ValidationError(
                f"a token for {audience!r} without RBAC needs a reason", field="reason",
                value=reason, origin=origin, resource=self.display,
                fix=f"say why the workload needs it: mount_token({audience!r}, reason='…')",
            )
        place = Place(self.display, origin, GRANT_HINT)
        token = _merge_token(self._api_access, expiration_seconds, audience, place, api=False)
        known = dict(token.reasons)
        known.setdefault(audience, reason.strip())
        self._api_access = replace(token, reasons=tuple(known.items()))


def _options(
    access: tuple[Any, ...],
    namespace: str | None,
    purpose: str | None,
    cluster_wide: bool,
    allow: Mapping[str, str],
    name: str | None = None,
) -> dict[str, Any]:
    from kubegen._builders.rbac.guards import check_allow
    from kubegen._builders.rbac.rules import Rule

    if name is not None:
        _arg("name", name, lambda n: _check_name(n, access, purpose))
    _arg("cluster_wide", cluster_wide, _check_flag)
    _arg("access", access, _check_access(cluster_wide))
    if cluster_wide and namespace is not None:
        raise _GrantInvalid("namespace", namespace, InvalidValue(
            "cluster_wide=True grants in every namespace; namespace= contradicts it",
            fix="pass one of namespace= and cluster_wide=True",
        ))
    if namespace is not None:
        _arg("namespace", namespace, check_dns_label)
    if purpose is not None:
        _arg("purpose", purpose, check_dns_label)
    rules = [a for a in access if isinstance(a, Rule)]
    if not cluster_wide:
        for i, rule in enumerate(rules):
            _arg(f"rules[{i}]", rule, lambda r, i=i: _namespaced(i, r))
    _arg("allow", allow, check_allow)
    return {
        "roles": tuple(a for a in access if not isinstance(a, Rule)),
        "name": name,
        "purpose": purpose,
        "cluster_wide": cluster_wide,
        "allow": check_allow(allow),
    }


def _check_name(name: str, access: tuple[Any, ...], purpose: str | None) -> None:
    from kubegen._builders.rbac.rules import Rule

    check_dns_subdomain(name)
    if purpose is not None:
        raise InvalidValue("name= and purpose= both name the derived objects",
                           fix="pass one of them")
    roles = [a for a in access if not isinstance(a, Rule)]
    if len(roles) + (len(roles) < len(access)) > 1:
        raise InvalidValue(
            "name= names one Role and its binding, but this grant derives several (rules "
            "and/or more than one role)",
            fix="grant each role (and the rules) in a call of its own, each with its name=",
        )


def _check_access(cluster_wide: bool) -> Any:
    from kubegen._builders.rbac.refs import RoleRef
    from kubegen._builders.rbac.roles import ClusterRole, Role
    from kubegen._builders.rbac.rules import Rule

    def check(access: tuple[Any, ...]) -> None:
        if not access:
            raise InvalidValue(
                "grant() needs at least one Rule or role",
                fix="e.g. api.grant(Rule.read('configmaps'))",
            )
        for item in access:
            if not isinstance(item, Rule | Role | ClusterRole | RoleRef):
                raise InvalidValue(
                    f"{item!r} is neither a Rule nor a role",
                    fix="pass Rule(...), Rule.read(...), a Role/ClusterRole or RoleRef(...)",
                )
            if cluster_wide and (isinstance(item, Role | RoleRef) and item.kind == "Role"):
                raise InvalidValue(
                    f"a Role cannot be granted cluster-wide ({item.name})",
                    fix="drop cluster_wide=True, or grant a ClusterRole",
                )

    return check


def _namespaced(i: int, rule: Rule) -> None:
    from kubegen._builders.rbac.roles import check_namespaced_rule

    try:
        check_namespaced_rule(i, rule)
    except InvalidValue as exc:
        raise InvalidValue(exc.message, fix="pass cluster_wide=True to grant() (a ClusterRole "
                           "and ClusterRoleBinding), or drop the rule") from None


def _check_guards(rules: tuple[Rule, ...], options: dict[str, Any], place: Place) -> None:
    from kubegen._builders.rbac.guards import (
        BINDING_GUARDS,
        RULE_GUARDS,
        binding_findings,
        enforce,
        rule_findings,
    )
    from kubegen._builders.rbac.refs import RoleRef

    findings = rule_findings([rule.as_dict() for rule in rules])
    for role in options["roles"]:
        ref = role.as_dict() if isinstance(role, RoleRef) else {"kind": role.kind,
                                                                 "name": role.name}
        findings += binding_findings({"roleRef": ref})
    # cluster-scope of a cluster-wide grant is decided by the stack, which sees all roles.
    decided: tuple[Guard, ...] = RULE_GUARDS + BINDING_GUARDS
    if not options["cluster_wide"]:
        decided += ("cluster-scope",)
    enforce(findings, options["allow"], place, decided=decided)


def _merge_token(
    current: ApiAccess | None,
    expiration: int | None,
    audience: str | None,
    place: Place,
    *,
    api: bool,
) -> ApiAccess:
    """Combine the token options of every grant of one workload: one lifetime for all its
    tokens (they must agree), the API token once granted, each audience once."""
    error: KubegenError | None = None
    old = current or ApiAccess()
    if expiration is not None and not MIN_TOKEN_SECONDS <= expiration <= MAX_TOKEN_SECONDS:
        error = ValidationError(
            "a projected token lives at least 600 seconds (10 minutes)",
            fix="pass expiration_seconds=3600 (or more)", field="expiration_seconds",
            value=expiration,
        )
    elif audience is not None and not _audience_ok(audience):
        error = ValidationError(
            "a token audience is a non-empty word", fix="e.g. audience='vault'",
            field="audience", value=audience,
        )
    elif expiration is not None and old.expiration_seconds not in (None, expiration):
        error = ConflictError(
            f"an earlier grant set expiration_seconds={old.expiration_seconds!r}; the tokens "
            "of one workload share one lifetime",
            fix="pass the same expiration_seconds to every grant (or only to the first)",
            field="expiration_seconds", value=expiration,
        )
    elif audience is not None and audience not in old.audiences:
        clash = [a for a in old.audiences if token_file(a) == token_file(audience)]
        if clash:
            error = ConflictError(
                f"audiences {clash[0]!r} and {audience!r} would share the token file "
                f"{token_file(audience)!r}", fix="use one spelling of the audience",
                field="audience", value=audience,
            )
    if error is not None:
        raise error.located(origin=place.origin, resource=place.resource)
    audiences = old.audiences
    if audience is not None and audience not in audiences:
        audiences = (*audiences, audience)
    return replace(
        old,
        api=old.api or api,
        expiration_seconds=expiration if expiration is not None else old.expiration_seconds,
        audiences=audiences,
    )


def _audience_ok(audience: str) -> bool:
    return bool(audience.strip()) and not any(c.isspace() for c in audience) and bool(
        token_file(audience))


def token_file(audience: str) -> str:
    """The file name of an audience's token: ``vault``; ``https://vault.acme.dev`` →
    ``https-vault.acme.dev`` (characters other than letters, digits, ``.``, ``_``, ``-``
    become ``-``; no leading dots)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", audience).strip("-").lstrip(".")
