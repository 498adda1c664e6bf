"""The contract every pod-running builder keeps, so network and RBAC layers can rely on it.

Deployment, StatefulSet, DaemonSet, Job and CronJob subclass :class:`Workload`. Network policies
select pods by :meth:`Workload.selector_labels` and resolve ports with :meth:`named_ports`; RBAC
binds :attr:`service_account_name`; a grant sets ``_api_access`` so the pod mounts a token.
"""

from __future__ import annotations

from abc import abstractmethod

from pydantic import PrivateAttr

from kubegen._builders.base import Resource, ResourceArgs
from kubegen._builders.network.intents import NetworkIntents
from kubegen._builders.rbac.intents import AccessIntents
from kubegen._relations import ApiAccess
from kubegen._values import DNSSubdomain

NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"


class WorkloadArgs(ResourceArgs, total=False):
    service_account: str | None


class Workload(NetworkIntents, AccessIntents, Resource):
    """A resource that runs pods. Subclasses implement :meth:`named_ports` and manifests."""

    service_account: DNSSubdomain | None = None

    _api_access: ApiAccess | None = PrivateAttr(default=None)

    def selector_labels(self) -> dict[str, str]:
        """Labels that select this workload's pods; stable when any other label changes."""
        stack = self._stack
        name = self.name
        return {NAME_LABEL: name, INSTANCE_LABEL: name if stack is None else stack.name}

    @property
    def service_account_name(self) -> str:
        """The workload's own ServiceAccount (defaults to the workload's name)."""
        return self.service_account or self.name

    @property
    def api_access(self) -> ApiAccess | None:
        """Set when the workload was granted API access; None means no token is mounted."""
        return self._api_access

    @abstractmethod
    def named_ports(self) -> dict[str, tuple[int, str]]:
        """Port name → (container port, protocol) over all containers."""

    def peer_ports(self) -> dict[str, tuple[int, str]]:
        """The named ports open between the workload's own pods (a ``<name>-peers`` policy).

        None by default; a StatefulSet opens all of them (its replicas talk to each other).
        """
        return {}
