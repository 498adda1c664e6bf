"""Pod Security Admission of the target namespace (KG130–KG132): what the cluster will say.

A pod its namespace's ``enforce`` level rejects is not a finding but a render error (the coherence
gate, :mod:`kubegen._coherence.admission`), since no waiver changes what the cluster enforces.
These rules report the softer modes and the blind spots:

- KG130: the namespace's ``warn`` level would refuse the pod: every ``kubectl apply`` (and Argo CD
  or Flux sync) of it prints a warning;
- KG131: its ``audit`` level would: the API server's audit log records a violation per pod;
- KG132: kubegen does not know the namespace's level (not rendered by the stack, not declared in
  its ``Cluster``), so it cannot tell whether the pod will be admitted.
"""

from __future__ import annotations

from collections.abc import Iterator

from kubegen._coherence.admission import evaluate_mode, summary
from kubegen._coherence.namespaces import PREFIX, Mode, NamespacePolicy
from kubegen._coherence.pod_security import Version
from kubegen._policy.context import POD_KINDS, LintContext, PodView
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import W, rule

WARN = Levels(baseline=W, restricted=W, prod=W)
PSA = "Kubernetes docs, 'Pod Security Admission' (modes, namespace labels)"
PSS = "Kubernetes docs, 'Pod Security Standards'"
KIA = "Kubernetes in Action (2nd ed.), 'Securing cluster nodes and the network'"
TAGS = ("security", "pod-security-admission")


def _same(a: Mode | None, b: Mode | None, cluster: Version) -> bool:
    """Whether two modes evaluate alike (the enforce gate already passed the pod)."""
    if a is None or b is None:
        return False
    return a.level == b.level and a.effective(cluster) == b.effective(cluster)


def _mode_hits(ctx: LintContext, mode_name: str, what: str) -> Iterator[Hit]:
    cluster = ctx.kubernetes_version
    policies = ctx.namespace_policies
    for pod in ctx.pods:
        policy = policies.get(pod.namespace)
        if policy is None:
            continue
        mode: Mode | None = getattr(policy, mode_name)
        if _same(mode, policy.enforce, cluster):
            continue
        found = evaluate_mode(pod, policy, mode, cluster)
        if found is not None and mode is not None:
            yield Hit(
                pod.obj,
                found.violations[0].path,
                f"namespace {policy.name!r} {mode_name}s at {mode.shown(cluster)} "
                f"({policy.source}); {what}: {summary(found.violations)}",
            )


@rule(
    "KG130",
    name="pod-security-warn",
    title="Pods pass the warn level of their namespace",
    levels=WARN,
    reason="A namespace's pod-security.kubernetes.io/warn level makes the API server return a "
    "warning for every pod (and pod template) that breaks it: kubectl, Argo CD and Flux show "
    "them on each apply, and a level that is usually tightened next becomes enforce later.",
    sources=(PSA, PSS, KIA),
    fix="Make the pod meet the namespace's warn level (drop the opt-out named in the message), "
    "or move it to a namespace whose levels admit it, declared with a reason.",
    tags=TAGS,
    kinds=POD_KINDS,
)
def pod_security_warn(ctx: LintContext) -> Iterator[Hit]:
    return _mode_hits(ctx, "warn", "kubectl and GitOps tools will print warnings")


@rule(
    "KG131",
    name="pod-security-audit",
    title="Pods pass the audit level of their namespace",
    levels=WARN,
    reason="A namespace's pod-security.kubernetes.io/audit level records every pod that breaks "
    "it in the API server's audit log: noise for whoever reviews it, and a sign the namespace "
    "is meant to tighten.",
    sources=(PSA, PSS),
    fix="Make the pod meet the namespace's audit level, or move it to a namespace whose levels "
    "admit it, declared with a reason.",
    tags=TAGS,
    kinds=POD_KINDS,
)
def pod_security_audit(ctx: LintContext) -> Iterator[Hit]:
    return _mode_hits(ctx, "audit", "the audit log records a violation")


@rule(
    "KG132",
    name="pod-security-namespace-unknown",
    title="The Pod Security level of every pod's namespace is known",
    levels=WARN,
    reason="kubegen checks each pod against the enforce level of the namespace it lands in, "
    "which it knows only for Namespace objects the stack renders (with an enforce label) and "
    "namespaces declared in the stack's Cluster. Elsewhere Pod Security Admission may reject "
    "the pods after the render succeeded.",
    sources=(PSA,),
    fix="Render the namespace (Namespace('name', ...)), or declare the one the platform "
    "installs with its enforce level: Stack(..., cluster=Cluster('prod', namespaces="
    "{'name': 'baseline'})).",
    tags=TAGS,
    kinds=POD_KINDS,
)
def pod_security_namespace_unknown(ctx: LintContext) -> Iterator[Hit]:
    policies = ctx.namespace_policies
    for pod in ctx.pods:
        policy = policies.get(pod.namespace)
        if policy is None or policy.enforce is None:
            yield Hit(pod.obj, "metadata.namespace", _unknown(pod, policy))


def _unknown(pod: PodView, policy: NamespacePolicy | None) -> str:
    if policy is None:
        return (
            f"namespace {pod.namespace!r} is neither rendered by the stack nor declared in its "
            "Cluster: kubegen cannot check that Pod Security Admission admits these pods"
        )
    return (
        f"Namespace {pod.namespace!r} has no {PREFIX}enforce label: the cluster's default "
        "level applies, which kubegen does not know"
    )
