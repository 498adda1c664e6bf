"""Workload objects as typed builder calls, for ``kubegen import manifests``.

:func:`workload_call` writes the ``Deployment(...)``/``StatefulSet(...)``/``DaemonSet(...)``/
``Job(...)``/``CronJob(...)`` call whose render would be the object: containers, ports, env,
probes, hooks, resources, volumes and mounts, security settings (weakened ones as
``allow_*=REASON`` opt-outs), replicas, rollout strategy, a Job's retries and schedule,
ServiceAccount, labels and annotations. A field no builder argument expresses raises
:class:`Unmapped` with the field's path, and the importer keeps the object as a ``Manifest``;
a call is kept only when the importer has rendered it and got the input back (the builders'
own choices, such as the pod selector, are checked there, not assumed here).

:func:`~kubegen._vendor.api_defaults.with_api_defaults` fills in what the API server would
default, so "the same object" means the same to the cluster however it is written.
"""

from __future__ import annotations

from typing import Any

from kubegen._builders.workloads.base import INSTANCE_LABEL, NAME_LABEL
from kubegen._builders.workloads.pod import COMPONENT_LABEL, VERSION_LABEL
from kubegen._builders.workloads.volumes import volume_slug
from kubegen._vendor.api_defaults import POD_KINDS
from kubegen._vendor.host_path_import import host_path_sources
from kubegen._vendor.import_base import MANAGED as _MANAGED
from kubegen._vendor.import_base import Unmapped
from kubegen._vendor.import_base import call as _call
from kubegen._vendor.import_base import only as _only
from kubegen._vendor.import_base import r as _r
from kubegen._vendor.import_base import seconds as _seconds
from kubegen._vendor.job_import import (
    JOBS,
    cronjob_args,
    job_args,
    job_selector,
    job_template,
    unlabelled_jobs,
)

_DERIVED_LABELS = {NAME_LABEL, INSTANCE_LABEL, VERSION_LABEL, COMPONENT_LABEL, _MANAGED}
_RESTRICTED_CAPS = {"NET_BIND_SERVICE"}


# -- the workload ------------------------------------------------------------------------------


def workload_call(
    body: dict[str, Any], namespace: str | None, reason: str = "REASON", stack: str | None = None,
    *, autoscaled: bool = False, origin: str = "",
) -> str:
    """The builder call rendering ``body`` (a Deployment, StatefulSet, DaemonSet, Job or
    CronJob), or :class:`Unmapped`.

    ``reason`` is the Python expression every ``allow_*`` opt-out gets; ``stack`` the name of
    the stack the call goes into: a pod selector other than kubegen's own for that stack
    (``app.kubernetes.io/name`` + ``/instance``) is kept as ``selector=``, with the labels as
    they are. A Job has no selector of its own (the API server generates one): its pods'
    labels are its ``selector=`` unless they are kubegen's. ``autoscaled``: the call for a
    Deployment/StatefulSet an imported HorizontalPodAutoscaler scales (no ``replicas=``; the
    input must set none either). ``origin``: the object's file (or ``file:line``), named by
    the reasons of its ``HostPath`` volumes.
    """
    kind = body.get("kind")
    if kind not in POD_KINDS or body.get("apiVersion") != POD_KINDS[kind]:
        raise Unmapped("apiVersion")
    if kind != "CronJob":
        return _workload_call(body, namespace, reason, stack, autoscaled, origin)
    try:
        return _workload_call(body, namespace, reason, stack, autoscaled, origin)
    except Unmapped as exc:  # its pod template is the jobTemplate's
        where = str(exc)
        if where.startswith("spec.template") or where.startswith("spec.selector"):
            where = "spec.jobTemplate." + where
        raise Unmapped(where) from None


def _workload_call(
    body: dict[str, Any], namespace: str | None, reason: str, stack: str | None,
    autoscaled: bool, origin: str,
) -> str:
    kind = str(body["kind"])
    _only(body, {"apiVersion", "kind", "metadata", "spec"}, kind)
    meta, spec = body["metadata"], body.get("spec") or {}
    args = [_r(meta["name"])]
    if meta.get("namespace") and meta["namespace"] != namespace:
        args.append(f"namespace={_r(meta['namespace'])}")
    labels = dict(meta.get("labels") or {})
    job: dict[str, Any] = spec
    if kind == "CronJob":
        job = job_template(spec)
    selector = (job_selector(job, str(meta["name"]), stack,
                             whole=kind == "CronJob" and unlabelled_jobs(spec))
                if kind in JOBS else _selector(spec, str(meta["name"]), stack))
    if selector is not None:
        args.append(f"selector={_r(selector)}")
        own = {k: v for k, v in labels.items() if (k, v) != (_MANAGED, "kubegen")}
    else:
        if labels.get(COMPONENT_LABEL):
            args.append(f"component={_r(labels[COMPONENT_LABEL])}")
        own = {k: v for k, v in labels.items() if k not in _DERIVED_LABELS}
    if own:
        args.append(f"labels={_r(own)}")
    notes = {k: v for k, v in (meta.get("annotations") or {}).items()
             if not k.startswith("kubegen.dev/")}
    if notes:
        args.append(f"annotations={_r(notes)}")
    if kind in JOBS:
        if kind == "CronJob":
            args += cronjob_args(spec)
        args += job_args(job, kind)
        args += _pod(job.get("template") or {}, reason, claims=set(), selector=selector,
                     restart=("Never", "OnFailure"), spread=False, origin=origin)
        return _call(kind, args)
    if kind == "DaemonSet":
        _only(spec, {"selector", "template", "minReadySeconds", "revisionHistoryLimit",
                     "updateStrategy"}, "spec")
        args += _daemonset(spec)
        args += _pod(spec.get("template") or {}, reason, claims=set(), selector=selector,
                     spread=False, origin=origin)
        return _call(kind, args)
    common = {"replicas", "selector", "template", "minReadySeconds", "revisionHistoryLimit"}
    if kind == "Deployment":
        _only(spec, common | {"strategy", "progressDeadlineSeconds", "paused"}, "spec")
        args += _deployment(spec)
    else:
        _only(spec, common | {"serviceName", "podManagementPolicy", "updateStrategy",
                              "persistentVolumeClaimRetentionPolicy", "volumeClaimTemplates"},
              "spec")
        args += _statefulset(spec)
    if not autoscaled:
        args.append(f"replicas={_r(spec.get('replicas', 1))}")
    elif "replicas" in spec:
        raise Unmapped("spec.replicas (an autoscaled typed workload renders none: its "
                       "HorizontalPodAutoscaler sets the count)")
    args.append(f"min_ready={_seconds(spec.get('minReadySeconds', 0), 'spec.minReadySeconds')}")
    args.append(f"revision_history={_r(spec.get('revisionHistoryLimit', 10))}")
    args += _pod(spec.get("template") or {}, reason, claims=_claim_names(spec),
                 selector=selector, origin=origin)
    return _call(kind, args)


def _selector(spec: dict[str, Any], name: str, stack: str | None) -> dict[str, str] | None:
    """The workload's own pod selector, or None when it is the one kubegen would render."""
    selector = spec.get("selector") or {}
    _only(selector, {"matchLabels"}, "spec.selector")
    labels = dict(selector.get("matchLabels") or {})
    if not labels:
        raise Unmapped("spec.selector (no matchLabels)")
    if set(labels) == {NAME_LABEL, INSTANCE_LABEL} and labels[NAME_LABEL] == name and (
            stack is None or labels[INSTANCE_LABEL] == stack):
        return None
    return labels


def _deployment(spec: dict[str, Any]) -> list[str]:
    args = _rollout(spec.get("strategy") or {}, "spec.strategy", "Recreate", "25%", "25%")
    deadline = spec.get("progressDeadlineSeconds", 600)
    args.append(f"progress_deadline={_seconds(deadline, 'spec.progressDeadlineSeconds')}")
    if spec.get("paused"):
        args.append("paused=True")
    return args


def _daemonset(spec: dict[str, Any]) -> list[str]:
    args = _rollout(spec.get("updateStrategy") or {}, "spec.updateStrategy", "OnDelete", 0, 1)
    args.append(f"min_ready={_seconds(spec.get('minReadySeconds', 0), 'spec.minReadySeconds')}")
    args.append(f"revision_history={_r(spec.get('revisionHistoryLimit', 10))}")
    return args


def _rollout(
    strategy: dict[str, Any], where: str, other: str, surge: int | str, unavailable: int | str
) -> list[str]:
    """A Deployment's ``strategy`` or a DaemonSet's ``updateStrategy``: ``other`` (Recreate,
    OnDelete), or a rolling update with the kind's API defaults for what it leaves out."""
    _only(strategy, {"type", "rollingUpdate"}, where)
    if strategy.get("type", "RollingUpdate") == other:
        return [f"strategy={_r(other)}"]
    rolling = strategy.get("rollingUpdate") or {}
    _only(rolling, {"maxSurge", "maxUnavailable"}, f"{where}.rollingUpdate")
    return [f"max_surge={_r(rolling.get('maxSurge', surge))}",
            f"max_unavailable={_r(rolling.get('maxUnavailable', unavailable))}"]


def _claim_names(spec: dict[str, Any]) -> set[str]:
    return {str((t.get("metadata") or {}).get("name")) for t in
            spec.get("volumeClaimTemplates") or []}


def _statefulset(spec: dict[str, Any]) -> list[str]:
    args = []
    if spec.get("podManagementPolicy", "OrderedReady") != "OrderedReady":
        args.append(f"pod_management={_r(spec['podManagementPolicy'])}")
    strategy = spec.get("updateStrategy") or {}
    _only(strategy, {"type", "rollingUpdate"}, "spec.updateStrategy")
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        args.append(f"strategy={_r(strategy['type'])}")
    rolling = strategy.get("rollingUpdate") or {}
    _only(rolling, {"partition"}, "spec.updateStrategy.rollingUpdate")
    if rolling.get("partition"):
        args.append(f"partition={_r(rolling['partition'])}")
    retention = spec.get("persistentVolumeClaimRetentionPolicy") or {}
    _only(retention, {"whenDeleted", "whenScaled"}, "spec.persistentVolumeClaimRetentionPolicy")
    for key, arg in (("whenDeleted", "claims_when_deleted"), ("whenScaled", "claims_when_scaled")):
        if retention.get(key, "Retain") != "Retain":
            args.append(f"{arg}={_r(retention[key])}")
    claims = [_claim_template(t, i) for i, t in enumerate(spec.get("volumeClaimTemplates") or [])]
    if claims:
        args.append(f"claims=[{', '.join(claims)}]")
    return args


def _claim_template(template: dict[str, Any], index: int) -> str:
    where = f"spec.volumeClaimTemplates[{index}]"
    _only(template, {"apiVersion", "kind", "metadata", "spec"}, where)
    _only(template.get("metadata") or {}, {"name", "labels"}, f"{where}.metadata")
    spec = template.get("spec") or {}
    _only(spec, {"accessModes", "resources", "storageClassName"}, f"{where}.spec")
    resources = spec.get("resources") or {}
    _only(resources, {"requests"}, f"{where}.spec.resources")
    requests = resources.get("requests") or {}
    _only(requests, {"storage"}, f"{where}.spec.resources.requests")
    if "storage" not in requests:
        raise Unmapped(f"{where}.spec.resources.requests")
    args = [_r(template["metadata"]["name"]), f"size={_r(str(requests['storage']))}"]
    if spec.get("storageClassName"):
        args.append(f"storage_class={_r(spec['storageClassName'])}")
    if spec.get("accessModes"):
        args.append(f"access_modes={_r(list(spec['accessModes']))}")
    return _call("VolumeClaim", args)


# -- the pod -----------------------------------------------------------------------------------

_POD_KEYS = {
    "containers", "initContainers", "volumes", "serviceAccountName", "serviceAccount",
    "automountServiceAccountToken", "enableServiceLinks", "securityContext", "hostNetwork",
    "hostPID", "hostIPC", "dnsPolicy", "priorityClassName", "nodeSelector", "tolerations",
    "terminationGracePeriodSeconds", "imagePullSecrets", "restartPolicy",
    "topologySpreadConstraints", "schedulerName", "affinity",
}


def pod_args(template: dict[str, Any], reason: str, *, selector: dict[str, str] | None,
             origin: str = "") -> list[str]:
    """The pod arguments of a bare Pod (its own template): not spread, restarted Always."""
    return _pod(template, reason, claims=set(), selector=selector, spread=False, origin=origin)


def _pod(
    template: dict[str, Any], reason: str, *, claims: set[str],
    selector: dict[str, str] | None = None, restart: tuple[str, ...] = ("Always",),
    spread: bool = True, origin: str = "",
) -> list[str]:
    _only(template, {"metadata", "spec"}, "spec.template")
    meta, spec = template.get("metadata") or {}, template.get("spec") or {}
    _only(meta, {"labels", "annotations"}, "spec.template.metadata")
    _only(spec, _POD_KEYS, "spec.template.spec")
    args: list[str] = []
    labels = dict(meta.get("labels") or {})
    if selector is None:
        pod_labels = {k: v for k, v in labels.items() if k not in _DERIVED_LABELS}
    elif any(labels.get(k) != v for k, v in selector.items()):
        raise Unmapped("spec.template.metadata.labels (the pods lack the selector's labels)")
    else:
        pod_labels = {k: v for k, v in labels.items() if k not in selector}
    if pod_labels:
        args.append(f"pod_labels={_r(pod_labels)}")
    if meta.get("annotations"):
        args.append(f"pod_annotations={_r(dict(meta['annotations']))}")
    containers = _containers(spec, reason, claims, origin)  # their fields first: the usual reasons
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    args.append(f"service_account={_r(account)}")
    if account == "default":
        args.append(f"allow_default_service_account={reason}")
    automount = spec.get("automountServiceAccountToken")
    if automount is None:
        raise Unmapped("spec.template.spec.automountServiceAccountToken (unset: the pods take "
                       f"the setting of ServiceAccount {account!r}, which the input does not hold)")
    if automount is True:
        args.append(f"allow_token_automount={reason}")
    if spec.get("restartPolicy", "Always") not in restart:
        raise Unmapped("spec.template.spec.restartPolicy")
    if not spread and spec.get("topologySpreadConstraints"):
        raise Unmapped("spec.template.spec.topologySpreadConstraints (kubegen spreads the "
                       "pods of Deployments and StatefulSets only)")
    if spec.get("schedulerName", "default-scheduler") != "default-scheduler":
        raise Unmapped("spec.template.spec.schedulerName")
    args.append(f"service_links={_r(spec.get('enableServiceLinks', True))}")
    for key, arg in (("hostNetwork", "allow_host_network"), ("hostPID", "allow_host_pid"),
                     ("hostIPC", "allow_host_ipc")):
        if spec.get(key):
            args.append(f"{arg}={reason}")
    args += _pod_security(_pod_context(spec), reason)
    args += _affinity(spec.get("affinity") or {}, "spec.template.spec.affinity")
    if "dnsPolicy" in spec or spec.get("hostNetwork"):  # kubegen's own differs on the host
        args.append(f"dns_policy={_r(spec.get('dnsPolicy', 'ClusterFirst'))}")
    for key, arg in (("priorityClassName", "priority_class"), ("nodeSelector", "node_selector"),
                     ("tolerations", "tolerations")):
        if spec.get(key):
            args.append(f"{arg}={_r(spec[key])}")
    if "terminationGracePeriodSeconds" in spec:
        grace = _seconds(spec["terminationGracePeriodSeconds"],
                         "spec.template.spec.terminationGracePeriodSeconds")
        args.append(f"termination_grace={grace}")
    if spec.get("imagePullSecrets"):
        args.append(f"image_pull_secrets={_r([s.get('name') for s in spec['imagePullSecrets']])}")
    if spread:  # a Job's or a DaemonSet's pods are not spread
        constraints = spec.get("topologySpreadConstraints") or []
        args.append(
            f"topology_spread={_r({0: 'none', 1: 'nodes', 2: 'zones'}.get(len(constraints)))}")
    return args + containers


def _containers(spec: dict[str, Any], reason: str, claims: set[str], origin: str
                ) -> list[str]:
    """The ``init_containers=``/``sidecars=``/``containers=`` arguments, with their volumes."""
    volumes = {str(v.get("name")): v for v in spec.get("volumes") or []}
    host = host_path_sources(spec, origin)  # one HostPath call per hostPath volume
    used: set[str] = set()
    init: list[str] = []
    sidecars: list[str] = []
    main: list[str] = []
    for index, container in enumerate(spec.get("initContainers") or []):
        where = f"spec.template.spec.initContainers[{index}]"
        always = container.get("restartPolicy") == "Always"
        call = _container(container, where, reason, (volumes, host), used, claims,
                          sidecar=always)
        (sidecars if always else init).append(call)
    for index, container in enumerate(spec.get("containers") or []):
        where = f"spec.template.spec.containers[{index}]"
        main.append(_container(container, where, reason, (volumes, host), used, claims,
                               sidecar=False))
    unused = sorted(set(volumes) - used)
    if unused:
        raise Unmapped(f"spec.template.spec.volumes[{unused[0]}] (mounted by no container)")
    args = [f"init_containers=[{', '.join(init)}]"] if init else []
    if sidecars:
        args.append(f"sidecars=[{', '.join(sidecars)}]")
    args.append(f"containers=[{', '.join(main)}]")
    return args


def _pod_context(spec: dict[str, Any]) -> dict[str, Any]:
    """The pod's securityContext, with ``runAsNonRoot``/``seccompProfile`` that every
    container sets alike and the pod leaves out taken as the pod's (one setting either way)."""
    context = dict(spec.get("securityContext") or {})
    containers = [c for key in ("initContainers", "containers") for c in spec.get(key) or []]
    for key in ("runAsNonRoot", "seccompProfile"):
        values = [(c.get("securityContext") or {}).get(key) for c in containers]
        if key not in context and values and values[0] is not None and all(
                v == values[0] for v in values):
            context[key] = values[0]
    return context


def _affinity(affinity: dict[str, Any], where: str) -> list[str]:
    """``near=``/``avoid=`` for pod (anti-)affinity terms that select pods by labels."""
    _only(affinity, {"podAffinity", "podAntiAffinity"}, where)
    args = []
    for key, arg in (("podAffinity", "near"), ("podAntiAffinity", "avoid")):
        body = affinity.get(key) or {}
        required = "requiredDuringSchedulingIgnoredDuringExecution"
        preferred = "preferredDuringSchedulingIgnoredDuringExecution"
        _only(body, {required, preferred}, f"{where}.{key}")
        rules = [_affinity_term(term, f"{where}.{key}.{required}[{i}]", ["required=True"])
                 for i, term in enumerate(body.get(required) or [])]
        for i, choice in enumerate(body.get(preferred) or []):
            at = f"{where}.{key}.{preferred}[{i}]"
            _only(choice, {"weight", "podAffinityTerm"}, at)
            weight = choice.get("weight")
            extra = [] if weight == 100 else [f"weight={_r(weight)}"]
            rules.append(_affinity_term(choice.get("podAffinityTerm") or {}, at, extra))
        if rules:
            args.append(f"{arg}=[{', '.join(rules)}]")
    return args


def _affinity_term(term: dict[str, Any], where: str, extra: list[str]) -> str:
    _only(term, {"labelSelector", "topologyKey", "namespaces"}, where)
    selector = term.get("labelSelector") or {}
    _only(selector, {"matchLabels"}, f"{where}.labelSelector")
    if not selector.get("matchLabels"):
        raise Unmapped(f"{where}.labelSelector")
    args = [_r(dict(selector["matchLabels"]))]
    topology = term.get("topologyKey")
    if topology != "kubernetes.io/hostname":
        args.append(f"topology={_r(topology)}")
    if term.get("namespaces"):
        args.append(f"namespaces={_r(list(term['namespaces']))}")
    return _call("PodAffinity", args + extra)


def _sysctls(items: Any, where: str) -> dict[str, str]:
    """``[{name, value}]`` as the ``sysctls=`` mapping; kubegen renders it sorted by name, so
    only a list already in that order keeps the object the same."""
    if not isinstance(items, list) or not items:
        raise Unmapped(where)
    out: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict) or set(item) != {"name", "value"}:
            raise Unmapped(where)
        name, value = item["name"], item["value"]
        if not isinstance(name, str) or not isinstance(value, str) or name in out:
            raise Unmapped(where)
        out[name] = value
    if list(out) != sorted(out):
        raise Unmapped(where)
    return out


def _pod_security(context: dict[str, Any], reason: str) -> list[str]:
    where = "spec.template.spec.securityContext"
    _only(context, {"runAsUser", "runAsGroup", "fsGroup", "runAsNonRoot", "seccompProfile",
                    "supplementalGroups", "fsGroupChangePolicy", "sysctls"}, where)
    args = []
    for key, arg in (("runAsUser", "run_as_user"), ("runAsGroup", "run_as_group"),
                     ("fsGroup", "fs_group"), ("supplementalGroups", "supplemental_groups"),
                     ("fsGroupChangePolicy", "fs_group_change_policy")):
        if key in context:
            args.append(f"{arg}={_r(context[key])}")
    if "sysctls" in context:
        args.append(f"sysctls={_r(_sysctls(context['sysctls'], f'{where}.sysctls'))}")
    if context.get("runAsNonRoot") is not True:
        args.append(f"allow_run_as_root={reason}")
    profile = context.get("seccompProfile") or {}
    if profile.get("type") == "Localhost":
        args.append(f"seccomp_profile={_r(profile.get('localhostProfile'))}")
    elif profile.get("type") != "RuntimeDefault":
        args.append(f"allow_unconfined_seccomp={reason}")
    return args


# -- containers --------------------------------------------------------------------------------

_CONTAINER_KEYS = {
    "name", "image", "imagePullPolicy", "command", "args", "workingDir", "ports", "env",
    "resources", "readinessProbe", "livenessProbe", "startupProbe", "lifecycle",
    "securityContext", "volumeMounts", "restartPolicy", "terminationMessagePath",
    "terminationMessagePolicy",
}


def _container(
    body: dict[str, Any], where: str, reason: str,
    volumes: tuple[dict[str, Any], dict[str, tuple[str, bool]]], used: set[str],
    claims: set[str], *, sidecar: bool,
) -> str:
    _only(body, _CONTAINER_KEYS, where)
    if body.get("terminationMessagePath", "/dev/termination-log") != "/dev/termination-log" or (
            body.get("terminationMessagePolicy", "File") != "File"):
        raise Unmapped(f"{where}.terminationMessagePath")
    args = [f"name={_r(body.get('name'))}", f"image={_r(body.get('image'))}"]
    args += _pull_policy(body, reason)
    for key, arg in (("command", "command"), ("args", "args"), ("workingDir", "working_dir")):
        if key in body:
            args.append(f"{arg}={_r(body[key])}")
    ports = [_port(p, f"{where}.ports[{i}]") for i, p in enumerate(body.get("ports") or [])]
    if ports:
        args.append(f"ports=[{', '.join(ports)}]")
    if any(p.get("hostPort") for p in body.get("ports") or []):
        args.append(f"allow_host_ports={reason}")
    args += _env(body.get("env") or [], f"{where}.env", reason)
    args += _resources(body.get("resources"), f"{where}.resources", reason)
    probes = {"readinessProbe": "readiness", "livenessProbe": "liveness",
              "startupProbe": "startup"}
    declared = {p.get("containerPort") for p in body.get("ports") or []} | {
        p.get("name") for p in body.get("ports") or []}
    for key, arg in probes.items():
        if key in body:
            args.append(f"{arg}={_probe(body[key], f'{where}.{key}', declared)}")
    unprobed = not body.get("readinessProbe") or not body.get("livenessProbe")
    if unprobed and (body.get("ports") or sidecar):
        args.append(f"allow_no_probes={reason}")
    lifecycle = body.get("lifecycle") or {}
    _only(lifecycle, {"postStart", "preStop"}, f"{where}.lifecycle")
    for key, arg in (("postStart", "post_start"), ("preStop", "pre_stop")):
        if key in lifecycle:
            args.append(f"{arg}={_hook(lifecycle[key], f'{where}.lifecycle.{key}')}")
    args += _container_security(body.get("securityContext") or {}, f"{where}.securityContext",
                                reason)
    mounts = [_mount(m, f"{where}.volumeMounts[{i}]", volumes, used, claims)
              for i, m in enumerate(body.get("volumeMounts") or [])]
    if mounts:
        args.append(f"mounts={{{', '.join(mounts)}}}")
    return _call("Container", args)


def _pull_policy(body: dict[str, Any], reason: str) -> list[str]:
    """``pull_policy=`` where the API's (given or defaulted) differs from kubegen's default
    or is written out; ``allow_cached_tag`` when a tag-only image is not pulled Always."""
    from kubegen._values import ImageRef

    ref = ImageRef.parse(str(body.get("image")))
    given = body.get("imagePullPolicy")
    policy = given or ("Always" if ref.tag in (None, "latest") and not ref.pinned
                       else "IfNotPresent")
    ours = "IfNotPresent" if ref.pinned else "Always"
    args = [f"pull_policy={_r(policy)}"] if given is not None or policy != ours else []
    if policy in ("IfNotPresent", "Never") and not ref.pinned:
        args.append(f"allow_cached_tag={reason}")
    return args


def _port(port: dict[str, Any], where: str) -> str:
    _only(port, {"containerPort", "name", "protocol", "hostPort"}, where)
    args = [_r(port.get("containerPort"))]
    if "name" in port:
        args.append(f"name={_r(port['name'])}")
    else:  # upstream declares it by number: so does the typed call
        args.append("unnamed=True")
    if port.get("protocol", "TCP") != "TCP":
        args.append(f"protocol={_r(port['protocol'])}")
    if port.get("hostPort"):
        args.append(f"host_port={_r(port['hostPort'])}")
    return _call("Port", args)


def _env(env: list[dict[str, Any]], where: str, reason: str) -> list[str]:
    values: dict[str, str] = {}
    secret = False
    for index, var in enumerate(env):
        at = f"{where}[{index}]"
        _only(var, {"name", "value", "valueFrom"}, at)
        name = var.get("name")
        if not isinstance(name, str):
            raise Unmapped(f"{at}.name")
        if name in values:
            raise Unmapped(f"{at}.name (set twice)")
        if "valueFrom" not in var:
            values[name] = _r(str(var.get("value", "")))
            continue
        source = var["valueFrom"]
        if len(source) != 1:
            raise Unmapped(f"{at}.valueFrom")
        (key, ref), = source.items()
        if key in ("configMapKeyRef", "secretKeyRef"):
            _only(ref, {"name", "key", "optional"}, f"{at}.valueFrom.{key}")
            cls = "ConfigMapKey" if key == "configMapKeyRef" else "SecretKey"
            secret = secret or cls == "SecretKey"
            more = [", optional=True"] if ref.get("optional") else [""]
            values[name] = f"{cls}({_r(ref.get('name'))}, {_r(ref.get('key'))}{more[0]})"
        elif key == "fieldRef":
            _only(ref, {"fieldPath", "apiVersion"}, f"{at}.valueFrom.fieldRef")
            values[name] = f"FieldRef({_r(ref.get('fieldPath'))})"
        elif key == "resourceFieldRef":
            _only(ref, {"resource", "divisor", "containerName"}, f"{at}.valueFrom.{key}")
            args = [_r(ref.get("resource"))]
            if "divisor" in ref:
                args.append(f"divisor={_r(str(ref['divisor']))}")
            if "containerName" in ref:
                args.append(f"container={_r(ref['containerName'])}")
            values[name] = _call("ResourceRef", args)
        else:
            raise Unmapped(f"{at}.valueFrom.{key}")
    if not values:
        return []
    out = ["env={" + ", ".join(f"{_r(k)}: {v}" for k, v in values.items()) + "}"]
    if secret:
        out.append(f"allow_secret_env={reason}")
    return out


def _resources(resources: Any, where: str, reason: str) -> list[str]:
    if not resources:
        return [f"allow_no_resources={reason}"]
    _only(resources, {"requests", "limits"}, where)
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    _only(requests, {"cpu", "memory", "ephemeral-storage"}, f"{where}.requests")
    _only(limits, {"cpu", "memory", "ephemeral-storage"}, f"{where}.limits")
    for key in ("cpu", "memory"):
        if key not in requests:
            raise Unmapped(f"{where}.requests.{key}")
    args = [f"cpu={_r(str(requests['cpu']))}", f"memory={_r(str(requests['memory']))}"]
    if "cpu" in limits:
        args.append(f"cpu_limit={_r(str(limits['cpu']))}")
    else:
        args.append(f"allow_no_cpu_limit={reason}")
    if "memory" in limits:
        args.append(f"memory_limit={_r(str(limits['memory']))}")
    else:
        args.append(f"allow_no_memory_limit={reason}")
    if "ephemeral-storage" in requests:
        args.append(f"ephemeral_storage={_r(str(requests['ephemeral-storage']))}")
        if "ephemeral-storage" in limits:
            args.append(f"ephemeral_storage_limit={_r(str(limits['ephemeral-storage']))}")
    elif "ephemeral-storage" in limits:
        raise Unmapped(f"{where}.limits.ephemeral-storage")
    return [f"resources={_call('Resources', args)}"]


def _timings(probe: dict[str, Any], where: str) -> list[str]:
    args = []
    for key, arg in (("initialDelaySeconds", "initial_delay"), ("periodSeconds", "period"),
                     ("timeoutSeconds", "timeout")):
        if key in probe:
            args.append(f"{arg}={_seconds(probe[key], f'{where}.{key}')}")
    for key, arg in (("failureThreshold", "failure_threshold"),
                     ("successThreshold", "success_threshold")):
        if key in probe:
            args.append(f"{arg}={_r(probe[key])}")
    return args


def _port_args(port: Any, declared: set[Any] | None) -> list[str]:
    out = [f"port={_r(port)}"]
    if declared is not None and port not in declared:
        out.append("undeclared=True")
    return out


def _http(http: dict[str, Any], where: str, declared: set[Any] | None = None) -> list[str]:
    _only(http, {"path", "port", "scheme", "httpHeaders"}, where)
    args = [_r(http.get("path", "/"))]
    if "port" in http:
        args += _port_args(http["port"], declared)
    if http.get("scheme", "HTTP") != "HTTP":
        args.append(f"scheme={_r(http['scheme'])}")
    headers = {h.get("name"): h.get("value") for h in http.get("httpHeaders") or []}
    if headers:
        args.append(f"headers={_r(headers)}")
    return args


def _probe(probe: dict[str, Any], where: str, declared: set[Any]) -> str:
    _only(probe, {"httpGet", "tcpSocket", "exec", "grpc", "initialDelaySeconds",
                  "periodSeconds", "timeoutSeconds", "failureThreshold", "successThreshold"},
          where)
    timings = _timings(probe, where)
    if "httpGet" in probe:
        return _call("HttpProbe", _http(probe["httpGet"], f"{where}.httpGet", declared)
                     + timings)
    if "tcpSocket" in probe:
        _only(probe["tcpSocket"], {"port"}, f"{where}.tcpSocket")
        return _call("TcpProbe", [*_port_args(probe["tcpSocket"].get("port"), declared),
                                  *timings])
    if "exec" in probe:
        return _call("ExecProbe", [_r(list(probe["exec"].get("command") or [])), *timings])
    if "grpc" in probe:
        grpc = probe["grpc"]
        _only(grpc, {"port", "service"}, f"{where}.grpc")
        extra = [f"service={_r(grpc['service'])}"] if "service" in grpc else []
        return _call("GrpcProbe", [*_port_args(grpc.get("port"), declared), *extra, *timings])
    raise Unmapped(where)


def _hook(hook: dict[str, Any], where: str) -> str:
    if "exec" in hook and len(hook) == 1:
        return _call("Hook", [f"command={_r(list(hook['exec'].get('command') or []))}"])
    if "sleep" in hook and len(hook) == 1:
        return _call("Hook", [f"sleep={_seconds(hook['sleep'].get('seconds'), where)}"])
    if "httpGet" in hook and len(hook) == 1:
        path, *rest = _http(hook["httpGet"], f"{where}.httpGet")
        return _call("Hook", [f"http={path}", *rest])
    raise Unmapped(where)


def _container_security(context: dict[str, Any], where: str, reason: str) -> list[str]:
    _only(context, {"allowPrivilegeEscalation", "privileged", "readOnlyRootFilesystem",
                    "capabilities", "runAsUser", "runAsGroup", "runAsNonRoot",
                    "seccompProfile"}, where)
    args = []
    privileged = context.get("privileged") is True
    if privileged:
        args.append(f"allow_privileged={reason}")
    elif context.get("allowPrivilegeEscalation") is not False:
        args.append(f"allow_privilege_escalation={reason}")
    if context.get("readOnlyRootFilesystem") is not True:
        args.append(f"allow_writable_root={reason}")
    caps = context.get("capabilities") or {}
    _only(caps, {"add", "drop"}, f"{where}.capabilities")
    added = list(caps.get("add") or [])
    drop = list(caps.get("drop") or [])
    if drop not in ([], ["ALL"]):
        raise Unmapped(f"{where}.capabilities.drop (kubegen drops ALL or, opted out, nothing)")
    if not drop and not privileged:
        args.append(f"allow_default_capabilities={reason}")
    if added:
        args.append(f"capabilities={_r(added)}")
        if set(added) - _RESTRICTED_CAPS:
            args.append(f"allow_capabilities={reason}")
    for key, arg in (("runAsUser", "run_as_user"), ("runAsGroup", "run_as_group")):
        if key in context:
            args.append(f"{arg}={_r(context[key])}")
    return args


# -- volumes -----------------------------------------------------------------------------------


def _mount(
    mount: dict[str, Any], where: str,
    volumes: tuple[dict[str, Any], dict[str, tuple[str, bool]]], used: set[str], claims: set[str]
) -> str:
    """``volumes``: the pod's volumes by name, and the HostPath calls of its hostPath ones."""
    _only(mount, {"name", "mountPath", "subPath", "readOnly", "mountPropagation"}, where)
    name = str(mount.get("name"))
    volume = volumes[0].get(name)
    used.add(name)
    if name in volumes[1]:
        source, default_ro = volumes[1][name]
    elif volume is None:
        if name not in claims:
            raise Unmapped(f"{where}.name (no volume {name!r})")
        source, default_ro = f"Claim({_r(name)})", False
    else:
        source, default_ro = _source(volume, f"spec.template.spec.volumes[{name}]")
    options = []
    if "subPath" in mount:
        options.append(f"sub_path={_r(mount['subPath'])}")
    if bool(mount.get("readOnly")) != default_ro:
        options.append(f"read_only={_r(bool(mount.get('readOnly')))}")
    if "mountPropagation" in mount:
        options.append(f"propagation={_r(mount['mountPropagation'])}")
    if options:
        source = _call("Mount", [source, *options])
    return f"{_r(mount.get('mountPath'))}: {source}"


def _named(args: list[str], name: str, default: str) -> list[str]:
    return args if name == default else [*args, f"name={_r(name)}"]


def _files(cls: str, ref: str, body: dict[str, Any], name: str, where: str) -> str:
    args = [_r(ref)]
    if body.get("items") is not None:
        for item in body["items"]:
            _only(item, {"key", "path"}, f"{where}.items")
        args.append(f"items={_r({i.get('key'): i.get('path') for i in body['items']})}")
    args.append(f"mode={oct(body.get('defaultMode', 0o644))}")  # the API's default: 0644
    if body.get("optional"):
        args.append("optional=True")
    return _call(cls, _named(args, name, volume_slug(f"config-{ref}") if cls == "ConfigFiles"
                             else volume_slug(f"secret-{ref}")))


def _source(volume: dict[str, Any], where: str) -> tuple[str, bool]:
    """The source builder for a pod volume, and whether its mounts are read-only by default."""
    name = str(volume.get("name"))
    kinds = set(volume) - {"name"}
    if len(kinds) != 1:
        raise Unmapped(where)
    kind = kinds.pop()
    body = volume[kind] or {}
    if kind == "emptyDir":
        _only(body, {"medium", "sizeLimit"}, f"{where}.emptyDir")
        args = [f"name={_r(name)}"]
        if body.get("medium") == "Memory":
            args.append("memory=True")
        elif body.get("medium"):
            raise Unmapped(f"{where}.emptyDir.medium")
        if "sizeLimit" in body:
            args.append(f"size_limit={_r(str(body['sizeLimit']))}")
        return _call("EmptyDir", args), False
    if kind == "configMap":
        _only(body, {"name", "items", "defaultMode", "optional"}, f"{where}.configMap")
        return _files("ConfigFiles", str(body.get("name")), body, name, where), True
    if kind == "secret":
        _only(body, {"secretName", "items", "defaultMode", "optional"}, f"{where}.secret")
        return _files("SecretFiles", str(body.get("secretName")), body, name, where), True
    if kind == "persistentVolumeClaim":
        _only(body, {"claimName"}, f"{where}.persistentVolumeClaim")
        claim = str(body.get("claimName"))
        return _call("Claim", _named([_r(claim)], name, volume_slug(claim))), False
    raise Unmapped(f"{where}.{kind}")
