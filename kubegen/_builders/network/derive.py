"""Objects the network layer derives from a Stack: default-deny policies, connection policies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubegen._manifests import ManifestObject

if TYPE_CHECKING:
    from kubegen._stack import Stack


def derive_network(stack: Stack) -> list[ManifestObject]:
    """NetworkPolicies for ``stack``'s namespaces and recorded connections (issue 5 fills this)."""
    return []
