"""Deployment: hardened pod template, owned objects, rollout defaults, shorthand, probe rule."""

from __future__ import annotations

import pytest
from workload_support import IMAGE, TAGGED, objects_by_kind, pod_spec

from kubegen import (
    Container,
    Deployment,
    HttpProbe,
    Port,
    Resources,
    Stack,
    StackDefaults,
    TcpProbe,
    ValidationError,
)

PROBES = {"readiness": HttpProbe("/ready"), "liveness": HttpProbe("/healthz")}


def _api(**kwargs: object) -> Deployment:
    fields: dict[str, object] = {"image": IMAGE, "port": Port(8080, name="http"), **PROBES}
    fields.update(kwargs)
    return Deployment("api", **fields)


def test_shorthand_renders_hardened_pod() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(_api())
    deployment = objects_by_kind(stack)[("Deployment", "api")]
    pod = pod_spec(deployment)
    assert pod["securityContext"] == {
        "fsGroup": 10001,
        "runAsGroup": 10001,
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    assert pod["serviceAccountName"] == "api"
    (container,) = pod["containers"]
    assert container["name"] == "api"
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
    }
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["resources"] == {
        "limits": {"cpu": "100m", "memory": "128Mi"},
        "requests": {"cpu": "100m", "memory": "128Mi"},
    }
    assert container["readinessProbe"] == {"httpGet": {"path": "/ready", "port": "http"}}
    assert container["livenessProbe"] == {"httpGet": {"path": "/healthz", "port": "http"}}


def test_rollout_defaults_and_selector() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(_api())
    spec = objects_by_kind(stack)[("Deployment", "api")]["spec"]
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
    }
    assert spec["minReadySeconds"] == 10
    assert spec["revisionHistoryLimit"] == 5
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["selector"] == {
        "matchLabels": {"app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "shop"}
    }
    labels = spec["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/version"] == "1.2.3"
    assert spec["selector"]["matchLabels"].items() <= labels.items()


def test_owned_objects_single_replica() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(_api())
    kinds = sorted(k for k in objects_by_kind(stack) if k[0] != "NetworkPolicy")
    assert kinds == [("Deployment", "api"), ("Namespace", "shop"), ("ServiceAccount", "api")]
    account = objects_by_kind(stack)[("ServiceAccount", "api")]
    assert account["automountServiceAccountToken"] is False


def test_replicas_add_pdb_and_spread() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(_api(replicas=3, topology_spread="zones"))
    objects = objects_by_kind(stack)
    pdb = objects[("PodDisruptionBudget", "api")]
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == "api"
    spread = pod_spec(objects[("Deployment", "api")])["topologySpreadConstraints"]
    assert [c["topologyKey"] for c in spread] == [
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
    ]


def test_named_ports_cover_all_containers() -> None:
    deployment = Deployment(
        "api",
        containers=[
            Container(image=IMAGE, ports=[Port(8080, name="http")], **PROBES),
            Container(name="metrics", image=TAGGED, ports=[9090],
                      readiness=TcpProbe(), liveness=TcpProbe()),
        ],
    )
    assert deployment.named_ports() == {"http": (8080, "TCP"), "port-9090": (9090, "TCP")}


def test_tagged_image_pulls_always() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(_api(image=TAGGED))
    (container,) = pod_spec(objects_by_kind(stack)[("Deployment", "api")])["containers"]
    assert container["imagePullPolicy"] == "Always"


def test_stack_defaults_apply() -> None:
    defaults = StackDefaults(resources=Resources(cpu="1", memory="1Gi"), run_as_user=20000,
                             replicas=2)
    stack = Stack("shop", namespace="shop", defaults=defaults)
    stack.add(_api())
    deployment = objects_by_kind(stack)[("Deployment", "api")]
    assert deployment["spec"]["replicas"] == 2
    pod = pod_spec(deployment)
    assert pod["securityContext"]["runAsUser"] == 20000
    assert pod["containers"][0]["resources"]["requests"] == {"cpu": "1", "memory": "1Gi"}


def test_probe_rule_refuses_serving_container_without_probes() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Deployment("api", image=IMAGE, port=8080))
    with pytest.raises(ValidationError) as info:
        stack.objects()
    text = str(info.value)
    assert "Deployment shop/api" in text
    assert "readiness" in text and "liveness" in text
    assert "allow_no_probes" in text


def test_probe_rule_opt_out_is_annotated() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Deployment("api", image=IMAGE, port=8080, allow_no_probes="legacy app"))
    meta = objects_by_kind(stack)[("Deployment", "api")]["metadata"]
    assert meta["annotations"] == {"kubegen.dev/opt-out-no-probes.api": "legacy app"}


def test_shorthand_and_container_conflict() -> None:
    with pytest.raises(ValidationError, match="container/containers is given too") as info:
        Deployment("api", image=IMAGE, container=Container(image=IMAGE))
    assert info.value.origin is not None
    assert info.value.origin.file.endswith("test_workloads_deployment.py")


def test_shorthand_error_names_deployment() -> None:
    with pytest.raises(ValidationError) as info:
        Deployment("api", image="nginx")
    assert info.value.resource == "Deployment api"
    assert info.value.field == "image"
    assert "registry/repository:tag" in str(info.value)


def test_recreate_strategy() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(_api(strategy="Recreate"))
    assert objects_by_kind(stack)[("Deployment", "api")]["spec"]["strategy"] == {
        "type": "Recreate"
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"max_surge": 0, "max_unavailable": "0%"}, "could never progress"),
        ({"max_surge": "120%"}, "percentage like '25%'"),
        ({"max_disruptions": 0}, "blocks every node drain"),
        ({"replicas": -1}, "must be at least 0"),
    ],
)
def test_rollout_values_rejected(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _api(**fields)


def test_replicas_floor_refuses_fewer() -> None:
    stack = Stack("shop", namespace="shop", defaults=StackDefaults(replicas=2, min_replicas=2))
    stack.add(_api(replicas=1))
    with pytest.raises(ValidationError) as info:
        stack.objects()
    assert info.value.field == "replicas" and "floor" in str(info.value)


def test_probe_policy_all_covers_portless_containers() -> None:
    stack = Stack("shop", namespace="shop", defaults=StackDefaults(probes="all"))
    stack.add(Deployment("worker", image=IMAGE))
    with pytest.raises(ValidationError) as info:
        stack.objects()
    text = str(info.value)
    assert "container(s) worker lack a readiness and/or liveness probe" in text
    assert "StackDefaults(probes='all') requires of every container" in text
    assert "serve traffic" not in text  # it declares no port
    assert "ExecProbe([" in (info.value.fix or "")
    relaxed = Stack("shop", namespace="shop")
    relaxed.add(Deployment("worker", image=IMAGE))
    assert ("Deployment", "worker") in objects_by_kind(relaxed)


def test_custom_disruption_budget() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(_api(replicas=4, max_disruptions="50%"))
    assert objects_by_kind(stack)[("PodDisruptionBudget", "api")]["spec"]["maxUnavailable"] == (
        "50%"
    )


def test_stack_defaults_validation() -> None:
    with pytest.raises(ValidationError, match="below min_replicas"):
        StackDefaults(replicas=1, min_replicas=2)
