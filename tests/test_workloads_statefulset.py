"""StatefulSet: headless Service, claim templates, pod DNS names, rollout and retention."""

from __future__ import annotations

from typing import Any

import pytest
from workload_support import IMAGE, objects_by_kind, pod_spec

from kubegen import (
    Claim,
    ExecProbe,
    Port,
    Stack,
    StackDefaults,
    StatefulSet,
    TcpProbe,
    ValidationError,
    VolumeClaim,
)

PG: dict[str, Any] = {
    "image": IMAGE,
    "port": Port(5432, name="pg"),
    "readiness": ExecProbe(["pg_isready"]),
    "liveness": TcpProbe(),
}


def test_storage_shorthand_claim_and_mount() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(StatefulSet("postgres", storage="20Gi", storage_path="/var/lib/postgresql/data",
                          storage_class="fast", **PG))
    sts = objects_by_kind(stack)[("StatefulSet", "postgres")]
    (template,) = sts["spec"]["volumeClaimTemplates"]
    assert template["metadata"]["name"] == "data"
    assert template["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": "fast",
        "resources": {"requests": {"storage": "20Gi"}},
    }
    pod = pod_spec(sts)
    assert {"name": "data", "mountPath": "/var/lib/postgresql/data"} in (
        pod["containers"][0]["volumeMounts"]
    )
    assert "volumes" not in pod


def test_headless_service_and_spec_defaults() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(StatefulSet("postgres", storage="1Gi", **PG))
    objects = objects_by_kind(stack)
    spec = objects[("StatefulSet", "postgres")]["spec"]
    assert spec["serviceName"] == "postgres"
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate"}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain", "whenScaled": "Retain"
    }
    service = objects[("Service", "postgres")]["spec"]
    assert service["clusterIP"] == "None"
    assert service["ports"] == [{"name": "pg", "port": 5432, "targetPort": "pg",
                                 "protocol": "TCP"}]
    assert service["selector"] == spec["selector"]["matchLabels"]
    assert ("ServiceAccount", "postgres") in objects
    assert ("PodDisruptionBudget", "postgres") not in objects


def test_replicated_statefulset_options() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(StatefulSet("postgres", storage="1Gi", replicas=3, partition=2,
                          pod_management="Parallel", claims_when_scaled="Delete",
                          publish_not_ready=True, **PG))
    objects = objects_by_kind(stack)
    spec = objects[("StatefulSet", "postgres")]["spec"]
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    assert spec["podManagementPolicy"] == "Parallel"
    assert spec["persistentVolumeClaimRetentionPolicy"]["whenScaled"] == "Delete"
    assert objects[("Service", "postgres")]["spec"]["publishNotReadyAddresses"] is True
    assert objects[("PodDisruptionBudget", "postgres")]["spec"]["maxUnavailable"] == 1


def test_pod_dns_names() -> None:
    stack = Stack("shop", namespace="shop")
    db = stack.add(StatefulSet("postgres", storage="1Gi", replicas=2, **PG))
    assert db.pod_dns_names() == [
        "postgres-0.postgres.shop.svc.cluster.local",
        "postgres-1.postgres.shop.svc.cluster.local",
    ]
    assert db.pod_dns_name(5) == "postgres-5.postgres.shop.svc.cluster.local"


def test_pod_dns_names_follow_stack_default_replicas() -> None:
    stack = Stack("shop", namespace="shop", defaults=StackDefaults(replicas=3))
    db = stack.add(StatefulSet("postgres", storage="1Gi", **PG))
    assert len(db.pod_dns_names()) == 3


def test_pod_dns_names_need_a_namespace() -> None:
    db = StatefulSet("postgres", storage="1Gi", **PG)
    with pytest.raises(ValidationError, match="need a namespace"):
        db.pod_dns_name(0)


def test_named_claims_mounted_by_claim() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(StatefulSet(
        "kafka",
        claims=[VolumeClaim("logs", size="100Gi", access_modes=["ReadWriteOncePod"])],
        mounts={"/var/lib/kafka": Claim("logs")},
        **PG,
    ))
    sts = objects_by_kind(stack)[("StatefulSet", "kafka")]
    assert [t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]] == ["logs"]
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["accessModes"] == ["ReadWriteOncePod"]
    pod = pod_spec(sts)
    assert pod["containers"][0]["volumeMounts"] == [{"name": "logs", "mountPath": "/var/lib/kafka"}]
    assert "volumes" not in pod


def test_unmounted_claim_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        StatefulSet("kafka", claims=[VolumeClaim("logs", size="1Gi")], **PG)
    assert "not mounted" in str(info.value) and "Claim('logs')" in str(info.value)


def test_duplicate_claim_names_rejected() -> None:
    with pytest.raises(ValidationError, match="repeat a name"):
        StatefulSet("kafka", storage="1Gi", claims=[VolumeClaim("data", size="1Gi")],
                    mounts={"/d": Claim("data")}, **PG)


def test_name_must_suit_the_service() -> None:
    with pytest.raises(ValidationError) as info:
        StatefulSet("0db", storage="1Gi", **PG)
    assert "headless Service" in str(info.value) and "DNS-1035" in str(info.value)


def test_replicas_floor() -> None:
    stack = Stack("shop", namespace="shop", defaults=StackDefaults(replicas=3, min_replicas=2))
    stack.add(StatefulSet("postgres", storage="1Gi", replicas=1, **PG))
    with pytest.raises(ValidationError) as info:
        stack.objects()
    assert info.value.field == "replicas" and "min_replicas=2" in str(info.value)
