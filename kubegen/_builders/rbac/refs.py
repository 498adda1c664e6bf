"""References a binding holds: the role it grants and the subjects it grants it to.

A reference names an object the stack defines, and the stack checks that it does. When the object
lives outside the stack (a built-in ClusterRole such as ``view``, a ServiceAccount another team
deploys), say so explicitly: ``RoleRef("view", external=True)``,
``ServiceAccountRef("ci", namespace="tools", external=True)``. Users and groups come from the
cluster's authenticator, so :class:`User` and :class:`Group` are always external.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict, Unpack

from pydantic import ConfigDict, field_validator

from kubegen._builders.base import Builder, NoArgs
from kubegen._builders.rbac.catalog import RBAC_GROUP
from kubegen._values import DNSSubdomain, InvalidValue


def check_rbac_name(name: str) -> str:
    """RBAC objects and subjects may use any path segment name (``system:auth-delegator``)."""
    if not name or "/" in name or "%" in name or name in (".", ".."):
        raise InvalidValue(
            f"{name!r} is not a valid name: it must be non-empty, without '/' or '%'",
            fix="use the object's metadata.name, e.g. 'view' or 'system:auth-delegator'",
        )
    return name


class _Ref(Builder):
    model_config = ConfigDict(frozen=True)

    name: str

    def __init__(self, name: str, /, **data: Any) -> None:
        super().__init__(name=name, **data)

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        return check_rbac_name(name)


class RoleRefArgs(TypedDict, total=False):
    kind: Literal["Role", "ClusterRole"]
    external: bool


class RoleRef(_Ref):
    """A Role or ClusterRole named by its name instead of by its builder object.

    Pass the builder (``RoleBinding(..., role=reader)``) when the stack defines the role; use a
    ``RoleRef`` for roles defined as raw manifests, or, with ``external=True``, for roles that
    exist in the cluster without this stack (the built-ins ``view``, ``system:auth-delegator``).

    Args:
        name: the role's name.
        kind: ``ClusterRole`` (default) or ``Role`` (then in the binding's namespace).
        external: True when the stack does not define the role; otherwise a missing role is an
            error. Defaults to False.
    """

    kind: Literal["Role", "ClusterRole"] = "ClusterRole"
    external: bool = False

    def __init__(self, name: str, /, **data: Unpack[RoleRefArgs]) -> None:
        super().__init__(name, **data)

    def as_dict(self) -> dict[str, str]:
        """``{kind, name, apiGroup}`` as a binding's ``roleRef``."""
        return {"kind": self.kind, "name": self.name, "apiGroup": RBAC_GROUP}

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class ServiceAccountRefArgs(TypedDict, total=False):
    namespace: str | None
    external: bool


class ServiceAccountRef(_Ref):
    """A ServiceAccount named by name: one a workload runs as, or one outside the stack.

    Args:
        name: the ServiceAccount's name.
        namespace: its namespace. Defaults to the binding's namespace (the stack's namespace for
            a ClusterRoleBinding).
        external: True when the stack does not define it. Defaults to False: the stack must
            define it, as a ``ServiceAccount`` or as the account of one of its workloads.
    """

    namespace: DNSSubdomain | None = None
    external: bool = False

    def __init__(self, name: str, /, **data: Unpack[ServiceAccountRefArgs]) -> None:
        super().__init__(name, **data)

    def as_dict(self, default_namespace: str | None) -> dict[str, Any]:
        """The ``subjects`` entry; ``default_namespace`` fills a missing namespace."""
        namespace = self.namespace or default_namespace
        body: dict[str, Any] = {"kind": "ServiceAccount", "name": self.name}
        if namespace:
            body["namespace"] = namespace
        return body


class User(_Ref):
    """A user as the cluster's authenticator names it (``jane@example.com``); always external."""

    def __init__(self, name: str, /, **data: Unpack[NoArgs]) -> None:
        super().__init__(name, **data)

    def as_dict(self, default_namespace: str | None = None) -> dict[str, Any]:
        """The ``subjects`` entry."""
        return {"kind": "User", "name": self.name, "apiGroup": RBAC_GROUP}


class Group(_Ref):
    """A group as the cluster's authenticator names it (``platform-oncall``); always external."""

    def __init__(self, name: str, /, **data: Unpack[NoArgs]) -> None:
        super().__init__(name, **data)

    def as_dict(self, default_namespace: str | None = None) -> dict[str, Any]:
        """The ``subjects`` entry."""
        return {"kind": "Group", "name": self.name, "apiGroup": RBAC_GROUP}
