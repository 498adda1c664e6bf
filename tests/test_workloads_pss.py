"""Property: any workload built through the public API without opt-outs meets every PSS
baseline and restricted control (checked by tests/pss_checker.py, written from the PSS rules)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pss_checker import POD_KINDS, violations
from rbac_support import CLUSTER
from workload_support import IMAGE, TAGGED

from kubegen import (
    Claim,
    ConfigFiles,
    ConfigMap,
    ConfigMapKey,
    Container,
    CronJob,
    DaemonSet,
    Deployment,
    Downward,
    DownwardFiles,
    EmptyDir,
    ExecProbe,
    GrpcProbe,
    HostPath,
    HttpProbe,
    Job,
    Port,
    Resources,
    Rule,
    SecretFiles,
    SecretRef,
    Stack,
    StackDefaults,
    StatefulSet,
    TcpProbe,
    VolumeClaim,
)

try:  # the API schemas (a dependency of the policy layer) double-check every object
    import kubernetes_validate
except ImportError:  # pragma: no cover - the PSS check below still runs
    kubernetes_validate = None

SOURCES: dict[str, Any] = {
    "/etc/app": "settings",  # a fresh kubegen ConfigMap per example (a stack adopts what it reads)
    "/etc/ext": ConfigFiles("external"),
    "/run/secrets/db": SecretFiles(SecretRef("db")),
    "/etc/podinfo": DownwardFiles(),
    "/scratch": EmptyDir(name="scratch", size_limit="1Gi"),
}
ENV_VALUES = [
    "plain",
    "settings:LEVEL",
    Downward.pod_name(),
    Downward.pod_ip(),
    Downward.node_name(),
    Downward.memory_limit(divisor="1Mi"),
]


@st.composite
def probes(draw: st.DrawFn, port: Port) -> Any:
    kind = draw(st.sampled_from(["http", "tcp", "grpc", "exec"]))
    if kind == "http":
        return HttpProbe("/healthz", port=draw(st.sampled_from([None, port.port_name])))
    if kind == "tcp":
        return TcpProbe(port=port.number)
    if kind == "grpc":
        return GrpcProbe(port=port.port_name)
    return ExecProbe(["true"], period=draw(st.integers(1, 60)))


@st.composite
def containers(
    draw: st.DrawFn, index: int, *, name: str | None, serving: bool, settings: ConfigMap
) -> Container:
    count = draw(st.integers(0, 2)) if serving else 0
    ports = [
        Port(10000 + 100 * index + k, name=draw(st.sampled_from([None, f"p{index}x{k}"])))
        for k in range(count)
    ]
    fields: dict[str, Any] = {"image": draw(st.sampled_from([IMAGE, TAGGED]))}
    if ports:
        fields["ports"] = ports
        fields["readiness"] = draw(probes(ports[0]))
        fields["liveness"] = draw(probes(ports[-1]))
    env_names = draw(st.lists(st.sampled_from(["A", "B_C", "D.E", "F-G"]), unique=True))
    env = {n: draw(st.sampled_from(ENV_VALUES)) for n in env_names}
    fields["env"] = {
        n: ConfigMapKey(settings, "LEVEL") if v == "settings:LEVEL" else v for n, v in env.items()
    }
    fields["writable"] = draw(st.lists(st.sampled_from(["/tmp", "/var/cache", "/run"]),
                                       unique=True))
    mounts = draw(st.lists(st.sampled_from(sorted(SOURCES)), unique=True, max_size=3))
    fields["mounts"] = {
        path: ConfigFiles(settings) if SOURCES[path] == "settings" else SOURCES[path]
        for path in mounts
    }
    fields["capabilities"] = draw(st.sampled_from([[], ["NET_BIND_SERVICE"]]))
    if draw(st.booleans()):
        fields["resources"] = Resources(cpu=draw(st.sampled_from(["50m", "0.5", "2"])),
                                        memory=draw(st.sampled_from(["64Mi", "1Gi"])))
    return Container(name=name, **fields)


@st.composite
def pod_fields(draw: st.DrawFn, *, serving: bool) -> dict[str, Any]:
    mains = draw(st.integers(1, 2))
    # one kubegen ConfigMap per workload, shared by its containers (the stack adopts it)
    settings = ConfigMap("settings", data={"LEVEL": "info", "app.conf": "x=1"})
    fields: dict[str, Any] = {
        "containers": [
            draw(containers(i, name=None if i == 0 and draw(st.booleans()) else f"main{i}",
                            serving=serving, settings=settings))
            for i in range(mains)
        ],
        "init_containers": [
            draw(containers(10 + i, name=f"init{i}", serving=False, settings=settings))
            for i in range(draw(st.integers(0, 2)))
        ],
        "sidecars": [
            draw(containers(20 + i, name=f"side{i}", serving=serving, settings=settings))
            for i in range(draw(st.integers(0, 1)))
        ],
    }
    for field in ("run_as_user", "run_as_group", "fs_group"):
        fields[field] = draw(st.one_of(st.none(), st.integers(1, 2**31 - 1)))
    fields["seccomp_profile"] = draw(st.sampled_from([None, "profiles/app.json"]))
    fields["service_links"] = draw(st.booleans())
    return fields


@st.composite
def workloads(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"]))
    fields = draw(pod_fields(serving=kind not in ("Job", "CronJob")))
    if kind in ("Deployment", "StatefulSet"):
        fields["replicas"] = draw(st.integers(0, 4))
        fields["topology_spread"] = draw(st.sampled_from(["nodes", "zones", "none"]))
    if kind == "Deployment":
        return Deployment("app", **fields)
    if kind == "StatefulSet":
        if draw(st.booleans()):
            fields["storage"] = "1Gi"
        fields["claims"] = [VolumeClaim("extra", size="5Gi")]
        fields["containers"][0].mounts["/extra"] = Claim("extra")
        return StatefulSet("app", **fields)
    if kind == "DaemonSet":
        return DaemonSet("app", **fields)
    if kind == "Job":
        return Job("app", **fields)
    return CronJob("app", schedule="*/5 * * * *", **fields)


def _stack(workload: Any, access: str, defaults: StackDefaults) -> Stack:
    stack = Stack("shop", namespace="shop", defaults=defaults, cluster=CLUSTER)
    stack.add(workload)
    if access == "grant":
        workload.grant(Rule.read("configmaps"))
    elif access == "projected":
        workload.grant(Rule.read("configmaps"), expiration_seconds=600, audience="vault")
    return stack


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    workloads(),
    st.sampled_from(["none", "grant", "projected"]),
    st.builds(StackDefaults, run_as_user=st.one_of(st.none(), st.integers(1, 65535)),
              pull_policy=st.sampled_from(["auto", "Always"])),
)
def test_every_workload_meets_pss_restricted(workload: Any, access: str,
                                             defaults: StackDefaults) -> None:
    stack = _stack(workload, access, defaults)
    pods = [obj for obj in stack.objects() if obj.kind in POD_KINDS]
    assert len(pods) == 1
    body = pods[0].body
    assert violations(body) == []
    if kubernetes_validate is not None:  # and every object is valid for the API server
        for obj in stack.objects():
            kubernetes_validate.validate(obj.body, "1.33", strict=True)
    assert "annotations" not in body["metadata"] or not any(
        key.startswith("kubegen.dev/opt-out-") for key in body["metadata"]["annotations"]
    )


# The checker must see what it is meant to see: each opt-out breaks exactly its control.
@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"allow_host_network": "r"}, "hostNetwork is set"),
        ({"allow_host_pid": "r"}, "hostPID is set"),
        ({"allow_host_ipc": "r"}, "hostIPC is set"),
        ({"allow_run_as_root": "r", "run_as_user": 0}, "pod runAsUser 0"),
        ({"allow_run_as_root": "r"}, "runAsNonRoot not true"),
        ({"allow_unconfined_seccomp": "r"}, "seccompProfile {'type': 'Unconfined'}"),
        ({"mounts": {"/h": HostPath("/var/log", reason="r")}}, "is a hostPath"),
        ({"allow_privileged": "r"}, "privileged"),
        ({"allow_privilege_escalation": "r"}, "allowPrivilegeEscalation is not false"),
        ({"allow_capabilities": "r", "capabilities": ["NET_RAW"]}, "beyond the baseline set"),
        ({"allow_capabilities": "r", "capabilities": ["CHOWN"]}, "beyond NET_BIND_SERVICE"),
        ({"allow_host_ports": "r", "ports": [Port(80, host_port=80)]}, "hostPort 80"),
    ],
)
def test_checker_catches_each_opt_out(fields: dict[str, Any], expected: str) -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Job("app", image=TAGGED, **fields))
    (body,) = [o.body for o in stack.objects() if o.kind == "Job"]
    assert any(expected in v for v in violations(body)), violations(body)


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"procMount": "Unmasked"}, "procMount"),
        ({"seLinuxOptions": {"type": "spc_t"}}, "seLinuxOptions"),
        ({"appArmorProfile": {"type": "Unconfined"}}, "appArmorProfile"),
        ({"windowsOptions": {"hostProcess": True}}, "hostProcess"),
        ({"capabilities": {"drop": ["NET_RAW"]}}, "drop lacks ALL"),
    ],
)
def test_checker_catches_raw_container_fields(patch: dict[str, Any], expected: str) -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Job("app", image=TAGGED))
    (body,) = [o.body for o in stack.objects() if o.kind == "Job"]
    body["spec"]["template"]["spec"]["containers"][0]["securityContext"].update(patch)
    assert any(expected in v for v in violations(body))


def test_checker_catches_pod_level_fields() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Job("app", image=TAGGED))
    (body,) = [o.body for o in stack.objects() if o.kind == "Job"]
    pod = body["spec"]["template"]
    pod["metadata"]["annotations"] = {
        "container.apparmor.security.beta.kubernetes.io/app": "unconfined"
    }
    pod["spec"]["securityContext"]["sysctls"] = [{"name": "kernel.msgmax", "value": "1"}]
    pod["spec"]["securityContext"].pop("seccompProfile")
    pod["spec"]["volumes"] = [{"name": "n", "nfs": {"server": "x", "path": "/"}}]
    pod["spec"]["containers"][0]["livenessProbe"] = {"tcpSocket": {"port": 1, "host": "1.2.3.4"}}
    found = " | ".join(violations(body))
    for expected in ("annotation container.apparmor", "sysctl kernel.msgmax",
                     "seccompProfile not set", "type(s) ['nfs']", "tcpSocket.host"):
        assert expected in found
