"""The contract every pod-running builder keeps, so network and RBAC layers can rely on it.

Deployment, StatefulSet, DaemonSet, Job and CronJob subclass :class:`Workload`. Network policies
select pods by :meth:`Workload.selector_labels` and resolve ports with :meth:`named_ports`; RBAC
binds :attr:`service_account_name`; a grant sets ``_api_access`` so the pod mounts a token.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import InstanceOf, field_validator, model_validator

from kubegen._builders.base import Resource, ResourceArgs, assigning_namespace
from kubegen._builders.network.intents import NetworkIntents
from kubegen._builders.rbac.intents import AccessIntents
from kubegen._builders.state import state
from kubegen._relations import ApiAccess
from kubegen._values import DNSSubdomain, InvalidValue, LabelMap, Reason

if TYPE_CHECKING:  # the RBAC builders load on first use (see rbac.intents)
    from kubegen._builders.rbac.accounts import ServiceAccount

NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"

#: Objects a workload derives whose names can be chosen with ``names=`` (their defaults:
#: the workload's name for the PodDisruptionBudget, ``<name>-ingress`` / ``<name>-egress``
#: for the NetworkPolicies).
DerivedObject = Literal["disruption-budget", "ingress-policy", "egress-policy"]


class WorkloadArgs(ResourceArgs, total=False):
    service_account: str | ServiceAccount | None
    names: Mapping[DerivedObject, str] | None
    selector: Mapping[str, str] | None
    allow_default_service_account: str | None


class Workload(NetworkIntents, AccessIntents, Resource):
    """A resource that runs pods. Subclasses implement :meth:`named_ports` and manifests.

    Args:
        service_account: the ServiceAccount the pods run as. Defaults to one of the workload's
            own, named like it and rendered with it. A name gives the derived account that
            name, unless the stack holds a :class:`~kubegen.ServiceAccount` of that name, which
            is then used instead (several workloads may share it); a ``ServiceAccount`` object
            is used as it is and rendered with the stack (``image_pull_secrets`` on it apply
            to the pods).
        names: names of derived objects, to keep the names a migrated app had upstream:
            ``{"disruption-budget": "…", "ingress-policy": "…", "egress-policy": "…"}``.
            Defaults to the workload's name (PodDisruptionBudget) and ``<name>-ingress`` /
            ``<name>-egress`` (NetworkPolicies).
        selector: the labels that select the pods (``spec.selector.matchLabels``, and the
            selector of everything derived: PodDisruptionBudget, spread, NetworkPolicies),
            kept exactly as given: a live Deployment's selector cannot change, so a workload
            migrated from upstream YAML keeps its own (``{"app": "podinfo"}``). kubegen's
            own ``app.kubernetes.io/name``, ``/instance`` and ``/version`` labels are then not
            added: the pods carry the selector's labels, ``component=`` and ``pod_labels=``,
            the workload object ``labels=`` and ``component=``. Defaults to
            ``app.kubernetes.io/name`` (the workload's name) + ``app.kubernetes.io/instance``
            (the stack's name).
        allow_default_service_account: reason to run as the namespace's ``default``
            ServiceAccount (``service_account="default"``, which then is not rendered): every
            pod of the namespace shares it, and any role bound to it. Rendered as
            ``kubegen.dev/opt-out-default-service-account`` (waives KG301).
    """

    # A ServiceAccount (checked by _account: its module loads only when one is given).
    service_account: DNSSubdomain | InstanceOf[Resource] | None = None
    names: dict[DerivedObject, DNSSubdomain] | None = None
    selector: LabelMap | None = None
    allow_default_service_account: Reason | None = None

    _api_access: ApiAccess | None = state(None)

    @field_validator("service_account", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        from kubegen._builders.rbac.accounts import ServiceAccount

        if isinstance(value, ServiceAccount):
            return value
        raise InvalidValue(
            f"service_account takes a ServiceAccount or the name of one, not "
            f"{type(value).__name__}",
            fix="pass service_account='runner' or service_account=ServiceAccount('runner')",
        )

    @field_validator("selector")
    @classmethod
    def _some_labels(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None and not value:
            raise InvalidValue(
                "an empty selector would select every pod of the namespace",
                fix="name the labels the pods carry, e.g. selector={'app': 'podinfo'}, or "
                "drop selector= for kubegen's own",
            )
        return value

    @model_validator(mode="after")
    def _default_account(self) -> Workload:
        if assigning_namespace(self):  # nothing below reads it
            return self
        default = self.service_account == "default"
        if default and self.allow_default_service_account is None:
            raise InvalidValue(
                "service_account='default' runs the pods as the namespace's shared account: "
                "every pod of the namespace has its identity and its roles",
                fix="drop service_account= (the workload gets its own), or pass "
                "allow_default_service_account='why'",
                field="service_account", value="default",
            )
        if self.allow_default_service_account is not None and not default:
            raise InvalidValue(
                "allow_default_service_account is set but the workload does not run as "
                "'default'",
                fix="drop allow_default_service_account, or pass service_account='default'",
                field="allow_default_service_account",
                value=self.allow_default_service_account,
            )
        return self

    def derived_name(self, what: DerivedObject, default: str) -> str:
        """The name of a derived object: the one given in ``names``, or ``default``."""
        names = self.names
        return names.get(what, default) if names else default

    def selector_labels(self) -> dict[str, str]:
        """Labels that select this workload's pods; stable when any other label changes."""
        if self.selector is not None:
            return dict(self.selector)
        stack = self._stack
        name = self.name
        # in the order the emitter writes them (see kubegen._render.cache.object_digest)
        return {INSTANCE_LABEL: name if stack is None else stack.name, NAME_LABEL: name}

    @property
    def service_account_name(self) -> str:
        """The ServiceAccount the pods run as (defaults to the workload's name)."""
        account = self.service_account
        if account is None:
            return self.name
        return account if isinstance(account, str) else account.name

    @property
    def service_account_object(self) -> ServiceAccount | None:
        """The ServiceAccount object given as ``service_account=``, if one was."""
        account = self.service_account
        return None if account is None or isinstance(account, str) else account  # type: ignore[return-value]

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
