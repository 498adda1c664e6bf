"""``RoleBinding`` and ``ClusterRoleBinding``: who gets a role, where.

A RoleBinding grants a Role (or a ClusterRole's rules) inside its own namespace; a
ClusterRoleBinding grants a ClusterRole everywhere. The role and the subjects are references that
the stack checks when it is rendered (see ``validate``); the binding guards (admin roles, public
subjects) run when the binding is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Required, Unpack

from pydantic import field_validator, model_validator

from kubegen._builders.base import ResourceArgs
from kubegen._builders.rbac.accounts import ServiceAccount
from kubegen._builders.rbac.catalog import RBAC_GROUP
from kubegen._builders.rbac.guarded import Guarded
from kubegen._builders.rbac.guards import (
    GUARDS,
    Guard,
    binding_findings,
    enforce,
)
from kubegen._builders.rbac.refs import Group, RoleRef, ServiceAccountRef, User
from kubegen._builders.rbac.roles import ClusterRole, Role
from kubegen._manifests import ManifestObject
from kubegen._values import InvalidValue

Subject = ServiceAccount | ServiceAccountRef | User | Group
_SUBJECT_TYPES = (ServiceAccount, ServiceAccountRef, User, Group)


def role_ref_of(role: Role | ClusterRole | RoleRef) -> dict[str, str]:
    """The ``roleRef`` of a binding to ``role``: ``{kind, name, apiGroup}``."""
    if isinstance(role, RoleRef):
        return role.as_dict()
    return {"kind": role.kind, "name": role.name, "apiGroup": RBAC_GROUP}


def subject_of(subject: Subject, default_namespace: str | None) -> dict[str, Any]:
    """The ``subjects`` entry of ``subject``; a namespace-less ServiceAccount gets the default."""
    if isinstance(subject, ServiceAccount):
        namespace = subject.namespace or default_namespace
        body: dict[str, Any] = {"kind": "ServiceAccount", "name": subject.name}
        if namespace:
            body["namespace"] = namespace
        return body
    return subject.as_dict(default_namespace)


class BindingArgs(ResourceArgs, total=False):
    role: Required[Role | ClusterRole | RoleRef]
    subjects: Required[Sequence[Subject]]
    allow: Mapping[str, str]


class _Binding(Guarded):
    """What both bindings share: role, subjects, opt-outs, guard checks, rendering."""

    def __init__(self, name: str, /, **data: Any) -> None:  # keeps the positional name typed
        super().__init__(name, **data)



    role: Role | ClusterRole | RoleRef
    subjects: tuple[Subject, ...]

    @field_validator("subjects", mode="before")
    @classmethod
    def _subject_types(cls, subjects: Any) -> Any:
        for subject in subjects if isinstance(subjects, list | tuple) else [subjects]:
            if not isinstance(subject, _SUBJECT_TYPES):
                raise InvalidValue(
                    f"{subject!r} is not a subject",
                    fix="pass ServiceAccount builders, ServiceAccountRef('name'), User('name') "
                    "or Group('name')",
                )
        return subjects

    @field_validator("subjects")
    @classmethod
    def _some_subjects(cls, subjects: tuple[Subject, ...]) -> tuple[Subject, ...]:
        if not subjects:
            raise InvalidValue("a binding needs at least one subject", fix="subjects=[...]")
        return subjects


    def subject_namespace(self) -> str | None:
        """The namespace of ServiceAccount subjects that name none."""
        return self.namespace

    def body(self) -> dict[str, Any]:
        """``subjects`` and ``roleRef`` as Kubernetes writes them."""
        default = self.subject_namespace()
        return {
            "subjects": [subject_of(s, default) for s in self.subjects],
            "roleRef": role_ref_of(self.role),
        }

    def check_guards(self) -> None:
        """Raise for a guarded binding not allowed, or an ``allow`` entry nothing needs."""
        decided = [g for g in GUARDS if g not in self._stack_guards]
        enforce(binding_findings(self.body()), self.allow, self.place(), decided=decided)

    def manifests(self) -> list[ManifestObject]:
        """One binding object; guards are checked again for fields changed after construction."""
        self.check_guards()
        for guard, reason in self.allow.items():
            self.opt_out(f"rbac-{guard}", reason)
        head = {"apiVersion": self.api_version, "kind": self.kind, "metadata": self.metadata()}
        return [self.manifest({**head, **self.body()})]


class RoleBinding(_Binding):
    """Grant a Role, or a ClusterRole's rules, to subjects inside this binding's namespace.

    ``RoleBinding("ci-deploy", role=deployer, subjects=[ServiceAccountRef("ci")])``.

    Args:
        name: DNS-1123 subdomain.
        role: a ``Role`` of the same namespace, a ``ClusterRole`` (its rules apply in this
            namespace only), or a :class:`RoleRef`. The stack checks that it defines the role,
            unless the reference is ``external``, and that its rules name nothing a
            RoleBinding cannot grant (cluster-scoped resources, non-resource URLs): guard
            ``out-of-namespace``.
        subjects: ``ServiceAccount`` builders, :class:`ServiceAccountRef`, :class:`User`,
            :class:`Group`; at least one.
        allow: least-privilege guards opted out, ``{guard id: reason}``. Defaults to none.

    See https://kubernetes.io/docs/reference/access-authn-authz/rbac/#rolebinding-and-clusterrolebinding.
    """

    kind: ClassVar[str] = "RoleBinding"
    # Whether the bound role names what a RoleBinding cannot grant needs the role's rules.
    _stack_guards: ClassVar[tuple[Guard, ...]] = ("out-of-namespace",)

    def __init__(self, name: str, /, **data: Unpack[BindingArgs]) -> None:
        super().__init__(name, **data)

    @model_validator(mode="after")
    def _same_namespace(self) -> RoleBinding:
        role = self.role
        known = isinstance(role, Role) and role.namespace and self.namespace
        if known and isinstance(role, Role) and role.namespace != self.namespace:
            raise InvalidValue(
                f"binds Role {role.namespace}/{role.name}, but a RoleBinding can only "
                f"reference a Role of its own namespace ({self.namespace})",
                fix="create the RoleBinding in the Role's namespace, or bind a ClusterRole",
            )
        return self


class ClusterRoleBinding(_Binding):
    """Grant a ClusterRole to subjects in every namespace, and on cluster-scoped resources.

    Guarded (``cluster-scope``) when the role names only namespaced resources: then RoleBindings
    in the namespaces that need it would do.

    Args:
        name: DNS-1123 subdomain.
        role: a ``ClusterRole`` or a :class:`RoleRef` of kind ClusterRole.
        subjects: as for :class:`RoleBinding`; ServiceAccounts without a namespace get the
            stack's namespace.
        allow: least-privilege guards opted out, ``{guard id: reason}``. Defaults to none.
    """

    kind: ClassVar[str] = "ClusterRoleBinding"
    cluster_scoped: ClassVar[bool] = True
    _stack_guards: ClassVar[tuple[Guard, ...]] = ("cluster-scope",)

    def __init__(self, name: str, /, **data: Unpack[BindingArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("role")
    @classmethod
    def _cluster_role(cls, role: Role | ClusterRole | RoleRef) -> Role | ClusterRole | RoleRef:
        if isinstance(role, Role) or (isinstance(role, RoleRef) and role.kind == "Role"):
            raise InvalidValue(
                "a ClusterRoleBinding can only reference a ClusterRole",
                fix="bind the Role with a RoleBinding in its namespace",
            )
        return role

    def subject_namespace(self) -> str | None:
        """ServiceAccounts without a namespace are in the stack's namespace."""
        return self._stack.namespace if self._stack is not None else None
