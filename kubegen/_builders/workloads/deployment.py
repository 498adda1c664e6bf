"""Deployment (KiA "Deployments"): replicated stateless pods, rolled out without downtime.

Defaults: RollingUpdate with ``maxUnavailable: 0`` and ``maxSurge: 25%`` (capacity never drops
during a rollout), ``minReadySeconds: 10`` (a pod must stay ready that long to count),
``revisionHistoryLimit: 5``, ``progressDeadlineSeconds: 600``; a PodDisruptionBudget and
topology spread over nodes when replicas > 1. The selector is
``app.kubernetes.io/name`` + ``app.kubernetes.io/instance``, which never change with versions.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, Unpack

from pydantic import Field, model_validator

from kubegen._builders.base import assigning_namespace
from kubegen._builders.calls import CallError, checked
from kubegen._builders.workloads import derived
from kubegen._builders.workloads.autoscaling import Autoscaling, autoscaler_of
from kubegen._builders.workloads.defaults import StackDefaults
from kubegen._builders.workloads.pod import PodWorkload, PodWorkloadArgs
from kubegen._errors import ValidationError
from kubegen._manifests import ManifestObject
from kubegen._origin import capture
from kubegen._values import Duration, DurationLike, InvalidValue, seconds

if TYPE_CHECKING:
    from kubegen._builders.service import Service, ServicePort

_PERCENT_RE = re.compile(r"(100|[1-9]?[0-9])%\Z")

IntOrPercent = int | str


def check_int_or_percent(value: IntOrPercent, field: str) -> IntOrPercent:
    """``1``, ``0`` or ``'25%'``; what rolling-update and PDB fields accept."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and _PERCENT_RE.match(value):
        return value
    raise InvalidValue(
        f"{field} {value!r} must be a non-negative integer or a percentage like '25%'",
        fix=f"write e.g. {field}=1 or {field}='25%'",
    )


def is_zero(value: IntOrPercent) -> bool:
    return value in (0, "0%")


class ReplicatedWorkloadArgs(PodWorkloadArgs, total=False):
    replicas: int | None
    min_ready: DurationLike
    revision_history: int
    max_disruptions: int | str
    topology_spread: Literal["nodes", "zones", "none"]


class ReplicatedWorkload(Autoscaling, PodWorkload):
    """Replicas, availability and spread, shared by Deployment and StatefulSet.

    Args:
        replicas: pod count; defaults to ``StackDefaults.replicas`` and may not go below
            ``StackDefaults.min_replicas``.
        min_ready: how long a new pod must be ready before it counts (defaults to 10s).
        revision_history: old ReplicaSets/revisions kept for rollback (defaults to 5).
        max_disruptions: the PodDisruptionBudget's ``maxUnavailable`` when replicas > 1
            (defaults to 1; must allow at least one, or node drains hang).
        topology_spread: ``nodes`` (default), ``zones`` (nodes and zones) or ``none``; applied
            when replicas > 1.

    ``autoscale(min=, max=, cpu=)`` hands the replica count to a HorizontalPodAutoscaler
    (:class:`~kubegen.HorizontalPodAutoscaler`): no ``replicas`` is rendered, the
    PodDisruptionBudget follows ``min`` and the spread applies when ``max`` > 1.
    """

    replicas: int | None = Field(default=None, ge=0)
    min_ready: Duration = timedelta(seconds=10)
    revision_history: int = Field(default=5, ge=0)
    max_disruptions: IntOrPercent = 1
    topology_spread: Literal["nodes", "zones", "none"] = "nodes"

    # Its own __init__, so type checkers call the runtime one, not a synthesized one.
    def __init__(self, name: str, /, **data: Any) -> None:
        super().__init__(name, **data)

    @model_validator(mode="after")
    def _check_disruptions(self) -> ReplicatedWorkload:
        if assigning_namespace(self):  # nothing below reads it
            return self
        check_int_or_percent(self.max_disruptions, "max_disruptions")
        if is_zero(self.max_disruptions):
            raise InvalidValue(
                "max_disruptions=0 blocks every node drain",
                fix="allow at least one: max_disruptions=1",
            )
        return self

    def replica_count(self, defaults: StackDefaults) -> int:
        """The replicas to render: own value or the stack default, never below the floor.

        For an autoscaled workload: its autoscaler's ``min``.
        """
        return self.scale(defaults).least

    def scale(self, defaults: StackDefaults) -> Scale:
        """How many pods run: fixed replicas, or the range of the workload's autoscaler."""
        hpa = autoscaler_of(self)
        if hpa is None:
            count = self._fixed_replicas(defaults)
            return Scale(count, count, count)
        if self.replicas is not None:
            raise ValidationError(
                f"replicas={self.replicas} is set, but {hpa.display} scales this workload; a "
                "GitOps sync of a fixed count would undo every scaling decision",
                field="replicas",
                value=self.replicas,
                fix="drop replicas= (the autoscaler's min= is the floor)",
            )
        if hpa.min < defaults.min_replicas:
            raise ValidationError(
                f"its autoscaler's min={hpa.min} is below the stack's floor min_replicas="
                f"{defaults.min_replicas}",
                origin=hpa.origin,
                resource=hpa.display,
                field="min",
                value=hpa.min,
                fix=f"autoscale with min={defaults.min_replicas} or more",
            )
        return Scale(None, hpa.min, hpa.max)

    def _fixed_replicas(self, defaults: StackDefaults) -> int:
        count = self.replicas if self.replicas is not None else defaults.replicas
        if count < defaults.min_replicas:
            raise ValidationError(
                f"replicas={count} is below the stack's floor min_replicas="
                f"{defaults.min_replicas}",
                field="replicas",
                value=count,
                fix=f"set replicas to at least {defaults.min_replicas}",
            )
        return count

    def owned_objects(self, replicas: int) -> list[ManifestObject]:
        """ServiceAccount, and a PodDisruptionBudget when more than one replica runs."""
        objects = derived.service_accounts(self)
        if replicas > 1:
            objects.append(derived.disruption_budget(self, self.max_disruptions))
        return objects

    def spread(self, replicas: int) -> list[dict[str, Any]]:
        """Topology spread when more than ``replicas`` … at most ``replicas`` pods can run."""
        return derived.spread_constraints(self, self.topology_spread) if replicas > 1 else []


class Scale(NamedTuple):
    """The pods of a replicated workload: ``replicas`` to render (None when autoscaled), the
    fewest that always run (the PodDisruptionBudget follows it) and the most that may run
    (topology spread applies as soon as there can be two)."""

    replicas: int | None
    least: int
    most: int

    def spec(self) -> dict[str, Any]:
        """``{"replicas": n}``, or nothing for an autoscaled workload."""
        return {} if self.replicas is None else {"replicas": self.replicas}


class DeploymentArgs(ReplicatedWorkloadArgs, total=False):
    strategy: Literal["RollingUpdate", "Recreate"]
    max_surge: int | str
    max_unavailable: int | str
    progress_deadline: DurationLike
    paused: bool


class Deployment(ReplicatedWorkload):
    """A hardened Deployment.

    ``Deployment("api", image="ghcr.io/acme/api:1.2.3@sha256:…", port=8080,
    readiness=HttpProbe("/ready"), liveness=HttpProbe("/healthz"))`` is the single-container
    shorthand; ``container=Container(...)`` or ``containers=[...]`` build bigger pods.

    Probe rule: every container that declares a port (main or sidecar) needs both ``readiness``
    and ``liveness``, or ``allow_no_probes='why'`` on the container (or on ``StackDefaults``).

    Args:
        strategy: ``RollingUpdate`` (default) or ``Recreate`` (for pods that must not overlap).
        max_surge: extra pods during a rollout (defaults to ``'25%'``).
        max_unavailable: pods that may be missing during a rollout (defaults to 0).
        progress_deadline: when a stuck rollout is reported failed (defaults to 600s).
        paused: stop rolling out template changes until unpaused (``spec.paused``); defaults
            to False. A paused Deployment also stops counting progress.

    Manifests: the Deployment, its ServiceAccount, and a PodDisruptionBudget when replicas > 1.
    See :class:`ReplicatedWorkload` and :class:`PodWorkload` for the other fields.
    """

    api_version: ClassVar[str] = "apps/v1"
    kind: ClassVar[str] = "Deployment"

    strategy: Literal["RollingUpdate", "Recreate"] = "RollingUpdate"
    max_surge: IntOrPercent = "25%"
    max_unavailable: IntOrPercent = 0
    progress_deadline: Duration = timedelta(seconds=600)
    paused: bool = False

    def __init__(self, name: str, /, **data: Unpack[DeploymentArgs]) -> None:
        super().__init__(name, **data)

    @model_validator(mode="after")
    def _check_rollout(self) -> Deployment:
        if assigning_namespace(self):  # nothing below reads it
            return self
        check_int_or_percent(self.max_surge, "max_surge")
        check_int_or_percent(self.max_unavailable, "max_unavailable")
        if is_zero(self.max_surge) and is_zero(self.max_unavailable):
            raise InvalidValue(
                "max_surge and max_unavailable are both 0, so a rollout could never progress",
                fix="keep max_surge='25%' (or any value > 0)",
            )
        return self

    def build_manifests(self) -> list[ManifestObject]:
        defaults = self.prepare()
        scale = self.scale(defaults)
        spec: dict[str, Any] = {
            **scale.spec(),
            "selector": {"matchLabels": self.selector_labels()},
            "strategy": self._strategy(),
            "minReadySeconds": seconds(self.min_ready),
            "revisionHistoryLimit": self.revision_history,
            "progressDeadlineSeconds": seconds(self.progress_deadline),
        }
        if self.paused:  # before the template, beside the other rollout settings
            spec["paused"] = True
        spec["template"] = self.pod_template(defaults, spread=self.spread(scale.most))
        body = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(labels=self.object_labels()),
            "spec": spec,
        }
        return [self.manifest(body), *self.owned_objects(scale.least)]

    def _strategy(self) -> dict[str, Any]:
        if self.strategy == "Recreate":
            return {"type": "Recreate"}
        return {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": self.max_surge, "maxUnavailable": self.max_unavailable},
        }

    @checked
    def expose(
        self,
        *ports: str | ServicePort,
        name: str | None = None,
        **options: Any,
    ) -> Service:
        """Add a Service for this Deployment's named ports (all of them by default) and return it.

        Args:
            ports: port names (``"http"``) or :class:`~kubegen.ServicePort` to remap numbers.
            name: the Service's name (defaults to the Deployment's name).
            options: further :class:`~kubegen.Service` fields (``type``, ``allow_external``…).
        """
        from kubegen._builders.service import Service

        for own in ("ports", "target"):
            if own in options:
                raise CallError(
                    f"expose() sets the Service's {own}= itself", field=own,
                    value=options[own], origin=capture(), resource=self.display,
                    fix="name the ports positionally: expose('http', ServicePort('http', port=80)),"
                    " or add any other Service yourself: stack.add(Service(...))",
                )
        options.setdefault("namespace", self.namespace)
        wanted: list[str | ServicePort] = list(ports) or list(self.named_ports())
        stack = self.stack
        service = Service.exposing(self, name or self.name, wanted, options)
        return stack.add(service, layer=stack.layer_of(self))
