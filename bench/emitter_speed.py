"""Rough speed check for kubegen's YAML emitter (not a test): prints objects per second.

Emits 5,000 Deployment-sized dicts (~60 scalars each, names varying per object so the style cache
sees realistic misses). Run: ``python bench/emitter_speed.py [count]``.
"""

import sys
import time
from pathlib import Path

# Measure this checkout's emitter, not whatever kubegen happens to be installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubegen._render.yaml_emitter import dump


def deployment(i: int) -> dict:
    name = f"api-{i:04d}"
    labels = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": "prod",
        "app.kubernetes.io/version": "2.3.1",
        "app.kubernetes.io/managed-by": "kubegen",
    }
    container = {
        "name": "api",
        "image": "ghcr.io/acme/api:2.3.1@sha256:" + "0123456789abcdef" * 4,
        "args": ["--port=8080", "--log-level", "info", "--feature", "on"],
        "env": [
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "MODE", "value": "yes"},
            {"name": "RATIO", "value": "0.75"},
        ],
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 10},
        "livenessProbe": {"httpGet": {"path": "/live", "port": "http"}, "failureThreshold": 3},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": "shop",
            "labels": labels,
            "annotations": {"kubegen.io/config-hash": f"{i:064x}", "note": "line1\nline2\n"},
        },
        "spec": {
            "replicas": 3,
            "revisionHistoryLimit": 5,
            "progressDeadlineSeconds": 600,
            "minReadySeconds": 10,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"},
            },
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": name,
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "runAsGroup": 10001,
                        "fsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                    "terminationGracePeriodSeconds": 30,
                },
            },
        },
    }


def count_scalars(node: object) -> int:
    if isinstance(node, dict):
        return sum(count_scalars(v) for v in node.values())
    if isinstance(node, list):
        return sum(count_scalars(v) for v in node)
    return 1


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    objects = [deployment(i) for i in range(n)]
    runs, cpu = [], []
    for _ in range(5):
        start, start_cpu = time.perf_counter(), time.process_time()
        for obj in objects:
            dump(obj)
        runs.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    print(f"emitter: {sys.modules[dump.__module__].__file__}")
    print(f"{n} objects x {count_scalars(objects[0])} scalars each (wall / CPU time)")
    print(f"  first run (cold style cache): {runs[0]:.3f}s / {cpu[0]:.3f}s", end="")
    print(f" = {n / runs[0]:,.0f} objects/s")
    print(f"  best of 5:                    {min(runs):.3f}s / {min(cpu):.3f}s", end="")
    print(f" = {n / min(runs):,.0f} objects/s")


if __name__ == "__main__":
    main()
