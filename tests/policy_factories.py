"""Manifest factories for the policy tests: a hardened stack that passes every rule in ``prod``.

Each rule test copies :func:`good_stack`, breaks one thing, and checks that exactly the expected
rule fires; so the passing half of every case is the same well-understood baseline.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from kubegen._manifests import ManifestObject
from kubegen._origin import Origin

NS = "shop"
DIGEST = "sha256:" + "a" * 64
IMAGE = f"ghcr.io/acme/api:2.3.1@{DIGEST}"
LABELS = {"app.kubernetes.io/name": "api"}


def container(name: str = "api", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 8080, "name": "http"}],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "128Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "privileged": False,
            "readOnlyRootFilesystem": True,
        },
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
        "livenessProbe": {"httpGet": {"path": "/live", "port": "http"}},
    }
    body.update(extra)
    return body


def pod_spec(name: str = "api") -> dict[str, Any]:
    return {
        "serviceAccountName": name,
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "fsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container(name)],
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": dict(LABELS)},
            }
        ],
    }


def deployment(name: str = "api", replicas: int = 3) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name}
    spec = pod_spec(name)
    spec["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"] = dict(labels)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}, "spec": spec},
        },
    }


def namespace() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": NS,
            "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
            },
        },
    }


def default_deny() -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": NS},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def service_account(name: str = "api") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": NS},
        "automountServiceAccountToken": False,
    }


def pdb(name: str = "api") -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
        },
    }


def service(name: str = "api") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }


def role(
    name: str = "api-read-config", rules: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": NS},
        "rules": rules
        or [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}],
    }


def role_binding(
    name: str = "api-read-config", account: str = "api", role_name: str = "api-read-config"
) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": NS},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role_name},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": NS}],
    }


def good_bodies() -> list[dict[str, Any]]:
    """A namespace with one hardened Deployment and everything around it."""
    return [
        namespace(),
        default_deny(),
        service_account(),
        deployment(),
        pdb(),
        service(),
        role(),
        role_binding(),
    ]


def objects(bodies: Iterable[dict[str, Any]], file: str = "stacks/shop.py") -> list[ManifestObject]:
    """Wrap bodies as ManifestObjects with distinct origins (line = position + 1)."""
    return [
        ManifestObject(body=copy.deepcopy(body), origin=Origin(file, index + 1))
        for index, body in enumerate(bodies)
    ]


def good_stack() -> list[ManifestObject]:
    return objects(good_bodies())


def find(objs: list[ManifestObject], kind: str, name: str | None = None) -> dict[str, Any]:
    """The body of the first object of ``kind`` (and ``name``) in ``objs``, for mutation."""
    for obj in objs:
        if obj.kind == kind and (name is None or obj.name == name):
            return obj.body
    raise KeyError(f"{kind} {name}")


def pod_of(body: dict[str, Any]) -> dict[str, Any]:
    """The pod spec inside a workload body."""
    if body["kind"] == "Pod":
        return body["spec"]  # type: ignore[no-any-return]
    if body["kind"] == "CronJob":
        return body["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    return body["spec"]["template"]["spec"]  # type: ignore[no-any-return]


_STEP = re.compile(r"([^.\[\]]+)|\[([^\]]+)\]")


def _steps(path: str) -> list[str | int]:
    """``a.b[0].c[x.io/y]`` → ``["a", "b", 0, "c", "x.io/y"]``."""
    steps: list[str | int] = []
    for key, bracket in _STEP.findall(path):
        steps.append(key if key else int(bracket) if bracket.isdigit() else bracket)
    return steps


def set_in(body: dict[str, Any], path: str, value: Any) -> None:
    """Set ``a.b[0].c`` in ``body``, creating dicts on the way."""
    *parents, last = _steps(path)
    node: Any = body
    for step in parents:
        node = node[step] if isinstance(step, int) else node.setdefault(step, {})
    node[last] = value


def del_in(body: dict[str, Any], path: str) -> None:
    """Delete ``a.b[0].c`` from ``body``."""
    *parents, last = _steps(path)
    node: Any = body
    for step in parents:
        node = node[step]
    del node[last]


def as_kind(body: dict[str, Any], kind: str) -> dict[str, Any]:
    """Turn a good Deployment body into a good StatefulSet, DaemonSet, Job, CronJob or Pod."""
    body = copy.deepcopy(body)
    spec, template = body["spec"], body["spec"]["template"]
    body["kind"] = kind
    if kind == "StatefulSet":
        spec["serviceName"] = body["metadata"]["name"]
    elif kind == "DaemonSet":
        del spec["replicas"]
    elif kind == "Pod":
        body["apiVersion"] = "v1"
        body["metadata"]["labels"] = template["metadata"]["labels"]
        body["spec"] = template["spec"]
    elif kind in ("Job", "CronJob"):
        body["apiVersion"] = "batch/v1"
        template["spec"]["restartPolicy"] = "Never"
        for c in template["spec"]["containers"]:
            c.pop("ports"), c.pop("readinessProbe"), c.pop("livenessProbe")
        del template["spec"]["topologySpreadConstraints"]
        job = {"template": template, "ttlSecondsAfterFinished": 3600, "activeDeadlineSeconds": 600}
        body["spec"] = job
        if kind == "CronJob":
            del job["ttlSecondsAfterFinished"]
            body["spec"] = {
                "schedule": "0 3 * * *",
                "startingDeadlineSeconds": 300,
                "jobTemplate": {"spec": job},
            }
    return body
