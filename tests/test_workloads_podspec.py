"""Pod and container fields real workloads need (kubegen/_builders/workloads/podspec.py and the
fields it renders): pull secrets, ids, DNS, hooks, mount propagation, downward API items,
rollout strategies. Every rendered variant is checked against the strict Kubernetes schema.
"""

from __future__ import annotations

from typing import Any

import pytest
from workload_support import TAGGED, objects_by_kind, pod_spec

from kubegen import (
    CoherenceError,
    Container,
    DaemonSet,
    Deployment,
    DNSConfig,
    Downward,
    DownwardFiles,
    FieldRef,
    Hook,
    HostPath,
    Job,
    Mount,
    NodeAffinity,
    NodeTerm,
    PodAffinity,
    Port,
    ResourceRef,
    Stack,
    StackDefaults,
    StatefulSet,
    TcpProbe,
    Toleration,
    ValidationError,
    lint,
)

kv = pytest.importorskip("kubernetes_validate")
PROBES: dict[str, Any] = {"readiness": TcpProbe(), "liveness": TcpProbe()}


def _objects(*resources: Any, defaults: StackDefaults | None = None) -> dict[Any, Any]:
    stack = Stack("shop", namespace="shop", defaults=defaults)
    for resource in resources:
        stack.add(resource)
    return objects_by_kind(stack)


def _pod(resource: Any, **kwargs: Any) -> dict[str, Any]:
    return pod_spec(_objects(resource, **kwargs)[(resource.kind, resource.name)])


def test_pull_secrets_groups_and_fs_group_policy() -> None:
    pod = _pod(Deployment("api", image=TAGGED, image_pull_secrets=["registry", "mirror"],
                          supplemental_groups=[20000, 20001],
                          fs_group_change_policy="OnRootMismatch"))
    assert pod["imagePullSecrets"] == [{"name": "registry"}, {"name": "mirror"}]
    assert pod["securityContext"] == {
        "fsGroup": 10001, "fsGroupChangePolicy": "OnRootMismatch", "runAsGroup": 10001,
        "runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"},
        "supplementalGroups": [20000, 20001],
    }


def test_root_group_and_fs_group_policy_without_fs_group_are_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        Deployment("api", image=TAGGED, supplemental_groups=[0])
    assert caught.value.field == "supplemental_groups"
    assert "allow_run_as_root" in str(caught.value.fix)
    Deployment("api", image=TAGGED, supplemental_groups=[0], allow_run_as_root="legacy image")
    with pytest.raises(ValidationError, match="must be at least 0"):
        Deployment("api", image=TAGGED, supplemental_groups=[-1])
    job = Job("once", image=TAGGED, fs_group_change_policy="Always")
    with pytest.raises(ValidationError) as caught:
        _objects(job, defaults=StackDefaults(fs_group=None))
    assert caught.value.field == "fs_group_change_policy"
    assert "Job shop/once" in str(caught.value)


def test_sysctls_render_as_strings_in_name_order() -> None:
    """A non-root Apache (the wordpress image) binds port 80 through the safe sysctl, which
    NET_BIND_SERVICE cannot do for it (docker-library/wordpress#243, moby/moby#8460)."""
    stack = Stack("shop", namespace="shop")
    stack.add(Deployment("web", image=TAGGED, port=80, **PROBES, sysctls={
        "net.ipv4.ip_unprivileged_port_start": 0, "net.ipv4.ip_local_port_range": "1024 65535"}))
    pod = pod_spec(objects_by_kind(stack)[("Deployment", "web")])
    assert pod["securityContext"]["sysctls"] == [
        {"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"},
        {"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]
    assert lint(stack).ok


@pytest.mark.parametrize(("sysctls", "message"), [
    ({"Net.IPv4.forward": "1"}, "sysctl name 'Net.IPv4.forward' is not a kernel parameter name"),
    ({"net..ipv4": "1"}, "is not a kernel parameter name"),
    ({"net.ipv4.tcp_syncookies": ""}, "has no value the kernel can take"),
    ({"net.ipv4.tcp_syncookies": True}, "has no value the kernel can take"),
])
def test_sysctls_the_api_server_refuses(sysctls: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        Deployment("web", image=TAGGED, port=8080, **PROBES, sysctls=sysctls)
    assert "Fix: " in str(caught.value) and "Deployment web" in str(caught.value)


def test_an_unsafe_sysctl_is_refused_where_pod_security_would() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Deployment("web", image=TAGGED, port=8080, **PROBES,
                         sysctls={"kernel.msgmax": "65536"}))
    with pytest.raises(CoherenceError) as caught:
        stack.objects() and lint(stack)
    assert 'sysctl "kernel.msgmax" is not a safe sysctl' in str(caught.value)
    assert "securityContext.sysctls[0].name" in str(caught.value)


def test_container_ids_override_the_pods_and_root_needs_the_reason() -> None:
    proxy = Container(name="proxy", image=TAGGED, run_as_user=1337, run_as_group=1337)
    pod = _pod(Deployment("api", containers=[Container(image=TAGGED), proxy]))
    context = pod["containers"][1]["securityContext"]
    assert (context["runAsUser"], context["runAsGroup"], context["runAsNonRoot"]) == (
        1337, 1337, True)
    assert "runAsUser" not in pod["containers"][0]["securityContext"]
    root = Container(name="root", image=TAGGED, run_as_user=0)
    with pytest.raises(ValidationError) as caught:
        Deployment("api", containers=[Container(image=TAGGED), root])
    assert (caught.value.field, caught.value.value) == ("run_as_user", 0)
    assert "container root's run_as_user=0" in caught.value.message


def test_host_network_pods_resolve_services_and_dns_settings_render() -> None:
    agent = DaemonSet("agent", image=TAGGED, allow_host_network="node metrics")
    assert _pod(agent)["dnsPolicy"] == "ClusterFirstWithHostNet"
    own = DaemonSet("agent", image=TAGGED, allow_host_network="node metrics",
                    dns_policy="Default")
    assert _pod(own)["dnsPolicy"] == "Default"
    api = Deployment("api", image=TAGGED, dns_config=DNSConfig(
        searches=["corp.example.com."], options={"ndots": "2", "single-request-reopen": None}))
    pod = _pod(api)
    assert "dnsPolicy" not in pod
    assert pod["dnsConfig"] == {"searches": ["corp.example.com."], "options": [
        {"name": "ndots", "value": "2"}, {"name": "single-request-reopen"}]}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Deployment("api", image=TAGGED, dns_policy="None"),
         "leaves the pod without a resolver"),
        (lambda: DNSConfig(nameservers=["1.1.1.1", "8.8.8.8", "9.9.9.9", "1.0.0.1"]),
         "at most 3 nameservers"),
        (lambda: DNSConfig(nameservers=["dns.example.com"]), "is not an IP address"),
        (lambda: DNSConfig(searches=["Not_A_Domain"]), "DNS-1123"),
        (lambda: DNSConfig(), "an empty DNSConfig changes nothing"),
    ],
)
def test_dns_settings_the_api_server_refuses(build: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        build()


def test_lifecycle_hooks_render_and_check_their_port_and_the_grace_period() -> None:
    api = Deployment("api", image=TAGGED, port=Port(8080, name="http"), **PROBES,
                     post_start=Hook(command=["/bin/warm-cache"]),
                     pre_stop=Hook(sleep="10s"), termination_grace="45s")
    pod = _pod(api)
    assert pod["containers"][0]["lifecycle"] == {
        "postStart": {"exec": {"command": ["/bin/warm-cache"]}},
        "preStop": {"sleep": {"seconds": 10}},
    }
    assert pod["terminationGracePeriodSeconds"] == 45
    drain = Deployment("api", image=TAGGED, port=Port(8080, name="http"), **PROBES,
                       pre_stop=Hook(http="/drain", scheme="HTTPS"))
    assert _pod(drain)["containers"][0]["lifecycle"] == {
        "preStop": {"httpGet": {"path": "/drain", "port": "http", "scheme": "HTTPS"}}}
    with pytest.raises(ValidationError) as caught:
        Deployment("api", image=TAGGED, port=8080, pre_stop=Hook(http="/drain", port="web"))
    assert caught.value.field == "pre_stop.port"
    with pytest.raises(ValidationError) as caught:
        Deployment("api", image=TAGGED, pre_stop=Hook(sleep="45s"))
    assert caught.value.field == "pre_stop.sleep"
    assert "longer than the pod's termination grace period (30s)" in caught.value.message
    assert caught.value.fix == "sleep less, or raise termination_grace to at least '50s'"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "a hook does exactly one thing"),
        ({"sleep": "5s", "command": ["x"]}, "(got command, sleep)"),
        ({"command": []}, "at least 1 item"),
        ({"sleep": "5s", "port": 80}, "port= and scheme= belong to an http= hook"),
        ({"http": "drain"}, "must be an absolute URL path"),
        ({"sleep": 0}, "pauses at least 1s"),
    ],
)
def test_hooks_refuse(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Hook(**kwargs)


def test_mount_propagation_and_sub_path() -> None:
    exporter = DaemonSet(
        "node-exporter", image=TAGGED,
        allow_host_pid="reads host processes", allow_host_network="node network metrics",
        mounts={"/host/root": Mount(HostPath("/", reason="reads the node's filesystems"),
                                    propagation="HostToContainer")},
    )
    mount = _pod(exporter)["containers"][0]["volumeMounts"][0]
    assert mount == {"name": "host", "mountPath": "/host/root", "readOnly": True,
                     "mountPropagation": "HostToContainer"}
    with pytest.raises(ValidationError) as caught:
        Container(image=TAGGED, mounts={"/x": Mount(HostPath("/x", reason="r"),
                                                     propagation="Bidirectional")})
    assert caught.value.field == "mounts./x.propagation"
    Container(image=TAGGED, allow_privileged="csi node plugin",
              mounts={"/x": Mount(HostPath("/x", reason="r"), propagation="Bidirectional")})
    for bad in ("/etc/app.conf", "../app.conf", ""):
        with pytest.raises(ValidationError, match="must be a non-empty relative path"):
            Mount(HostPath("/etc", reason="r"), sub_path=bad)


def test_downward_files_items_field_and_resource_refs() -> None:
    files = DownwardFiles(items={
        "pod_name": Downward.pod_name(),
        "team": Downward.label("acme.dev/team"),
        "mem_limit_mb": ResourceRef("limits.memory", container="api", divisor="1Mi"),
    }, mode=0o444)
    pod = _pod(Deployment("api", image=TAGGED, mounts={"/etc/podinfo": files}))
    assert pod["volumes"][0] == {"name": "podinfo", "downwardAPI": {"defaultMode": 0o444,
                                                                    "items": [
        {"path": "pod_name", "fieldRef": {"fieldPath": "metadata.name"}},
        {"path": "team", "fieldRef": {"fieldPath": "metadata.labels['acme.dev/team']"}},
        {"path": "mem_limit_mb", "resourceFieldRef": {"containerName": "api",
                                                      "resource": "limits.memory",
                                                      "divisor": "1Mi"}},
    ]}}
    with_labels = DownwardFiles(labels=True, items={"uid": Downward.pod_uid()})
    items = with_labels.volume()["downwardAPI"]["items"]
    assert [i["path"] for i in items] == ["labels", "uid"]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ({"node": Downward.node_name()}, "is available as an env value, not in a downwardAPI"),
        ({"cpu": ResourceRef("limits.cpu")}, "must name its container"),
        ({"/abs": Downward.pod_name()}, "must be a relative path"),
        ({"../up": Downward.pod_name()}, "must be a relative path"),
    ],
)
def test_downward_items_the_api_server_refuses(items: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DownwardFiles(items=items)
    with pytest.raises(ValidationError, match="is where labels=True writes already"):
        DownwardFiles(labels=True, items={"labels": Downward.pod_name()})


def test_all_labels_point_to_the_volume_flag_that_writes_them() -> None:
    # KiA "Accessing pod metadata": the downward volume holds podName, labels, annotations...
    for what in ("labels", "annotations"):
        with pytest.raises(ValidationError) as caught:
            FieldRef(f"metadata.{what}")
        assert f"DownwardFiles({what}=True)" in str(caught.value)
        assert caught.value.fix is not None and f"Downward.{what[:-1]}('<key>')" in caught.value.fix
    both = DownwardFiles(labels=True, annotations=True, items={"podName": Downward.pod_name()})
    assert [item["path"] for item in both.volume()["downwardAPI"]["items"]] == [
        "labels", "annotations", "podName"]


def test_downward_resource_of_a_container_the_pod_lacks() -> None:
    files = DownwardFiles(items={"cpu": ResourceRef("limits.cpu", container="worker")})
    with pytest.raises(ValidationError) as caught:
        Deployment("api", image=TAGGED, mounts={"/podinfo": files})
    assert caught.value.field == "mounts./podinfo.items.cpu"
    assert caught.value.fix == "name one of its containers: api"


def test_update_strategies_and_paused() -> None:
    db = StatefulSet("db", image=TAGGED, strategy="OnDelete")
    assert _objects(db)[("StatefulSet", "db")]["spec"]["updateStrategy"] == {"type": "OnDelete"}
    with pytest.raises(ValidationError, match="partition= stages a RollingUpdate"):
        StatefulSet("db", image=TAGGED, strategy="OnDelete", partition=1)
    agent = DaemonSet("agent", image=TAGGED, strategy="OnDelete")
    assert _objects(agent)[("DaemonSet", "agent")]["spec"]["updateStrategy"] == {
        "type": "OnDelete"}
    with pytest.raises(ValidationError) as caught:
        DaemonSet("agent", image=TAGGED, strategy="OnDelete", max_unavailable=2)
    assert caught.value.field == "max_unavailable"
    api = Deployment("api", image=TAGGED, paused=True)
    spec = _objects(api)[("Deployment", "api")]["spec"]
    assert spec["paused"] is True
    assert list(spec).index("paused") < list(spec).index("template")  # beside the rollout
    assert "paused" not in _objects(Deployment("api", image=TAGGED))[("Deployment", "api")][
        "spec"]


def test_every_new_field_renders_schema_valid() -> None:
    stack = Stack("shop", namespace="shop")
    web = stack.add(Deployment(
        "web", image=TAGGED, port=Port(8080, name="http"), **PROBES, replicas=2, paused=True,
        image_pull_secrets=["registry"], supplemental_groups=[20000],
        fs_group_change_policy="OnRootMismatch", priority_class="high",
        sysctls={"net.ipv4.ip_unprivileged_port_start": 0},
        node_selector={"kubernetes.io/os": "linux"},
        tolerations=[Toleration("dedicated", value="web", effect="NoExecute", seconds=60)],
        node_affinity=NodeAffinity(require=[NodeTerm(labels={"kubernetes.io/arch": ["amd64"]})],
                                   prefer=[NodeTerm(labels={"disk": ["ssd"]}, weight=10)]),
        avoid=["self"], near=[PodAffinity({"app": "cache"}, topology="zones", required=True)],
        dns_config=DNSConfig(nameservers=["10.0.0.10"], options={"ndots": "2"}),
        dns_policy="None", termination_grace="60s",
        post_start=Hook(http="/warm"), pre_stop=Hook(sleep="15s"),
        mounts={"/etc/podinfo": DownwardFiles(items={
            "cpu": ResourceRef("requests.cpu", container="web", divisor="1m"),
            "name": Downward.pod_name()})},
    ))
    stack.add(Deployment("sidecar-ids", containers=[
        Container(image=TAGGED), Container(name="proxy", image=TAGGED, run_as_user=1337,
                                           run_as_group=1337)]))
    stack.add(StatefulSet("db", image=TAGGED, strategy="OnDelete", near=[web]))
    stack.add(DaemonSet("agent", image=TAGGED, strategy="OnDelete", tolerations=[Toleration()],
                        allow_host_network="node metrics",
                        mounts={"/host/proc": Mount(HostPath("/proc", reason="reads /proc"),
                                                    propagation="HostToContainer",
                                                    sub_path="self")}))
    problems = []
    for obj in stack.objects():
        try:
            kv.validate(obj.body, "1.33", strict=True)
        except kv.ValidationError as exc:
            problems.append(f"{obj.display}: {exc}")
    assert problems == []
