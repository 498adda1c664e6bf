"""Pod identity (KG301–KG302): one ServiceAccount per workload, API tokens only where used.

Every pod gets an API token unless told otherwise, and the ``default`` ServiceAccount is shared by
everything in a namespace, so a grant meant for one app silently reaches all of them. kubegen's
rule: a dedicated ServiceAccount per workload, and token automount only where that account is
bound by a RoleBinding or ClusterRoleBinding in the same object set (i.e. the workload was granted
API access). Effective automount follows Kubernetes: the pod's
``automountServiceAccountToken`` wins; unset, the ServiceAccount's; unset too, true.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from kubegen._manifests import ManifestObject
from kubegen._policy.context import POD_KINDS, LintContext, PodView, as_dict, as_list
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import E, W, rule
from kubegen._policy.rules import show

LEVELS = Levels(baseline=W, restricted=E, prod=E)
KIA_API = "Kubernetes in Action (2nd ed.), 'Securing the API server'"
NSA_AUTH = "NSA/CISA Kubernetes Hardening Guidance v1.2, 'Authentication and authorization'"
BINDINGS = ("RoleBinding", "ClusterRoleBinding")


def service_account_of(pod: PodView) -> str | None:
    """The ServiceAccount the pod runs as (``serviceAccount`` is the deprecated alias)."""
    name = pod.spec.get("serviceAccountName") or pod.spec.get("serviceAccount")
    return str(name) if name else None


@rule(
    "KG301",
    name="dedicated-service-account",
    title="Each workload runs as its own ServiceAccount, not 'default'",
    levels=LEVELS,
    reason="The default ServiceAccount is shared by every pod in the namespace, and so is any "
    "role bound to it; a per-workload account keeps grants to the workload that needs them.",
    sources=(KIA_API, NSA_AUTH),
    fix="Create a ServiceAccount named after the workload and set serviceAccountName to it "
    "(kubegen's builders do this by default).",
    scanners=("kube-linter default-service-account", "Checkov CKV_K8S_41, CKV_K8S_42"),
    kinds=POD_KINDS,
)
def dedicated_service_account(ctx: LintContext) -> Iterator[Hit]:
    users: dict[tuple[str, str], list[PodView]] = defaultdict(list)
    for pod in ctx.pods:
        account = service_account_of(pod)
        path = pod.field("serviceAccountName")
        if account in (None, "default"):
            shown = "unset (uses 'default')" if account is None else "'default'"
            yield Hit(pod.obj, path, f"serviceAccountName is {shown}")
        else:
            users[(pod.namespace, str(account))].append(pod)
    for (_, account), pods in sorted(users.items()):
        if len(pods) > 1:
            for pod in pods:
                others = ", ".join(p.obj.display for p in pods if p is not pod)
                message = f"ServiceAccount {account!r} is shared with {others}"
                yield Hit(pod.obj, pod.field("serviceAccountName"), message)


def bound_accounts(ctx: LintContext) -> set[tuple[str, str]]:
    """``(namespace, name)`` of every ServiceAccount a binding in the set names.

    Counts ``ServiceAccount`` subjects, ``User system:serviceaccount:<ns>:<name>`` subjects and
    the ``system:serviceaccounts[:<ns>]`` groups (which bind every account they cover).
    """
    bound: set[tuple[str, str]] = set()
    for binding in ctx.of_kind(*BINDINGS):
        for subject in as_list(binding.body.get("subjects")):
            subject = as_dict(subject)
            kind, name = subject.get("kind"), str(subject.get("name", ""))
            if kind == "ServiceAccount":
                namespace = subject.get("namespace") or binding.namespace or "default"
                bound.add((str(namespace), name))
            elif kind == "User" and name.startswith("system:serviceaccount:"):
                _, _, rest = name.partition("system:serviceaccount:")
                namespace, _, account = rest.partition(":")
                bound.add((namespace, account))
            elif kind == "Group" and name.startswith("system:serviceaccounts"):
                bound.add((name.partition("system:serviceaccounts")[2].lstrip(":") or "*", "*"))
    return bound


def _is_bound(bound: set[tuple[str, str]], namespace: str, account: str) -> bool:
    return bool({(namespace, account), (namespace, "*"), ("*", "*")} & bound)


def _service_accounts(ctx: LintContext) -> dict[tuple[str, str], ManifestObject]:
    return {(obj.namespace or "default", obj.name): obj for obj in ctx.of_kind("ServiceAccount")}


@rule(
    "KG302",
    name="token-automount",
    title="API tokens are mounted only into pods whose ServiceAccount is granted a role",
    levels=LEVELS,
    reason="A mounted token is a credential an intruder can use against the API server; a "
    "workload without RBAC grants never needs it.",
    sources=(KIA_API, f"{NSA_AUTH} (protect pod service account tokens)"),
    fix="Set automountServiceAccountToken: false on the pod (or its ServiceAccount), or grant "
    "the workload the API access it needs so a binding for its account exists.",
    scanners=(
        "Polaris automountServiceAccountToken",
        "kubescape C-0034, C-0261",
        "Checkov CKV_K8S_38",
    ),
    kinds=POD_KINDS,
)
def token_automount(ctx: LintContext) -> Iterator[Hit]:
    bound = bound_accounts(ctx)
    accounts = _service_accounts(ctx)
    for pod in ctx.pods:
        account = service_account_of(pod) or "default"
        pod_value = pod.spec.get("automountServiceAccountToken")
        if pod_value is False or _is_bound(bound, pod.namespace, account):
            continue
        account_obj = accounts.get((pod.namespace, account))
        account_value = (
            account_obj.body.get("automountServiceAccountToken") if account_obj else None
        )
        if pod_value is None and account_value is False:
            continue
        why = f"automountServiceAccountToken is {show(pod_value)}" if pod_value is not None else (
            "automountServiceAccountToken is unset (defaults to true)")  # fmt: skip
        message = f"{why} but no binding in the stack grants ServiceAccount {account!r} a role"
        yield Hit(pod.obj, pod.field("automountServiceAccountToken"), message)
