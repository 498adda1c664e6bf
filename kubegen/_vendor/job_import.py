"""Jobs, CronJobs and HorizontalPodAutoscalers as typed builder calls (``kubegen import
manifests``): the arguments of their own specs; a Job's pod is written by
:mod:`~kubegen._vendor.workload_import` like any workload's.

A Job has no selector of its own (the API server generates one and labels the pods with it),
so its pods' labels become its ``selector=``: the labels kubegen's network policies select it
by. A release's labels (version, chart, manager) stay on the pods as ``pod_labels=``, so the
selector still matches after an upgrade.
"""

from __future__ import annotations

from typing import Any

from kubegen._builders.workloads.base import INSTANCE_LABEL, NAME_LABEL
from kubegen._builders.workloads.pod import VERSION_LABEL
from kubegen._vendor.import_base import MANAGED, Unmapped, call, only, r, seconds

JOBS = ("Job", "CronJob")


def job_template(spec: dict[str, Any]) -> dict[str, Any]:
    """A CronJob's Job spec; its jobTemplate's labels must be the typed CronJob's (its
    ``selector=``), checked when the call is proved."""
    template = spec.get("jobTemplate") or {}
    only(template, {"metadata", "spec"}, "spec.jobTemplate")
    only(template.get("metadata") or {}, {"labels"}, "spec.jobTemplate.metadata")
    job = template.get("spec") or {}
    if not isinstance(job, dict):
        raise Unmapped("spec.jobTemplate.spec")
    return job


def unlabelled_jobs(spec: dict[str, Any]) -> bool:
    """Whether a CronJob ``spec``'s jobTemplate carries no labels: each Job it creates is then
    labelled like its pods (``SetDefaults_Job``), all of their labels."""
    template = spec.get("jobTemplate")
    meta = template.get("metadata") if isinstance(template, dict) else None
    return not (meta.get("labels") if isinstance(meta, dict) else None)


def job_selector(
    job: dict[str, Any], name: str, stack: str | None, *, whole: bool = False
) -> dict[str, str] | None:
    """A Job's ``selector=``: its pods' labels, unless they are the ones kubegen gives them,
    without the release's. With ``whole``, all of them, always: a CronJob whose Jobs take all
    their pods' labels (its jobTemplate has none), where a typed CronJob labels its jobTemplate
    with its selector labels."""
    if "selector" in job or "manualSelector" in job:
        raise Unmapped("spec.selector (a Job's selector is the API server's to generate)")
    meta = (job.get("template") or {}).get("metadata") or {}
    labels = {k: v for k, v in dict(meta.get("labels") or {}).items()
              if (k, v) != (MANAGED, "kubegen")}
    if not whole and labels.get(NAME_LABEL) == name and (
            stack is None or labels.get(INSTANCE_LABEL) == stack):
        return None
    if not labels:
        raise Unmapped("spec.template.metadata.labels (none: kubegen labels every pod)")
    stable = {k: v for k, v in labels.items() if k not in _RELEASE_LABELS}
    return labels if whole else stable or labels


# Labels a release changes: not in a Job's selector= (they stay on its pods, as pod_labels=).
_RELEASE_LABELS = {VERSION_LABEL, MANAGED, "helm.sh/chart"}


def job_args(spec: dict[str, Any], kind: str) -> list[str]:
    """The Job spec's arguments (for a CronJob, its jobTemplate's)."""
    where = "spec.jobTemplate.spec" if kind == "CronJob" else "spec"
    only(spec, {"template", "completions", "parallelism", "backoffLimit",
                 "activeDeadlineSeconds", "ttlSecondsAfterFinished", "completionMode",
                 "suspend"}, where)
    if spec.get("completionMode", "NonIndexed") != "NonIndexed":
        raise Unmapped(f"{where}.completionMode")
    if spec.get("suspend", False) is not False:
        raise Unmapped(f"{where}.suspend")
    args = [f"backoff_limit={r(spec.get('backoffLimit', 6))}"]
    for key, arg in (("completions", "completions"), ("parallelism", "parallelism")):
        if key in spec:
            args.append(f"{arg}={r(spec[key])}")
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None:
        args.append(f"active_deadline={seconds(deadline, f'{where}.activeDeadlineSeconds')}")
    ttl = spec.get("ttlSecondsAfterFinished")
    ttl_arg = "None" if ttl is None else seconds(ttl, f"{where}.ttlSecondsAfterFinished")
    if kind == "Job" or ttl is not None:  # a standalone Job's builder default is a day
        args.append(f"ttl_after_finished={ttl_arg}")
    restart = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
    if restart not in ("Never", "OnFailure"):
        raise Unmapped(f"{where}.template.spec.restartPolicy")
    args.append(f"restart={r(restart)}")
    return args


def cronjob_args(spec: dict[str, Any]) -> list[str]:
    only(spec, {"schedule", "timeZone", "concurrencyPolicy", "startingDeadlineSeconds",
                 "suspend", "successfulJobsHistoryLimit", "failedJobsHistoryLimit",
                 "jobTemplate"}, "spec")
    if not isinstance(spec.get("schedule"), str):
        raise Unmapped("spec.schedule")
    args = [f"schedule={r(spec['schedule'])}"]
    if spec.get("timeZone") is not None:
        args.append(f"time_zone={r(spec['timeZone'])}")
    args.append(f"concurrency={r(spec.get('concurrencyPolicy', 'Allow'))}")
    deadline = spec.get("startingDeadlineSeconds")
    args.append("starting_deadline=" + (
        "None" if deadline is None else seconds(deadline, "spec.startingDeadlineSeconds")))
    if spec.get("suspend"):
        args.append("suspend=True")
    args.append(f"successful_history={r(spec.get('successfulJobsHistoryLimit', 3))}")
    args.append(f"failed_history={r(spec.get('failedJobsHistoryLimit', 1))}")
    return args


TARGET = "__TARGET__"  # in an autoscaler's call, where its workload's variable goes
_METRICS = ("cpu", "memory")  # the order a typed HorizontalPodAutoscaler renders them in


def autoscaler_call(body: dict[str, Any]) -> tuple[tuple[str, str], str]:
    """The workload an ``autoscaling/v2`` HorizontalPodAutoscaler scales (kind, name), and its
    ``HorizontalPodAutoscaler(...)`` call with :data:`TARGET` where the workload's variable goes;
    :class:`Unmapped` for what the builder does not take (metrics other than CPU and memory
    utilisation, a target other than a Deployment or StatefulSet)."""
    if body.get("apiVersion") != "autoscaling/v2":
        raise Unmapped("apiVersion (kubegen renders autoscaling/v2)")
    only(body, {"apiVersion", "kind", "metadata", "spec"}, "HorizontalPodAutoscaler")
    meta, spec = body["metadata"], body.get("spec") or {}
    only(meta, {"name", "namespace", "labels", "annotations"}, "metadata")
    only(spec, {"scaleTargetRef", "minReplicas", "maxReplicas", "metrics", "behavior"}, "spec")
    ref = spec.get("scaleTargetRef") or {}
    only(ref, {"apiVersion", "kind", "name"}, "spec.scaleTargetRef")
    if ref.get("apiVersion") != "apps/v1" or ref.get("kind") not in ("Deployment", "StatefulSet"):
        raise Unmapped("spec.scaleTargetRef (kubegen autoscales a Deployment or StatefulSet)")
    args = [r(meta["name"]), f"target={TARGET}"]
    labels = {k: v for k, v in (meta.get("labels") or {}).items()
              if (k, v) != (MANAGED, "kubegen")}
    if labels:
        args.append(f"labels={r(labels)}")
    if meta.get("annotations"):
        args.append(f"annotations={r(dict(meta['annotations']))}")
    args.append(f"min={r(spec.get('minReplicas', 1))}")
    args.append(f"max={r(spec.get('maxReplicas'))}")
    args += _metrics(spec.get("metrics") or [])
    behavior = spec.get("behavior") or {}
    only(behavior, {"scaleUp", "scaleDown"}, "spec.behavior")
    for key, arg in (("scaleUp", "scale_up"), ("scaleDown", "scale_down")):
        if key in behavior:
            args.append(f"{arg}={_rules(behavior[key], f'spec.behavior.{key}')}")
    return (str(ref["kind"]), str(ref.get("name"))), call("HorizontalPodAutoscaler", args)


def _metrics(metrics: list[Any]) -> list[str]:
    """``cpu=``/``memory=`` from Resource utilisation metrics (none: the API's CPU at 80%)."""
    if not metrics:
        return ["cpu=80"]
    found: dict[str, Any] = {}
    for index, metric in enumerate(metrics):
        where = f"spec.metrics[{index}]"
        only(metric, {"type", "resource"}, where)
        resource = metric.get("resource") or {}
        only(resource, {"name", "target"}, f"{where}.resource")
        target = resource.get("target") or {}
        only(target, {"type", "averageUtilization"}, f"{where}.resource.target")
        name = resource.get("name")
        if metric.get("type") != "Resource" or target.get("type") != "Utilization" or (
                name not in _METRICS or name in found):
            raise Unmapped(f"{where} (kubegen scales on CPU and memory utilisation)")
        found[str(name)] = target.get("averageUtilization")
    if list(found) != [m for m in _METRICS if m in found]:
        raise Unmapped("spec.metrics (memory before cpu: a typed autoscaler lists cpu first)")
    return [f"{name}={r(value)}" for name, value in found.items()]


def _rules(rules: Any, where: str) -> str:
    only(rules, {"stabilizationWindowSeconds", "selectPolicy", "policies"}, where)
    args = []
    if "stabilizationWindowSeconds" in rules:
        window = seconds(rules["stabilizationWindowSeconds"], f"{where}.stabilizationWindowSeconds")
        args.append(f"stabilization={window}")
    if "selectPolicy" in rules:
        args.append(f"select={r(rules['selectPolicy'])}")
    policies = []
    for index, policy in enumerate(rules.get("policies") or []):
        at = f"{where}.policies[{index}]"
        only(policy, {"type", "value", "periodSeconds"}, at)
        kind = {"Pods": "pods", "Percent": "percent"}.get(policy.get("type"))
        if kind is None:
            raise Unmapped(f"{at}.type")
        period = seconds(policy.get("periodSeconds"), f"{at}.periodSeconds")
        policies.append(call("ScalingPolicy", [f"{kind}={r(policy.get('value'))}",
                                               f"period={period}"]))
    if policies:
        args.append(f"policies=[{', '.join(policies)}]")
    if not args:
        raise Unmapped(where)
    return call("ScalingRules", args)
