"""A Pod Security Standards checker written from the PSS rules (hardening-reference.md §b1).

``violations(body)`` returns one message per baseline or restricted control a pod-bearing object
breaks, as the newest Pod Security Standards define them. It knows nothing of kubegen's builders:
it reads manifests the way the admission controller does, so the property test can trust it
independently of the code under test (tests/test_policy_pss_fixtures.py holds it to the upstream
fixtures).
"""

from __future__ import annotations

from typing import Any

POD_KINDS = {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
BASELINE_CAPS = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem", "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
}
RESTRICTED_VOLUMES = {
    "configMap", "downwardAPI", "emptyDir", "projected", "secret", "csi",
    "persistentVolumeClaim", "ephemeral", "image",
}
SELINUX_TYPES = {None, "", "container_t", "container_init_t", "container_kvm_t"}


def pod_template(body: dict[str, Any]) -> dict[str, Any]:
    """metadata + spec of the pod an object runs."""
    kind = body["kind"]
    if kind == "Pod":
        return body
    spec = body["spec"]
    if kind == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]  # type: ignore[no-any-return]


def violations(body: dict[str, Any]) -> list[str]:
    """Every PSS baseline and restricted control the object's pod breaks."""
    pod = pod_template(body)
    spec = pod["spec"]
    annotations = pod.get("metadata", {}).get("annotations", {})
    containers = [
        (f"{field}[{i}]", c)
        for field in ("initContainers", "containers", "ephemeralContainers")
        for i, c in enumerate(spec.get(field, []))
    ]
    found: list[str] = []
    found += _host_namespaces(spec)
    found += _volumes(spec)
    found += _pod_context(spec)
    found += _apparmor_annotations(annotations)
    for where, container in containers:
        found += [f"{where}: {v}" for v in _container(container, spec)]
    if not containers:
        found.append("pod has no containers")
    return found


def _host_namespaces(spec: dict[str, Any]) -> list[str]:
    return [f"{key} is set" for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key)]


def _volumes(spec: dict[str, Any]) -> list[str]:
    out = []
    for volume in spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds:
            continue  # the API server defaults a volume without a source to an emptyDir
        if "hostPath" in kinds:
            out.append(f"volume {volume['name']} is a hostPath")
        if not kinds <= RESTRICTED_VOLUMES or len(kinds) != 1:
            out.append(f"volume {volume['name']} has type(s) {sorted(kinds)}")
    return out


def _seccomp_ok(context: dict[str, Any]) -> bool | None:
    """True: set to an allowed type; None: unset; False: forbidden type."""
    profile = context.get("seccompProfile")
    if profile is None:
        return None
    return profile.get("type") in ("RuntimeDefault", "Localhost")


def _shared_context_checks(context: dict[str, Any], where: str, userns: bool) -> list[str]:
    out = []
    if _seccomp_ok(context) is False:
        out.append(f"{where} seccompProfile {context['seccompProfile']}")
    selinux = context.get("seLinuxOptions") or {}
    if selinux.get("type") not in SELINUX_TYPES or selinux.get("user") or selinux.get("role"):
        out.append(f"{where} seLinuxOptions {selinux}")
    apparmor = context.get("appArmorProfile")
    if apparmor is not None and apparmor.get("type") not in ("RuntimeDefault", "Localhost"):
        out.append(f"{where} appArmorProfile {apparmor}")
    if (context.get("windowsOptions") or {}).get("hostProcess"):
        out.append(f"{where} windowsOptions.hostProcess")
    if context.get("runAsUser") == 0 and not userns:
        out.append(f"{where} runAsUser 0")
    if context.get("runAsNonRoot") is False and not userns:
        out.append(f"{where} runAsNonRoot false")
    return out


def _pod_context(spec: dict[str, Any]) -> list[str]:
    context = spec.get("securityContext") or {}
    out = _shared_context_checks(context, "pod", spec.get("hostUsers") is False)
    for sysctl in context.get("sysctls", []):
        if sysctl["name"] not in SAFE_SYSCTLS:
            out.append(f"pod sysctl {sysctl['name']}")
    return out


def _apparmor_annotations(annotations: dict[str, str]) -> list[str]:
    prefix = "container.apparmor.security.beta.kubernetes.io/"
    return [
        f"annotation {key}={value}"
        for key, value in annotations.items()
        if key.startswith(prefix)
        and value not in ("runtime/default", "")
        and not value.startswith("localhost/")
    ]


def _container(container: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    context = container.get("securityContext") or {}
    pod_context = spec.get("securityContext") or {}
    out = _shared_context_checks(context, "securityContext", spec.get("hostUsers") is False)
    if context.get("privileged"):
        out.append("privileged")
    if context.get("procMount") not in (None, "Default"):
        out.append(f"procMount {context['procMount']}")
    caps = context.get("capabilities") or {}
    added = set(caps.get("add") or [])
    if not added <= BASELINE_CAPS:
        out.append(f"capabilities beyond the baseline set: {sorted(added - BASELINE_CAPS)}")
    if not added <= {"NET_BIND_SERVICE"}:
        out.append(f"capabilities beyond NET_BIND_SERVICE: {sorted(added)}")
    if (spec.get("os") or {}).get("name") != "windows":  # Linux-only controls
        if context.get("allowPrivilegeEscalation") is not False:
            out.append("allowPrivilegeEscalation is not false")
        if "ALL" not in (caps.get("drop") or []):
            out.append("capabilities.drop lacks ALL")
        if _seccomp_ok(context) is None and _seccomp_ok(pod_context) is not True:
            out.append("seccompProfile not set on pod or container")
    if spec.get("hostUsers") is not False and not (
        context.get("runAsNonRoot") is True
        or (pod_context.get("runAsNonRoot") is True and "runAsNonRoot" not in context)
    ):
        out.append("runAsNonRoot not true")
    for port in container.get("ports", []):
        if port.get("hostPort"):
            out.append(f"hostPort {port['hostPort']}")
    out += _probe_hosts(container)
    return out


def _probe_hosts(container: dict[str, Any]) -> list[str]:
    handlers = [container.get(p) for p in ("livenessProbe", "readinessProbe", "startupProbe")]
    lifecycle = container.get("lifecycle") or {}
    handlers += [lifecycle.get("postStart"), lifecycle.get("preStop")]
    out = []
    for handler in handlers:
        for kind in ("httpGet", "tcpSocket"):
            host = ((handler or {}).get(kind) or {}).get("host")
            if host:
                out.append(f"probe/lifecycle {kind}.host {host}")
    return out
