"""Every rule fails on a manifest that breaks it and passes on one that keeps it.

Each case starts from ``good_stack()`` (clean under ``prod``), changes one thing, and checks whether
the named rule reports it. A coverage test makes sure every registered rule has at least one
failing and one passing case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from kubegen import Deployment, Resources, StackDefaults
from kubegen import Stack as KubegenStack
from kubegen._coherence.facts import StackFacts
from kubegen._manifests import ManifestObject
from kubegen._policy import all_rules, lint
from tests.policy_factories import (
    NS,
    as_kind,
    del_in,
    find,
    good_stack,
    objects,
    pod_of,
    role_binding,
    set_in,
)

P = "spec.template.spec"
C = f"{P}.containers[0]"
SC = f"{C}.securityContext"

Stack = list[ManifestObject]
SELF_ANTI = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
    "topologyKey": "kubernetes.io/hostname",
    "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}}}]}}


@dataclass(frozen=True)
class Case:
    rule: str
    name: str
    change: Callable[[Stack], Any]
    fires: bool
    path: str = ""
    version: str = "1.33"
    profile: str = "prod"
    facts: Callable[[], StackFacts] | None = None  # what the stack knows beyond its objects

    @property
    def id(self) -> str:
        return f"{self.rule}-{'fail' if self.fires else 'pass'}-{self.name}"


def dep(s: Stack) -> dict[str, Any]:
    return find(s, "Deployment")


def on_dep(path: str, value: Any) -> Callable[[Stack], None]:
    return lambda s: set_in(dep(s), path, value)


def drop_dep(path: str) -> Callable[[Stack], None]:
    return lambda s: del_in(dep(s), path)


def add(*bodies: dict[str, Any]) -> Callable[[Stack], None]:
    return lambda s: s.extend(objects(bodies, file="stacks/extra.py"))


def both(*changes: Callable[[Stack], Any]) -> Callable[[Stack], None]:
    def run(s: Stack) -> None:
        for change in changes:
            change(s)

    return run


def remove(kind: str, name: str | None = None) -> Callable[[Stack], None]:
    def run(s: Stack) -> None:
        s[:] = [o for o in s if not (o.kind == kind and (name is None or o.name == name))]

    return run


def replace_kind(kind: str) -> Callable[[Stack], None]:
    def run(s: Stack) -> None:
        for index, obj in enumerate(s):
            if obj.kind == "Deployment":
                s[index] = ManifestObject(as_kind(obj.body, kind), obj.origin)

    return run


def obj(api_version: str, kind: str, name: str = "x", **fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": NS},
        **fields,
    }


def hpa(api_version: str = "autoscaling/v2", min_replicas: int = 2) -> dict[str, Any]:
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}
    spec = {"scaleTargetRef": target, "minReplicas": min_replicas, "maxReplicas": 5}
    return obj(api_version, "HorizontalPodAutoscaler", "api", spec=spec)


def hpa_on(resource: str, target: str = "Utilization") -> dict[str, Any]:
    body = hpa()
    value = {"averageUtilization": 70} if target == "Utilization" else {"averageValue": "500m"}
    body["spec"]["metrics"] = [{"type": "Resource", "resource": {
        "name": resource, "target": {"type": target, **value}}}]
    return body


def crd() -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}},
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.acme.io"},
        "spec": {
            "group": "acme.io",
            "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


def netpol(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return obj("networking.k8s.io/v1", "NetworkPolicy", name, spec=spec)


def webhook_for(service: str, port: int, namespace: str = NS) -> dict[str, Any]:
    """A ValidatingWebhookConfiguration calling ``service`` (in ``namespace``) on ``port``."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "api-webhook"},
        "webhooks": [{
            "name": "validate.api.example.com",
            "admissionReviewVersions": ["v1"],
            "sideEffects": "None",
            "clientConfig": {"service": {"namespace": namespace, "name": service, "port": port,
                                         "path": "/validate"}},
            "rules": [{"apiGroups": ["example.com"], "apiVersions": ["v1"],
                       "operations": ["CREATE"], "resources": ["widgets"]}],
        }],
    }


def secret_env(value: dict[str, Any]) -> Callable[[Stack], None]:
    return on_dep(f"{C}.env", [value])


def rbac(rules: list[dict[str, Any]]) -> Callable[[Stack], None]:
    def run(s: Stack) -> None:
        find(s, "Role")["rules"] = rules

    return run


def binding_to(kind: str, name: str) -> Callable[[Stack], None]:
    return lambda s: set_in(
        find(s, "RoleBinding"),
        "roleRef",
        {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name},
    )


def default_deny_in(namespace: str) -> dict[str, Any]:
    policy = netpol("default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    policy["metadata"]["namespace"] = namespace
    return policy


CORE_GET = {"apiGroups": [""], "verbs": ["get"]}
def ns_labels(**labels: str) -> Callable[[Stack], None]:
    """Set pod-security.kubernetes.io/<mode> labels on the stack's Namespace."""
    def run(s: Stack) -> None:
        meta = find(s, "Namespace")["metadata"]
        for mode, value in labels.items():
            key = f"pod-security.kubernetes.io/{mode.replace('_', '-')}"
            meta.setdefault("labels", {})[key] = value

    return run


LOWAT = on_dep(f"{P}.securityContext.sysctls", [{"name": "net.ipv4.tcp_notsent_lowat",
                                                 "value": "16384"}])  # safe from 1.37
def facts_of_api(**deployment: Any) -> Callable[[], StackFacts]:
    """Facts of a kubegen stack whose Deployment shop/api is built with ``deployment``."""
    defaults = deployment.pop("defaults", None)

    def make() -> StackFacts:
        stack = KubegenStack("shop", namespace=NS, defaults=defaults)
        stack.add(Deployment("api", image="ghcr.io/acme/api:1.0", **deployment))
        return StackFacts(stack)

    return make


NON_ROOT_UNSET = drop_dep(f"{P}.securityContext.runAsNonRoot")  # restricted only
UNMASKED_IN_USERNS = both(on_dep(f"{P}.hostUsers", False), on_dep(f"{SC}.procMount", "Unmasked"))
NO_PDB_NO_SPREAD = both(remove("PodDisruptionBudget"), drop_dep(f"{P}.topologySpreadConstraints"))
UNBOUND_AUTOMOUNT = both(
    drop_dep(f"{P}.automountServiceAccountToken"),
    lambda s: find(s, "ServiceAccount").pop("automountServiceAccountToken"),
    remove("RoleBinding"),
)

# fmt: off
CASES = [
    # KG001 schema
    Case("KG001", "wrong-type", on_dep("spec.replicas", "three"), True, "spec.replicas"),
    Case("KG001", "unknown-field", on_dep(f"{C}.imagePolicy", "x"), True, f"{C}.imagePolicy"),
    Case("KG001", "missing-required", drop_dep(f"{C}.name"), True, f"{C}.name"),
    Case("KG001", "typo-kind", add(obj("apps/v1", "Deploymnet")), True, "kind"),
    Case("KG001", "crd-invalid", add(crd(), obj("acme.io/v1", "Widget", spec={"size": "big"})),
         True, "spec.size"),
    Case("KG001", "crd-valid", add(crd(), obj("acme.io/v1", "Widget", spec={"size": 3})), False),
    Case("KG001", "good-stack", lambda s: None, False),
    # KG002 custom resources without schema
    Case("KG002", "argo-application", add(obj("argoproj.io/v1alpha1", "Application")), True),
    Case("KG002", "crd-in-set", add(crd(), obj("acme.io/v1", "Widget", spec={"size": 3})), False),
    # KG003 / KG004 API versions
    Case("KG003", "pdb-v1beta1", add(obj("policy/v1beta1", "PodDisruptionBudget")), True,
         "apiVersion"),
    Case("KG003", "flowcontrol-v1beta3-on-1.31", add(obj("flowcontrol.apiserver.k8s.io/v1beta3",
         "FlowSchema")), False, version="1.31"),
    Case("KG003", "flowcontrol-v1beta3-on-1.32", add(obj("flowcontrol.apiserver.k8s.io/v1beta3",
         "FlowSchema")), True, version="1.32"),
    Case("KG003", "extensions-ingress", add(obj("extensions/v1beta1", "Ingress")), True),
    Case("KG004", "hpa-v2beta2-on-1.25", add(hpa("autoscaling/v2beta2")), True, version="1.25"),
    Case("KG004", "hpa-v2", add(hpa("autoscaling/v2")), False),
    # KG101-KG112 PSS baseline
    Case("KG101", "host-pid", on_dep(f"{P}.hostPID", True), True, f"{P}.hostPID"),
    Case("KG101", "host-network-false", on_dep(f"{P}.hostNetwork", False), False),
    Case("KG102", "privileged-init", on_dep(f"{P}.initContainers", [
        {"name": "init", "image": "busybox:1.36", "securityContext": {"privileged": True}}]),
        True, f"{P}.initContainers[0].securityContext.privileged"),
    Case("KG102", "privileged-ephemeral", on_dep(f"{P}.ephemeralContainers", [
        {"name": "dbg", "image": "busybox:1.36", "securityContext": {"privileged": True}}]),
        True, f"{P}.ephemeralContainers[0]"),
    Case("KG102", "privileged-false", on_dep(f"{SC}.privileged", False), False),
    Case("KG103", "net-raw", on_dep(f"{SC}.capabilities.add", ["NET_RAW"]), True),
    Case("KG103", "chown-is-default", on_dep(f"{SC}.capabilities.add", ["CHOWN"]), False),
    Case("KG104", "host-path", on_dep(f"{P}.volumes", [{"name": "h", "hostPath": {"path": "/"}}]),
         True, f"{P}.volumes[0].hostPath"),
    Case("KG104", "empty-dir", on_dep(f"{P}.volumes", [{"name": "t", "emptyDir": {}}]), False),
    Case("KG105", "host-port", on_dep(f"{C}.ports[0].hostPort", 8080), True),
    Case("KG105", "host-port-zero", on_dep(f"{C}.ports[0].hostPort", 0), False),
    Case("KG106", "probe-host", on_dep(f"{C}.livenessProbe.httpGet.host", "10.0.0.1"), True,
         f"{C}.livenessProbe.httpGet.host"),
    Case("KG106", "prestop-host", on_dep(f"{C}.lifecycle", {"preStop": {"tcpSocket": {
        "port": 80, "host": "169.254.169.254"}}}), True),
    Case("KG106", "probe-host-empty", on_dep(f"{C}.livenessProbe.httpGet.host", ""), False),
    Case("KG107", "annotation-unconfined", on_dep(
        "spec.template.metadata.annotations",
        {"container.apparmor.security.beta.kubernetes.io/api": "unconfined"}), True),
    Case("KG107", "profile-unconfined", on_dep(f"{SC}.appArmorProfile", {"type": "Unconfined"}),
         True),
    Case("KG107", "localhost-and-default", both(on_dep(
        "spec.template.metadata.annotations",
        {"container.apparmor.security.beta.kubernetes.io/api": "localhost/k8s-nginx"}),
        on_dep(f"{P}.securityContext.appArmorProfile", {"type": "RuntimeDefault"})), False),
    Case("KG108", "spc-type", on_dep(f"{SC}.seLinuxOptions", {"type": "spc_t"}), True),
    Case("KG108", "pod-user", on_dep(f"{P}.securityContext.seLinuxOptions", {"user": "root"}),
         True),
    Case("KG108", "container-t", on_dep(f"{SC}.seLinuxOptions", {"type": "container_t"}), False),
    Case("KG109", "unmasked", on_dep(f"{SC}.procMount", "Unmasked"), True),
    Case("KG109", "unmasked-in-user-namespace-1.34", UNMASKED_IN_USERNS, True, version="1.34"),
    Case("KG109", "unmasked-in-user-namespace-1.35", UNMASKED_IN_USERNS, False, version="1.35"),
    Case("KG110", "unconfined", on_dep(f"{SC}.seccompProfile", {"type": "Unconfined"}), True),
    Case("KG110", "localhost", on_dep(f"{SC}.seccompProfile",
         {"type": "Localhost", "localhostProfile": "p.json"}), False),
    Case("KG111", "unsafe", on_dep(f"{P}.securityContext.sysctls",
         [{"name": "kernel.msgmax", "value": "1"}]), True),
    Case("KG111", "rmem-before-1.32", on_dep(f"{P}.securityContext.sysctls",
         [{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}]), True,
         version="1.31"),
    Case("KG111", "rmem-on-1.33", on_dep(f"{P}.securityContext.sysctls",
         [{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}]), False),
    Case("KG111", "lowat-on-1.36", on_dep(f"{P}.securityContext.sysctls",
         [{"name": "net.ipv4.tcp_notsent_lowat", "value": "16384"}]), True, version="1.36"),
    Case("KG111", "lowat-on-1.37", on_dep(f"{P}.securityContext.sysctls",
         [{"name": "net.ipv4.tcp_notsent_lowat", "value": "16384"}]), False, version="1.37"),
    Case("KG112", "host-process", on_dep(f"{SC}.windowsOptions", {"hostProcess": True}), True),
    Case("KG112", "no-host-process", on_dep(f"{SC}.windowsOptions", {"hostProcess": False}),
         False),
    # KG121-KG128 PSS restricted
    Case("KG121", "nfs", on_dep(f"{P}.volumes", [{"name": "n", "nfs": {"server": "s",
         "path": "/"}}]), True, f"{P}.volumes[0].nfs"),
    Case("KG121", "pvc", on_dep(f"{P}.volumes", [{"name": "d", "persistentVolumeClaim": {
        "claimName": "data"}}]), False),
    Case("KG122", "unset", drop_dep(f"{SC}.allowPrivilegeEscalation"), True),
    Case("KG122", "true", on_dep(f"{SC}.allowPrivilegeEscalation", True), True),
    Case("KG122", "windows-pod", both(drop_dep(f"{SC}.allowPrivilegeEscalation"),
         on_dep(f"{P}.os", {"name": "windows"})), False),
    Case("KG123", "unset-everywhere", drop_dep(f"{P}.securityContext.runAsNonRoot"), True,
         f"{SC}.runAsNonRoot"),
    Case("KG123", "container-false", on_dep(f"{SC}.runAsNonRoot", False), True),
    Case("KG123", "container-level-only", both(drop_dep(f"{P}.securityContext.runAsNonRoot"),
         on_dep(f"{SC}.runAsNonRoot", True)), False),
    Case("KG123", "user-namespace-1.34", both(drop_dep(f"{P}.securityContext.runAsNonRoot"),
         on_dep(f"{P}.hostUsers", False)), True, version="1.34"),
    Case("KG123", "user-namespace-1.35", both(drop_dep(f"{P}.securityContext.runAsNonRoot"),
         on_dep(f"{P}.hostUsers", False)), False, version="1.35"),
    Case("KG124", "root-uid", on_dep(f"{SC}.runAsUser", 0), True, f"{SC}.runAsUser"),
    Case("KG124", "root-uid-user-namespace-1.34", both(on_dep(f"{SC}.runAsUser", 0),
         on_dep(f"{P}.hostUsers", False)), True, version="1.34"),
    Case("KG124", "root-uid-user-namespace-1.35", both(on_dep(f"{SC}.runAsUser", 0),
         on_dep(f"{P}.hostUsers", False)), False, version="1.35"),
    Case("KG125", "unset", drop_dep(f"{P}.securityContext.seccompProfile"), True),
    Case("KG125", "container-level", both(drop_dep(f"{P}.securityContext.seccompProfile"),
         on_dep(f"{SC}.seccompProfile", {"type": "RuntimeDefault"})), False),
    Case("KG126", "drop-net-raw-only", on_dep(f"{SC}.capabilities.drop", ["NET_RAW"]), True),
    Case("KG126", "drop-all", on_dep(f"{SC}.capabilities.drop", ["ALL"]), False),
    Case("KG127", "chown", on_dep(f"{SC}.capabilities.add", ["CHOWN"]), True),
    Case("KG127", "net-bind-service", on_dep(f"{SC}.capabilities.add", ["NET_BIND_SERVICE"]),
         False),
    Case("KG128", "userns-unmasked-1.35", UNMASKED_IN_USERNS, True, version="1.35"),
    Case("KG128", "userns-unmasked-1.33", UNMASKED_IN_USERNS, False),
    # KG130-KG132 Pod Security Admission of the namespace (enforce is the coherence gate's)
    Case("KG130", "warn-stricter", both(ns_labels(enforce="baseline", audit="baseline",
         warn="restricted"), NON_ROOT_UNSET), True, f"{SC}.runAsNonRoot"),
    Case("KG130", "warn-defaults-to-enforce", both(
         lambda s: find(s, "Namespace")["metadata"]["labels"].pop(
             "pod-security.kubernetes.io/warn"),
         ns_labels(enforce="baseline", audit="baseline"), NON_ROOT_UNSET), False),
    # A warn-version newer than the cluster is evaluated at the cluster's own version.
    Case("KG130", "warn-version-clamped", both(ns_labels(enforce="privileged", warn="baseline",
         warn_version="v1.37"), LOWAT), True, version="1.36"),
    Case("KG130", "warn-version-on-1.37", both(ns_labels(enforce="privileged", warn="baseline",
         warn_version="v1.37"), LOWAT), False, version="1.37"),
    Case("KG131", "audit-stricter", both(ns_labels(enforce="baseline", warn="baseline",
         audit="restricted"), NON_ROOT_UNSET), True),
    Case("KG131", "audit-privileged", both(ns_labels(enforce="baseline", warn="baseline",
         audit="privileged"), NON_ROOT_UNSET), False),
    Case("KG132", "namespace-not-rendered", remove("Namespace"), True, "metadata.namespace"),
    Case("KG132", "namespace-without-enforce", lambda s: find(s, "Namespace")["metadata"][
        "labels"].pop("pod-security.kubernetes.io/enforce"), True, "metadata.namespace"),
    Case("KG132", "namespace-rendered", lambda s: None, False),
    # KG210 resources nobody chose
    Case("KG210", "no-resources-anywhere", lambda s: None, True, f"{C}.resources",
         facts=facts_of_api()),
    Case("KG210", "own-resources", lambda s: None, False,
         facts=facts_of_api(resources=Resources(cpu="1", memory="1Gi"))),
    Case("KG210", "explicit-stack-defaults", lambda s: None, False, facts=facts_of_api(
        defaults=StackDefaults(resources=Resources(cpu="1", memory="1Gi")))),
    Case("KG210", "yaml-without-facts", lambda s: None, False),
    # KG707 one pod per node: a rollout that surges needs a spare node
    Case("KG707", "self-anti-affinity-surging", on_dep(f"{P}.affinity", SELF_ANTI), True,
         f"{P}.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"),
    Case("KG707", "self-anti-affinity-one-at-a-time", both(
        on_dep(f"{P}.affinity", SELF_ANTI),
        on_dep("spec.strategy", {"type": "RollingUpdate", "rollingUpdate": {
            "maxSurge": 0, "maxUnavailable": 1}})), False),
    # KG211 capabilities reach only root processes
    Case("KG211", "non-root-adds-cap", on_dep(f"{SC}.capabilities.add", ["NET_BIND_SERVICE"]),
         True, f"{SC}.capabilities.add"),
    Case("KG211", "root-adds-cap", both(on_dep(f"{SC}.capabilities.add", ["SYS_TIME"]),
         on_dep(f"{SC}.runAsUser", 0)), False),
    # KG212 a non-root process binds below 1024 only where the pod opens those ports
    Case("KG212", "non-root-port-80", on_dep(f"{C}.ports", [{"containerPort": 80}]), True,
         f"{C}.ports[0].containerPort"),
    Case("KG212", "sysctl-opens-port-80", both(
        on_dep(f"{C}.ports", [{"containerPort": 80}]),
        on_dep(f"{P}.securityContext.sysctls", [
            {"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}])), False),
    # KG201-KG209 containers
    Case("KG201", "unset", drop_dep(f"{SC}.readOnlyRootFilesystem"), True),
    Case("KG201", "true", on_dep(f"{SC}.readOnlyRootFilesystem", True), False),
    Case("KG202", "no-cpu-request", drop_dep(f"{C}.resources.requests.cpu"), True,
         f"{C}.resources.requests.cpu"),
    Case("KG202", "requests-set", lambda s: None, False),
    Case("KG203", "no-memory-limit", drop_dep(f"{C}.resources.limits.memory"), True),
    Case("KG203", "memory-limit", lambda s: None, False),
    Case("KG204", "no-cpu-limit", drop_dep(f"{C}.resources.limits.cpu"), True),
    Case("KG204", "cpu-limit", lambda s: None, False),
    Case("KG205", "no-readiness", drop_dep(f"{C}.readinessProbe"), True, f"{C}.readinessProbe"),
    Case("KG205", "worker-without-ports", both(drop_dep(f"{C}.readinessProbe"),
         drop_dep(f"{C}.ports")), False),
    Case("KG205", "sidecar-with-port", on_dep(f"{P}.initContainers", [dict(
        find(good_stack(), "Deployment")["spec"]["template"]["spec"]["containers"][0],
        name="proxy", restartPolicy="Always", readinessProbe=None)]), True,
        f"{P}.initContainers[0].readinessProbe"),
    Case("KG206", "statefulset-no-liveness", both(replace_kind("StatefulSet"),
         lambda s: pod_of(find(s, "StatefulSet"))["containers"][0].pop("livenessProbe")),
         True),
    Case("KG206", "job-needs-none", both(replace_kind("Job")), False),
    Case("KG207", "latest", on_dep(f"{C}.image", "ghcr.io/acme/api:latest"), True),
    Case("KG207", "no-tag", on_dep(f"{C}.image", "ghcr.io/acme/api"), True),
    Case("KG207", "registry-port-is-not-tag", on_dep(f"{C}.image", "reg:5000/api"), True),
    Case("KG207", "digest-only", on_dep(f"{C}.image", "ghcr.io/acme/api@sha256:" + "b" * 64),
         False),
    Case("KG208", "tag-only", on_dep(f"{C}.image", "ghcr.io/acme/api:2.3.1"), True),
    Case("KG208", "short-digest", on_dep(f"{C}.image", "ghcr.io/acme/api:2@sha256:abc"), True),
    Case("KG208", "digest", lambda s: None, False),
    Case("KG209", "tag-if-not-present", on_dep(f"{C}.image", "ghcr.io/acme/api:2.3.1"), True),
    Case("KG209", "tag-unset-policy", both(on_dep(f"{C}.image", "ghcr.io/acme/api:2.3.1"),
         drop_dep(f"{C}.imagePullPolicy")), True),
    Case("KG209", "tag-always", both(on_dep(f"{C}.image", "ghcr.io/acme/api:2.3.1"),
         on_dep(f"{C}.imagePullPolicy", "Always")), False),
    Case("KG209", "digest-if-not-present", lambda s: None, False),
    # KG301-KG302 service accounts
    Case("KG301", "unset", drop_dep(f"{P}.serviceAccountName"), True),
    Case("KG301", "default", on_dep(f"{P}.serviceAccountName", "default"), True),
    Case("KG301", "shared", add(as_kind(find(good_stack(), "Deployment"), "StatefulSet")), True),
    Case("KG301", "dedicated", lambda s: None, False),
    Case("KG302", "unbound-automount", UNBOUND_AUTOMOUNT, True,
         f"{P}.automountServiceAccountToken"),
    Case("KG302", "bound-automount", both(drop_dep(f"{P}.automountServiceAccountToken"),
         lambda s: find(s, "ServiceAccount").pop("automountServiceAccountToken")), False),
    Case("KG302", "sa-disables", both(drop_dep(f"{P}.automountServiceAccountToken"),
         remove("RoleBinding")), False),
    Case("KG302", "bound-as-user", both(UNBOUND_AUTOMOUNT, add(dict(
        role_binding(), subjects=[{"kind": "User", "name": f"system:serviceaccount:{NS}:api",
                                   "apiGroup": "rbac.authorization.k8s.io"}]))), False),
    # KG401-KG406 RBAC
    Case("KG401", "wildcard-verbs", rbac([{"apiGroups": [""], "resources": ["pods"],
         "verbs": ["*"]}]), True, "rules[0].verbs"),
    Case("KG401", "named", lambda s: None, False),
    Case("KG402", "cluster-admin", binding_to("ClusterRole", "cluster-admin"), True,
         "roleRef.name"),
    Case("KG402", "view", binding_to("ClusterRole", "view"), False),
    Case("KG403", "bind", rbac([{"apiGroups": ["rbac.authorization.k8s.io"],
         "resources": ["roles"], "verbs": ["bind", "get"]}]), True),
    Case("KG403", "get", rbac([{**CORE_GET, "resources": ["pods"]}]), False),
    Case("KG404", "exec", rbac([{"apiGroups": [""], "resources": ["pods/exec"],
         "verbs": ["create"]}]), True),
    Case("KG404", "logs", rbac([{**CORE_GET, "resources": ["pods/log"]}]), False),
    Case("KG405", "all-secrets", rbac([{"apiGroups": [""], "resources": ["secrets"],
         "verbs": ["get", "list"]}]), True),
    Case("KG405", "named-secret", rbac([{**CORE_GET, "resources": ["secrets"],
         "resourceNames": ["api-tls"]}]), False),
    Case("KG406", "authenticated", lambda s: find(s, "RoleBinding")["subjects"].append(
        {"kind": "Group", "name": "system:authenticated",
         "apiGroup": "rbac.authorization.k8s.io"}), True),
    Case("KG406", "named-group", lambda s: find(s, "RoleBinding")["subjects"].append(
        {"kind": "Group", "name": "shop-devs", "apiGroup": "rbac.authorization.k8s.io"}),
        False),
    # KG501-KG504 network
    Case("KG501", "egress-only", both(remove("NetworkPolicy"), add(netpol("eg", {
        "podSelector": {}, "policyTypes": ["Egress"]}))), True),
    Case("KG501", "other-namespace", both(remove("NetworkPolicy"), add(dict(default_deny_in(
        "other")))), True),
    Case("KG501", "match-expressions", both(remove("NetworkPolicy"), add(netpol("api", {
        "podSelector": {"matchExpressions": [{"key": "app.kubernetes.io/name",
                                              "operator": "In", "values": ["api", "web"]}]},
        "policyTypes": ["Ingress", "Egress"]}))), False),
    Case("KG501", "selector-misses", both(remove("NetworkPolicy"), add(netpol("db", {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "db"}},
        "policyTypes": ["Ingress", "Egress"]}))), True),
    Case("KG502", "types-omitted", both(remove("NetworkPolicy"), add(netpol("in", {
        "podSelector": {}}))), True),
    Case("KG502", "types-omitted-with-egress", both(remove("NetworkPolicy"), add(netpol("io", {
        "podSelector": {}, "egress": [{"to": [{"podSelector": {}}]}]}))), False),
    Case("KG502", "not-in-matches-missing-key", both(remove("NetworkPolicy"), add(netpol("x", {
        "podSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn",
                                              "values": ["db"]}]},
        "policyTypes": ["Ingress", "Egress"]}))), False),
    Case("KG503", "node-port", lambda s: set_in(find(s, "Service"), "spec.type", "NodePort"),
         True, "spec.type"),
    Case("KG503", "cluster-ip", lambda s: set_in(find(s, "Service"), "spec.type", "ClusterIP"),
         False),
    Case("KG504", "host-network-selected", on_dep(f"{P}.hostNetwork", True), True,
         "spec.podSelector"),
    Case("KG504", "host-network-as-peer", both(on_dep(f"{P}.hostNetwork", True), add(netpol(
        "to-api", {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
                   "policyTypes": ["Egress"], "egress": [{"to": [{
                       "namespaceSelector": {},
                       "podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}}}]}]}))),
        True, "spec.egress[0].to[0]"),
    Case("KG504", "host-network-false", both(on_dep(f"{P}.hostNetwork", False), add(netpol(
        "to-api", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}}}]}]}))), False),
    # KG507: a port opened outside the cluster needs an ipBlock through the ingress policies
    Case("KG507", "node-port-under-default-deny",
         lambda s: set_in(find(s, "Service"), "spec.type", "NodePort"), True, "spec.ports[0]"),
    Case("KG507", "node-port-ipblock-admitted", both(
        lambda s: set_in(find(s, "Service"), "spec.type", "LoadBalancer"), add(netpol(
            "api-ingress", {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}},
                            "policyTypes": ["Ingress"], "ingress": [{
                                "from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                                "ports": [{"port": "http"}]}]}))), False),
    Case("KG507", "host-port-under-default-deny", on_dep(f"{C}.ports[0].hostPort", 9000), True,
         f"{C}.ports[0].hostPort"),
    # KG505: the API server calls an admission webhook from outside every pod selector
    Case("KG505", "webhook-under-default-deny", add(webhook_for("api", 80)), True,
         "spec.podSelector"),
    Case("KG505", "webhook-only-pods-admitted", both(add(webhook_for("api", 80)), add(netpol(
        "api-ingress", {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}},
                        "policyTypes": ["Ingress"], "ingress": [{
                            "from": [{"podSelector": {}}], "ports": [{"port": "http"}]}]}))),
         True, "spec.podSelector"),
    Case("KG505", "webhook-control-plane-admitted", both(add(webhook_for("api", 80)), add(netpol(
        "api-ingress", {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}},
                        "policyTypes": ["Ingress"], "ingress": [{
                            "from": [{"ipBlock": {"cidr": "10.0.0.0/28"}}],
                            "ports": [{"port": "http"}]}]}))), False),
    Case("KG505", "webhook-other-port-admitted", both(add(webhook_for("api", 80)), add(netpol(
        "api-ingress", {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{
            "from": [{"ipBlock": {"cidr": "10.0.0.0/28"}}], "ports": [{"port": 9090}]}]}))),
         True),
    Case("KG505", "webhook-tunnel-in-kube-system", both(add(webhook_for("api", 80)), add(netpol(
        "api-ingress", {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{
            "from": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "kube-system"}}}]}]}))), False),
    Case("KG505", "webhook-service-elsewhere", add(webhook_for("api", 80, namespace="other")),
         False),
    # KG506: a pod granted API access under egress isolation needs a way out to the API server
    Case("KG506", "granted-token-under-default-deny",
         on_dep(f"{P}.automountServiceAccountToken", True), True, "spec.podSelector"),
    Case("KG506", "granted-projected-token", on_dep(f"{P}.volumes", [{"name": "token",
         "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}]), True),
    Case("KG506", "granted-no-token", lambda s: None, False),
    Case("KG506", "granted-api-server-allowed", both(
        on_dep(f"{P}.automountServiceAccountToken", True), add(netpol("api-to-apiserver", {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "api"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.1/32"}}],
                        "ports": [{"port": 6443}]}]}))), False),
    Case("KG506", "not-granted", both(on_dep(f"{P}.automountServiceAccountToken", True),
                                      remove("RoleBinding")), False),
    # KG601-KG603 namespaces
    Case("KG601", "default", lambda s: set_in(find(s, "Service"), "metadata.namespace",
         "default"), True),
    Case("KG601", "unset", lambda s: find(s, "Service")["metadata"].pop("namespace"), True),
    Case("KG601", "cluster-scoped-custom", add({"apiVersion": "cert-manager.io/v1",
         "kind": "ClusterIssuer", "metadata": {"name": "le"}}), False),
    Case("KG602", "no-label", lambda s: find(s, "Namespace")["metadata"].pop("labels"), True),
    Case("KG602", "labelled", lambda s: None, False),
    Case("KG603", "baseline", lambda s: set_in(find(s, "Namespace"), "metadata.labels["
         "pod-security.kubernetes.io/enforce]", "baseline"), True),
    Case("KG603", "restricted", lambda s: None, False),
    # KG701-KG706 availability, autoscaling and jobs
    Case("KG701", "one-replica", on_dep("spec.replicas", 1), True, "spec.replicas"),
    Case("KG701", "one-replica-on-restricted", on_dep("spec.replicas", 1), True,
         profile="restricted"),
    Case("KG701", "hpa-min-2", both(drop_dep("spec.replicas"), add(hpa())), False),
    Case("KG702", "no-pdb", remove("PodDisruptionBudget"), True),
    Case("KG702", "single-replica-needs-none", both(on_dep("spec.replicas", 1),
         remove("PodDisruptionBudget")), False),
    Case("KG703", "no-spread", drop_dep(f"{P}.topologySpreadConstraints"), True),
    Case("KG703", "single-replica", both(on_dep("spec.replicas", 1), NO_PDB_NO_SPREAD), False),
    Case("KG704", "job-no-ttl", both(replace_kind("Job"),
         lambda s: find(s, "Job")["spec"].pop("ttlSecondsAfterFinished")), True),
    Case("KG704", "job-ttl", replace_kind("Job"), False),
    Case("KG705", "cronjob-no-deadlines", both(replace_kind("CronJob"),
         lambda s: find(s, "CronJob")["spec"].pop("startingDeadlineSeconds")), True,
         "spec.startingDeadlineSeconds"),
    Case("KG705", "cronjob-deadlines", replace_kind("CronJob"), False),
    Case("KG706", "hpa-on-cpu-without-request", both(add(hpa_on("cpu")),
         lambda s: find(s, "Deployment")["spec"]["template"]["spec"]["containers"][0][
             "resources"]["requests"].pop("cpu")), True, f"{C}.resources.requests.cpu"),
    Case("KG706", "hpa-on-cpu-with-request", add(hpa_on("cpu")), False),
    Case("KG706", "hpa-on-average-value", both(add(hpa_on("cpu", "AverageValue")),
         lambda s: find(s, "Deployment")["spec"]["template"]["spec"]["containers"][0][
             "resources"]["requests"].pop("cpu")), False),
    # KG801-KG803 secrets
    Case("KG801", "secret-data", add(obj("v1", "Secret", "db", data={"password": "aHVudGVyMg=="})),
         True, "data"),
    Case("KG801", "secret-without-values", add(obj("v1", "Secret", "db")), False),
    Case("KG802", "secret-key-ref", secret_env({"name": "DB_PASSWORD", "valueFrom": {
        "secretKeyRef": {"name": "db", "key": "password"}}}), True),
    Case("KG802", "env-from-secret", on_dep(f"{C}.envFrom", [{"secretRef": {"name": "db"}}]),
         True),
    Case("KG802", "config-map-ref", secret_env({"name": "MODE", "valueFrom": {
        "configMapKeyRef": {"name": "cfg", "key": "mode"}}}), False),
    Case("KG803", "literal-password", secret_env({"name": "DB_PASSWORD", "value": "hunter2"}),
         True, f"{C}.env[0].value"),
    Case("KG803", "password-file-path", secret_env({"name": "DB_PASSWORD_FILE",
         "value": "/run/secrets/db"}), False),
    Case("KG803", "variable-reference", secret_env({"name": "API_TOKEN", "value": "$(TOKEN)"}),
         False),
    # KG804 URLs with a password outside env
    Case("KG804", "args-url-password", on_dep(f"{C}.args", [
        "--db", "postgres://app:hunter2@db:5432/shop"]), True, f"{C}.args[1]"),
    Case("KG804", "args-url-variable", on_dep(f"{C}.args", [
        "--db", "postgres://app:$(DB_PASSWORD)@db:5432/shop"]), False),
    Case("KG804", "configmap-url-password", add(obj("v1", "ConfigMap", "cfg", data={
        "DATABASE_URL": "redis://:s3cret@cache:6379/0"})), True, "data[DATABASE_URL]"),
    Case("KG804", "configmap-url-without-password", add(obj("v1", "ConfigMap", "cfg", data={
        "DATABASE_URL": "redis://cache:6379/0"})), False),
    Case("KG804", "configmap-credential-key", add(obj("v1", "ConfigMap", "cfg", data={
        "DB_PASSWORD": "hunter2"})), True, "data[DB_PASSWORD]"),
    Case("KG804", "configmap-credential-file-path", add(obj("v1", "ConfigMap", "cfg", data={
        "DB_PASSWORD_FILE": "/run/secrets/db/password", "TOKEN_TTL": "3600s",
        "token-policy.yaml": "issuer: https://auth.example.org\nlifetime: 1h\n"})), False),
    Case("KG804", "annotation-url-password", lambda s: set_in(find(s, "Service"),
         "metadata.annotations[acme.dev/upstream]", "https://bot:t0ken@git.example.com/x.git"),
         True, "metadata.annotations[acme.dev/upstream]"),
    Case("KG804", "pod-template-annotation-url-password", on_dep(
         "spec.template.metadata.annotations", {"acme.dev/db": "mysql://root:pw@db:3306/x"}),
         True, "spec.template.metadata.annotations[acme.dev/db]"),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule(case: Case) -> None:
    stack = good_stack()
    case.change(stack)
    facts = case.facts() if case.facts is not None else None
    report = lint(stack, profile=case.profile, kubernetes_version=case.version, facts=facts)
    hits = [f for f in report.findings if f.rule_id == case.rule]
    if not case.fires:
        assert hits == [], [str(f) for f in hits]
        return
    assert hits, f"{case.rule} did not fire; findings: {[str(f) for f in report.findings]}"
    for finding in hits:
        assert finding.message and finding.fix and finding.resource
        assert finding.origin is not None
    if case.path:
        assert any(f.path.startswith(case.path) for f in hits), [f.path for f in hits]


def test_every_rule_has_a_failing_and_a_passing_case() -> None:
    ids = {rule.id for rule in all_rules()}
    failing = {c.rule for c in CASES if c.fires}
    passing = {c.rule for c in CASES if not c.fires}
    assert failing == ids
    assert passing == ids


def test_good_stack_is_clean_in_every_profile() -> None:
    for profile in ("baseline", "restricted", "prod"):
        assert lint(good_stack(), profile=profile).findings == ()


@pytest.mark.parametrize(
    "kind", ["Pod", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]
)
def test_every_pod_bearing_kind_is_checked(kind: str) -> None:
    stack = good_stack()
    replace_kind(kind)(stack)
    workload = next(o for o in stack if o.kind == kind)
    assert lint(stack, profile="prod").findings == ()
    pod_of(workload.body)["hostPID"] = True
    pod_of(workload.body)["containers"][0]["securityContext"]["privileged"] = True
    found = {f.rule_id for f in lint(stack).findings if f.resource == workload.display}
    assert {"KG101", "KG102"} <= found


def test_the_job_deadline_fix_names_the_builder_keyword() -> None:
    from kubegen import Job
    from kubegen import lint as lint_stack

    stack = KubegenStack("batch", namespace="batch")
    stack.add(Job("batch-job", image="ghcr.io/acme/batch:1.0.0"))
    (finding,) = [f for f in lint_stack(stack).findings if f.rule_id == "KG705"]
    assert finding.path == "spec.activeDeadlineSeconds"
    assert "active_deadline='15m' on kubegen's Job and CronJob" in (finding.fix or "")
