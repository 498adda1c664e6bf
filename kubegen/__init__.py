"""kubegen: typed Python instead of templated YAML for Kubernetes.

Write a stack::

    from kubegen import ConfigMap, Stack

    def build() -> Stack:
        stack = Stack("shop", namespace="shop")
        stack.add(ConfigMap("settings", data={"LOG_LEVEL": "info"}))
        return stack

then ``kubegen render stacks/prod`` writes deterministic YAML to ``output/prod/``.
Everything importable from here is public API; modules starting with ``_`` are internal.
"""

from kubegen._builders.base import Builder, Resource
from kubegen._builders.config import ConfigMap
from kubegen._builders.core import Manifest, Namespace
from kubegen._builders.rbac.accounts import ServiceAccount
from kubegen._builders.rbac.bindings import ClusterRoleBinding, RoleBinding
from kubegen._builders.rbac.refs import Group, RoleRef, ServiceAccountRef, User
from kubegen._builders.rbac.roles import ClusterRole, Role
from kubegen._builders.rbac.rules import Rule
from kubegen._errors import (
    ConflictError,
    KubegenError,
    OutputError,
    PolicyError,
    StackLoadError,
    ValidationError,
)
from kubegen._manifests import ManifestObject
from kubegen._origin import Origin
from kubegen._stack import Stack, StackWaiver

__version__ = "0.1.0"

__all__ = [
    "Builder",
    "ClusterRole",
    "ClusterRoleBinding",
    "ConfigMap",
    "ConflictError",
    "Group",
    "KubegenError",
    "Manifest",
    "ManifestObject",
    "Namespace",
    "Origin",
    "OutputError",
    "PolicyError",
    "Resource",
    "Role",
    "RoleBinding",
    "RoleRef",
    "Rule",
    "ServiceAccount",
    "ServiceAccountRef",
    "Stack",
    "StackLoadError",
    "StackWaiver",
    "User",
    "ValidationError",
    "__version__",
]
