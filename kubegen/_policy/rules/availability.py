"""Availability and batch hygiene (KG701–KG706).

Replicas, PodDisruptionBudgets and topology spread matter for production (the ``prod`` profile
makes them errors); elsewhere they are hints. The replica count is ``spec.replicas`` (Kubernetes
defaults it to 1), or the ``minReplicas`` of a HorizontalPodAutoscaler in the set that scales the
workload. Jobs without a TTL pile up finished pods; jobs without deadlines can hang forever.
"""

from __future__ import annotations

from collections.abc import Iterator

from kubegen._manifests import ManifestObject
from kubegen._policy.context import LintContext, PodView, as_dict, as_list
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import E, I, W, rule
from kubegen._policy.rules import show_labels
from kubegen._policy.selectors import SelectorIndex

#: The Argo CD annotation marking a sync hook (see kubegen._builders.ordering).
HOOK = "argocd.argoproj.io/hook"

SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController")
KIA_DEPLOY = "Kubernetes in Action (2nd ed.), 'Deployments'"
KIA_STS = "Kubernetes in Action (2nd ed.), 'StatefulSets'"
DISRUPTIONS = "Kubernetes docs, 'Disruptions' (PodDisruptionBudget)"
TAGS = ("reliability",)


def autoscaled_minimums(ctx: LintContext) -> dict[tuple[str, str, str], int]:
    """``(namespace, kind, name)`` of each HPA target → its ``minReplicas`` (default 1)."""
    found: dict[tuple[str, str, str], int] = {}
    for hpa in ctx.of_kind("HorizontalPodAutoscaler"):
        spec = as_dict(hpa.body.get("spec"))
        target = as_dict(spec.get("scaleTargetRef"))
        value = spec.get("minReplicas", 1)
        key = (hpa.namespace or "default", str(target.get("kind")), str(target.get("name")))
        found[key] = value if isinstance(value, int) else 1
    return found


def replicas(obj: ManifestObject, autoscaled: dict[tuple[str, str, str], int]) -> int:
    """How many pods the workload runs at least (HPA ``minReplicas`` wins over ``replicas``)."""
    scaled = autoscaled.get((obj.namespace or "default", obj.kind, obj.name))
    if scaled is not None:
        return scaled
    value = as_dict(obj.body.get("spec")).get("replicas", 1)
    return value if isinstance(value, int) else 1


def _replicated(ctx: LintContext) -> Iterator[tuple[PodView, int]]:
    autoscaled = autoscaled_minimums(ctx)
    for pod in ctx.pods:
        if pod.obj.kind in SCALABLE:
            yield pod, replicas(pod.obj, autoscaled)


@rule(
    "KG701",
    name="replicas",
    title="Workloads run at least two replicas (prod)",
    levels=Levels(baseline=I, restricted=I, prod=E),
    reason="One replica means downtime on every rollout hiccup, node drain or crash.",
    sources=(KIA_DEPLOY, KIA_STS),
    fix="Set replicas: 2 or more (or an HPA with minReplicas >= 2).",
    scanners=(
        "Polaris deploymentMissingReplicas",
        "kube-score deployment-replicas",
        "kube-linter minimum-three-replicas",
    ),
    tags=TAGS,
    kinds=("Deployment", "StatefulSet"),
)
def replica_count(ctx: LintContext) -> Iterator[Hit]:
    for pod, count in _replicated(ctx):
        if pod.obj.kind in ("Deployment", "StatefulSet") and count < 2:
            yield Hit(pod.obj, "spec.replicas", f"runs {count} replica")


@rule(
    "KG702",
    name="pod-disruption-budget",
    title="Replicated workloads are covered by a PodDisruptionBudget",
    levels=Levels(baseline=W, restricted=W, prod=E),
    reason="Without a PDB a node drain may evict every replica at once; the budget makes "
    "voluntary disruptions wait for healthy pods.",
    sources=(DISRUPTIONS, KIA_DEPLOY),
    fix="Add a PodDisruptionBudget whose selector matches the pod labels, e.g. "
    "maxUnavailable: 1 (kubegen's builders add one for replicas > 1).",
    scanners=(
        "Polaris missingPodDisruptionBudget",
        "kube-score *-has-poddisruptionbudget",
        "kube-linter pdb-*",
    ),
    tags=TAGS,
    kinds=SCALABLE,
)
def pod_disruption_budget(ctx: LintContext) -> Iterator[Hit]:
    budgets: dict[str, list[tuple[object, ManifestObject]]] = {}
    for pdb in ctx.of_kind("PodDisruptionBudget"):
        selector = as_dict(pdb.body.get("spec")).get("selector")
        budgets.setdefault(pdb.namespace or "default", []).append((selector, pdb))
    index = {namespace: SelectorIndex(entries) for namespace, entries in budgets.items()}
    for pod, count in _replicated(ctx):
        if count < 2:
            continue
        found = index.get(pod.namespace)
        if found is None or not found.any_match(pod.labels):
            labels = show_labels(pod.labels)
            message = f"runs {count} replicas; no PodDisruptionBudget selects {labels}"
            yield Hit(pod.obj, "spec.replicas", message)


@rule(
    "KG703",
    name="topology-spread",
    title="Replicated workloads spread across nodes and zones (prod)",
    levels=Levels(baseline=I, restricted=I, prod=E),
    reason="Replicas the scheduler packs onto one node or zone fail together.",
    sources=("Kubernetes docs, 'Pod Topology Spread Constraints'", KIA_DEPLOY),
    fix="Add topologySpreadConstraints on kubernetes.io/hostname (and topology.kubernetes.io/"
    "zone) with the pod's labels as labelSelector.",
    scanners=(
        "Polaris topologySpreadConstraint",
        "kube-score pod-topology-spread-constraints",
        "kube-linter no-anti-affinity",
    ),
    tags=TAGS,
    kinds=SCALABLE,
)
def topology_spread(ctx: LintContext) -> Iterator[Hit]:
    for pod, count in _replicated(ctx):
        if count >= 2 and not pod.spec.get("topologySpreadConstraints"):
            path = pod.field("topologySpreadConstraints")
            yield Hit(pod.obj, path, f"runs {count} replicas with no topology spread")


@rule(
    "KG704",
    name="job-ttl",
    title="Jobs are cleaned up after they finish",
    levels=Levels(baseline=W, restricted=W, prod=W),
    reason="Finished Jobs and their pods stay until deleted, filling etcd and the pod list. "
    "(CronJobs clean up through their history limits, and Argo CD sync hooks through their "
    "delete policy, so only other Jobs are checked.)",
    sources=("Kubernetes docs, 'Automatic Cleanup for Finished Jobs'",),
    fix="Set spec.ttlSecondsAfterFinished, e.g. 86400.",
    scanners=("kube-linter job-ttl-seconds-after-finished",),
    tags=TAGS,
    kinds=("Job",),
)
def job_ttl(ctx: LintContext) -> Iterator[Hit]:
    for job in ctx.of_kind("Job"):
        if HOOK in as_dict(job.metadata.get("annotations")):
            continue  # a sync hook: its hook-delete-policy cleans it up (and a TTL would rerun it)
        if as_dict(job.body.get("spec")).get("ttlSecondsAfterFinished") is None:
            yield Hit(job, "spec.ttlSecondsAfterFinished", "is unset; the Job is never deleted")


@rule(
    "KG705",
    name="job-deadlines",
    title="Jobs and CronJobs have deadlines",
    levels=Levels(baseline=W, restricted=W, prod=W),
    reason="A Job without activeDeadlineSeconds can run (or retry) forever; a CronJob without "
    "startingDeadlineSeconds may start a burst of missed runs after an outage.",
    sources=("Kubernetes docs, 'Jobs' and 'CronJob'", "kube-score cronjob-has-deadline"),
    fix="Set activeDeadlineSeconds on the Job (spec.jobTemplate.spec for a CronJob), with "
    "active_deadline='15m' on kubegen's Job and CronJob, and startingDeadlineSeconds on the "
    "CronJob (starting_deadline=).",
    scanners=("kube-score cronjob-has-deadline",),
    tags=TAGS,
    kinds=("Job", "CronJob"),
)
def job_deadlines(ctx: LintContext) -> Iterator[Hit]:
    for obj in ctx.of_kind("Job", "CronJob"):
        spec = as_dict(obj.body.get("spec"))
        if obj.kind == "CronJob":
            if spec.get("startingDeadlineSeconds") is None:
                yield Hit(obj, "spec.startingDeadlineSeconds", "is unset")
            job_spec, path = as_dict(as_dict(spec.get("jobTemplate")).get("spec")), "spec."
            path += "jobTemplate.spec.activeDeadlineSeconds"
        else:
            job_spec, path = spec, "spec.activeDeadlineSeconds"
        if job_spec.get("activeDeadlineSeconds") is None:
            yield Hit(obj, path, "is unset; the Job may run forever")


def _utilisation_metrics(hpa: ManifestObject) -> list[str]:
    """Resources an HPA measures as a percentage of requests (``Utilization`` targets)."""
    found = []
    for metric in as_list(as_dict(hpa.body.get("spec")).get("metrics")):
        metric = as_dict(metric)
        if metric.get("type") != "Resource":
            continue
        resource = as_dict(metric.get("resource"))
        if as_dict(resource.get("target")).get("type") == "Utilization":
            found.append(str(resource.get("name")))
    return found


@rule(
    "KG706",
    name="autoscaled-requests",
    title="Containers request what their HorizontalPodAutoscaler measures",
    levels=Levels(baseline=E, restricted=E, prod=E),
    reason="A utilisation target is a percentage of the pods' requests: when one container "
    "requests no CPU (or memory), the HPA reports 'missing request' and never scales.",
    sources=("Kubernetes docs, 'Horizontal Pod Autoscaling' (support for resource metrics)",),
    fix="Give every container of the target a request of that resource (kubegen's builders "
    "always set requests).",
    scanners=("Polaris hpaMaxAvailability (related)",),
    tags=TAGS,
    kinds=("HorizontalPodAutoscaler",),
)
def autoscaled_requests(ctx: LintContext) -> Iterator[Hit]:
    targets = {(pod.namespace, pod.obj.kind, pod.obj.name): pod for pod in ctx.pods}
    for hpa in ctx.of_kind("HorizontalPodAutoscaler"):
        measured = _utilisation_metrics(hpa)
        ref = as_dict(as_dict(hpa.body.get("spec")).get("scaleTargetRef"))
        pod = targets.get((hpa.namespace or "default", str(ref.get("kind")), str(ref.get("name"))))
        if not measured or pod is None:
            continue
        for container in pod.containers(("containers",)):
            requests = as_dict(as_dict(container.body.get("resources")).get("requests"))
            for resource in measured:
                if resource not in requests:
                    yield Hit(pod.obj, f"{container.path}.resources.requests.{resource}",
                              f"{container.label} requests no {resource}, which {hpa.display} "
                              "scales on")
