"""API versions removed or deprecated in the target Kubernetes version (KG003, KG004).

A manifest using a removed ``apiVersion`` is refused by the API server of the target version (the
classic upgrade breakage); a deprecated one works but will break at the named release. The table
is the Kubernetes deprecation guide's list of removals, plus the deprecations still pending, and
is checked against the target version given to ``lint`` (default
:data:`~kubegen._policy.model.DEFAULT_KUBERNETES_VERSION`).
See https://kubernetes.io/docs/reference/using-api/deprecation-guide/.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from kubegen._policy.context import LintContext
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import E, W, rule

GUIDE = "Kubernetes docs, 'Deprecated API Migration Guide'"
SCANNERS = ("kube-score stable-version", "kube-linter no-extensions-v1beta")


@dataclass(frozen=True, slots=True)
class ApiChange:
    """One API version's lifecycle for some kinds (``kinds`` empty = every kind it serves)."""

    api_version: str
    kinds: frozenset[str]
    deprecated_in: tuple[int, int]
    removed_in: tuple[int, int] | None
    replacement: str

    def covers(self, api_version: str, kind: str) -> bool:
        return api_version == self.api_version and (not self.kinds or kind in self.kinds)


def _change(
    api_version: str,
    kinds: str,
    deprecated: str,
    removed: str | None,
    replacement: str,
) -> ApiChange:
    def version(text: str) -> tuple[int, int]:
        major, minor = text.split(".")
        return int(major), int(minor)

    return ApiChange(
        api_version=api_version,
        kinds=frozenset(kinds.split()),
        deprecated_in=version(deprecated),
        removed_in=version(removed) if removed else None,
        replacement=replacement,
    )


WORKLOADS = "Deployment DaemonSet ReplicaSet StatefulSet ControllerRevision"
WEBHOOKS = "MutatingWebhookConfiguration ValidatingWebhookConfiguration"
RBAC_KINDS = "Role ClusterRole RoleBinding ClusterRoleBinding"
STORAGE_KINDS = "CSIDriver CSINode StorageClass VolumeAttachment"

#: Known removals and deprecations, oldest first.
API_CHANGES: tuple[ApiChange, ...] = (
    _change("extensions/v1beta1", WORKLOADS, "1.8", "1.16", "apps/v1"),
    _change("extensions/v1beta1", "NetworkPolicy", "1.9", "1.16", "networking.k8s.io/v1"),
    _change("extensions/v1beta1", "PodSecurityPolicy", "1.11", "1.16", "Pod Security Admission"),
    _change("extensions/v1beta1", "Ingress", "1.14", "1.22", "networking.k8s.io/v1"),
    _change("apps/v1beta1", "", "1.9", "1.16", "apps/v1"),
    _change("apps/v1beta2", "", "1.9", "1.16", "apps/v1"),
    _change("networking.k8s.io/v1beta1", "Ingress IngressClass", "1.19", "1.22",
            "networking.k8s.io/v1"),
    _change("rbac.authorization.k8s.io/v1beta1", RBAC_KINDS, "1.17", "1.22",
            "rbac.authorization.k8s.io/v1"),
    _change("admissionregistration.k8s.io/v1beta1", WEBHOOKS, "1.16", "1.22",
            "admissionregistration.k8s.io/v1"),
    _change("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", "1.16", "1.22",
            "apiextensions.k8s.io/v1"),
    _change("apiregistration.k8s.io/v1beta1", "APIService", "1.19", "1.22",
            "apiregistration.k8s.io/v1"),
    _change("certificates.k8s.io/v1beta1", "CertificateSigningRequest", "1.19", "1.22",
            "certificates.k8s.io/v1"),
    _change("coordination.k8s.io/v1beta1", "Lease", "1.19", "1.22", "coordination.k8s.io/v1"),
    _change("scheduling.k8s.io/v1beta1", "PriorityClass", "1.14", "1.22", "scheduling.k8s.io/v1"),
    _change("storage.k8s.io/v1beta1", STORAGE_KINDS, "1.19", "1.22", "storage.k8s.io/v1"),
    _change("batch/v1beta1", "CronJob", "1.21", "1.25", "batch/v1"),
    _change("discovery.k8s.io/v1beta1", "EndpointSlice", "1.21", "1.25", "discovery.k8s.io/v1"),
    _change("events.k8s.io/v1beta1", "Event", "1.22", "1.25", "events.k8s.io/v1"),
    _change("autoscaling/v2beta1", "HorizontalPodAutoscaler", "1.22", "1.25", "autoscaling/v2"),
    _change("policy/v1beta1", "PodDisruptionBudget", "1.21", "1.25", "policy/v1"),
    _change("policy/v1beta1", "PodSecurityPolicy", "1.21", "1.25", "Pod Security Admission"),
    _change("node.k8s.io/v1beta1", "RuntimeClass", "1.22", "1.25", "node.k8s.io/v1"),
    _change("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema PriorityLevelConfiguration",
            "1.23", "1.26", "flowcontrol.apiserver.k8s.io/v1"),
    _change("autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.23", "1.26", "autoscaling/v2"),
    _change("storage.k8s.io/v1beta1", "CSIStorageCapacity", "1.24", "1.27", "storage.k8s.io/v1"),
    _change("flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema PriorityLevelConfiguration",
            "1.26", "1.29", "flowcontrol.apiserver.k8s.io/v1"),
    _change("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema PriorityLevelConfiguration",
            "1.29", "1.32", "flowcontrol.apiserver.k8s.io/v1"),
    _change("v1", "Endpoints", "1.33", None, "discovery.k8s.io/v1 EndpointSlice"),
    _change("v1", "ComponentStatus", "1.19", None, "the API server's /livez and /readyz"),
)  # fmt: skip


@cache  # a pure lookup in a fixed table, asked twice for every object of a render
def find_change(api_version: str, kind: str) -> ApiChange | None:
    """The table entry for ``apiVersion``/``kind``, or ``None`` for a current API."""
    for change in API_CHANGES:
        if change.covers(api_version, kind):
            return change
    return None


def removed_in_target(ctx: LintContext, api_version: str, kind: str) -> bool:
    """Whether the target Kubernetes version no longer serves ``apiVersion``/``kind``."""
    change = find_change(api_version, kind)
    return change is not None and change.removed_in is not None and ctx.at_least(*change.removed_in)


def _fmt(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


@rule(
    "KG003",
    per_object=True,
    name="api-removed",
    title="No apiVersion removed in the target Kubernetes version",
    levels=Levels(baseline=E, restricted=E, prod=E),
    reason="The API server of the target version refuses objects of a removed API version; "
    "the apply fails (or, in GitOps, the sync stops) at upgrade time.",
    sources=(GUIDE,),
    fix="Use the replacement apiVersion named in the message and adapt changed fields (see "
    "the migration guide).",
    scanners=SCANNERS,
    tags=("correctness", "upgrade"),
)
def api_removed(ctx: LintContext) -> Iterator[Hit]:
    for obj in ctx.objects:
        change = find_change(obj.api_version, obj.kind)
        if change is None or change.removed_in is None or not ctx.at_least(*change.removed_in):
            continue
        message = (
            f"{obj.api_version} {obj.kind} was removed in Kubernetes {_fmt(change.removed_in)} "
            f"(target {_fmt(ctx.kubernetes_version)})"
        )
        yield Hit(obj, "apiVersion", message, fix=f"Use {change.replacement}.")


@rule(
    "KG004",
    per_object=True,
    name="api-deprecated",
    title="No apiVersion deprecated in the target Kubernetes version",
    levels=Levels(baseline=W, restricted=W, prod=W),
    reason="A deprecated API still works but is scheduled for removal; migrating before the "
    "upgrade is cheaper than during it.",
    sources=(GUIDE,),
    fix="Move to the replacement API named in the message.",
    scanners=SCANNERS,
    tags=("correctness", "upgrade"),
)
def api_deprecated(ctx: LintContext) -> Iterator[Hit]:
    for obj in ctx.objects:
        change = find_change(obj.api_version, obj.kind)
        if change is None or not ctx.at_least(*change.deprecated_in):
            continue
        if change.removed_in is not None and ctx.at_least(*change.removed_in):
            continue  # KG003's finding
        until = f", removed in {_fmt(change.removed_in)}" if change.removed_in else ""
        message = (
            f"{obj.api_version} {obj.kind} is deprecated since Kubernetes "
            f"{_fmt(change.deprecated_in)}{until}"
        )
        yield Hit(obj, "apiVersion", message, fix=f"Use {change.replacement}.")
