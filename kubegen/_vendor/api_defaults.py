"""What the API server (and its admission plugins) fill into a workload: a Deployment,
StatefulSet, DaemonSet, Job, CronJob or bare Pod, and a HorizontalPodAutoscaler.

``kubegen import manifests`` proves a typed call by rendering it and comparing the result with
the input object; "the same object" means the same to the cluster, whether a field is written
out or left to its default. :func:`with_api_defaults` writes those defaults out, so both sides
compare equal when they differ only there. Sources: the API reference of each field
(https://kubernetes.io/docs/reference/kubernetes-api/), the ServiceAccount admission plugin
(``serviceAccountName: default``), and the container runtime's behaviour for security flags
left unset (no ``no_new_privs``: privilege escalation is allowed). For a CronJob, the Job
defaults are filled into ``jobTemplate.spec`` too: the API server leaves them to each Job it
creates, which gets them then, so both spellings run the same Jobs.
"""

from __future__ import annotations

import copy
from typing import Any

_PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                   "failureThreshold": 3}
#: The kinds whose pods the importer maps to typed builders, by their API version.
POD_KINDS = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1",
             "Job": "batch/v1", "CronJob": "batch/v1"}


def pod_template(body: Any) -> dict[str, Any] | None:
    """The pod template of a workload object (a CronJob's is its jobTemplate's, a bare Pod's
    the Pod itself), if any."""
    spec = body.get("spec") if isinstance(body, dict) else None
    if isinstance(body, dict) and (body.get("kind"), body.get("apiVersion")) == ("Pod", "v1"):
        return body if isinstance(spec, dict) else None  # a bare Pod is its own template
    if isinstance(spec, dict) and body.get("kind") == "CronJob":
        job = spec.get("jobTemplate")
        spec = job.get("spec") if isinstance(job, dict) else None
    template = spec.get("template") if isinstance(spec, dict) else None
    return template if isinstance(template, dict) else None


def with_api_defaults(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of a workload (see :data:`POD_KINDS`) or an ``autoscaling/v2``
    HorizontalPodAutoscaler with the API server's defaults filled in (what ``kubectl get -o
    yaml`` would show for the fields kubegen writes or leaves out)."""
    try:
        return _defaulted(body)
    except (AttributeError, TypeError, KeyError):  # a malformed object: compared as it is
        return body


def _rollout_defaults(
    spec: dict[str, Any], key: str, *, surge: int | str, unavailable: int | str
) -> None:
    """A rolling update by default, with the kind's maxSurge and maxUnavailable."""
    strategy = spec.setdefault(key, {})
    if isinstance(strategy, dict):
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            if isinstance(rolling, dict):
                rolling.setdefault("maxSurge", surge)
                rolling.setdefault("maxUnavailable", unavailable)


def _defaulted(body: dict[str, Any]) -> dict[str, Any]:
    kind = body.get("kind")
    if kind == "HorizontalPodAutoscaler" and body.get("apiVersion") == "autoscaling/v2":
        return _autoscaler_defaults(copy.deepcopy(body))
    if (kind, body.get("apiVersion")) == ("Pod", "v1"):
        out = copy.deepcopy(body)
        if isinstance(out.get("spec"), dict):
            _pod_defaults(out["spec"])
        return out
    if kind not in POD_KINDS or body.get("apiVersion") != POD_KINDS[kind]:
        return body
    out = copy.deepcopy(body)
    spec = out.get("spec")
    if not isinstance(spec, dict):
        return out
    if kind in ("Job", "CronJob"):
        _job_defaults(out)
        template = pod_template(out)
        if template is not None and isinstance(template.get("spec"), dict):
            _pod_defaults(template["spec"])
        return out
    if kind != "DaemonSet":
        spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("minReadySeconds", 0)
    if kind == "DaemonSet":  # SetDefaults_DaemonSet
        _rollout_defaults(spec, "updateStrategy", surge=0, unavailable=1)
    elif kind == "Deployment":
        spec.setdefault("progressDeadlineSeconds", 600)
        _rollout_defaults(spec, "strategy", surge="25%", unavailable="25%")
    else:
        spec.setdefault("podManagementPolicy", "OrderedReady")
        update = spec.setdefault("updateStrategy", {})
        if isinstance(update, dict):
            update.setdefault("type", "RollingUpdate")
            if update["type"] == "RollingUpdate":
                update.setdefault("rollingUpdate", {}).setdefault("partition", 0)
        retention = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
        if isinstance(retention, dict):
            retention.setdefault("whenDeleted", "Retain")
            retention.setdefault("whenScaled", "Retain")
        for claim in spec.get("volumeClaimTemplates") or []:
            if isinstance(claim, dict):
                claim.pop("apiVersion", None)
                claim.pop("kind", None)
                claim.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
    template = spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        _pod_defaults(template["spec"])
    return out


def _job_defaults(body: dict[str, Any]) -> None:
    """A Job's defaults (``SetDefaults_Job``: completions and parallelism 1 when both are
    unset, backoffLimit 6, NonIndexed, not suspended, the object labelled like its pods when
    it has no labels), and a CronJob's (``SetDefaults_CronJob``) with its jobTemplate's: the
    controller copies the jobTemplate's labels to each Job, so a jobTemplate without labels
    means Jobs labelled like their pods, as that rule then labels them."""
    spec = body["spec"]
    job = body
    if body["kind"] == "CronJob":
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("suspend", False)
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)
        job = spec.get("jobTemplate")
        spec = job.get("spec") if isinstance(job, dict) else None
        if not isinstance(spec, dict):
            return
        if job.get("metadata") is None:
            job["metadata"] = {}
    if isinstance(job.get("metadata"), dict) and not job["metadata"].get("labels"):
        labels = (spec.get("template") or {}).get("metadata", {}).get("labels")
        if labels:
            job["metadata"]["labels"] = dict(labels)
    if "completions" not in spec and "parallelism" not in spec:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)


def _autoscaler_defaults(body: dict[str, Any]) -> dict[str, Any]:
    """``minReplicas`` 1, and a CPU target of 80% when no metric is given."""
    spec = body.get("spec")
    if isinstance(spec, dict):
        spec.setdefault("minReplicas", 1)
        if not spec.get("metrics"):
            spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": 80}}}]
    return body


def _pod_defaults(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("securityContext", {})
    if spec.get("serviceAccount") and not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec["serviceAccount"]
    spec.pop("serviceAccount", None)
    spec.setdefault("serviceAccountName", "default")  # the ServiceAccount admission plugin's
    for volume in spec.get("volumes") or []:
        for kind in ("configMap", "secret"):
            if isinstance(volume.get(kind), dict):
                volume[kind].setdefault("defaultMode", 0o644)
        if isinstance(volume, dict) and volume.get("emptyDir") is None and "emptyDir" in volume:
            volume["emptyDir"] = {}
        if isinstance(volume, dict) and isinstance(volume.get("hostPath"), dict):
            volume["hostPath"].setdefault("type", "")  # SetDefaults_HostPathVolumeSource
    if isinstance(spec.get("volumes"), list):
        spec["volumes"] = sorted(spec["volumes"], key=lambda v: str(v.get("name")))
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            if isinstance(container, dict):
                _container_defaults(container)
    _effective_security(spec)


def with_effective_automount(
    body: dict[str, Any], accounts: dict[str, bool | None]
) -> dict[str, Any]:
    """``body`` with its pod's ``automountServiceAccountToken`` written out when it is unset
    and the ServiceAccount's setting is known: ``accounts`` maps the names of the
    ServiceAccounts in the input to their own setting (None: unset, which means true); the
    namespace's ``default`` account, when not in the input, leaves it unset too.

    An account that is neither stays unresolved: the pod's setting is then unknown, and the
    object is compared as it is.
    """
    template = pod_template(body)
    pod = template.get("spec") if template is not None else None
    if not isinstance(pod, dict) or "automountServiceAccountToken" in pod:
        return body
    name = str(pod.get("serviceAccountName") or pod.get("serviceAccount") or "default")
    if name not in accounts and name != "default":
        return body
    value = accounts.get(name)
    out = copy.deepcopy(body)
    found = pod_template(out)
    assert found is not None  # the copy has what the original has
    found["spec"]["automountServiceAccountToken"] = value is not False
    return out


# A container inherits these from the pod's securityContext unless it sets its own.
_INHERITED = ("runAsNonRoot", "runAsUser", "runAsGroup", "seccompProfile")
# ``false`` means the same as unset for these.
_FALSE_IS_UNSET = ("privileged", "readOnlyRootFilesystem", "runAsNonRoot")


def _effective_security(spec: dict[str, Any]) -> None:
    """Each container's securityContext as it applies (the pod's inherited values written into
    it, ``false`` flags that mean unset left out), the pod's with only what containers do not
    inherit: ``runAsNonRoot: true`` on the pod or on every container is one setting."""
    pod = spec.get("securityContext")
    if not isinstance(pod, dict):
        return
    containers = [c for key in ("initContainers", "containers") for c in spec.get(key) or []
                  if isinstance(c, dict)]
    for container in containers:
        own = container.get("securityContext")
        context = dict(own) if isinstance(own, dict) else {}
        for key in _INHERITED:
            if key not in context and key in pod:
                context[key] = pod[key]
        for key in _FALSE_IS_UNSET:
            if context.get(key) is False:
                del context[key]
        # Unset, the runtime sets no no_new_privs: escalation is allowed. And with no profile
        # on the pod or the container, the kubelet runs it Unconfined (unless a node enables
        # the non-default --seccomp-default).
        context.setdefault("allowPrivilegeEscalation", True)
        context.setdefault("seccompProfile", {"type": "Unconfined"})
        if context:
            container["securityContext"] = context
        else:
            container.pop("securityContext", None)
    if containers:
        for key in _INHERITED:
            pod.pop(key, None)


def _container_defaults(container: dict[str, Any]) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    image = str(container.get("image", ""))
    last = image.rsplit("/", 1)[-1]
    pinned_tag = ":" in last and not last.endswith(":latest")
    container.setdefault("imagePullPolicy", "IfNotPresent" if pinned_tag or "@" in image
                         else "Always")
    named = {}
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if isinstance(port.get("name"), str):
                named[port["name"]] = port.get("containerPort")
    resources = container.get("resources")
    if isinstance(resources, dict):  # the API server stores quantities canonically (2000m: 2)
        for part in ("requests", "limits"):
            if isinstance(resources.get(part), dict):
                resources[part] = {k: _canonical(v) for k, v in resources[part].items()}
    for key in ("readinessProbe", "livenessProbe", "startupProbe"):
        probe = container.get(key)
        if isinstance(probe, dict):
            for field, value in _PROBE_DEFAULTS.items():
                probe.setdefault(field, value)
            if isinstance(probe.get("httpGet"), dict):
                probe["httpGet"].setdefault("scheme", "HTTP")
                probe["httpGet"].setdefault("path", "/")
            for handler in ("httpGet", "tcpSocket"):  # a named port is its number
                target = probe.get(handler)
                if isinstance(target, dict) and target.get("port") in named:
                    target["port"] = named[target["port"]]
    for env in container.get("env") or []:
        ref = (env.get("valueFrom") or {}).get("fieldRef") if isinstance(env, dict) else None
        if isinstance(ref, dict):
            ref.setdefault("apiVersion", "v1")
    if container.get("resources") is None and "resources" in container:
        container["resources"] = {}


def _canonical(quantity: Any) -> Any:
    from kubegen._values import InvalidValue, normalize_quantity

    try:
        return normalize_quantity(str(quantity))
    except InvalidValue:
        return quantity
