"""HorizontalPodAutoscaler (``autoscaling/v2``): replicas that follow CPU or memory use.

``api.autoscale(min=2, max=10, cpu=70)`` adds an HPA named like the Deployment that keeps the
pods' average CPU use near 70% of their *requests*. The autoscaled workload then renders **no**
``replicas`` field: a GitOps tool applying ``replicas: 2`` would otherwise undo every scaling
decision on each sync (Argo CD and Flux both document leaving the field out). Its
PodDisruptionBudget follows ``min`` (a budget when at least two pods always run), and its pods
are spread over nodes as soon as more than one can run (``max`` > 1).

Utilisation is measured against requests, so a Resource metric needs a request of that resource
on every container of the pod (the HPA reports ``missing request for cpu`` and stops scaling
otherwise); the HPA checks its target's rendered containers when the stack renders, and the
lint rule KG706 checks HPAs of any origin.

See https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/ and *Kubernetes
in Action* (2nd ed.), "Scaling Deployments" / "Automatic scaling".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Required, TypedDict, Unpack

from pydantic import Field, InstanceOf, model_validator

from kubegen._builders.base import Builder, Resource, ResourceArgs, error_from
from kubegen._builders.calls import checked
from kubegen._builders.workloads.base import Workload
from kubegen._manifests import ManifestObject
from kubegen._values import Duration, DurationLike, InvalidValue, seconds

if TYPE_CHECKING:
    from kubegen._builders.workloads.deployment import ReplicatedWorkload
    from kubegen._stack import Stack

MAX_WINDOW = 3600  # stabilizationWindowSeconds, as the API server validates it
MAX_PERIOD = 1800  # periodSeconds of a scaling policy
SCALABLE = ("Deployment", "StatefulSet")


class ScalingPolicyArgs(TypedDict, total=False):
    pods: int | None
    percent: int | None
    period: DurationLike


class ScalingPolicy(Builder):
    """How much the HPA may scale within ``period``: ``pods`` or ``percent``, exactly one.

    Args:
        pods: at most this many pods added (or removed) per period.
        percent: at most this percentage of the current replicas per period.
        period: the window the limit applies to, 1s to 30m (defaults to 60s).
    """

    pods: int | None = Field(default=None, ge=1)
    percent: int | None = Field(default=None, ge=1)
    period: Duration = timedelta(seconds=60)

    def __init__(self, /, **data: Unpack[ScalingPolicyArgs]) -> None:
        super().__init__(**data)

    @model_validator(mode="after")
    def _one_limit(self) -> ScalingPolicy:
        if (self.pods is None) == (self.percent is None):
            raise InvalidValue("a scaling policy limits either pods= or percent=",
                               fix="e.g. ScalingPolicy(percent=10, period='1m')")
        if not 1 <= seconds(self.period) <= MAX_PERIOD:
            raise InvalidValue(f"period must be 1s to {MAX_PERIOD // 60}m", fix="e.g. '60s'",
                               field="period", value=self.period)
        return self

    def render(self) -> dict[str, Any]:
        kind, value = ("Pods", self.pods) if self.pods is not None else ("Percent", self.percent)
        return {"type": kind, "value": value, "periodSeconds": seconds(self.period)}


class ScalingRulesArgs(TypedDict, total=False):
    stabilization: DurationLike | None
    policies: Sequence[ScalingPolicy]
    select: Literal["Max", "Min", "Disabled"] | None


class ScalingRules(Builder):
    """Scaling behaviour in one direction (an HPA's ``scaleUp`` or ``scaleDown``).

    Args:
        stabilization: act on the most cautious recommendation of this window (0s-1h); the
            Kubernetes defaults are 0s up and 5m down.
        policies: :class:`ScalingPolicy` limits; Kubernetes' defaults when none.
        select: which policy wins: ``Max`` (the default), ``Min``, or ``Disabled`` (never
            scale in this direction).
    """

    stabilization: Duration | None = None
    policies: tuple[ScalingPolicy, ...] = ()
    select: Literal["Max", "Min", "Disabled"] | None = None

    def __init__(self, /, **data: Unpack[ScalingRulesArgs]) -> None:
        super().__init__(**data)

    @model_validator(mode="after")
    def _check(self) -> ScalingRules:
        if self.stabilization is not None and seconds(self.stabilization) > MAX_WINDOW:
            raise InvalidValue("stabilization is at most 1h", fix="e.g. stabilization='5m'",
                               field="stabilization", value=self.stabilization)
        if self.stabilization is None and not self.policies and self.select is None:
            raise InvalidValue("empty scaling rules change nothing",
                               fix="pass stabilization=, policies= or select=, or drop them")
        return self

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.stabilization is not None:
            out["stabilizationWindowSeconds"] = seconds(self.stabilization)
        if self.select is not None:
            out["selectPolicy"] = self.select
        if self.policies:
            out["policies"] = [p.render() for p in self.policies]
        return out


class AutoscaleArgs(TypedDict, total=False):
    cpu: int | None
    memory: int | None
    scale_up: ScalingRules | None
    scale_down: ScalingRules | None


class HorizontalPodAutoscalerArgs(ResourceArgs, AutoscaleArgs, total=False):
    target: Required[Workload]
    min: int
    max: Required[int]


class HorizontalPodAutoscaler(Resource):
    """An ``autoscaling/v2`` HorizontalPodAutoscaler of a Deployment or StatefulSet.

    Usually made with :meth:`Deployment.autoscale` (``api.autoscale(min=2, max=10, cpu=70)``);
    building it directly and adding it to the stack does the same.

    Args:
        target: the Deployment or StatefulSet to scale (of the same stack and namespace).
        min: the fewest replicas (``minReplicas``), at least 1 and the stack's
            ``StackDefaults.min_replicas``.
        max: the most replicas (``maxReplicas``), at least ``min``.
        cpu: target average CPU use, in percent of the pods' CPU requests.
        memory: target average memory use, in percent of their memory requests (only for
            apps whose memory follows load; most runtimes never give memory back).
        scale_up / scale_down: :class:`ScalingRules` (``behavior``); Kubernetes' defaults
            when unset (scale up at once, scale down after a 5-minute window).

    At least one of ``cpu`` and ``memory`` is required: kubegen does not pick a target for you.
    """

    api_version: ClassVar[str] = "autoscaling/v2"
    kind: ClassVar[str] = "HorizontalPodAutoscaler"

    target: InstanceOf[Workload]
    min: int = Field(default=1, ge=1)
    max: int = Field(ge=1)
    cpu: int | None = Field(default=None, ge=1)
    memory: int | None = Field(default=None, ge=1)
    scale_up: ScalingRules | None = None
    scale_down: ScalingRules | None = None

    def __init__(self, name: str, /, **data: Unpack[HorizontalPodAutoscalerArgs]) -> None:
        super().__init__(name, **data)

    @model_validator(mode="after")
    def _check(self) -> HorizontalPodAutoscaler:
        if self.target.kind not in SCALABLE:
            raise InvalidValue(
                f"a {self.target.kind} cannot be autoscaled; only a Deployment or StatefulSet",
                fix="autoscale a Deployment (a DaemonSet runs one pod per node by design)",
                field="target", value=self.target.display,
            )
        if self.max < self.min:
            raise InvalidValue(f"max={self.max} is below min={self.min}",
                               fix=f"raise max to at least {self.min}", field="max",
                               value=self.max)
        if self.cpu is None and self.memory is None:
            raise InvalidValue(
                "an autoscaler needs a target: cpu= and/or memory= utilisation in percent",
                fix="e.g. cpu=70 (scale to keep the pods at 70% of their CPU requests)",
            )
        return self

    def attach(self, stack: Any) -> None:
        """Adopt the stack, and the target's namespace when none was given."""
        if self.namespace is None and self.target.namespace is not None:
            self.namespace = self.target.namespace
        super().attach(stack)

    def used_objects(self) -> list[Resource]:
        return [self.target]

    def manifests(self) -> list[ManifestObject]:
        """The HPA, after checking its target is in the stack and requests what it measures."""
        target = self.target
        try:
            if target._stack is not self._stack or target.namespace != self.namespace:
                raise InvalidValue(
                    f"its target {target.display} is not in this stack and namespace",
                    fix="create the HPA with target.autoscale(...), in the target's stack",
                    field="target", value=target.display,
                )
            first = autoscaler_of(target)  # type: ignore[arg-type]
            if first is not None and first is not self:
                where = f" (defined at {first.origin})" if first.origin else ""
                raise InvalidValue(
                    f"{target.display} is scaled by {first.display} already{where}; two "
                    "autoscalers of one workload would fight over its replicas",
                    fix="keep one autoscaler per workload (one HPA can use cpu= and memory=)",
                    field="target", value=target.display,
                )
            self._check_requests(target)
        except InvalidValue as exc:
            raise error_from(exc) from None
        spec: dict[str, Any] = {
            "scaleTargetRef": {"apiVersion": target.api_version, "kind": target.kind,
                               "name": target.name},
            "minReplicas": self.min,
            "maxReplicas": self.max,
            "metrics": [_metric(name, value) for name, value in (("cpu", self.cpu),
                                                                 ("memory", self.memory))
                        if value is not None],
        }
        behavior = {key: rules.render() for key, rules in (("scaleUp", self.scale_up),
                                                           ("scaleDown", self.scale_down))
                    if rules is not None}
        if behavior:
            spec["behavior"] = behavior
        body = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(labels=target.selector_labels()),
            "spec": spec,
        }
        return [self.manifest(body)]

    def _check_requests(self, target: Workload) -> None:
        """Every container the HPA averages over requests what it measures."""
        containers = getattr(target, "pod_containers", None)
        if containers is None:
            return
        defaults = getattr(target, "defaults", None)
        for role, name, container in containers():
            if role == "init":
                continue
            resources = container.resources or getattr(defaults, "resources", None)
            for metric in ("cpu", "memory"):
                if getattr(self, metric) is not None and getattr(resources, metric, None) is None:
                    raise InvalidValue(
                        f"scales on {metric} utilisation, but container {name} of "
                        f"{target.display} requests no {metric}",
                        fix=f"give the container resources with a {metric} request",
                        field=metric, value=getattr(self, metric),
                    )


def _metric(resource: str, utilisation: int) -> dict[str, Any]:
    return {"type": "Resource", "resource": {
        "name": resource, "target": {"type": "Utilization", "averageUtilization": utilisation}}}


class Autoscaling:
    """Mixin for Deployment and StatefulSet: ``autoscale`` and what it changes in rendering."""

    if TYPE_CHECKING:
        name: str
        replicas: int | None

        @property
        def stack(self) -> Stack: ...

    @checked
    def autoscale(
        self, *, min: int, max: int, name: str | None = None, **options: Unpack[AutoscaleArgs]
    ) -> HorizontalPodAutoscaler:
        """Scale this workload between ``min`` and ``max`` replicas with an HPA, and return it.

        The workload then renders no ``replicas`` (the HPA owns the count): passing
        ``replicas=`` too is an error. See :class:`HorizontalPodAutoscaler` for ``cpu``,
        ``memory``, ``scale_up`` and ``scale_down``.

        Args:
            min: the fewest replicas (at least 1).
            max: the most replicas.
            name: the HPA's name (defaults to the workload's).
            options: ``cpu=70`` and/or ``memory=80`` (percent of requests), behaviour.
        """
        stack = self.stack
        build: Any = HorizontalPodAutoscaler  # positional name: see Resource.__init__
        hpa: HorizontalPodAutoscaler = build(name or self.name, target=self, min=min, max=max,
                                             **options)
        return stack.add(hpa)


def autoscaler_of(workload: ReplicatedWorkload) -> HorizontalPodAutoscaler | None:
    """The HPA of the stack that scales ``workload``, if any (indexed once per stack size)."""
    stack = workload._stack
    if stack is None:
        return None
    from kubegen._builders.workloads.derived import stack_index

    found = stack_index(stack).autoscalers.get(id(workload))
    return found if isinstance(found, HorizontalPodAutoscaler) else None


__all__ = [
    "Autoscaling",
    "HorizontalPodAutoscaler",
    "ScalingPolicy",
    "ScalingRules",
    "autoscaler_of",
]
