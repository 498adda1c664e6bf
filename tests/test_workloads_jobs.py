"""Job, CronJob and DaemonSet: their own defaults on top of the shared hardened pod."""

from __future__ import annotations

import pytest
from workload_support import TAGGED, objects_by_kind, pod_spec

from kubegen import CronJob, DaemonSet, Job, Stack, ValidationError


def test_job_defaults() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Job("migrate", image=TAGGED, args=["migrate"], ports=[8080]))
    objects = objects_by_kind(stack)
    spec = objects[("Job", "migrate")]["spec"]
    assert spec["backoffLimit"] == 3
    assert spec["ttlSecondsAfterFinished"] == 86400
    assert "activeDeadlineSeconds" not in spec
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    assert "selector" not in spec
    assert ("ServiceAccount", "migrate") in objects


def test_job_options() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Job("migrate", image=TAGGED, backoff_limit=0, active_deadline="10m",
                  ttl_after_finished=None, completions=5, parallelism=2, restart="OnFailure"))
    spec = objects_by_kind(stack)[("Job", "migrate")]["spec"]
    assert spec["backoffLimit"] == 0
    assert spec["activeDeadlineSeconds"] == 600
    assert "ttlSecondsAfterFinished" not in spec
    assert (spec["completions"], spec["parallelism"]) == (5, 2)
    assert spec["template"]["spec"]["restartPolicy"] == "OnFailure"


def test_cronjob_defaults() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(CronJob("backup", schedule="0  3 * * *", image=TAGGED))
    cron = objects_by_kind(stack)[("CronJob", "backup")]
    spec = cron["spec"]
    assert spec["schedule"] == "0 3 * * *"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] == 300
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (3, 1)
    assert "timeZone" not in spec and "suspend" not in spec
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 3 and "ttlSecondsAfterFinished" not in job
    assert pod_spec(cron)["restartPolicy"] == "Never"
    assert spec["jobTemplate"]["metadata"]["labels"]["app.kubernetes.io/name"] == "backup"


def test_cronjob_options() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(CronJob("backup", schedule="@daily", time_zone="Europe/Berlin",
                      concurrency="Replace", starting_deadline=None, suspend=True,
                      successful_history=1, failed_history=5, image=TAGGED))
    spec = objects_by_kind(stack)[("CronJob", "backup")]["spec"]
    assert spec["timeZone"] == "Europe/Berlin"
    assert spec["concurrencyPolicy"] == "Replace"
    assert "startingDeadlineSeconds" not in spec
    assert spec["suspend"] is True


@pytest.mark.parametrize("schedule", ["every day", "* * * *", "TZ=UTC 0 3 * * *", "@often"])
def test_cronjob_schedule_rejected(schedule: str) -> None:
    with pytest.raises(ValidationError) as info:
        CronJob("backup", schedule=schedule, image=TAGGED)
    assert info.value.field == "schedule"
    assert "'0 3 * * *'" in str(info.value) and "@daily" in str(info.value)


def test_cronjob_time_zone_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        CronJob("backup", schedule="@daily", time_zone="Mars/Olympus", image=TAGGED)
    assert info.value.field == "time_zone" and "IANA" in str(info.value)


def test_cronjob_name_limit() -> None:
    with pytest.raises(ValidationError, match="at most 52 characters"):
        CronJob("b" * 53, schedule="@daily", image=TAGGED)


def test_probe_rule_skips_jobs() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Job("serve-once", image=TAGGED, ports=[8080]))
    stack.add(CronJob("tick", schedule="@hourly", image=TAGGED, ports=[8081]))
    assert len([o for o in stack.objects() if o.kind != "NetworkPolicy"]) == 5


def test_daemonset_defaults() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(DaemonSet("agent", image=TAGGED))
    objects = objects_by_kind(stack)
    spec = objects[("DaemonSet", "agent")]["spec"]
    assert spec["updateStrategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}
    }
    assert spec["minReadySeconds"] == 10
    assert "topologySpreadConstraints" not in spec["template"]["spec"]
    assert sorted(k for k in objects if k[0] != "NetworkPolicy") == [
        ("DaemonSet", "agent"), ("Namespace", "shop"), ("ServiceAccount", "agent")]


def test_daemonset_probe_rule_applies() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(DaemonSet("agent", image=TAGGED, ports=[9100]))
    with pytest.raises(ValidationError, match="serve traffic"):
        stack.objects()


def test_rollout_values_checked() -> None:
    with pytest.raises(ValidationError, match="could never progress"):
        DaemonSet("agent", image=TAGGED, max_unavailable=0)
    with pytest.raises(ValidationError) as info:
        DaemonSet("agent", image=TAGGED, max_unavailable="150%")
    assert "'25%'" in str(info.value)
