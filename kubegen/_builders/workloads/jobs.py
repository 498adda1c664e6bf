"""Job and CronJob: hardened pods that run to completion, on demand or on a schedule.

Job defaults: ``backoffLimit: 3``, ``restartPolicy: Never`` (a failed pod is kept for its logs
and a new one started), ``ttlSecondsAfterFinished: 86400`` (finished Jobs are cleaned up after a
day). CronJob defaults: ``concurrencyPolicy: Forbid`` (a slow run is never overlapped),
``startingDeadlineSeconds: 300``, history limits 3 successful / 1 failed. The probe rule does not
apply: these pods are not serving. Jobs get their own ServiceAccount like every workload.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, ClassVar, Literal, Required, Unpack

from pydantic import Field, field_validator

from kubegen._builders.workloads import derived
from kubegen._builders.workloads.pod import PodWorkload, PodWorkloadArgs
from kubegen._manifests import ManifestObject
from kubegen._values import Duration, DurationLike, InvalidValue, seconds
from kubegen._values.timezones import is_time_zone

_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_CRON_ITEM = r"(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?"
_CRON_FIELD_RE = re.compile(rf"{_CRON_ITEM}(,{_CRON_ITEM})*\Z")


class JobSettingsArgs(PodWorkloadArgs, total=False):
    backoff_limit: int
    active_deadline: DurationLike | None
    ttl_after_finished: DurationLike | None
    completions: int | None
    parallelism: int | None
    restart: Literal["Never", "OnFailure"]


class JobSettings(PodWorkload):
    """What a Job runs with; shared by :class:`Job` and :class:`CronJob`'s job template.

    Args:
        backoff_limit: retries before the Job fails (defaults to 3).
        active_deadline: the Job fails when running longer (unset by default).
        ttl_after_finished: delete the finished Job after this long.
        completions: successful pods needed (Kubernetes default 1).
        parallelism: pods running at once (Kubernetes default 1).
        restart: ``Never`` (default: a new pod per retry) or ``OnFailure``.
    """

    backoff_limit: int = Field(default=3, ge=0)
    active_deadline: Duration | None = None
    ttl_after_finished: Duration | None = None
    completions: int | None = Field(default=None, ge=1)
    parallelism: int | None = Field(default=None, ge=0)
    restart: Literal["Never", "OnFailure"] = "Never"

    long_running: ClassVar[bool] = False

    # Its own __init__, so type checkers call the runtime one, not a synthesized one.
    def __init__(self, name: str, /, **data: Any) -> None:
        super().__init__(name, **data)

    def pod_restart_policy(self) -> str | None:
        return self.restart

    def job_spec(self) -> dict[str, Any]:
        """The Job spec (also a CronJob's ``jobTemplate.spec``)."""
        defaults = self.prepare()
        spec: dict[str, Any] = {}
        if self.completions is not None:
            spec["completions"] = self.completions
        if self.parallelism is not None:
            spec["parallelism"] = self.parallelism
        spec["backoffLimit"] = self.backoff_limit
        if self.active_deadline is not None:
            spec["activeDeadlineSeconds"] = seconds(self.active_deadline)
        if self.ttl_after_finished is not None:
            spec["ttlSecondsAfterFinished"] = seconds(self.ttl_after_finished)
        spec["template"] = self.pod_template(defaults, spread=[])
        return spec


class Job(JobSettings):
    """A hardened Job. Kubernetes forbids changing a Job's pod template: rename it to rerun.

    Args:
        ttl_after_finished: defaults to 24h here (standalone Jobs are not cleaned up otherwise).

    Manifests: the Job and its ServiceAccount. See :class:`JobSettings` for the other fields.
    """

    api_version: ClassVar[str] = "batch/v1"
    kind: ClassVar[str] = "Job"

    ttl_after_finished: Duration | None = timedelta(days=1)

    def __init__(self, name: str, /, **data: Unpack[JobSettingsArgs]) -> None:
        super().__init__(name, **data)

    def build_manifests(self) -> list[ManifestObject]:
        spec = self.job_spec()
        body = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(labels=self.object_labels()),
            "spec": spec,
        }
        return [self.manifest(body), *derived.service_accounts(self)]


class CronJobArgs(JobSettingsArgs, total=False):
    schedule: Required[str]
    time_zone: str | None
    concurrency: Literal["Forbid", "Allow", "Replace"]
    starting_deadline: DurationLike | None
    successful_history: int
    failed_history: int
    suspend: bool


class CronJob(JobSettings):
    """A hardened CronJob.

    Args:
        schedule: five cron fields (``'0 3 * * *'``) or a macro (``'@daily'``).
        time_zone: IANA zone the schedule is in (``'Europe/Berlin'``); the controller's
            (usually UTC) when unset.
        concurrency: ``Forbid`` (default), ``Allow`` or ``Replace``.
        starting_deadline: skip a run that could not start within this long (defaults to 5m).
        successful_history / failed_history: finished Jobs kept (defaults 3 and 1).
        suspend: pause scheduling (defaults to False).

    Manifests: the CronJob and its ServiceAccount. See :class:`JobSettings` for the job fields.
    """

    api_version: ClassVar[str] = "batch/v1"
    kind: ClassVar[str] = "CronJob"

    schedule: str
    time_zone: str | None = None
    concurrency: Literal["Forbid", "Allow", "Replace"] = "Forbid"
    starting_deadline: Duration | None = timedelta(minutes=5)
    successful_history: int = Field(default=3, ge=0)
    failed_history: int = Field(default=1, ge=0)
    suspend: bool = False

    def __init__(self, name: str, /, **data: Unpack[CronJobArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("name")
    @classmethod
    def _short_name(cls, name: str) -> str:
        if len(name) > 52:
            raise InvalidValue(
                f"a CronJob name is at most 52 characters (it gets an 11-character suffix per "
                f"Job); {name!r} has {len(name)}",
                fix=f"shorten it, e.g. '{name[:52].rstrip('-.')}'",
            )
        return name

    @field_validator("schedule")
    @classmethod
    def _cron(cls, schedule: str) -> str:
        text = " ".join(schedule.split())
        fields = text.split(" ")
        if text in _MACROS or (len(fields) == 5 and all(_CRON_FIELD_RE.match(f) for f in fields)):
            return text
        raise InvalidValue(
            f"schedule {schedule!r} is not a cron schedule: expected five fields "
            "'minute hour day-of-month month day-of-week' (e.g. '0 3 * * *') or one of "
            f"{', '.join(_MACROS)}",
            fix="write e.g. schedule='0 3 * * *', and set the zone with time_zone=",
        )

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, zone: str | None) -> str | None:
        if zone is None:
            return None
        if not is_time_zone(zone):
            raise InvalidValue(
                f"time_zone {zone!r} is not an IANA time zone name",
                fix="use a name such as 'Etc/UTC' or 'Europe/Berlin'",
            )
        return zone

    def build_manifests(self) -> list[ManifestObject]:
        job = self.job_spec()
        spec: dict[str, Any] = {"schedule": self.schedule}
        if self.time_zone is not None:
            spec["timeZone"] = self.time_zone
        spec["concurrencyPolicy"] = self.concurrency
        if self.starting_deadline is not None:
            spec["startingDeadlineSeconds"] = seconds(self.starting_deadline)
        if self.suspend:
            spec["suspend"] = True
        spec["successfulJobsHistoryLimit"] = self.successful_history
        spec["failedJobsHistoryLimit"] = self.failed_history
        spec["jobTemplate"] = {
            "metadata": {"labels": dict(sorted(self.recommended_labels().items()))},
            "spec": job,
        }
        body = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(labels=self.object_labels()),
            "spec": spec,
        }
        return [self.manifest(body), *derived.service_accounts(self)]
