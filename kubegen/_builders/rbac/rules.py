"""``Rule``: one RBAC policy rule, validated the way the API server and the authorizer read it.

A rule either names API resources (``apiGroups`` × ``resources`` [× ``resourceNames``]) or
non-resource URLs (``/healthz``), never both. Verbs are checked against the verbs Kubernetes
authorizes, resources against the ``resource[/subresource]`` form the authorizer matches, so a
typo fails the render instead of granting nothing at run time.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any, Required, TypedDict, Unpack

from pydantic import ConfigDict, ValidationInfo, field_validator, model_validator

from kubegen._builders.base import Builder
from kubegen._builders.rbac.catalog import (
    BUILTIN_GROUPS,
    NON_RESOURCE_VERBS,
    READ_VERBS,
    RESOURCE_VERBS,
    WRITE_VERBS,
    groups_of,
    is_api_group,
    is_resource_part,
    misspelled_resource,
    plural_of,
)
from kubegen._values import InvalidValue

_UNLIMITED_BY_NAME = ("create", "deletecollection")


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _group_text(group: str) -> str:
    return '"" (core)' if group == "" else repr(group)


class RuleArgs(TypedDict, total=False):
    api_groups: list[str] | tuple[str, ...]
    resources: list[str] | tuple[str, ...]
    resource_names: list[str] | tuple[str, ...]
    non_resource_urls: list[str] | tuple[str, ...]
    verbs: Required[list[str] | tuple[str, ...]]


class Rule(Builder):
    """One RBAC policy rule: which verbs on which resources (or non-resource URLs).

    ``Rule(resources=["configmaps"], verbs=["get", "list", "watch"])``, or with the presets
    ``Rule.read("configmaps")`` and
    ``Rule.read_write("leases", api_groups=["coordination.k8s.io"])``.
    Lists keep author order; repeated entries are dropped. Rules are immutable and compare by value.

    Args:
        verbs: what may be done: ``get list watch create update patch delete deletecollection``
            and the special ``use bind escalate impersonate approve sign attest``; HTTP verbs
            (``get post put patch delete head options``) for non-resource URLs. ``*`` is guarded.
        resources: lowercase plural resources, optionally with a subresource (``pods/log``).
            ``*`` (all) and ``*/scale`` (a subresource of every resource) are guarded wildcards.
        api_groups: groups of ``resources``. Defaults to ``[""]``, the core group (pods,
            configmaps, secrets…); ``deployments`` need ``["apps"]``. Empty for URL rules.
        resource_names: limit the rule to objects with these exact names. Defaults to all.
        non_resource_urls: paths such as ``/healthz`` or ``/metrics`` (a trailing ``*`` matches a
            prefix); only a ClusterRole can hold such rules.

    See https://kubernetes.io/docs/reference/access-authn-authz/rbac/#role-and-clusterrole.
    """

    model_config = ConfigDict(frozen=True)

    api_groups: tuple[str, ...]
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()
    verbs: tuple[str, ...]

    def __init__(self, /, **data: Unpack[RuleArgs]) -> None:
        super().__init__(**data)

    @classmethod
    def read(
        cls, *resources: str, api_groups: Sequence[str] = ("",), resource_names: Sequence[str] = ()
    ) -> Rule:
        """``get``, ``list`` and ``watch`` on ``resources`` (in the core group by default)."""
        return cls(
            api_groups=tuple(api_groups),
            resources=resources,
            resource_names=tuple(resource_names),
            verbs=READ_VERBS,
        )

    @classmethod
    def read_write(
        cls, *resources: str, api_groups: Sequence[str] = ("",), resource_names: Sequence[str] = ()
    ) -> Rule:
        """``read`` plus ``create``, ``update``, ``patch`` and ``delete``.

        With ``resource_names`` this is refused: ``create`` cannot be limited by name; use
        ``Rule(..., verbs=[...])`` for the named objects and a second rule for ``create``.
        """
        return cls(
            api_groups=tuple(api_groups),
            resources=resources,
            resource_names=tuple(resource_names),
            verbs=READ_VERBS + WRITE_VERBS,
        )

    @model_validator(mode="before")
    @classmethod
    def _default_groups(cls, data: Any) -> Any:
        if isinstance(data, dict) and "api_groups" not in data:
            data = dict(data)
            data["api_groups"] = () if data.get("non_resource_urls") else ("",)
        return data

    @field_validator("api_groups")
    @classmethod
    def _check_groups(cls, groups: tuple[str, ...]) -> tuple[str, ...]:
        for group in groups:
            if group == "*" or (is_api_group(group) and group not in ("core", "v1")):
                continue
            base = group.split("/")[0]
            suggestion = "" if base in ("core", "v1") else base
            raise InvalidValue(
                f"{group!r} is not an API group: a group is '' (the core group), '*', or a DNS "
                "name such as 'apps' or 'networking.k8s.io', without a version",
                fix=f"use api_groups=[{suggestion!r}]",
            )
        return _unique(groups)

    @field_validator("resources")
    @classmethod
    def _check_resources(cls, resources: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        for resource in resources:
            _check_resource(resource)
        groups = info.data.get("api_groups") or ()
        for resource in resources:
            _check_builtin_name(resource, groups)
            _check_group_serves(resource, groups)
        return _unique(resources)

    @field_validator("resource_names")
    @classmethod
    def _check_names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            if name == "*":
                raise InvalidValue(
                    "resource_names match exact object names; '*' is not a wildcard there",
                    fix="leave resource_names empty to allow every name",
                )
            if not name or "/" in name or name in (".", ".."):
                raise InvalidValue(
                    f"{name!r} is not an object name", fix="use the object's metadata.name"
                )
        return _unique(names)

    @field_validator("non_resource_urls")
    @classmethod
    def _check_urls(cls, urls: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        for url in urls:
            if url != "*" and (not url.startswith("/") or "*" in url[:-1]):
                raise InvalidValue(
                    f"{url!r} is not a non-resource URL: it must start with '/' and may end in "
                    "'*' to match a prefix",
                    fix="use a path such as '/healthz' or '/metrics'",
                )
        if urls and (info.data.get("resources") or info.data.get("api_groups")):
            raise InvalidValue(
                "a rule names either resources or non-resource URLs, not both",
                fix="split it into two Rules",
            )
        if urls and info.data.get("resource_names"):
            raise InvalidValue(
                "resource_names do not apply to non-resource URLs", fix="drop resource_names"
            )
        return _unique(urls)

    @field_validator("verbs")
    @classmethod
    def _check_verbs(cls, verbs: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        if not verbs:
            raise InvalidValue("a rule needs at least one verb", fix="e.g. verbs=['get']")
        url_rule = bool(info.data.get("non_resource_urls"))
        allowed = NON_RESOURCE_VERBS if url_rule else RESOURCE_VERBS
        for verb in verbs:
            if verb != "*" and verb not in allowed:
                raise InvalidValue(_unknown_verb(verb, url_rule), fix=_verb_fix(verb, allowed))
        limited = set(verbs) & set(_UNLIMITED_BY_NAME)
        if info.data.get("resource_names") and limited:
            raise InvalidValue(
                f"{', '.join(sorted(limited))} cannot be limited by resource_names (the name is "
                "not known when the request is authorized), so this rule would never allow it",
                fix="move these verbs into a second Rule without resource_names",
            )
        return _unique(verbs)

    @model_validator(mode="after")
    def _needs_target(self) -> Rule:
        if not self.resources and not self.non_resource_urls:
            raise InvalidValue(
                "a rule needs resources=[…] or non_resource_urls=[…]",
                fix="e.g. Rule.read('configmaps')",
            )
        if self.resources and not self.api_groups:
            raise InvalidValue(
                "a rule on resources needs api_groups", fix="use api_groups=[''] for the core group"
            )
        return self

    def __eq__(self, other: object) -> bool:
        """Rules are equal when they grant the same (where they were written does not count)."""
        return isinstance(other, Rule) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[tuple[str, ...], ...]:
        return (
            self.api_groups, self.resources, self.resource_names, self.non_resource_urls,
            self.verbs,
        )

    @property
    def is_url_rule(self) -> bool:
        """True for a rule on non-resource URLs (``/healthz``), which only ClusterRoles hold."""
        return bool(self.non_resource_urls)

    def as_dict(self) -> dict[str, Any]:
        """The rule as Kubernetes writes it: ``apiGroups, resources, resourceNames, verbs``."""
        if self.is_url_rule:
            return {"nonResourceURLs": list(self.non_resource_urls), "verbs": list(self.verbs)}
        body: dict[str, Any] = {
            "apiGroups": list(self.api_groups),
            "resources": list(self.resources),
        }
        if self.resource_names:
            body["resourceNames"] = list(self.resource_names)
        body["verbs"] = list(self.verbs)
        return body


def _check_resource(resource: str) -> None:
    base, slash, sub = resource.partition("/")
    if resource == "*" or (base == "*" and slash and is_resource_part(sub)):
        return
    if base != "*" and sub == "*":
        raise InvalidValue(
            f"{resource!r} matches nothing: RBAC has no subresource wildcard after a resource "
            "(only '*/<subresource>' or '*')",
            fix=f"list the subresources, e.g. '{base}/log', '{base}/status'",
        )
    parts_ok = is_resource_part(base) and (not slash or is_resource_part(sub))
    if not parts_ok or sub.count("/"):
        raise InvalidValue(
            f"{resource!r} is not a resource name: use the lowercase plural resource, optionally "
            "with one subresource (`pods/log`)",
            fix=f"use {plural_of(base)!r}"
            + (f" or '{plural_of(base)}/{sub.lower()}'" if sub else ""),
        )


def _check_builtin_name(resource: str, groups: Iterable[str]) -> None:
    """Refuse a singular or short name of a built-in resource: the authorizer matches only
    the plural, so ``Rule.read("secret")`` would grant nothing (and slip past the guards).

    Rules of custom API groups only are left alone: a custom resource may be named anything.
    """
    if not any(group in BUILTIN_GROUPS or group == "*" for group in groups):
        return
    base, slash, sub = resource.partition("/")
    meant = misspelled_resource(base)
    if meant is not None:
        shown = f"{meant}/{sub}" if slash else meant
        raise InvalidValue(
            f"{resource!r} is not a resource name: RBAC matches the lowercase plural resource "
            f"only, so this rule would grant nothing; did you mean {shown!r}?",
            fix=f"use {shown!r}",
        )


def _check_group_serves(resource: str, groups: Iterable[str]) -> None:
    base = resource.partition("/")[0]
    served = groups_of(base)
    if base == "*" or not served:
        return
    for group in groups:
        if group in BUILTIN_GROUPS and group not in served:
            where = " or ".join(_group_text(g) for g in served)
            raise InvalidValue(
                f"{base!r} is served by API group {where}, not {_group_text(group)}",
                fix=f"use api_groups=[{served[0]!r}] (one Rule per group)",
            )


def _unknown_verb(verb: str, url_rule: bool) -> str:
    kind = "non-resource URL" if url_rule else "RBAC"
    return f"{verb!r} is not a {kind} verb"


_HTTP_TO_RBAC = {"post": "create", "put": "update", "head": "get", "options": "get"}
# Words people write for a set of verbs, and what to write instead.
_VERB_WORDS: dict[str, str] = {
    "read": "verbs=['get', 'list', 'watch'], which is what Rule.read(...) grants",
    "view": "verbs=['get', 'list', 'watch'], which is what Rule.read(...) grants",
    "write": "verbs=['create', 'update', 'patch', 'delete'] (Rule.read_write(...) grants "
    "these with get, list and watch)",
    "readwrite": "Rule.read_write(...): get, list, watch, create, update, patch, delete",
    "read-write": "Rule.read_write(...): get, list, watch, create, update, patch, delete",
    "edit": "verbs=['update', 'patch']",
    "modify": "verbs=['update', 'patch']",
    "remove": "verbs=['delete']",
}


def _verb_fix(verb: str, allowed: Sequence[str]) -> str:
    valid = f"valid verbs: {', '.join(allowed)}"
    word = verb.lower()
    if word in _VERB_WORDS and "list" in allowed:
        return f"use {_VERB_WORDS[word]}; {valid}"
    close = difflib.get_close_matches(word, allowed, n=1)
    if word in _HTTP_TO_RBAC and "create" in allowed:
        close = [_HTTP_TO_RBAC[word]]
    if word in ("read", "view") and "get" in allowed:
        close = ["get"]
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}{valid}"
