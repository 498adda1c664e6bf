"""The floor: the least any tool can do for the benchmark stack, in one Python process.

Builds the same 7 objects per service (+3) that kubegen renders for bench/run.py's stack, as
plain dicts with no validation, no policy and no derivation logic; emits each with a trivial
block-YAML emitter (no quoting rules beyond ``json.dumps`` for strings); then either writes
one file per object (``render``) or reads every file back and compares (``check``). Whatever
kubegen spends above this is the price of its checks, its model and its exact output.

Usage: python floor.py render|check N OUTDIR   (stdlib only; run with ``python -S -E`` by
bench/compare.py, so start-up is the bare interpreter's)
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import Any

NS = "bench"
IMAGE = "ghcr.io/acme/service:1.4.2@sha256:" + "0123456789abcdef" * 4
MANAGED = {"app.kubernetes.io/managed-by": "floor"}


def selector(svc: str) -> dict[str, str]:
    return {"app.kubernetes.io/instance": NS, "app.kubernetes.io/name": svc}


def labels(svc: str) -> dict[str, str]:
    return {**selector(svc), **MANAGED, "app.kubernetes.io/version": "1.4.2"}


def meta(name: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
    return {"name": name, "namespace": NS, "labels": {**MANAGED, **(extra or {})}}


def service_objects(svc: str, nxt: str, prev: str, connect: bool) -> list[dict[str, Any]]:
    data = {"LOG_LEVEL": "info", "SERVICE": svc}
    checksum = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    volume = f"config-{svc}-config"
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(svc, labels(svc)),
        "spec": {
            "replicas": 2, "selector": {"matchLabels": selector(svc)},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "minReadySeconds": 10, "revisionHistoryLimit": 5, "progressDeadlineSeconds": 600,
            "template": {
                "metadata": {"labels": labels(svc), "annotations": {
                    f"configmap.checksum.kubegen.dev/{svc}-config": checksum}},
                "spec": {
                    "serviceAccountName": svc, "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {"fsGroup": 10001, "runAsGroup": 10001,
                                        "runAsNonRoot": True, "runAsUser": 10001,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "topologySpreadConstraints": [{
                        "maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": selector(svc)}}],
                    "containers": [{
                        "name": svc, "image": IMAGE, "imagePullPolicy": "IfNotPresent",
                        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                        "resources": {"limits": {"cpu": "100m", "memory": "128Mi"},
                                      "requests": {"cpu": "100m", "memory": "128Mi"}},
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
                        "securityContext": {"allowPrivilegeEscalation": False,
                                            "capabilities": {"drop": ["ALL"]},
                                            "privileged": False,
                                            "readOnlyRootFilesystem": True,
                                            "runAsNonRoot": True},
                        "volumeMounts": [{"name": volume, "mountPath": "/etc/service",
                                          "readOnly": True}]}],
                    "volumes": [{"name": volume,
                                 "configMap": {"name": f"{svc}-config", "defaultMode": 288}}],
                },
            },
        },
    }
    out = [
        deployment,
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(svc, labels(svc)),
         "automountServiceAccountToken": False},
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
         "metadata": meta(svc, labels(svc)),
         "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(svc)}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(f"{svc}-config"), "data": data},
        {"apiVersion": "v1", "kind": "Service", "metadata": meta(svc, selector(svc)),
         "spec": {"type": "ClusterIP", "selector": selector(svc),
                  "ports": [{"name": "http", "port": 8080, "targetPort": "http",
                             "protocol": "TCP"}]}},
    ]
    if connect:
        port = [{"protocol": "TCP", "port": "http"}]
        out.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": meta(f"{svc}-egress"),
                    "spec": {"podSelector": {"matchLabels": selector(svc)},
                             "policyTypes": ["Egress"],
                             "egress": [{"to": [{"podSelector": {"matchLabels": selector(nxt)}}],
                                         "ports": port}]}})
        out.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": meta(f"{svc}-ingress"),
                    "spec": {"podSelector": {"matchLabels": selector(svc)},
                             "policyTypes": ["Ingress"],
                             "ingress": [{"from": [{"podSelector": {
                                 "matchLabels": selector(prev)}}], "ports": port}]}})
    return out


def stack_objects(n: int) -> list[dict[str, Any]]:
    pss = {f"pod-security.kubernetes.io/{mode}": "restricted"
           for mode in ("enforce", "audit", "warn")}
    out: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": NS, "labels": {**MANAGED, **pss}}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": meta("default-deny"),
         "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": meta("allow-dns"),
         "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
             "to": [{"namespaceSelector": {"matchLabels": {
                 "kubernetes.io/metadata.name": "kube-system"}},
                 "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
             "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}},
    ]
    names = [f"svc-{i:04d}" for i in range(n)]
    for i, svc in enumerate(names):
        out += service_objects(svc, names[(i + 1) % n], names[i - 1], n > 1)
    return out


def emit(value: Any, indent: str = "") -> str:
    """Block YAML for dicts and lists; scalars as JSON (valid YAML). No other rules."""
    if isinstance(value, dict):
        if not value:
            return " {}\n"
        parts = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                parts.append(f"{indent}{key}:\n{emit(item, indent + '  ')}")
            else:
                parts.append(f"{indent}{key}:{emit(item, indent + '  ')}")
        return "".join(parts)
    if isinstance(value, list):
        if not value:
            return " []\n"
        parts = []
        for item in value:
            text = emit(item, indent + "  ")
            parts.append(f"{indent}- {text[len(indent) + 2:]}" if isinstance(item, dict)
                         else f"{indent}-{text}")
        return "".join(parts)
    return " " + json.dumps(value) + "\n"


def files(n: int) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for obj in stack_objects(n):
        folder = "_cluster" if obj["kind"] == "Namespace" else NS
        path = f"{folder}/{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        out[path] = ("# Generated by the floor.\n" + emit(obj)).encode()
    listing = "".join(f"- {path}\n" for path in sorted(out))
    out["kustomization.yaml"] = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n" + listing
    ).encode()
    return out


def main() -> int:
    mode, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    stale = 0
    made: set[str] = set()
    for rel, data in files(n).items():
        path = os.path.join(out, rel)
        if mode == "check":
            try:
                with open(path, "rb") as handle:
                    stale += handle.read() != data
            except FileNotFoundError:
                stale += 1
            continue
        folder = os.path.dirname(path)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        os.write(fd, data)
        os.close(fd)
    if mode == "check":
        print("up to date" if not stale else f"{stale} files differ")
        return 1 if stale else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
