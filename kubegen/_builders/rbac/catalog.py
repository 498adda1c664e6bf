"""What RBAC rules may name: verbs, built-in resources, their API groups and their scope.

Facts from the Kubernetes API reference (``kubectl api-resources``) and the RBAC authorizer
(k8s.io/kubernetes/pkg/apis/rbac/v1/evaluation_helpers.go). Only *known* built-in resources are
listed; a custom resource is accepted as written, but kubegen cannot tell its scope, so guards
that need the scope stay quiet about it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RBAC_GROUP = "rbac.authorization.k8s.io"
RBAC_API_VERSION = f"{RBAC_GROUP}/v1"

# Verbs in the order kubectl and reviewers read them; anything else sorts after, alphabetically.
READ_VERBS: tuple[str, ...] = ("get", "list", "watch")
WRITE_VERBS: tuple[str, ...] = ("create", "update", "patch", "delete")
RESOURCE_VERBS: tuple[str, ...] = (
    *READ_VERBS,
    *WRITE_VERBS,
    "deletecollection",
    "use",
    "bind",
    "escalate",
    "impersonate",
    "approve",
    "sign",
    "attest",
)
# Non-resource URLs (/healthz, /metrics) are authorized with the lowercase HTTP method.
NON_RESOURCE_VERBS: tuple[str, ...] = ("get", "post", "put", "patch", "delete", "head", "options")
_VERB_ORDER = {verb: i for i, verb in enumerate(("*", *RESOURCE_VERBS, "post", "put", "head"))}


def verb_sort_key(verb: str) -> tuple[int, str]:
    """Sort verbs as ``get, list, watch, create, update, patch, delete, …``, then by name."""
    return (_VERB_ORDER.get(verb, len(_VERB_ORDER)), verb)


_NAMESPACED: dict[str, tuple[str, ...]] = {
    "": (
        "bindings", "configmaps", "endpoints", "events", "limitranges", "persistentvolumeclaims",
        "pods", "podtemplates", "replicationcontrollers", "resourcequotas", "secrets",
        "serviceaccounts", "services",
    ),
    "apps": ("controllerrevisions", "daemonsets", "deployments", "replicasets", "statefulsets"),
    "authorization.k8s.io": ("localsubjectaccessreviews",),
    "autoscaling": ("horizontalpodautoscalers",),
    "batch": ("cronjobs", "jobs"),
    "coordination.k8s.io": ("leases",),
    "discovery.k8s.io": ("endpointslices",),
    "events.k8s.io": ("events",),
    "networking.k8s.io": ("ingresses", "networkpolicies"),
    "policy": ("poddisruptionbudgets",),
    RBAC_GROUP: ("rolebindings", "roles"),
    "storage.k8s.io": ("csistoragecapacities",),
}
_CLUSTER: dict[str, tuple[str, ...]] = {
    "": ("componentstatuses", "namespaces", "nodes", "persistentvolumes"),
    "admissionregistration.k8s.io": (
        "mutatingadmissionpolicies", "mutatingadmissionpolicybindings",
        "mutatingwebhookconfigurations", "validatingadmissionpolicies",
        "validatingadmissionpolicybindings", "validatingwebhookconfigurations",
    ),
    "apiextensions.k8s.io": ("customresourcedefinitions",),
    "apiregistration.k8s.io": ("apiservices",),
    "authentication.k8s.io": ("selfsubjectreviews", "tokenreviews"),
    "authorization.k8s.io": (
        "selfsubjectaccessreviews", "selfsubjectrulesreviews", "subjectaccessreviews",
    ),
    "certificates.k8s.io": ("certificatesigningrequests", "clustertrustbundles"),
    "flowcontrol.apiserver.k8s.io": ("flowschemas", "prioritylevelconfigurations"),
    "networking.k8s.io": ("ingressclasses", "ipaddresses", "servicecidrs"),
    "node.k8s.io": ("runtimeclasses",),
    RBAC_GROUP: ("clusterrolebindings", "clusterroles"),
    "resource.k8s.io": ("deviceclasses", "resourceslices"),
    "scheduling.k8s.io": ("priorityclasses",),
    "storage.k8s.io": ("csidrivers", "csinodes", "storageclasses", "volumeattachments"),
}

NAMESPACED_RESOURCES: frozenset[tuple[str, str]] = frozenset(
    (group, res) for group, names in _NAMESPACED.items() for res in names
)
CLUSTER_RESOURCES: frozenset[tuple[str, str]] = frozenset(
    (group, res) for group, names in _CLUSTER.items() for res in names
)
BUILTIN_GROUPS: frozenset[str] = frozenset(_NAMESPACED) | frozenset(_CLUSTER)


def groups_of(resource: str) -> tuple[str, ...]:
    """The built-in API groups serving ``resource`` (``deployments`` → ``("apps",)``)."""
    found = {g for g, r in NAMESPACED_RESOURCES | CLUSTER_RESOURCES if r == resource}
    return tuple(sorted(found))


def scope_of(group: str, resource: str) -> str | None:
    """``"namespaced"``, ``"cluster"``, or None when kubegen does not know the resource."""
    base = resource.partition("/")[0]
    if (group, base) in NAMESPACED_RESOURCES:
        return "namespaced"
    if (group, base) in CLUSTER_RESOURCES:
        return "cluster"
    return None


# What a RoleBinding grants of a Namespace: the API server reads
# /api/v1/namespaces/<ns> (and its status and finalize subresources) as a request *in* <ns>, so
# a RoleBinding in <ns> grants these verbs on that namespace only; listing, watching or creating
# namespaces are cluster requests (k8s.io/apiserver requestinfo.go).
NAMESPACE_OBJECT_VERBS: tuple[str, ...] = ("get", "update", "patch", "delete")


@dataclass(frozen=True, slots=True)
class OutOfScope:
    """Part of a rule that a RoleBinding cannot grant, whatever its namespace.

    ``kind``: ``url`` (a non-resource URL), ``cluster`` (a cluster-scoped resource) or
    ``namespaces`` (verbs on namespaces other than :data:`NAMESPACE_OBJECT_VERBS`).
    """

    kind: str
    group: str | None
    resource: str
    verbs: tuple[str, ...]

    def describe(self) -> str:
        """``non-resource URL /metrics``, ``cluster-scoped nodes``, ``list, watch on
        namespaces``."""
        if self.kind == "url":
            return f"non-resource URL {self.resource}"
        if self.kind == "namespaces":
            return f"{', '.join(self.verbs)} on {self.resource}"
        return f"cluster-scoped {self.resource}"


def out_of_namespace(rule: Mapping[str, Any]) -> list[OutOfScope]:
    """What of ``rule`` (in its Kubernetes shape) a Role or RoleBinding can never grant.

    Resources kubegen does not know (custom ones) are assumed namespaced: their scope is
    unknown here, and most are.
    """
    verbs = tuple(str(v) for v in rule.get("verbs") or [])
    found = [OutOfScope("url", None, str(url), verbs) for url in rule.get("nonResourceURLs") or []]
    for group in rule.get("apiGroups") or []:
        for resource in rule.get("resources") or []:
            group, resource = str(group), str(resource)
            if scope_of(group, resource) != "cluster":
                continue
            if group == "" and resource.partition("/")[0] == "namespaces":
                extra = tuple(v for v in verbs if v not in NAMESPACE_OBJECT_VERBS and v != "*")
                if extra:
                    found.append(OutOfScope("namespaces", group, resource, extra))
                continue
            found.append(OutOfScope("cluster", group, resource, verbs))
    return found


# Built-in ClusterRoles whose rules name only namespaced resources (kubectl get clusterrole view).
NAMESPACED_ONLY_BUILTIN_ROLES: frozenset[str] = frozenset({"admin", "edit", "view"})
# Built-in ClusterRoles that bind broad power: binding them is guarded.
ADMIN_ROLES: tuple[str, ...] = ("cluster-admin", "admin", "edit")
# Subjects that stand for "anyone" or "any authenticated identity".
PUBLIC_SUBJECTS: tuple[str, ...] = (
    "system:anonymous",
    "system:unauthenticated",
    "system:authenticated",
)
# Subresources that open an interactive channel into a running container.
POD_EXEC_SUBRESOURCES: tuple[str, ...] = ("pods/exec", "pods/attach", "pods/portforward")

_NAME_PART = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_GROUP_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")


def is_resource_part(text: str) -> bool:
    """A resource or subresource name: lowercase plural, a DNS-1123 label (``configmaps``)."""
    return len(text) <= 63 and bool(_NAME_PART.match(text))


def is_api_group(text: str) -> bool:
    """``""`` (the core group) or a DNS subdomain (``apps``, ``networking.k8s.io``)."""
    return text == "" or (len(text) <= 253 and bool(_GROUP_RE.match(text)))


# kubectl's short names of built-in resources (kubectl api-resources, SHORTNAMES column).
SHORT_NAMES: dict[str, str] = {
    "cm": "configmaps", "cj": "cronjobs", "crd": "customresourcedefinitions",
    "csr": "certificatesigningrequests", "deploy": "deployments", "ds": "daemonsets",
    "ep": "endpoints", "ev": "events", "hpa": "horizontalpodautoscalers", "ing": "ingresses",
    "netpol": "networkpolicies", "no": "nodes", "ns": "namespaces", "pc": "priorityclasses",
    "pdb": "poddisruptionbudgets", "po": "pods", "pv": "persistentvolumes",
    "pvc": "persistentvolumeclaims", "quota": "resourcequotas", "rc": "replicationcontrollers",
    "rs": "replicasets", "sa": "serviceaccounts", "sc": "storageclasses",
    "sts": "statefulsets", "svc": "services",
}  # fmt: skip


def known_resources() -> frozenset[str]:
    """Every built-in resource name (plural, lowercase), whatever its group."""
    return frozenset(r for _, r in NAMESPACED_RESOURCES | CLUSTER_RESOURCES)


def misspelled_resource(word: str) -> str | None:
    """The built-in resource ``word`` stands for when it is a singular, kind or short name.

    ``configmap`` → ``configmaps``, ``Ingress`` → ``ingresses``, ``svc`` → ``services``; None for
    a built-in resource name itself and for words that name no built-in resource.
    """
    known = known_resources()
    if word in known:
        return None
    if word.lower() in SHORT_NAMES:
        return SHORT_NAMES[word.lower()]
    guess = plural_of(word)
    return guess if guess in known and guess != word else None


def plural_of(word: str) -> str:
    """Best guess at the resource for a kind or a singular (``ConfigMap`` → ``configmaps``)."""
    low = re.sub(r"[^a-z0-9/]", "", word.lower())
    known = known_resources()
    candidates = [low, low + "s", low + "es"]
    if low.endswith("y"):
        candidates.insert(0, low[:-1] + "ies")
    for candidate in candidates:
        if candidate in known:
            return candidate
    return low if low.endswith("s") else low + "s"
