"""``kubegen import manifests``: a starting stack module from existing YAML.

Each object becomes the typed builder call that renders it exactly, or ``Manifest({...})``.
"Exactly" is proved, not assumed: the importer builds every candidate call, renders it, and
keeps it only when the result equals the input object semantically (see :func:`same_object`);
otherwise it writes the object as a ``Manifest``. Then the whole stack is built and linted as
kubegen would: every least-privilege guard an RBAC object trips becomes an ``allow=``/opt-out
annotation and every error-level finding a ``waive(rule, reason)`` — the *hardening
differences*, each with its rule id, listed in the report and in the module, so the imported
stack renders the input objects as they were until the team removes them one by one.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubegen._errors import KubegenError, ValidationError
from kubegen._values import InvalidValue
from kubegen._vendor.api_defaults import (
    POD_KINDS,
    pod_template,
    with_api_defaults,
    with_effective_automount,
)
from kubegen._vendor.import_base import Unmapped
from kubegen._vendor.job_import import TARGET, autoscaler_call
from kubegen._vendor.object_import import REASON, network_policy_defaults, typed_call
from kubegen._vendor.pod_import import pod_call
from kubegen._vendor.pycode import fitted, literal, wrapped
from kubegen._vendor.service_import import service_defaults
from kubegen._vendor.workload_import import workload_call

Labels = dict[str, str] | None


@dataclass(frozen=True, slots=True)
class _Head:
    """What the module's ``Stack(...)`` line says: the stack-wide labels, and whether the pod
    ids are left to each workload (``StackDefaults(run_as_user=None, …)``: some input pod sets
    none, so kubegen's default ids would add them)."""

    labels: Labels = None
    unset_ids: bool = False

    def stack_args(self) -> str:
        out = f", labels={self.labels!r}" if self.labels else ""
        if self.unset_ids:
            out += ", defaults=StackDefaults(run_as_user=None, run_as_group=None, fs_group=None)"
        return out
_GUARD = re.compile(r"least-privilege guard '([a-z-]+)'")
_API_DEFAULTS = {("ServiceAccount", "automountServiceAccountToken"): True}


@dataclass(slots=True)
class _Item:
    """One input object and the code that builds it."""

    body: dict[str, Any]
    origin: str
    var: str
    typed: str | None = None  # builder call, if it renders the object exactly
    trial: str | None = None  # the same call for a stack of its own (references external)
    allow: dict[str, str] = field(default_factory=dict)  # RBAC guard -> reason
    waivers: dict[str, str] = field(default_factory=dict)  # rule id -> what kubegen changes
    why: str | None = None  # why an object of a kind kubegen builds stays a Manifest
    derived_by: str | None = None  # the workload whose render gives this object
    opted: dict[str, str] = field(default_factory=dict)  # rule id -> field, waived by allow_*
    meaning: dict[str, Any] = field(default_factory=dict)  # what its render must equal
    source: str = ""  # its file as the user named it (quoted by HostPath reasons)
    # A workload an input HorizontalPodAutoscaler scales: its call without replicas=, the
    # HPA's call (``TARGET`` for this item's variable) and the HPA's item.
    scaled: tuple[str, str, _Item] | None = None

    def __post_init__(self) -> None:
        if not self.meaning:  # the object as the API server reads it (see with_effective_…)
            self.meaning = self.body

    @property
    def display(self) -> str:
        meta = self.body["metadata"]
        ns = meta.get("namespace")
        return f"{self.body['kind']} {ns}/{meta['name']}" if ns else (
            f"{self.body['kind']} {meta['name']}")


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What ``import manifests`` wrote and found."""

    module: Path
    typed: int
    raw: int
    differences: list[str]
    kept: list[str] = field(default_factory=list)  # workloads kept as Manifest, and why


def normalized(body: Any, kind: str = "") -> Any:
    """``body`` without what kubegen adds to metadata (its ``kubegen.dev/`` annotations, the
    ``managed-by: kubegen`` label), without top-level fields that are null or empty (the API
    server stores neither) and without fields equal to the API's documented default."""
    if not isinstance(body, dict):
        return body
    if kind in _DEFAULTED:
        body = with_api_defaults(body)
    out = {}
    for key, value in body.items():
        if _API_DEFAULTS.get((kind, key), object()) == value or value is None or value in (
                {}, []):
            continue
        out[key] = value
    meta = dict(out.get("metadata") or {}) if isinstance(out.get("metadata"), dict) else {}
    if not isinstance(out.get("metadata"), dict | None):
        return out  # malformed: compared as it is
    labels, notes = meta.get("labels") or {}, meta.get("annotations") or {}
    if isinstance(labels, dict):
        labels = {k: v for k, v in labels.items()
                  if not (k == "app.kubernetes.io/managed-by" and v == "kubegen")}
    if isinstance(notes, dict):
        notes = {k: v for k, v in notes.items() if not str(k).startswith("kubegen.dev/")}
    for key, value in (("labels", labels), ("annotations", notes)):
        if value:
            meta[key] = value
        else:
            meta.pop(key, None)
    if meta:
        out["metadata"] = meta
    if kind == "Service" and isinstance(out.get("spec"), dict):
        out["spec"] = service_defaults(out["spec"])
    if kind == "NetworkPolicy" and isinstance(out.get("spec"), dict):
        out["spec"] = network_policy_defaults(out["spec"])
    if kind in POD_KINDS and pod_template(out) is not None:  # kubegen's pod label
        out = _with_template(out, normalized(pod_template(out)))
    return out


_DEFAULTED = (*POD_KINDS, "Pod", "HorizontalPodAutoscaler")
# Kinds upstream software ships that kubegen has no builder for: kept as Manifests, with a note.
_NO_BUILDER = {"IngressClass": "networking.k8s.io/v1",
               "MutatingWebhookConfiguration": "admissionregistration.k8s.io/v1",
               "ValidatingWebhookConfiguration": "admissionregistration.k8s.io/v1"}


def _with_template(body: dict[str, Any], template: Any) -> dict[str, Any]:
    """``body`` (a workload whose pod template was found) with another pod template."""
    spec = dict(body["spec"])
    if body.get("kind") == "CronJob":
        job = dict(spec["jobTemplate"])
        job["spec"] = {**job["spec"], "template": template}
        spec["jobTemplate"] = job
    else:
        spec["template"] = template
    return {**body, "spec": spec}


def same_object(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two objects mean the same to the API server, ignoring kubegen's metadata."""
    kind = str(a.get("kind"))
    return bool(normalized(a, kind) == normalized(b, kind))


def _accounts(
    objects: list[tuple[dict[str, Any], str]], namespace: str | None
) -> dict[str, dict[str, bool | None]]:
    """Namespace → name → ``automountServiceAccountToken`` of each input ServiceAccount."""
    out: dict[str, dict[str, bool | None]] = {}
    for body, _ in objects:
        if body["kind"] == "ServiceAccount":
            meta = body["metadata"]
            value = body.get("automountServiceAccountToken")
            out.setdefault(str(meta.get("namespace") or namespace), {})[str(meta["name"])] = (
                value if isinstance(value, bool) else None)
    return out


def _ids_unset(objects: list[tuple[dict[str, Any], str]]) -> bool:
    """Whether a workload's pod leaves runAsUser, runAsGroup or fsGroup unset."""
    for body, _ in objects:
        if body["kind"] in _WORKLOADS:
            template = pod_template(body)
            pod = template.get("spec") if template is not None else None
            context = pod.get("securityContext") if isinstance(pod, dict) else None
            if not isinstance(context, dict) or not {"runAsUser", "runAsGroup", "fsGroup"} <= set(
                    context):
                return True
    return False


def _calls(
    body: dict[str, Any], namespace: str | None, defined: set[tuple[str, str, str]],
    stack: str | None = None, origin: str = "",
) -> tuple[str | None, str | None, str | None]:
    """The builder call for ``body`` (from ``origin``) in the whole stack, for a stack of its
    own, and why there is none (None: no typed mapping of its kind)."""
    if body["kind"] in _WORKLOADS:
        try:
            call = (pod_call(body, namespace, stack=stack, origin=origin) if body["kind"] == "Pod"
                    else workload_call(body, namespace, stack=stack, origin=origin))
        except Unmapped as exc:
            return None, None, f"{exc} has no typed builder equivalent"
        except InvalidValue as exc:  # a value the builders refuse (an image without a tag)
            return None, None, f"a typed builder refuses a value: {exc.message}"
        except (AttributeError, TypeError, KeyError, ValueError):  # a field of another shape
            return None, None, "a field has a shape the typed builders do not take"
        return call, call, None
    try:
        final = typed_call(body, namespace, defined)
        return final, None if final is None else typed_call(body, namespace, set()), None
    except Unmapped as exc:
        return None, None, f"{exc} has no typed builder equivalent"
    except (AttributeError, TypeError, KeyError, ValueError):  # a field of another shape
        # kept as a Manifest: its schema error is the render's
        return None, None, "a field has a shape the typed builders do not take"


def _var(body: dict[str, Any], used: Counter[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", f"{body['kind']}_{body['metadata']['name']}".lower())
    base = base.strip("_")
    used[base] += 1
    return base if used[base] == 1 else f"{base}_{used[base]}"


_IMPORTS = ("Claim", "ClusterRole", "ClusterRoleBinding", "ConfigFiles", "ConfigMap",
            "ConfigMapKey", "Container", "CronJob", "DaemonSet", "Deployment", "EgressRule",
            "EmptyDir", "ExecProbe", "FieldRef", "GrpcProbe", "Hook", "HorizontalPodAutoscaler",
            "HostPath", "HttpProbe", "IPBlock", "IngressRule", "Job", "LabelSelector",
            "LabelSelectorRequirement", "Manifest", "Mount", "NetworkPolicy", "NetworkPolicyPeer",
            "NetworkPolicyPort", "Pod", "PodAffinity", "Port", "ResourceRef", "Resources", "Role",
            "RoleBinding", "RoleRef", "Rule", "ScalingPolicy", "ScalingRules", "SecretFiles",
            "SecretKey", "Service", "ServiceAccount", "ServiceAccountRef", "ServicePort", "Stack",
            "StackDefaults", "StatefulSet", "TcpProbe", "VolumeClaim")


def _from_lines(source: str) -> list[str]:
    """The docstring's line naming an input; a path too long for 100 columns goes on a line
    of its own, which line-length checks (ruff's E501) leave alone as one word."""
    line = f"From {source}."
    return [line] if len(line) <= 100 else ["From:", source]


def module_source(
    name: str, namespace: str | None, items: list[_Item], sources: list[str],
    head: _Head | None = None,
) -> str:
    """The stack module: a ``build()`` adding every object, with its opt-outs and waivers."""
    stack_call = (f"Stack({name!r}, namespace={namespace!r}, create_namespace=False"
                  + (head or _Head()).stack_args() + ")")
    lines = [
        f'"""Stack {name}: imported by `kubegen import manifests`.',
        "",
        *(line for source in sources for line in _from_lines(source)),
        "",
        "Each object is a typed builder where one renders it exactly, else a Manifest. The",
        "allow=/waive() calls keep the input as it was: each is a hardening difference (rule",
        "id in the call) that kubegen's defaults would change. Remove them one by one.",
        '"""',
        "",
        "from kubegen import (",
        "    __IMPORTS__",
        ")",
        "",
        f"REASON = {REASON!r}",
        "",
        "",
        "def build() -> Stack:",
        f"    stack = {wrapped(stack_call, 4, len('    stack = '))}",
    ]
    # The code besides the Manifest literals: what the module imports.
    calls = ["Stack(" + (head or _Head()).stack_args()]
    for item in items:
        if item.derived_by is not None:
            if item.typed is None:  # an HPA's call follows its workload's
                lines.append(f"    # {item.origin}: rendered by {item.derived_by} (derived)")
            continue
        lines.append(f"    # {item.origin}")
        if item.why is not None:
            lines += textwrap.wrap(f"kept as a Manifest: {item.why}", 100,
                                   initial_indent="    # ", subsequent_indent="    #   ",
                                   break_on_hyphens=False, break_long_words=False)
        scaler = item.scaled[1].replace(TARGET, item.var) if item.scaled else None
        assign = f"{item.var} = " if item.waivers or scaler else ""
        if item.typed is not None:
            call = item.typed
            if item.allow:
                call = call[:-1] + f", allow={{{', '.join(f'{g!r}: REASON' for g in item.allow)}}})"
            lines.append(f"    {assign}stack.add({wrapped(call, 4)})")
            calls.append(call)
            if scaler is not None and item.scaled is not None:
                lines.append(f"    # {item.scaled[2].origin}")
                lines.append(f"    stack.add({wrapped(scaler, 4)})")
                calls.append(scaler)
        else:
            body = item.body
            if item.allow:
                body = json.loads(json.dumps(body))
                notes = body["metadata"].setdefault("annotations", {})
                for guard in item.allow:
                    notes[f"kubegen.dev/opt-out-rbac-{guard}"] = REASON
            lines.append(f"    {assign}stack.add(Manifest(")
            lines.append(f"        {literal(json.dumps(body), 8)}")
            calls.append("Manifest(")
            lines.append("    ))")
        for rule, what in sorted(item.waivers.items()):
            lines += textwrap.wrap(f"{rule} {what}", 100, initial_indent="    # ",
                                   subsequent_indent="    #   ",
                                   break_on_hyphens=False)
            lines.append(f"    {item.var}.waive({rule!r}, reason=REASON)")
    lines.append("    return stack")
    start = lines.index("def build() -> Stack:")
    text = "\n".join(lines[:start]) + "\n" + fitted("\n".join(lines[start:])) + "\n"
    found = set(re.findall(r"\b([A-Z][A-Za-z]*)\(", "\n".join(calls)))
    used = [name for name in _IMPORTS if name in found]
    return text.replace("    __IMPORTS__", "\n".join(f"    {name}," for name in used), 1)


def _build(source: str) -> Any:
    namespace: dict[str, Any] = {"__name__": "kubegen_import_check"}
    exec(compile(source, "<kubegen import>", "exec"), namespace)
    return namespace["build"]()


def _prove(
    items: list[_Item], name: str, namespace: str | None, sources: list[str], head: _Head
) -> None:
    """Keep each typed call only if it renders its object exactly; add the opt-outs needed."""
    for item in items:
        if item.typed is None or item.body["kind"] in _WORKLOADS:
            continue
        trial = _Item(item.body, item.origin, "obj", typed=item.trial)
        try:
            stack = _build(module_source(name, namespace, [trial], sources, head))
            rendered = [o.body for o in stack.objects()]
        except KubegenError as exc:
            guard = _GUARD.search(exc.message)
            if guard is None:
                item.typed, item.why = None, _refused(exc)
                continue
            item.allow[guard.group(1)] = REASON
            trial.allow = dict(item.allow)
            try:
                rendered = [o.body for o in _build(
                    module_source(name, namespace, [trial], sources, head)).objects()]
            except KubegenError as again:
                item.typed, item.allow = None, {}
                item.why = _refused(again)
                continue
        except Exception as exc:  # a value no builder takes, however it fails
            item.typed, item.why = None, f"the typed call fails: {type(exc).__name__}"
            continue
        if len(rendered) != 1 or not same_object(rendered[0], item.meaning):
            kind = str(item.body["kind"])
            item.typed, item.allow = None, {}
            item.why = _differently(kind, rendered[0], item.meaning) if len(rendered) == 1 else (
                f"a typed {kind} would also render {rendered[1]['kind']} "
                f"{rendered[1]['metadata']['name']}, which the input does not hold as such")


_WORKLOADS = (*POD_KINDS, "Pod")  # a bare Pod is proved like a workload


def _opt_out(path: str) -> str:
    """How the module opts out at ``path``: a HostPath's own reason, else an ``allow_*``."""
    return "HostPath(…, reason=…)" if path.endswith(".hostPath") else "allow_…=REASON"


def _refused(exc: KubegenError) -> str:
    """Why a builder refuses the typed call, with the field and value it names."""
    field = f" {exc.field}" if exc.field else ""
    if field and exc.has_value:
        field += f"={exc.value!r}"
    return f"the typed call is refused:{field}{':' if field else ''} {exc.message}"


def _key(body: dict[str, Any], namespace: str | None) -> tuple[str, str, str]:
    meta = body["metadata"]
    return (str(body["kind"]), str(meta.get("namespace") or ""), str(meta["name"]))


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    """The paths where ``a`` and ``b`` differ (a list differing in length: the list's path)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            out += _differences(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in _differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


def _prove_workloads(
    items: list[_Item], name: str, namespace: str | None, sources: list[str], head: _Head
) -> None:
    """Keep a workload's call only if its render is the input object, and every object it
    derives (ServiceAccount, PodDisruptionBudget, headless Service) is either one the stack
    holds as a typed builder or an input object it renders exactly (that one is then left to
    the workload); else the object stays a Manifest and ``why`` says what differs.

    A workload an input HorizontalPodAutoscaler scales is tried with the HPA's typed call
    first (the pair must render both objects); if that differs, the HPA stays a Manifest with
    its reason and the workload is tried alone."""
    by_key = {_key(item.body, namespace): item for item in items}
    trial_of = (name, namespace, sources, head)
    for item in items:
        if item.typed is None or item.body["kind"] not in _WORKLOADS:
            continue
        if item.scaled is not None:
            call, scaler, hpa = item.scaled
            why = _prove_workload(item, call, scaler, by_key, trial_of)
            if why is None:
                item.typed = call
                continue
            hpa.why = why if why.startswith("a typed HorizontalPodAutoscaler") else (
                f"its target {item.display}, autoscaled, would not render as it was: {why}")
            item.scaled = None
        why = _prove_workload(item, str(item.trial), None, by_key, trial_of)
        if why is not None:
            item.typed, item.why = None, why


def _differently(kind: str, rendered: dict[str, Any], meaning: dict[str, Any]) -> str:
    paths = _differences(normalized(rendered, kind), normalized(meaning, kind))
    shown = ", ".join(paths[:4]) + (f" (+{len(paths) - 4} more)" if len(paths) > 4 else "")
    return f"a typed {kind} would render {shown} differently"


def _prove_workload(
    item: _Item, call: str, scaler: str | None, by_key: dict[tuple[str, str, str], _Item],
    trial_of: tuple[str, str | None, list[str], _Head],
) -> str | None:
    """None when ``call`` (and ``scaler``, the HPA's) renders ``item`` and the objects it
    derives as the input holds them (these are then left to it); else why not."""
    name, namespace, sources, head = trial_of
    trial = _Item(item.body, item.origin, "obj", typed=call)
    if scaler is not None:
        trial.scaled = (call, scaler, item)
    try:
        rendered = [o.body for o in _build(
            module_source(name, namespace, [trial], sources, head)).objects()]
    except KubegenError as exc:
        return _refused(exc)
    except Exception as exc:  # a value no builder takes, however it fails
        return f"the typed call fails: {type(exc).__name__}"
    main, derived = rendered[0], rendered[1:]
    kind = str(item.body["kind"])
    if not same_object(main, item.meaning):
        return _differently(kind, main, item.meaning)
    claimed: list[_Item] = []
    for extra in derived:
        other = by_key.get(_key(extra, namespace))
        if other is not None and other.typed is not None and extra["kind"] == (
                "ServiceAccount"):
            continue  # the workload runs as the stack's typed ServiceAccount
        if other is not None and extra["kind"] == "HorizontalPodAutoscaler" and (
                not same_object(extra, other.meaning)):
            return _differently("HorizontalPodAutoscaler", extra, other.meaning)
        if other is None or other.derived_by is not None or not same_object(
                extra, other.meaning):
            meta = extra["metadata"]
            return (f"a typed {kind} would also render {extra['kind']} "
                    f"{meta.get('namespace') or namespace}/{meta['name']}, which the "
                    "input does not hold as such")
        claimed.append(other)
    for other in claimed:
        other.derived_by, other.typed, other.why = item.display, None, None
        if scaler is not None and other.body["kind"] == "HorizontalPodAutoscaler":
            other.typed = scaler  # a typed call of its own, written after its workload's
    return None


def _pair_autoscalers(items: list[_Item], namespace: str | None, stack: str) -> None:
    """Give each workload an input HorizontalPodAutoscaler scales its autoscaled call and the
    HPA's; an HPA that cannot be one gets its ``why``."""
    by_key = {_key(item.body, namespace): item for item in items}
    for item in items:
        if item.body["kind"] != "HorizontalPodAutoscaler":
            continue
        try:
            (kind, target_name), scaler = autoscaler_call(item.body)
        except Unmapped as exc:
            item.why = f"{exc} has no typed builder equivalent"
            continue
        except (AttributeError, TypeError, KeyError, ValueError):
            item.why = "a field has a shape the typed builder does not take"
            continue
        meta = item.body["metadata"]
        target = by_key.get((kind, str(meta.get("namespace") or ""), target_name))
        if target is None or target.typed is None:
            state = "not in the input" if target is None else "kept as a Manifest"
            item.why = (f"its target {kind} {target_name} is {state}: a typed autoscaler "
                        "takes its target's typed call")
            continue
        if target.scaled is not None:
            item.why = f"{target.display} is scaled by another HorizontalPodAutoscaler"
            continue
        try:
            call = workload_call(target.meaning, namespace, stack=stack, autoscaled=True,
                                 origin=target.source)
        except (Unmapped, AttributeError, TypeError, KeyError, ValueError) as exc:
            item.why = f"its target's {exc}" if isinstance(exc, Unmapped) else (
                "its target has a field of a shape the typed builders do not take")
            continue
        target.scaled = (call, scaler, item)


def _settle(
    items: list[_Item], name: str, namespace: str | None, sources: list[str], head: _Head
) -> Any:
    """Build the whole stack, adding guard opt-outs until it builds (bounded), then lint."""
    from kubegen._api import lint

    by_display = {item.display: item for item in items}
    for _ in range(4 * len(items) + 4):
        try:
            stack = _build(module_source(name, namespace, items, sources, head))
            stack.objects()
            break
        except ValidationError as exc:
            guard = _GUARD.search(exc.message)
            item = by_display.get(exc.resource or "")
            if guard is None or item is None or guard.group(1) in item.allow:
                raise
            item.allow[guard.group(1)] = REASON
    report = lint(stack)
    for finding in report.findings:
        item = by_display.get(finding.resource)
        if finding.blocking and item is not None:
            item.waivers.setdefault(finding.rule_id, f"{finding.path}: {finding.message}")
        elif finding.waived and item is not None and finding.rule_id not in item.waivers:
            item.opted.setdefault(finding.rule_id, finding.path)  # an allow_* opt-out's
    return _build(module_source(name, namespace, items, sources, head))


def _common_labels(objects: list[tuple[dict[str, Any], str]]) -> Labels:
    """Labels every input object carries, on itself and on its pod template if it has one:
    the stack's ``labels=`` (kubegen puts those on everything it renders, derived objects too).
    ``app.kubernetes.io/managed-by: kubegen`` is kubegen's own and stays out."""
    common: dict[str, str] | None = None
    for body, _ in objects:
        template = pod_template(body)
        sets = [body["metadata"].get("labels")]
        if isinstance(template, dict):
            pod_meta = template.get("metadata")
            sets.append(pod_meta.get("labels") if isinstance(pod_meta, dict) else None)
        for found in sets:
            items = {k: v for k, v in found.items() if isinstance(v, str)} if isinstance(
                found, dict) else {}
            common = items if common is None else {
                k: v for k, v in common.items() if items.get(k) == v}
    common = {k: v for k, v in (common or {}).items() if k != "app.kubernetes.io/managed-by"}
    return dict(sorted(common.items())) or None


def _instance(objects: list[tuple[dict[str, Any], str]]) -> str | None:
    """The stack name the input's workloads were rendered from, if they select their pods the
    way kubegen does (``app.kubernetes.io/name`` + ``app.kubernetes.io/instance``, the stack's
    name): importing into a stack of that name keeps their selectors, which a live workload
    cannot change."""
    from kubegen._builders.workloads.base import INSTANCE_LABEL, NAME_LABEL

    found: Counter[str] = Counter()
    for body, _ in objects:
        spec = body.get("spec")
        selector = spec.get("selector") if isinstance(spec, dict) else None
        labels = selector.get("matchLabels") if isinstance(selector, dict) else None
        if body["kind"] == "Pod" and isinstance(body["metadata"].get("labels"), dict):
            labels = {k: v for k, v in body["metadata"]["labels"].items()
                      if k in (NAME_LABEL, INSTANCE_LABEL)}  # a bare Pod: its own labels
        if body["kind"] in _WORKLOADS and isinstance(labels, dict) and set(labels) == {
                NAME_LABEL, INSTANCE_LABEL} and labels[NAME_LABEL] == body["metadata"]["name"]:
            found[str(labels[INSTANCE_LABEL])] += 1
    if not found:
        return None
    value = found.most_common(1)[0][0]
    return value if re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", value) else None


def read_objects(
    path: Path, named: dict[str, str] | None = None
) -> list[tuple[dict[str, Any], str]]:
    """Every object under ``path`` with ``file:line``; ``named`` gets each ``file:line``'s file
    as the user named it (under ``path`` as given: what a HostPath's reason quotes)."""
    from kubegen._origin import Origin, display_path
    from kubegen._vendor.files import read_source, source_files
    from kubegen._vendor.source import _objects
    from kubegen._vendor.yaml_reader import read_documents

    out = []
    for file in source_files(path):
        shown = display_path(str(file.resolve()))
        for doc in read_documents(read_source(file).text):
            for obj in _objects(doc.data, Origin(shown, doc.line)):
                out.append((obj.body, str(obj.origin)))
                if named is not None:
                    named[str(obj.origin)] = file.as_posix()
    return out


def import_manifests(
    source: Path, stack_dir: Path, *, namespace: str | None = None
) -> ImportResult:
    """Write ``<stack_dir>/__init__.py`` from the objects under ``source``.

    ``namespace``: for namespaced objects that name none (and the stack's namespace);
    defaults to the namespace most objects name.

    Raises:
        KubegenError: unreadable input, an object without a namespace and no ``namespace``,
            or (never expected) an import that would not render the input back.
    """
    from kubegen._manifests import is_cluster_scoped
    from kubegen._values import InvalidValue

    try:
        named: dict[str, str] = {}
        objects = read_objects(source, named)
    except InvalidValue as exc:
        raise KubegenError(f"Unable to import {source}: {exc.message}", fix=exc.fix) from None
    if not objects:
        raise KubegenError(f"{source} holds no Kubernetes object")
    name = _instance(objects) or re.sub(
        r"[^a-z0-9-]+", "-", stack_dir.name.lower()).strip("-") or "imported"
    namespaces = Counter(b["metadata"].get("namespace") for b, _ in objects
                         if b["metadata"].get("namespace"))
    if namespace is None and namespaces:
        namespace = namespaces.most_common(1)[0][0]
    for body, origin in objects:
        meta = body["metadata"]
        if not meta.get("namespace") and not is_cluster_scoped(body["apiVersion"], body["kind"]):
            if namespace is None:
                raise KubegenError(
                    f"{origin}: {body['kind']} {meta['name']} names no namespace",
                    fix="pass --namespace NAME for the objects that name none",
                )
            body["metadata"] = {"name": meta["name"], "namespace": namespace, **meta}
    defined = {
        (str(b["kind"]), str(b["metadata"].get("namespace") or namespace or "")
         if b["kind"] in ("Role", "ServiceAccount") else "", str(b["metadata"]["name"]))
        for b, _ in objects
    }
    used: Counter[str] = Counter()
    items = []
    accounts = _accounts(objects, namespace)
    for body, origin in objects:
        meaning = body
        if body["kind"] in _WORKLOADS:
            meaning = with_effective_automount(
                body, accounts.get(str(body["metadata"].get("namespace") or namespace), {}))
        file = named.get(origin, origin)
        typed, trial, why = _calls(meaning, namespace, defined, name, file)
        if body["kind"] in _NO_BUILDER and body.get("apiVersion") == _NO_BUILDER[body["kind"]]:
            why = f"kubegen has no typed {body['kind']} builder"
        items.append(_Item(body, origin, _var(body, used), typed, trial, why=why,
                           meaning=meaning, source=file))
    sources = [str(source)]
    head = _Head(_common_labels(objects), _ids_unset(objects))
    _prove(items, name, namespace, sources, head)
    _pair_autoscalers(items, namespace, name)
    _prove_workloads(items, name, namespace, sources, head)
    for item in items:  # every kept Manifest says why
        if item.typed is None and item.derived_by is None and item.why is None:
            item.why = (f"kubegen import maps no {item.body['kind']} "
                        f"({item.body.get('apiVersion')}) to a typed builder")
    stack = _settle(items, name, namespace, sources, head)
    rendered = {o.key: o.body for o in stack.objects()}
    for item in items:  # the whole stack must give back what came in
        from kubegen._manifests import ManifestObject

        key = ManifestObject(item.body).key
        if key[2] == "" and namespace and key not in rendered:
            key = (key[0], key[1], namespace, key[3])
        if key not in rendered or not any(same_object(rendered[key], b) for b in (
                item.body, item.meaning)):  # a Manifest is the body, a typed call its meaning
            raise KubegenError(f"import of {item.display} does not render back as it was")
        rendered.pop(key)
    if rendered:  # never expected: every derived object was proved to be an input one
        kind, _, ns, obj = sorted(rendered)[0]
        raise KubegenError(f"import would add {kind} {ns}/{obj}, which the input does not hold")
    stack_dir.mkdir(parents=True, exist_ok=True)
    module = stack_dir / "__init__.py"
    module.write_text(module_source(name, namespace, items, sources, head), encoding="utf-8")
    differences = [
        f"{item.display}: {rule} {what}" for item in items for rule, what in sorted(
            item.waivers.items())
    ] + [
        f"{item.display}: least-privilege guard {guard!r} opted out" for item in items
        for guard in item.allow
    ] + [
        f"{item.display}: opted out ({_opt_out(path)}) of {rule} at {path}" for item in items
        for rule, path in sorted(item.opted.items())
    ]
    kept = [f"{item.display}: {item.why}" for item in items
            if item.why is not None and item.typed is None and item.derived_by is None]
    count = sum(1 for item in items if item.typed is not None)
    raw = sum(1 for item in items if item.typed is None and item.derived_by is None)
    return ImportResult(module, count, raw, differences, kept)
