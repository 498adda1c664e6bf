"""KiA ch. 14: Managing pods' computational resources — requests and limits, a LimitRange
and ResourceQuotas for the namespace."""
from kubegen import Deployment, Manifest, Resources, Stack


def build() -> Stack:
    stack = Stack("resources", namespace="resources")
    dd = {"image": "busybox:1.36.1", "command": ["dd", "if=/dev/zero", "of=/dev/null"]}
    stack.add(Deployment("requests-pod", **dd,
                         resources=Resources(cpu="200m", memory="10Mi", cpu_limit="400m",
                                             memory_limit="20Mi")))
    stack.add(Deployment("limited-pod", **dd, resources=Resources(cpu="100m", memory="20Mi")))
    stack.add(Manifest({
        "apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "example"},
        "spec": {"limits": [
            {"type": "Pod", "min": {"cpu": "50m", "memory": "5Mi"},
             "max": {"cpu": "1", "memory": "1Gi"}},
            {"type": "Container",
             "defaultRequest": {"cpu": "100m", "memory": "10Mi"},
             "default": {"cpu": "200m", "memory": "100Mi"},
             "min": {"cpu": "50m", "memory": "5Mi"},
             "max": {"cpu": "1", "memory": "1Gi"},
             "maxLimitRequestRatio": {"cpu": "4", "memory": "10"}},
            {"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"},
             "max": {"storage": "10Gi"}},
        ]},
    }))
    stack.add(Manifest({
        "apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "cpu-and-mem"},
        "spec": {"hard": {"requests.cpu": "1", "requests.memory": "200Mi",
                          "limits.cpu": "2", "limits.memory": "500Mi"}},
    }))
    stack.add(Manifest({
        "apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "storage"},
        "spec": {"hard": {
            "requests.storage": "500Gi",
            "ssd.storageclass.storage.k8s.io/requests.storage": "300Gi",
            "standard.storageclass.storage.k8s.io/requests.storage": "1Ti"}},
    }))
    stack.add(Manifest({
        "apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "objects"},
        "spec": {"hard": {"pods": "10", "replicationcontrollers": "5", "secrets": "10",
                          "configmaps": "10", "persistentvolumeclaims": "4",
                          "services": "5", "services.loadbalancers": "1",
                          "services.nodeports": "2", "count/deployments.apps": "10"}},
    }))
    stack.add(Manifest({
        "apiVersion": "v1", "kind": "ResourceQuota",
        "metadata": {"name": "besteffort-notterminating-pods"},
        "spec": {"scopes": ["BestEffort", "NotTerminating"], "hard": {"pods": "4"}},
    }))
    return stack
