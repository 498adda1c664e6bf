"""Objects the RBAC layer derives from a Stack's grants: Roles and RoleBindings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubegen._manifests import ManifestObject

if TYPE_CHECKING:
    from kubegen._stack import Stack


def derive_access(stack: Stack) -> list[ManifestObject]:
    """Role + RoleBinding per recorded grant (issue 4 fills this)."""
    return []
