"""RBAC verbs on workloads: ``api.grant(rule, …)`` gives the workload's ServiceAccount access."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubegen._origin import capture
from kubegen._relations import ApiAccess, Grant

if TYPE_CHECKING:
    from kubegen._stack import Stack


class AccessIntents:
    """Mixin for workloads: ``grant`` records a Grant and turns token mounting on."""

    _api_access: ApiAccess | None

    if TYPE_CHECKING:

        @property
        def stack(self) -> Stack: ...

    def grant(self, *rules: Any, namespace: str | None = None) -> Grant:
        """Let this workload's ServiceAccount do what ``rules`` allow."""
        grant = Grant(workload=self, rules=rules, namespace=namespace, origin=capture())  # type: ignore[arg-type]
        self.stack.grants.append(grant)
        self._api_access = ApiAccess()
        return grant
