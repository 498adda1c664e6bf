"""Namespaces (KG601–KG603): objects live in a named namespace that enforces Pod Security.

The ``default`` namespace is where every mis-targeted ``kubectl apply`` lands and where nothing
is isolated; and a namespace without ``pod-security.kubernetes.io/enforce`` lets any pod in,
whatever kubegen linted (a hand-applied manifest, a Helm chart, an operator's pods).
"""

from __future__ import annotations

from collections.abc import Iterator

from kubegen._policy.context import LintContext, as_dict
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import E, W, rule
from kubegen._policy.rules import show

LEVELS = Levels(baseline=W, restricted=E, prod=E)
ENFORCE = "pod-security.kubernetes.io/enforce"
PSS_LEVELS = ("privileged", "baseline", "restricted")
NSA_NS = "NSA/CISA Kubernetes Hardening Guidance v1.2, 'Namespaces'"
PSA_DOC = "Kubernetes docs, 'Pod Security Admission' (namespace labels)"

#: API groups served by Kubernetes itself; only their kinds are known to be namespaced when
#: ``is_cluster_scoped`` says they are not. A custom resource may be cluster-scoped.
BUILTIN_GROUPS = frozenset(
    {
        "", "apps", "batch", "policy", "autoscaling", "networking.k8s.io",
        "rbac.authorization.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
        "events.k8s.io", "storage.k8s.io",
    }
)  # fmt: skip


@rule(
    "KG601",
    per_object=True,
    name="default-namespace",
    title="Objects are placed in a named namespace, not 'default'",
    levels=LEVELS,
    reason="The default namespace has no isolation of its own (no default-deny, no Pod "
    "Security labels) and collects whatever is applied without a namespace.",
    sources=(NSA_NS, "Kubernetes in Action (2nd ed.), 'Organizing objects: namespaces'"),
    fix="Create the stack with a namespace, e.g. Stack('shop', namespace='shop').",
    scanners=("kube-linter use-namespace", "kubescape C-0061, C-0212", "Checkov CKV_K8S_21"),
)
def default_namespace(ctx: LintContext) -> Iterator[Hit]:
    for obj in ctx.objects:
        if not ctx.namespaced(obj):
            continue
        if obj.namespace == "default":
            yield Hit(obj, "metadata.namespace", 'namespace is "default"')
        elif obj.namespace is None and obj.group in BUILTIN_GROUPS:
            yield Hit(obj, "metadata.namespace", "namespace is unset (applies to 'default')")


@rule(
    "KG602",
    name="namespace-pod-security-label",
    title="Namespaces carry a pod-security.kubernetes.io/enforce label",
    levels=LEVELS,
    reason="Pod Security Admission enforces nothing in a namespace without the enforce label, "
    "so pods kubegen did not lint (hand-applied, from operators) run unchecked.",
    sources=(PSA_DOC, "Pod Security Standards"),
    fix=f"Label the Namespace {ENFORCE}: restricted (plus audit and warn: restricted).",
    scanners=(),
    kinds=("Namespace",),
)
def namespace_pod_security_label(ctx: LintContext) -> Iterator[Hit]:
    for namespace in ctx.of_kind("Namespace"):
        labels = as_dict(namespace.metadata.get("labels"))
        if ENFORCE not in labels:
            yield Hit(namespace, f"metadata.labels[{ENFORCE}]", "the enforce label is missing")


@rule(
    "KG603",
    name="namespace-pod-security-level",
    title="Namespaces enforce the restricted Pod Security level",
    levels=LEVELS,
    reason="A namespace enforcing baseline or privileged admits pods that fail the restricted "
    "controls kubegen lints for.",
    sources=(PSA_DOC, "Pod Security Standards, restricted"),
    fix=f"Set {ENFORCE}: restricted, or waive KG603 for a namespace that must run system "
    "pods (node agents, CNI) with the reason.",
    scanners=(),
    kinds=("Namespace",),
)
def namespace_pod_security_level(ctx: LintContext) -> Iterator[Hit]:
    for namespace in ctx.of_kind("Namespace"):
        labels = as_dict(namespace.metadata.get("labels"))
        level = labels.get(ENFORCE)
        if level is not None and level != "restricted":
            what = "below restricted" if level in PSS_LEVELS else "not a Pod Security level"
            path = f"metadata.labels[{ENFORCE}]"
            yield Hit(namespace, path, f"enforce level is {show(level)}, {what}")
