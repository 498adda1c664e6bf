"""Per-stack defaults for every workload: resources, user ids, pull, CPU-limit and probe policy.

``Stack("shop", defaults=StackDefaults(resources=Resources(cpu="250m", memory="512Mi")))``. A
workload's own setting always wins; a default that weakens security (no CPU limits, no probes)
still needs a reason and is rendered as an opt-out annotation on every workload it affects.
"""

from __future__ import annotations

from typing import Literal, TypedDict, Unpack

from pydantic import Field, model_validator

from kubegen._builders.base import Builder
from kubegen._builders.workloads.resources import Resources
from kubegen._values import InvalidValue, Reason

DEFAULT_ID = 10001


def _default_resources() -> Resources:
    return Resources(cpu="100m", memory="128Mi")


class StackDefaultsArgs(TypedDict, total=False):
    resources: Resources
    run_as_user: int | None
    run_as_group: int | None
    fs_group: int | None
    pull_policy: Literal["auto", "Always"]
    allow_no_cpu_limit: str | None
    probes: Literal["serving", "all"]
    allow_no_probes: str | None
    replicas: int
    min_replicas: int


class StackDefaults(Builder):
    """Defaults a Stack applies to all its workloads.

    Args:
        resources: for containers without ``resources`` (defaults to cpu 100m, memory 128Mi,
            limits equal to requests).
        run_as_user: pod ``runAsUser`` (defaults to 10001, above the 10000 scanners ask for);
            None leaves it to the image's USER (``runAsNonRoot`` still applies).
        run_as_group: pod ``runAsGroup`` (defaults to 10001); None leaves it unset.
        fs_group: pod ``fsGroup`` owning mounted volumes (defaults to 10001); None leaves it unset.
        pull_policy: ``auto`` (default: ``IfNotPresent`` for digest-pinned images, ``Always``
            for tags) or ``Always`` for every image.
        allow_no_cpu_limit: leave CPU limits out for every container that does not set one; the
            reason is rendered on each workload.
        probes: which containers of Deployments, StatefulSets and DaemonSets must have readiness
            and liveness probes: ``serving`` (default: those that declare a port) or ``all``.
        allow_no_probes: waive the probe rule for the whole stack, with a reason.
        replicas: replicas of Deployments and StatefulSets that do not say (defaults to 1).
        min_replicas: the floor: a workload asking for fewer replicas is an error (defaults to 0).
    """

    resources: Resources = Field(default_factory=_default_resources)
    run_as_user: int | None = Field(default=DEFAULT_ID, ge=1)
    run_as_group: int | None = Field(default=DEFAULT_ID, ge=1)
    fs_group: int | None = Field(default=DEFAULT_ID, ge=1)
    pull_policy: Literal["auto", "Always"] = "auto"
    allow_no_cpu_limit: Reason | None = None
    probes: Literal["serving", "all"] = "serving"
    allow_no_probes: Reason | None = None
    replicas: int = Field(default=1, ge=0)
    min_replicas: int = Field(default=0, ge=0)

    def __init__(self, /, **data: Unpack[StackDefaultsArgs]) -> None:
        super().__init__(**data)

    @model_validator(mode="after")
    def _floor(self) -> StackDefaults:
        if self.replicas < self.min_replicas:
            raise InvalidValue(
                f"replicas={self.replicas} is below min_replicas={self.min_replicas}",
                fix="raise replicas to at least min_replicas",
            )
        return self
