"""Network verbs on workloads: declare who talks to whom; the stack derives the policies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubegen._origin import capture
from kubegen._relations import Connection

if TYPE_CHECKING:
    from kubegen._stack import Stack


class NetworkIntents:
    """Mixin for workloads: ``a.connect_to(b, port="http")`` records a Connection."""

    if TYPE_CHECKING:

        @property
        def stack(self) -> Stack: ...

    def connect_to(self, target: Any, *, port: str | int | None = None) -> Connection:
        """Allow this workload to open connections to ``target`` on ``port``."""
        connection = Connection(source=self, target=target, port=port, origin=capture())
        self.stack.connections.append(connection)
        return connection
