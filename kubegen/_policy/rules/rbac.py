"""RBAC guards (KG401–KG406): grants that amount to cluster takeover or secret theft.

Each problem is reported once: a ``*`` anywhere is KG401's finding, so KG403–KG405 look at the
verbs and resources that are spelled out. A rule in a Role or ClusterRole only matters for the
core API group (``""``) or ``*`` where the resource is a core one (pods, secrets).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubegen._manifests import ManifestObject
from kubegen._policy.context import LintContext, as_dict, as_list
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import E, W, rule
from kubegen._policy.rules import show

LEVELS = Levels(baseline=W, restricted=E, prod=E)
ROLES = ("Role", "ClusterRole")
BINDINGS = ("RoleBinding", "ClusterRoleBinding")
KIA_API = "Kubernetes in Action (2nd ed.), 'Securing the API server'"
NSA_AUTH = "NSA/CISA Kubernetes Hardening Guidance v1.2, 'Authentication and authorization'"
TAGS = ("security", "rbac")

ADMIN_ROLES = ("cluster-admin", "admin", "edit")
ESCALATION_VERBS = ("escalate", "bind", "impersonate")
EXEC_RESOURCES = ("pods/exec", "pods/attach", "pods/portforward", "pods/*")
PUBLIC_SUBJECTS = {
    ("Group", "system:unauthenticated"),
    ("Group", "system:authenticated"),
    ("User", "system:anonymous"),
}


def _policy_rules(ctx: LintContext) -> Iterator[tuple[ManifestObject, str, dict[str, Any]]]:
    for role in ctx.of_kind(*ROLES):
        for index, item in enumerate(as_list(role.body.get("rules"))):
            yield role, f"rules[{index}]", as_dict(item)


def _strings(item: dict[str, Any], key: str) -> list[str]:
    return [str(v) for v in as_list(item.get(key))]


def _core(item: dict[str, Any]) -> bool:
    groups = _strings(item, "apiGroups")
    return "" in groups or "*" in groups


@rule(
    "KG401",
    name="rbac-wildcard",
    title="Roles name their API groups, resources and verbs (no '*')",
    levels=LEVELS,
    reason="A '*' grants everything that exists now and every resource or verb added later, "
    "including escalation paths nobody reviewed.",
    sources=(KIA_API, NSA_AUTH),
    fix="List the API groups, resources and verbs the workload uses.",
    scanners=("kube-linter wildcard-in-rules", "kubescape C-0187", "Checkov CKV_K8S_49"),
    tags=TAGS,
    kinds=ROLES,
)
def rbac_wildcard(ctx: LintContext) -> Iterator[Hit]:
    for role, path, item in _policy_rules(ctx):
        for key in ("apiGroups", "resources", "verbs"):
            if "*" in _strings(item, key):
                yield Hit(role, f"{path}.{key}", f"{key} contains '*': {show(item.get(key))}")


@rule(
    "KG402",
    name="rbac-admin-binding",
    title="No binding to cluster-admin, admin or edit",
    levels=LEVELS,
    reason="These built-in roles grant (near-)full control of a namespace or the cluster, "
    "including reading every Secret and creating pods as any ServiceAccount.",
    sources=(KIA_API, NSA_AUTH),
    fix="Bind a Role that lists only the resources and verbs the subject needs.",
    scanners=(
        "Polaris clusterrolebindingClusterAdmin, rolebindingClusterAdminClusterRole",
        "kube-linter cluster-admin-role-binding",
        "kubescape C-0035, C-0272",
    ),
    tags=TAGS,
    kinds=BINDINGS,
)
def rbac_admin_binding(ctx: LintContext) -> Iterator[Hit]:
    for binding in ctx.of_kind(*BINDINGS):
        ref = as_dict(binding.body.get("roleRef"))
        if ref.get("kind") == "ClusterRole" and ref.get("name") in ADMIN_ROLES:
            message = f"binds ClusterRole {show(ref.get('name'))}"
            yield Hit(binding, "roleRef.name", message)


@rule(
    "KG403",
    name="rbac-escalation-verbs",
    title="Roles grant no escalate, bind or impersonate",
    levels=LEVELS,
    reason="escalate and bind let a subject create roles or bindings beyond its own rights; "
    "impersonate lets it act as any user, group or ServiceAccount.",
    sources=(KIA_API, NSA_AUTH),
    fix="Remove the verb; grant the specific permissions instead of the power to grant them.",
    scanners=("Checkov CKV_K8S_155, CKV_K8S_156, CKV_K8S_157",),
    tags=TAGS,
    kinds=ROLES,
)
def rbac_escalation_verbs(ctx: LintContext) -> Iterator[Hit]:
    for role, path, item in _policy_rules(ctx):
        bad = [verb for verb in _strings(item, "verbs") if verb in ESCALATION_VERBS]
        if bad:
            yield Hit(role, f"{path}.verbs", f"grants {show(bad)}")


@rule(
    "KG404",
    name="rbac-pod-exec",
    title="Roles do not grant exec, attach or port-forward into pods",
    levels=LEVELS,
    reason="pods/exec and pods/attach run commands inside any pod the role can see, with that "
    "pod's mounted secrets and identity; pods/portforward tunnels past NetworkPolicies.",
    sources=(KIA_API, NSA_AUTH),
    fix="Remove pods/exec, pods/attach and pods/portforward from the role; debug with a "
    "separate, time-limited break-glass role.",
    scanners=("Polaris clusterrolePodExecAttach, rolePodExecAttach", "Checkov CKV2_K8S_2"),
    tags=TAGS,
    kinds=ROLES,
)
def rbac_pod_exec(ctx: LintContext) -> Iterator[Hit]:
    for role, path, item in _policy_rules(ctx):
        resources = [r for r in _strings(item, "resources") if r in EXEC_RESOURCES]
        verbs = [v for v in _strings(item, "verbs") if v in ("create", "get", "*")]
        if resources and verbs and _core(item):
            message = f"grants {show(verbs)} on {show(resources)}"
            yield Hit(role, f"{path}.resources", message)


@rule(
    "KG405",
    name="rbac-secrets-read",
    title="Secret reads are limited to named Secrets",
    levels=LEVELS,
    reason="get/list/watch on secrets without resourceNames reads every Secret in scope "
    "(every token and password of the namespace, or of the cluster for a ClusterRole).",
    sources=(KIA_API, NSA_AUTH),
    fix="Add resourceNames listing the Secrets the workload reads (get only), or mount them "
    "as volumes instead of reading them from the API.",
    scanners=("kube-linter access-to-secrets", "kubescape C-0015, C-0186", "Checkov CKV2_K8S_5"),
    tags=TAGS,
    kinds=ROLES,
)
def rbac_secrets_read(ctx: LintContext) -> Iterator[Hit]:
    for role, path, item in _policy_rules(ctx):
        if "secrets" not in _strings(item, "resources") or not _core(item):
            continue
        verbs = [v for v in _strings(item, "verbs") if v in ("get", "list", "watch", "*")]
        if verbs and not item.get("resourceNames"):
            yield Hit(role, f"{path}.resourceNames", f"grants {show(verbs)} on all secrets")


@rule(
    "KG406",
    name="rbac-public-subjects",
    title="No binding to anonymous, unauthenticated or all authenticated users",
    levels=LEVELS,
    reason="system:anonymous and system:unauthenticated are anyone who can reach the API "
    "server; system:authenticated is every account, including every ServiceAccount token.",
    sources=(KIA_API, f"{NSA_AUTH} (anonymous auth off, RBAC)"),
    fix="Bind named users, groups or ServiceAccounts instead.",
    scanners=(),
    tags=TAGS,
    kinds=BINDINGS,
)
def rbac_public_subjects(ctx: LintContext) -> Iterator[Hit]:
    for binding in ctx.of_kind(*BINDINGS):
        for index, subject in enumerate(as_list(binding.body.get("subjects"))):
            subject = as_dict(subject)
            if (str(subject.get("kind")), str(subject.get("name"))) in PUBLIC_SUBJECTS:
                message = f"binds {subject.get('kind')} {show(subject.get('name'))}"
                yield Hit(binding, f"subjects[{index}].name", message)
