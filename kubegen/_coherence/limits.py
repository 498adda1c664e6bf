"""LimitRanges and ResourceQuotas of a namespace: pods and claims the cluster will refuse.

Two admission plugins read a namespace's objects before they let a pod in. ``LimitRanger``
fills in the defaults of a ``LimitRange`` (``default`` limits, ``defaultRequest`` requests) and
then refuses a pod whose containers (type ``Container``) or whose sum (type ``Pod``) fall
outside ``min``/``max`` or burst beyond ``maxLimitRequestRatio``, and a PersistentVolumeClaim
(also one a StatefulSet creates from its ``volumeClaimTemplates``) outside the ``storage``
bounds. ``ResourceQuota`` refuses a pod that does not state a resource the quota tracks (a
quota on ``limits.cpu`` needs a CPU limit on every container) and every pod beyond the
quota's total. Both check Pods, so a Deployment is accepted and then never gets its pods: the
ReplicaSet reports ``FailedCreate`` forever (*Kubernetes in Action*, "Managing pods'
computational resources").

Only what the stack renders is known: the LimitRanges and ResourceQuotas it renders, in the
namespaces of its own pods. The total of a quota counts the pods that always run (Deployments,
StatefulSets, ReplicaSets and Pods at their replica count), never more than the stack needs.

Sources: Kubernetes ``plugin/pkg/admission/limitranger`` (``PodMutateLimitFunc``,
``PodValidateLimitFunc``, ``PersistentVolumeClaimValidateLimitFunc``) and the LimitRange defaults
(``SetDefaults_LimitRangeItem``: ``default`` from ``max``, ``defaultRequest`` from ``default``,
then from ``min``); docs "Limit Ranges", "Resource Quotas" ("If quota is enabled in a namespace
for compute resources like cpu and memory, users must specify requests or limits for those
values; otherwise, the quota system may reject pod creation").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from kubegen._coherence.pods import PodView, as_dict, as_list
from kubegen._errors import KubegenError
from kubegen._manifests import ManifestObject
from kubegen._values import InvalidValue, parse_quantity

__all__ = ["refused_by_limits"]

Resources = dict[str, Decimal]
#: Pods of these kinds always run, ``spec.replicas`` of them (1 when unset).
_ALWAYS_RUNNING = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "Pod"})
#: Quota keys on a pod's compute resources: (requests or limits, resource).
_QUOTA_KEYS = {
    "cpu": ("requests", "cpu"), "requests.cpu": ("requests", "cpu"),
    "memory": ("requests", "memory"), "requests.memory": ("requests", "memory"),
    "limits.cpu": ("limits", "cpu"), "limits.memory": ("limits", "memory"),
}


def _quantity(value: object) -> Decimal | None:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return None
    try:
        number = parse_quantity(value)
    except (InvalidValue, KubegenError, ArithmeticError, ValueError):
        return None  # the schema check (KG001) reports a malformed quantity
    return number if number.is_finite() and number >= 0 else None


def _resources(mapping: object) -> Resources:
    found = {}
    for name, value in as_dict(mapping).items():
        number = _quantity(value)
        if number is not None:
            found[str(name)] = number
    return found


@dataclass(frozen=True, slots=True)
class Item:
    """One ``spec.limits[i]`` of a LimitRange, with the API server's defaults filled in."""

    range: ManifestObject
    type: str
    min: Resources
    max: Resources
    ratio: Resources
    default: Resources
    default_request: Resources


def _items(obj: ManifestObject) -> Iterator[Item]:
    for raw in as_list(as_dict(obj.body.get("spec")).get("limits")):
        raw = as_dict(raw)
        low, high = _resources(raw.get("min")), _resources(raw.get("max"))
        default = {**high, **_resources(raw.get("default"))}
        request = {**low, **default, **_resources(raw.get("defaultRequest"))}
        yield Item(obj, str(raw.get("type", "")), low, high,
                   _resources(raw.get("maxLimitRequestRatio")), default, request)


def _by_namespace(objects: Sequence[ManifestObject], kind: str) -> dict[str, list[ManifestObject]]:
    found: dict[str, list[ManifestObject]] = {}
    for obj in objects:
        if obj.kind == kind:
            found.setdefault(obj.namespace or "default", []).append(obj)
    return found


def _fmt(value: Decimal) -> str:
    try:
        return format(value.normalize(), "f")
    except ArithmeticError:
        return str(value)


def _show(resource: str, value: Decimal) -> str:
    if resource == "cpu" and value < 1:
        return f"{_fmt(value * 1000)}m"
    if resource != "cpu" and value < 1024**5:
        for suffix, size in (("Ti", 1024**4), ("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024)):
            if value >= size and value % size == 0:
                return f"{_fmt(value / size)}{suffix}"
    return _fmt(value)


def _violations(kind: str, item: Item, requests: Resources, limits: Resources) -> Iterator[str]:
    """What LimitRanger says about one container (or a pod's sums): its min, max, ratio rules."""
    per = f"per {kind}"
    for name, low in item.min.items():
        if name not in requests:
            yield f"minimum {name} {per} is {_show(name, low)} but no request is set"
        elif requests[name] < low or (name in limits and limits[name] < low):
            got = requests[name] if requests[name] < low else limits[name]
            yield f"minimum {name} {per} is {_show(name, low)}, this has {_show(name, got)}"
    for name, high in item.max.items():
        if name not in limits:
            yield f"maximum {name} {per} is {_show(name, high)} but no limit is set"
        elif limits[name] > high or requests.get(name, Decimal(0)) > high:
            got = max(limits[name], requests.get(name, Decimal(0)))
            yield f"maximum {name} {per} is {_show(name, high)}, this has {_show(name, got)}"
    for name, ratio in item.ratio.items():
        request, limit = requests.get(name), limits.get(name)
        if not request or not limit:
            yield f"{name} limit/request ratio {per} is at most {_fmt(ratio)} but the " \
                "request or limit is unset"
        elif limit / request > ratio:
            yield f"{name} limit/request ratio {per} is at most {_fmt(ratio)}, this has " \
                f"{_fmt(round(limit / request, 2))} ({_show(name, limit)} / " \
                f"{_show(name, request)})"


def _container_resources(body: dict[str, object], items: list[Item]) -> tuple[Resources, Resources]:
    """(requests, limits) as admission sees them: request defaults to the limit, then the
    LimitRanges' defaults fill what is still missing."""
    resources = as_dict(body.get("resources"))
    limits = _resources(resources.get("limits"))
    requests = {**limits, **_resources(resources.get("requests"))}
    for item in items:
        if item.type == "Container":
            limits = {**item.default, **limits}
            requests = {**item.default_request, **requests}
    return requests, limits


def _sum(parts: list[Resources]) -> Resources:
    """Totals of the resources every part names (as LimitRanger's ``sum``)."""
    names = set.intersection(*(set(p) for p in parts)) if parts else set()
    return {name: sum((p[name] for p in parts), Decimal(0)) for name in names}


def _pod_totals(pod: PodView, items: list[Item]) -> tuple[Resources, Resources]:
    main = [_container_resources(c.body, items) for c in pod.containers(("containers",))]
    requests, limits = _sum([r for r, _ in main]), _sum([lim for _, lim in main])
    for c in pod.containers(("initContainers",)):
        init_requests, init_limits = _container_resources(c.body, items)
        for name, value in init_requests.items():
            requests[name] = max(value, requests.get(name, value))
        for name, value in init_limits.items():
            limits[name] = max(value, limits.get(name, value))
    return requests, limits


def _pod_problems(pod: PodView, items: list[Item]) -> Iterator[tuple[str, Item, str]]:
    """(field path, item, what) of each LimitRanger refusal of the pod."""
    for item in items:
        if item.type == "Container":
            for c in pod.containers(("initContainers", "containers")):
                requests, limits = _container_resources(c.body, items)
                for what in _violations("Container", item, requests, limits):
                    yield f"{c.path}.resources", item, f"{c.label}: {what}"
        elif item.type == "Pod":
            requests, limits = _pod_totals(pod, items)
            for what in _violations("Pod", item, requests, limits):
                yield f"{pod.path}.containers", item, f"the pod's sum: {what}"


def _claims(obj: ManifestObject) -> Iterator[tuple[str, Decimal | None]]:
    """(field path, requested storage) of a claim, or of each of a StatefulSet's templates."""
    spec = as_dict(obj.body.get("spec"))
    if obj.kind == "PersistentVolumeClaim":
        storage = as_dict(as_dict(spec.get("resources")).get("requests")).get("storage")
        yield "spec.resources.requests.storage", _quantity(storage)
    elif obj.kind == "StatefulSet":
        for index, template in enumerate(as_list(spec.get("volumeClaimTemplates"))):
            resources = as_dict(as_dict(as_dict(template).get("spec")).get("resources"))
            storage = as_dict(resources.get("requests")).get("storage")
            path = f"spec.volumeClaimTemplates[{index}].spec.resources.requests.storage"
            yield path, _quantity(storage)


def _claim_problems(obj: ManifestObject, items: list[Item]) -> Iterator[tuple[str, Item, str]]:
    for item in items:
        if item.type != "PersistentVolumeClaim":
            continue
        for path, storage in _claims(obj):
            low, high = item.min.get("storage"), item.max.get("storage")
            if storage is None:
                continue
            if low is not None and storage < low:
                yield path, item, f"minimum storage per claim is {_show('storage', low)}, " \
                    f"this claim requests {_show('storage', storage)}"
            if high is not None and storage > high:
                yield path, item, f"maximum storage per claim is {_show('storage', high)}, " \
                    f"this claim requests {_show('storage', storage)}"


def _limit_range_error(
    obj: ManifestObject, path: str, item: Item, what: str, subject: str = "pod"
) -> KubegenError:
    return KubegenError(
        f"LimitRange {item.range.namespace}/{item.range.name} refuses it ({what}): the "
        f"cluster's LimitRanger admission rejects every such {subject}",
        fix="set resources within the LimitRange (Resources(cpu=…, memory=…, cpu_limit=…, "
        "memory_limit=…); storage=… for claims), or change the LimitRange",
        origin=obj.origin,
        resource=obj.display,
        field=path,
    )


@dataclass(frozen=True, slots=True)
class _Quota:
    obj: ManifestObject
    hard: dict[str, Decimal]


def _quotas(objects: list[ManifestObject]) -> list[_Quota]:
    """ResourceQuotas that apply to every pod of their namespace (no scopes)."""
    found = []
    for obj in objects:
        spec = as_dict(obj.body.get("spec"))
        if spec.get("scopes") or spec.get("scopeSelector"):
            continue
        found.append(_Quota(obj, _resources(spec.get("hard"))))
    return found


def _unstated(pod: PodView, quota: _Quota, items: list[Item]) -> Iterator[tuple[str, str]]:
    for key, (side, name) in _QUOTA_KEYS.items():
        if key not in quota.hard:
            continue
        for c in pod.containers(("initContainers", "containers")):
            requests, limits = _container_resources(c.body, items)
            if name not in (requests if side == "requests" else limits):
                yield f"{c.path}.resources.{side}", f"{c.label} sets no {key}"


def _replicas(obj: ManifestObject) -> int:
    replicas = as_dict(obj.body.get("spec")).get("replicas", 1)
    return replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else 1


def _quota_totals(
    quota: _Quota, pods: list[PodView], items: list[Item]
) -> Iterator[KubegenError]:
    needed: dict[str, Decimal] = {}
    parts: dict[str, list[str]] = {}
    for pod in pods:
        if pod.obj.kind not in _ALWAYS_RUNNING:
            continue
        count = _replicas(pod.obj)
        requests, limits = _pod_totals(pod, items)
        usage = {"pods": Decimal(1)}
        for key, (side, name) in _QUOTA_KEYS.items():
            value = (requests if side == "requests" else limits).get(name)
            if value is not None:
                usage[key] = value
        for key, value in usage.items():
            needed[key] = needed.get(key, Decimal(0)) + value * count
            name = key.rpartition(".")[2] if key != "pods" else "pods"
            shown = f"{count}x{_show(name, value)}" if key != "pods" else f"{count}"
            parts.setdefault(key, []).append(f"{pod.obj.name} {shown}")
    for key, hard in quota.hard.items():
        total = needed.get(key)
        if total is None or total <= hard:
            continue
        name = key.rpartition(".")[2] if key != "pods" else "pods"
        yield KubegenError(
            f"the stack's pods in namespace {quota.obj.namespace} need {key} "
            f"{_show(name, total)} ({', '.join(parts[key])}) but the quota allows "
            f"{_show(name, hard)}: the cluster's ResourceQuota admission refuses the pods "
            "beyond it, so some never start",
            fix="raise the quota, or lower the requests, limits or replicas of those workloads",
            origin=quota.obj.origin,
            resource=quota.obj.display,
            field=f"spec.hard.{key}",
            value=str(as_dict(as_dict(quota.obj.body.get("spec")).get("hard")).get(key)),
        )


def refused_by_limits(
    pods: Sequence[PodView], objects: Sequence[ManifestObject]
) -> list[KubegenError]:
    """One located error per pod, claim or quota the namespace's LimitRanges and
    ResourceQuotas would refuse."""
    ranges = _by_namespace(objects, "LimitRange")
    quotas = _by_namespace(objects, "ResourceQuota")
    if not ranges and not quotas:
        return []
    items = {ns: [i for obj in found for i in _items(obj)] for ns, found in ranges.items()}
    problems: list[KubegenError] = []
    for pod in pods:
        in_ns = items.get(pod.namespace, [])
        seen: set[str] = set()
        for path, item, what in _pod_problems(pod, in_ns):
            if what not in seen:
                seen.add(what)
                problems.append(_limit_range_error(pod.obj, path, item, what))
        for quota in _quotas(quotas.get(pod.namespace, [])):
            unstated = list(_unstated(pod, quota, in_ns))
            if unstated:
                problems.append(KubegenError(
                    f"ResourceQuota {quota.obj.namespace}/{quota.obj.name} tracks "
                    f"{', '.join(k for k in _QUOTA_KEYS if k in quota.hard)}, so every pod must "
                    f"state it, and {'; '.join(w for _, w in unstated)}: the cluster's "
                    "ResourceQuota admission refuses the pod",
                    fix="give the container resources (Resources(cpu=…, memory=…)) with limits "
                    "(drop allow_no_resources / allow_no_cpu_limit / allow_no_memory_limit), or "
                    "add a LimitRange with defaults to the namespace",
                    origin=pod.obj.origin, resource=pod.obj.display, field=unstated[0][0]))
    for obj in objects:
        for path, item, what in _claim_problems(obj, items.get(obj.namespace or "default", [])):
            problems.append(_limit_range_error(obj, path, item, what, "claim"))
    by_namespace: dict[str, list[PodView]] = {}
    for pod in pods:
        by_namespace.setdefault(pod.namespace, []).append(pod)
    for namespace, found in quotas.items():
        for quota in _quotas(found):
            problems += _quota_totals(quota, by_namespace.get(namespace, []),
                                      items.get(namespace, []))
    return problems
