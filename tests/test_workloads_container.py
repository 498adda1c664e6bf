"""Container: ports, env, resources, probes, mounts, securityContext and their refusals."""

from __future__ import annotations

from typing import Any

import pytest
from workload_support import IMAGE, TAGGED, objects_by_kind, pod_spec

from kubegen import (
    ConfigMap,
    ConfigMapKey,
    Container,
    Deployment,
    Downward,
    EmptyDir,
    ExecProbe,
    GrpcProbe,
    Hook,
    HttpProbe,
    Job,
    Mount,
    Port,
    Resources,
    SecretFiles,
    SecretKey,
    SecretRef,
    Stack,
    StackDefaults,
    TcpProbe,
    ValidationError,
)
from kubegen._builders.workloads.container import ContainerContext

CTX = ContainerContext(name="app", defaults=StackDefaults(), run_as_non_root=True)


def render(container: Container, ctx: ContainerContext = CTX) -> dict[str, Any]:
    return container.render(ctx)


def job_container(stack: Stack, **fields: Any) -> dict[str, Any]:
    stack.add(Job("task", image=TAGGED, **fields))
    return pod_spec(objects_by_kind(stack)[("Job", "task")])["containers"][0]  # type: ignore[no-any-return]


# -- ports ------------------------------------------------------------------------------------


def test_bare_port_numbers_get_protocol_neutral_names() -> None:
    container = Container(image=IMAGE, ports=[8080, Port(53, protocol="UDP")])
    assert render(container)["ports"] == [
        {"name": "port-8080", "containerPort": 8080, "protocol": "TCP"},
        {"name": "udp-53", "containerPort": 53, "protocol": "UDP"},
    ]


def test_duplicate_ports_rejected() -> None:
    with pytest.raises(ValidationError, match="declared twice"):
        Container(image=IMAGE, ports=[Port(80, name="http"), Port(81, name="http")])


def test_host_port_needs_reason() -> None:
    with pytest.raises(ValidationError) as info:
        Container(image=IMAGE, ports=[Port(80, name="http", host_port=80)])
    assert "allow_host_ports" in str(info.value)
    container = Container(image=IMAGE, ports=[Port(80, name="http", host_port=80)],
                          allow_host_ports="ingress controller on bare metal")
    assert render(container)["ports"][0]["hostPort"] == 80


def test_an_unnamed_port_renders_without_a_name_and_is_referred_to_by_number() -> None:
    """Upstream YAML that declares ports by number (``kubegen import manifests`` writes
    ``unnamed=True`` for them) renders as it was; probes and hooks name the number."""
    container = Container(image=IMAGE, ports=[Port(8080, unnamed=True), Port(9090, name="metrics")],
                          readiness=HttpProbe("/ready", port=8080),
                          liveness=TcpProbe(port=8080), pre_stop=Hook(http="/drain", port=8080))
    out = render(container)
    assert out["ports"] == [{"containerPort": 8080, "protocol": "TCP"},
                            {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}]
    assert out["readinessProbe"]["httpGet"]["port"] == 8080
    assert out["livenessProbe"]["tcpSocket"]["port"] == 8080
    assert out["lifecycle"]["preStop"]["httpGet"]["port"] == 8080
    # the derived name is no name of it: a probe cannot refer to it so
    with pytest.raises(ValidationError, match="does not declare"):
        Container(image=IMAGE, ports=[Port(8080, unnamed=True)],
                  readiness=HttpProbe("/", port="port-8080"), liveness=HttpProbe("/", port=8080))
    with pytest.raises(ValidationError, match="declared twice"):
        Container(image=IMAGE, ports=[Port(8080, unnamed=True), Port(8080, name="http")])
    with pytest.raises(ValidationError, match="name='http' and unnamed=True"):
        Port(8080, name="http", unnamed=True)


def test_an_unnamed_port_is_no_named_port_of_the_workload() -> None:
    """Services and policies refer to ports by name: an unnamed one is not offered to them, so
    connecting to it is refused at the call, never rendered as a rule for another port."""
    stack = Stack("shop", namespace="shop")
    api = stack.add(Deployment("api", image=TAGGED, ports=[Port(8080, unnamed=True)],
                               readiness=HttpProbe("/", port=8080),
                               liveness=HttpProbe("/", port=8080)))
    web = stack.add(Deployment("web", image=TAGGED, port=Port(80, name="http"),
                               readiness=HttpProbe("/"), liveness=HttpProbe("/")))
    assert api.named_ports() == {}
    assert web.named_ports() == {"http": (80, "TCP")}
    web.connect_to(api, port=8080)
    with pytest.raises(ValidationError, match="it declares port 8080 without a name") as caught:
        stack.objects()
    assert "Fix: name it in api's container: Port(8080, name='...')" in str(caught.value)


# -- env ---------------------------------------------------------------------------------------


def test_env_in_author_order_with_all_sources() -> None:
    settings = ConfigMap("settings", data={"LOG_LEVEL": "info"})
    container = Container(
        image=IMAGE,
        env={
            "Z_FIRST": "1",
            "LOG_LEVEL": ConfigMapKey(settings, "LOG_LEVEL"),
            "POD_NAME": Downward.pod_name(),
            "NAMESPACE": Downward.namespace(),
            "POD_IP": Downward.pod_ip(),
            "NODE": Downward.node_name(),
            "SA": Downward.service_account(),
            "MEM": Downward.memory_limit(divisor="1Mi"),
            "CPU": Downward.cpu_request(divisor="1m"),
            "TEAM": Downward.label("team"),
        },
    )
    env = render(container)["env"]
    assert [e["name"] for e in env] == [
        "Z_FIRST", "LOG_LEVEL", "POD_NAME", "NAMESPACE", "POD_IP", "NODE", "SA", "MEM", "CPU",
        "TEAM",
    ]
    assert env[0] == {"name": "Z_FIRST", "value": "1"}
    assert env[1]["valueFrom"] == {"configMapKeyRef": {"name": "settings", "key": "LOG_LEVEL"}}
    assert env[2]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env[4]["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    assert env[5]["valueFrom"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    assert env[6]["valueFrom"] == {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}
    assert env[7]["valueFrom"] == {
        "resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}
    }
    assert env[8]["valueFrom"] == {
        "resourceFieldRef": {"resource": "requests.cpu", "divisor": "1m"}
    }
    assert env[9]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.labels['team']"}}




def test_secret_env_needs_reason() -> None:
    with pytest.raises(ValidationError) as info:
        Container(image=IMAGE, env={"PASSWORD": SecretKey(SecretRef("db"), "password")})
    assert "SecretFiles" in str(info.value) and "allow_secret_env" in str(info.value)
    container = Container(image=IMAGE, env={"PASSWORD": SecretKey("db", "password")},
                          allow_secret_env="vendor image reads only env")
    assert render(container)["env"][0]["valueFrom"] == {
        "secretKeyRef": {"name": "db", "key": "password"}
    }


def test_unused_opt_out_rejected() -> None:
    with pytest.raises(ValidationError, match="allow_secret_env is set but nothing"):
        Container(image=IMAGE, allow_secret_env="just in case")


def test_unknown_field_path_rejected() -> None:
    from kubegen import FieldRef

    with pytest.raises(ValidationError) as info:
        FieldRef("spec.hostname")
    assert "metadata.name" in str(info.value) and "Downward" in str(info.value)


# -- resources ---------------------------------------------------------------------------------


def test_limits_default_to_requests() -> None:
    container = Container(image=IMAGE, resources=Resources(cpu=0.25, memory="512Mi"))
    assert render(container)["resources"] == {
        "limits": {"cpu": "250m", "memory": "512Mi"},
        "requests": {"cpu": "250m", "memory": "512Mi"},
    }


def test_cpu_limit_omitted_only_explicitly_and_annotated() -> None:
    stack = Stack("shop", namespace="shop")
    resources = Resources(cpu="1", memory="1Gi", allow_no_cpu_limit="latency-sensitive, no CFS")
    stack.add(Job("task", image=TAGGED, resources=resources))
    job = objects_by_kind(stack)[("Job", "task")]
    limits = pod_spec(job)["containers"][0]["resources"]["limits"]
    assert limits == {"memory": "1Gi"}
    assert job["metadata"]["annotations"] == {
        "kubegen.dev/opt-out-no-cpu-limit.task": "latency-sensitive, no CFS"
    }


def test_cpu_limit_policy_per_stack() -> None:
    stack = Stack("shop", namespace="shop",
                  defaults=StackDefaults(allow_no_cpu_limit="we burst; see ADR-12"))
    container = job_container(stack)
    assert "cpu" not in container["resources"]["limits"]
    job = objects_by_kind(stack)[("Job", "task")]
    assert job["metadata"]["annotations"]["kubegen.dev/opt-out-no-cpu-limit.task"] == (
        "we burst; see ADR-12"
    )


def test_explicit_cpu_limit_wins_over_stack_policy() -> None:
    stack = Stack("shop", namespace="shop", defaults=StackDefaults(allow_no_cpu_limit="burst"))
    container = job_container(stack, resources=Resources(cpu="1", memory="1Gi", cpu_limit="2"))
    assert container["resources"]["limits"]["cpu"] == "2"
    assert "annotations" not in objects_by_kind(stack)[("Job", "task")]["metadata"]


def test_cpu_limit_and_opt_out_contradict() -> None:
    with pytest.raises(ValidationError, match="contradict"):
        Resources(cpu="1", memory="1Gi", cpu_limit="2", allow_no_cpu_limit="x")


def test_ephemeral_storage() -> None:
    resources = Resources(cpu="1", memory="1Gi", ephemeral_storage="1Gi")
    rendered = resources.render(omit_cpu_limit=False)
    assert rendered["requests"]["ephemeral-storage"] == "1Gi"
    assert rendered["limits"]["ephemeral-storage"] == "1Gi"


# -- probes ------------------------------------------------------------------------------------


def test_probe_kinds_render() -> None:
    container = Container(
        image=IMAGE,
        ports=[Port(8080, name="http"), Port(9000, name="grpc")],
        readiness=GrpcProbe(port="grpc", service="ready", period="5s"),
        liveness=HttpProbe("/healthz", headers={"X-Probe": "1"}, failure_threshold=5,
                           timeout=2, initial_delay="10s"),
        startup=TcpProbe(port=8080, period=5, failure_threshold=30),
    )
    out = render(container)
    assert out["readinessProbe"] == {"grpc": {"port": 9000, "service": "ready"}, "periodSeconds": 5}
    assert out["livenessProbe"] == {
        "httpGet": {"path": "/healthz", "port": "http",
                    "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
        "initialDelaySeconds": 10,
        "timeoutSeconds": 2,
        "failureThreshold": 5,
    }
    assert out["startupProbe"] == {
        "tcpSocket": {"port": "http"}, "periodSeconds": 5, "failureThreshold": 30,
    }
    exec_probe = Container(image=IMAGE, liveness=ExecProbe(["cat", "/tmp/ok"]))
    assert render(exec_probe)["livenessProbe"] == {"exec": {"command": ["cat", "/tmp/ok"]}}


def test_probe_on_undeclared_port_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        Container(image=IMAGE, ports=[Port(8080, name="http")],
                  readiness=HttpProbe("/", port="admin"))
    assert "does not declare" in str(info.value) and "http=8080" in str(info.value)
    assert (info.value.field, info.value.value) == ("readiness.port", "admin")


def test_probe_without_any_port_rejected() -> None:
    with pytest.raises(ValidationError, match="declares none") as info:
        Container(image=IMAGE, liveness=TcpProbe())
    assert info.value.field == "liveness"


def test_probe_threshold_error_names_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        Container(image=IMAGE, ports=[8080], liveness=TcpProbe(success_threshold=2))
    assert (info.value.field, info.value.value) == ("liveness.success_threshold", 2)


def test_probe_path_must_be_absolute() -> None:
    with pytest.raises(ValidationError) as info:
        HttpProbe("healthz")
    assert info.value.field == "path" and "'/healthz'" in str(info.value)


def test_liveness_success_threshold_must_be_one() -> None:
    with pytest.raises(ValidationError, match="success_threshold must be 1"):
        Container(image=IMAGE, ports=[80], liveness=HttpProbe("/", success_threshold=2))


# -- mounts ------------------------------------------------------------------------------------


def test_writable_paths_become_empty_dirs() -> None:
    stack = Stack("shop", namespace="shop")
    container = job_container(stack, writable=["/tmp", "/var/cache/nginx"])
    assert container["volumeMounts"] == [
        {"name": "task-tmp", "mountPath": "/tmp"},
        {"name": "task-var-cache-nginx", "mountPath": "/var/cache/nginx"},
    ]
    volumes = pod_spec(objects_by_kind(stack)[("Job", "task")])["volumes"]
    assert volumes == [{"name": "task-tmp", "emptyDir": {}},
                       {"name": "task-var-cache-nginx", "emptyDir": {}}]


def test_mount_options() -> None:
    stack = Stack("shop", namespace="shop")
    container = job_container(
        stack,
        mounts={
            "/cache": EmptyDir(name="cache", size_limit="1Gi", memory=True),
            "/etc/tls/tls.crt": Mount(SecretFiles("tls"), sub_path="tls.crt"),
        },
    )
    assert container["volumeMounts"] == [
        {"name": "cache", "mountPath": "/cache"},
        {"name": "secret-tls", "mountPath": "/etc/tls/tls.crt", "subPath": "tls.crt",
         "readOnly": True},
    ]
    volumes = pod_spec(objects_by_kind(stack)[("Job", "task")])["volumes"]
    assert volumes[0] == {"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}}
    assert volumes[1] == {
        "name": "secret-tls", "secret": {"secretName": "tls", "defaultMode": 0o440}
    }


@pytest.mark.parametrize("path", ["tmp", "/", "/a/../etc"])
def test_mount_paths_must_be_absolute(path: str) -> None:
    with pytest.raises(ValidationError, match="absolute path"):
        Container(image=IMAGE, writable=[path])


def test_path_both_writable_and_mounted_rejected() -> None:
    with pytest.raises(ValidationError, match="both in writable and in mounts"):
        Container(image=IMAGE, writable=["/data"], mounts={"/data": EmptyDir(name="d")})


# -- securityContext and pull policy -----------------------------------------------------------


def test_capabilities() -> None:
    bind = Container(image=IMAGE, capabilities=["NET_BIND_SERVICE"])
    assert render(bind)["securityContext"]["capabilities"] == {
        "add": ["NET_BIND_SERVICE"], "drop": ["ALL"]
    }
    with pytest.raises(ValidationError) as info:
        Container(image=IMAGE, capabilities=["NET_ADMIN"])
    assert "allow_capabilities" in str(info.value) and "NET_BIND_SERVICE" in str(info.value)
    with pytest.raises(ValidationError) as info:
        Container(image=IMAGE, capabilities=["CAP_NET_ADMIN"])
    assert "use 'NET_ADMIN'" in str(info.value)


def test_weakened_security_context() -> None:
    container = Container(image=IMAGE, allow_privileged="CNI plugin",
                          allow_writable_root="legacy image writes everywhere")
    context = render(container)["securityContext"]
    assert context["privileged"] is True
    assert context["allowPrivilegeEscalation"] is True
    assert context["readOnlyRootFilesystem"] is False


@pytest.mark.parametrize("policy", ["IfNotPresent", "Never"])
def test_cached_pull_policy_needs_digest(policy: str) -> None:
    with pytest.raises(ValidationError) as info:
        Container(image=TAGGED, pull_policy=policy)
    assert "digest-pinned" in str(info.value)
    assert render(Container(image=IMAGE, pull_policy=policy))["imagePullPolicy"] == policy


def test_stack_pull_policy_always() -> None:
    ctx = ContainerContext(name="app", defaults=StackDefaults(pull_policy="Always"),
                           run_as_non_root=True)
    assert render(Container(image=IMAGE), ctx)["imagePullPolicy"] == "Always"


def test_multi_container_names_required() -> None:
    with pytest.raises(ValidationError, match=r"containers\[1\] needs a name"):
        Deployment("api", containers=[Container(image=IMAGE), Container(image=IMAGE)])


def test_configmap_key_checked_at_construction() -> None:
    settings = ConfigMap("settings", data={"A": "1"})
    with pytest.raises(ValidationError) as info:
        ConfigMapKey(settings, "B")
    assert "has no key 'B'" in str(info.value) and "keys: A" in str(info.value)
