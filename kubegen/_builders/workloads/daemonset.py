"""DaemonSet: one hardened pod per node (log shippers, node agents, CNI helpers).

Defaults: RollingUpdate with ``maxUnavailable: 1`` and ``maxSurge: 0``, ``minReadySeconds: 10``,
``revisionHistoryLimit: 5``. Node agents often need host access; every such need carries its
reason (``allow_host_network=…``, ``HostPath(..., reason=…)``…). No PDB and no topology spread:
the scheduler places one pod per node by design.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar, Literal, Unpack

from pydantic import Field, model_validator

from kubegen._builders.base import assigning_namespace
from kubegen._builders.workloads import derived
from kubegen._builders.workloads.deployment import IntOrPercent, check_int_or_percent, is_zero
from kubegen._builders.workloads.pod import PodWorkload, PodWorkloadArgs
from kubegen._manifests import ManifestObject
from kubegen._values import Duration, DurationLike, InvalidValue, seconds


class DaemonSetArgs(PodWorkloadArgs, total=False):
    strategy: Literal["RollingUpdate", "OnDelete"]
    max_unavailable: int | str
    max_surge: int | str
    min_ready: DurationLike
    revision_history: int


class DaemonSet(PodWorkload):
    """A hardened DaemonSet; the probe rule is that of :class:`Deployment`.

    Args:
        strategy: ``RollingUpdate`` (default) or ``OnDelete`` (a node's pod gets the new
            template only when deleted: for agents upgraded node by node, by hand).
        max_unavailable: nodes whose pod may be down during a rollout (defaults to 1).
        max_surge: extra pods per node during a rollout (defaults to 0).
        min_ready: how long a new pod must be ready before it counts (defaults to 10s).
        revision_history: old revisions kept for rollback (defaults to 5).

    Manifests: the DaemonSet and its ServiceAccount.
    """

    api_version: ClassVar[str] = "apps/v1"
    kind: ClassVar[str] = "DaemonSet"

    strategy: Literal["RollingUpdate", "OnDelete"] = "RollingUpdate"
    max_unavailable: IntOrPercent = 1
    max_surge: IntOrPercent = 0
    min_ready: Duration = timedelta(seconds=10)
    revision_history: int = Field(default=5, ge=0)

    def __init__(self, name: str, /, **data: Unpack[DaemonSetArgs]) -> None:
        super().__init__(name, **data)

    @model_validator(mode="after")
    def _check_rollout(self) -> DaemonSet:
        if assigning_namespace(self):  # nothing below reads it
            return self
        check_int_or_percent(self.max_unavailable, "max_unavailable")
        check_int_or_percent(self.max_surge, "max_surge")
        given = self.model_fields_set & {"max_surge", "max_unavailable"}
        if self.strategy == "OnDelete" and given:
            raise InvalidValue(
                f"{', '.join(sorted(given))} tune a RollingUpdate; OnDelete replaces a pod only "
                "when you delete it",
                fix="drop them, or use strategy='RollingUpdate'",
                field=sorted(given)[0],
            )
        if is_zero(self.max_surge) and is_zero(self.max_unavailable):
            raise InvalidValue(
                "max_surge and max_unavailable are both 0, so a rollout could never progress",
                fix="keep max_unavailable=1",
            )
        return self

    def build_manifests(self) -> list[ManifestObject]:
        defaults = self.prepare()
        spec: dict[str, Any] = {
            "selector": {"matchLabels": self.selector_labels()},
            "updateStrategy": {"type": "OnDelete"} if self.strategy == "OnDelete" else {
                "type": "RollingUpdate",
                "rollingUpdate": {
                    "maxSurge": self.max_surge,
                    "maxUnavailable": self.max_unavailable,
                },
            },
            "minReadySeconds": seconds(self.min_ready),
            "revisionHistoryLimit": self.revision_history,
            "template": self.pod_template(defaults, spread=[]),
        }
        body = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(labels=self.object_labels()),
            "spec": spec,
        }
        return [self.manifest(body), *derived.service_accounts(self)]
