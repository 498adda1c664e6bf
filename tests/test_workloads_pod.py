"""The pod template: API access, init containers and sidecars, ids, host access, checksums."""

from __future__ import annotations

from typing import Any

import pytest
from rbac_support import CLUSTER
from workload_support import IMAGE, TAGGED, objects_by_kind, pod_spec

from kubegen import (
    ConfigFiles,
    ConfigMap,
    ConfigMapKey,
    Container,
    Deployment,
    DownwardFiles,
    HostPath,
    HttpProbe,
    Job,
    Port,
    Rule,
    SealedSecret,
    Secret,
    SecretFiles,
    SecretRef,
    Stack,
    ValidationError,
)

SEALED = "Ag" + "B" * 726


def _job(stack: Stack, **fields: Any) -> dict[str, Any]:
    stack.add(Job("task", image=TAGGED, **fields))
    return objects_by_kind(stack)[("Job", "task")]


def test_no_token_without_api_access() -> None:
    pod = pod_spec(_job(Stack("shop", namespace="shop")))
    assert pod["automountServiceAccountToken"] is False
    assert "volumes" not in pod


def test_granted_workload_mounts_a_projected_expiring_token() -> None:
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    job = stack.add(
        Job("task", image=TAGGED, init_containers=[Container(name="init", image=TAGGED)])
    )
    job.grant(Rule.read("configmaps"), expiration_seconds=900, audience="vault")
    objects = objects_by_kind(stack)
    assert objects[("ServiceAccount", "task")]["automountServiceAccountToken"] is False
    pod = pod_spec(objects[("Job", "task")])
    assert pod["automountServiceAccountToken"] is False
    api, audiences = pod["volumes"]
    assert api["name"] == "kube-api-access"
    sources = api["projected"]["sources"]
    assert sources[0] == {"serviceAccountToken": {"expirationSeconds": 900, "path": "token"}}
    assert sources[1]["configMap"]["name"] == "kube-root-ca.crt"
    assert sources[2]["downwardAPI"]["items"][0]["path"] == "namespace"
    assert audiences["projected"]["sources"] == [
        {"serviceAccountToken": {"audience": "vault", "expirationSeconds": 900, "path": "vault"}}
    ]
    mounts = [
        {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
         "readOnly": True},
        {"name": "audience-tokens", "mountPath": "/var/run/secrets/tokens", "readOnly": True},
    ]
    assert pod["containers"][0]["volumeMounts"] == mounts
    assert "volumeMounts" not in pod["initContainers"][0]


def test_init_containers_and_sidecars_hardened_alike() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Deployment(
        "api",
        image=IMAGE,
        port=Port(8080, name="http"),
        readiness=HttpProbe("/ready"),
        liveness=HttpProbe("/healthz"),
        init_containers=[Container(name="migrate", image=TAGGED, args=["migrate"])],
        sidecars=[Container(name="proxy", image=TAGGED)],
    ))
    pod = pod_spec(objects_by_kind(stack)[("Deployment", "api")])
    migrate, proxy = pod["initContainers"]
    assert migrate["name"] == "migrate" and "restartPolicy" not in migrate
    assert proxy["name"] == "proxy" and proxy["restartPolicy"] == "Always"
    main = pod["containers"][0]
    for container in (migrate, proxy):
        assert container["securityContext"] == main["securityContext"]
        assert container["resources"] == main["resources"]


def test_serving_sidecar_needs_probes() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Deployment("api", image=IMAGE, allow_no_probes="worker",
                         sidecars=[Container(name="metrics", image=TAGGED, ports=[9090])]))
    with pytest.raises(ValidationError, match="container\\(s\\) metrics serve traffic"):
        stack.objects()


def test_ids_from_workload_and_root_needs_reason() -> None:
    pod = pod_spec(_job(Stack("shop", namespace="shop"), run_as_user=20000, run_as_group=20001,
                        fs_group=20002))
    assert pod["securityContext"]["runAsUser"] == 20000
    assert pod["securityContext"]["runAsGroup"] == 20001
    assert pod["securityContext"]["fsGroup"] == 20002
    for field in ("run_as_user", "run_as_group", "fs_group"):
        with pytest.raises(ValidationError) as info:
            Job("task", image=TAGGED, **{field: 0})
        assert f"{field}=0 runs as root" in str(info.value)
        assert "allow_run_as_root" in str(info.value)
        assert (info.value.field, info.value.value) == (field, 0)
        assert f"field '{field}' = 0: " in str(info.value)


def test_run_as_root_opt_out() -> None:
    job = _job(Stack("shop", namespace="shop"), run_as_user=0,
               allow_run_as_root="image needs root to bind 80")
    pod = pod_spec(job)
    assert pod["securityContext"]["runAsNonRoot"] is False
    assert pod["containers"][0]["securityContext"]["runAsNonRoot"] is False
    assert job["metadata"]["annotations"] == {
        "kubegen.dev/opt-out-run-as-root": "image needs root to bind 80"
    }


def test_host_namespaces_only_with_reason() -> None:
    job = _job(Stack("shop", namespace="shop"), allow_host_network="netdiag",
               allow_host_pid="profiler", allow_host_ipc="shm with host")
    pod = pod_spec(job)
    assert (pod["hostNetwork"], pod["hostPID"], pod["hostIPC"]) == (True, True, True)
    assert set(job["metadata"]["annotations"]) == {
        "kubegen.dev/opt-out-host-network",
        "kubegen.dev/opt-out-host-pid",
        "kubegen.dev/opt-out-host-ipc",
    }


def test_host_path_needs_reason() -> None:
    with pytest.raises(ValidationError) as info:
        HostPath("/var/log")  # type: ignore[call-arg]
    assert (info.value.resource, info.value.field) == ("HostPath", "reason")
    assert "is required (a reason" in str(info.value)
    with pytest.raises(ValidationError) as info:
        Job("task", image=TAGGED, allow_host_path="logs")
    assert info.value.field == "allow_host_path"
    assert "HostPath('/var/log', reason='why')" in str(info.value)


def test_seccomp_profiles() -> None:
    local = pod_spec(_job(Stack("a", namespace="a"), seccomp_profile="profiles/app.json"))
    assert local["securityContext"]["seccompProfile"] == {
        "type": "Localhost", "localhostProfile": "profiles/app.json"
    }
    unconfined = _job(Stack("b", namespace="b"), allow_unconfined_seccomp="strace debugging")
    assert pod_spec(unconfined)["securityContext"]["seccompProfile"] == {"type": "Unconfined"}
    assert "kubegen.dev/opt-out-unconfined-seccomp" in unconfined["metadata"]["annotations"]


def test_checksums_follow_config_content() -> None:
    def render(value: str) -> dict[str, str]:
        stack = Stack("shop", namespace="shop")
        settings = stack.add(ConfigMap("settings", data={"LEVEL": value}))
        files = stack.add(ConfigMap("files", data={"app.conf": "x"}))
        secret = stack.add(Secret("plain", data={"k": "v"}, allow_plaintext="test fixture"))
        job = _job(stack, env={"LEVEL": ConfigMapKey(settings, "LEVEL")},
                   mounts={"/etc/app": ConfigFiles(files), "/etc/ext": ConfigFiles("external"),
                           "/run/s": SecretFiles(secret), "/run/r": SecretFiles(SecretRef("x"))})
        return job["spec"]["template"]["metadata"]["annotations"]  # type: ignore[no-any-return]

    info, debug = render("info"), render("debug")
    assert set(info) == {
        "configmap.checksum.kubegen.dev/settings",
        "configmap.checksum.kubegen.dev/files",
        "secret.checksum.kubegen.dev/plain",
    }
    assert info["configmap.checksum.kubegen.dev/settings"] != (
        debug["configmap.checksum.kubegen.dev/settings"]
    )
    assert info["configmap.checksum.kubegen.dev/files"] == (
        debug["configmap.checksum.kubegen.dev/files"]
    )
    assert all(len(v) == 64 for v in info.values())


def test_sealed_secret_checksum() -> None:
    sealed = SealedSecret("db", encrypted_data={"password": SEALED})
    job = _job(Stack("shop", namespace="shop"), mounts={"/run/db": SecretFiles(sealed)})
    annotations = job["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"secret.checksum.kubegen.dev/db": sealed.checksum()}


def test_same_source_in_two_containers_is_one_volume() -> None:
    settings = ConfigMap("settings", data={"a": "1"})
    job = _job(Stack("shop", namespace="shop"), mounts={"/etc/a": ConfigFiles(settings)},
               sidecars=[Container(name="side", image=TAGGED,
                                   mounts={"/etc/a": ConfigFiles(settings)})])
    volumes = pod_spec(job)["volumes"]
    assert [v["name"] for v in volumes] == ["config-settings"]


def test_conflicting_volume_names_rejected() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Job("task", image=TAGGED, mounts={
        "/a": ConfigFiles("one", name="cfg"), "/b": ConfigFiles("two", name="cfg"),
    }))
    with pytest.raises(ValidationError, match="both be named 'cfg'"):
        stack.objects()


def test_downward_files_volume() -> None:
    job = _job(Stack("shop", namespace="shop"), mounts={"/etc/podinfo": DownwardFiles()})
    (volume,) = pod_spec(job)["volumes"]
    assert volume == {"name": "podinfo", "downwardAPI": {"items": [
        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
        {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}},
    ]}}


def test_pod_metadata_and_scheduling() -> None:
    job = _job(Stack("shop", namespace="shop"), component="worker",
               pod_labels={"team": "payments"}, pod_annotations={"prometheus.io/scrape": "true"},
               node_selector={"pool": "batch"}, priority_class="low",
               tolerations=[{"key": "batch", "operator": "Exists", "effect": "NoSchedule"}],
               termination_grace="45s", service_links=True)
    template = job["spec"]["template"]
    assert template["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
    assert template["metadata"]["labels"]["team"] == "payments"
    assert template["metadata"]["annotations"] == {"prometheus.io/scrape": "true"}
    pod = template["spec"]
    assert pod["nodeSelector"] == {"pool": "batch"}
    assert pod["priorityClassName"] == "low"
    assert pod["tolerations"][0]["key"] == "batch"
    assert pod["terminationGracePeriodSeconds"] == 45
    assert pod["enableServiceLinks"] is True


def test_workload_needs_a_container() -> None:
    with pytest.raises(ValidationError) as info:
        Job("task")
    assert "image=" in str(info.value) and "container=" in str(info.value)


def test_duplicate_container_names_rejected() -> None:
    with pytest.raises(ValidationError, match="used more than once"):
        Job("task", image=TAGGED, init_containers=[Container(name="task", image=TAGGED)])


def test_port_clash_across_containers_rejected() -> None:
    with pytest.raises(ValidationError, match="declared by two containers"):
        Job("task", image=TAGGED, ports=[8080],
            sidecars=[Container(name="side", image=TAGGED, ports=[8080])])


def test_file_mode_follows_fs_group() -> None:
    from kubegen import StackDefaults

    mounts = {"/etc/a": ConfigFiles("cfg"), "/run/s": SecretFiles("sec", mode=0o400)}
    with_group = pod_spec(_job(Stack("a", namespace="a"), mounts=mounts))["volumes"]
    assert with_group[0]["configMap"]["defaultMode"] == 0o440
    assert with_group[1]["secret"]["defaultMode"] == 0o400
    no_group = Stack("b", namespace="b", defaults=StackDefaults(fs_group=None))
    volumes = pod_spec(_job(no_group, mounts=mounts))["volumes"]
    assert "fsGroup" not in pod_spec(objects_by_kind(no_group)[("Job", "task")])["securityContext"]
    assert volumes[0]["configMap"]["defaultMode"] == 0o444
    assert volumes[1]["secret"]["defaultMode"] == 0o400


def test_opt_outs_follow_field_changes() -> None:
    stack = Stack("shop", namespace="shop")
    job = stack.add(Job("task", image=TAGGED, allow_host_network="debugging"))
    assert "kubegen.dev/opt-out-host-network" in objects_by_kind(stack)[("Job", "task")][
        "metadata"]["annotations"]
    job.allow_host_network = None
    assert "annotations" not in objects_by_kind(stack)[("Job", "task")]["metadata"]


def test_component_label_checked() -> None:
    with pytest.raises(ValidationError) as info:
        Job("task", image=TAGGED, component="not a label!")
    assert info.value.field == "component" and "label value" in str(info.value)
