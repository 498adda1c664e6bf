"""Pod Security Standards, baseline level (KG101–KG112): the controls that stop known escalations.

Field rules follow Pod Security Admission's ``policy/check_*.go`` as summarised in
hardening-reference b1: every container list (``containers``, ``initContainers``,
``ephemeralContainers``) is visited, pod-level and container-level settings are both checked, and
``hostUsers: false`` (a user namespace) relaxes ``procMount``. These are errors in every profile:
a namespace labelled ``enforce: baseline`` would reject the pod anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubegen._policy.context import POD_KINDS, LintContext, PodView, as_dict, as_list
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import E, rule
from kubegen._policy.rules import show

ALWAYS = Levels(baseline=E, restricted=E, prod=E)
PSS = "Pod Security Standards, baseline"
NSA = "NSA/CISA Kubernetes Hardening Guidance v1.2, 'Kubernetes Pod security'"
KIA = "Kubernetes in Action (2nd ed.), 'Securing cluster nodes and the network'"
TAGS = ("security", "pss-baseline")

#: Capabilities a container runtime grants by default; adding any other one is not baseline.
DEFAULT_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
        "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    }
)  # fmt: skip

#: Safe sysctls and the Kubernetes minor version whose Pod Security Admission first allows them.
#: The last two are listed without a version in hardening-reference b1 ("added in newer
#: versions"); kubegen accepts them for every target rather than guess a version.
SAFE_SYSCTLS: dict[str, tuple[int, int]] = {
    "kernel.shm_rmid_forced": (1, 0),
    "net.ipv4.ip_local_port_range": (1, 0),
    "net.ipv4.tcp_syncookies": (1, 0),
    "net.ipv4.ping_group_range": (1, 0),
    "net.ipv4.ip_unprivileged_port_start": (1, 0),
    "net.ipv4.ip_local_reserved_ports": (1, 27),
    "net.ipv4.tcp_keepalive_time": (1, 29),
    "net.ipv4.tcp_fin_timeout": (1, 29),
    "net.ipv4.tcp_keepalive_intvl": (1, 29),
    "net.ipv4.tcp_keepalive_probes": (1, 29),
    "net.ipv4.tcp_rmem": (1, 32),
    "net.ipv4.tcp_wmem": (1, 32),
    "net.ipv4.tcp_slow_start_after_idle": (1, 0),
    "net.ipv4.tcp_notsent_lowat": (1, 0),
}

SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


@rule(
    "KG101",
    name="host-namespaces",
    title="Pods do not share the node's network, PID or IPC namespace",
    levels=ALWAYS,
    reason="A pod in the host network namespace can sniff and bind node traffic and reach "
    "node-local services; host PID/IPC let it see and signal every process on the node.",
    sources=(f"{PSS}: Host Namespaces", NSA, KIA),
    fix="Remove hostNetwork, hostPID and hostIPC from the pod spec (or set them to false).",
    scanners=(
        "Polaris hostNetworkSet/hostPIDSet/hostIPCSet",
        "kube-linter host-network/host-pid/host-ipc",
        "kubescape C-0041, C-0038",
        "Checkov CKV_K8S_19, CKV_K8S_17, CKV_K8S_18",
    ),
    tags=TAGS,
    kinds=POD_KINDS,
)
def host_namespaces(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        for name in ("hostNetwork", "hostPID", "hostIPC"):
            value = pod.spec.get(name)
            if value not in (None, False):
                yield Hit(pod.obj, pod.field(name), f"{name} is {show(value)}; allowed: false")


@rule(
    "KG102",
    name="privileged",
    title="Containers do not run privileged",
    levels=ALWAYS,
    reason="A privileged container has every capability and all host devices: it is root on "
    "the node.",
    sources=(f"{PSS}: Privileged Containers", NSA, KIA),
    fix="Remove securityContext.privileged from the container (or set it to false).",
    scanners=(
        "Polaris runAsPrivileged",
        "kube-score container-security-context-privileged",
        "kube-linter privileged-container",
        "kubescape C-0057",
        "Checkov CKV_K8S_2, CKV_K8S_16",
    ),
    tags=TAGS,
    kinds=POD_KINDS,
)
def privileged(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        for c in pod.containers():
            value = c.security_context.get("privileged")
            if value not in (None, False):
                path = f"{c.path}.securityContext.privileged"
                yield Hit(pod.obj, path, f"{c.label} has privileged {show(value)}; allowed: false")


@rule(
    "KG103",
    name="capabilities-baseline",
    title="Containers add no capability beyond the runtime's default set",
    levels=ALWAYS,
    reason="Capabilities such as NET_RAW, SYS_ADMIN or NET_ADMIN give a container kernel "
    "powers (packet spoofing, mounts, routing) that lead to node compromise.",
    sources=(f"{PSS}: Capabilities", NSA),
    fix="Drop the capability from securityContext.capabilities.add; the baseline allows only "
    + ", ".join(sorted(DEFAULT_CAPABILITIES))
    + " (restricted allows only NET_BIND_SERVICE).",
    scanners=(
        "Polaris dangerousCapabilities, insecureCapabilities",
        "kube-linter drop-net-raw-capability",
        "kubescape C-0046",
        "Checkov CKV_K8S_24, CKV_K8S_25, CKV_K8S_28, CKV_K8S_39",
    ),
    tags=TAGS,
    kinds=POD_KINDS,
)
def capabilities_baseline(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        for c in pod.containers():
            added = as_list(as_dict(c.security_context.get("capabilities")).get("add"))
            bad = [cap for cap in added if not _is_default_capability(cap)]
            if bad:
                path = f"{c.path}.securityContext.capabilities.add"
                yield Hit(pod.obj, path, f"{c.label} adds {show(bad)}, outside the default set")


def _is_default_capability(cap: Any) -> bool:
    return isinstance(cap, str) and cap in DEFAULT_CAPABILITIES


@rule(
    "KG104",
    name="host-path",
    title="Pods mount no hostPath volume",
    levels=ALWAYS,
    reason="A hostPath volume exposes the node's filesystem (container runtime socket, "
    "kubelet credentials, /etc) to the pod.",
    sources=(f"{PSS}: HostPath Volumes", NSA, KIA),
    fix="Use an emptyDir, a ConfigMap/Secret, or a PersistentVolumeClaim instead of hostPath.",
    scanners=(
        "Polaris hostPathSet",
        "kube-linter sensitive-host-mounts, docker-sock",
        "kubescape C-0048, C-0045, C-0074",
        "Checkov CKV_K8S_27",
    ),
    tags=TAGS,
    kinds=POD_KINDS,
)
def host_path(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        for index, volume in enumerate(as_list(pod.spec.get("volumes"))):
            source = as_dict(volume).get("hostPath")
            if source is not None:
                name = as_dict(volume).get("name")
                path = pod.field(f"volumes[{index}].hostPath")
                where = show(as_dict(source).get("path"))
                yield Hit(pod.obj, path, f"volume {name!r} mounts host path {where}")


@rule(
    "KG105",
    name="host-ports",
    title="Containers bind no host port",
    levels=ALWAYS,
    reason="A hostPort binds the node's interface directly, bypassing Services and "
    "NetworkPolicies, and limits scheduling to one such pod per node.",
    sources=(f"{PSS}: Host Ports", NSA),
    fix="Remove ports[].hostPort and expose the port through a Service.",
    scanners=("Polaris hostPortSet", "kubescape C-0044", "Checkov CKV_K8S_26"),
    tags=TAGS,
    kinds=POD_KINDS,
)
def host_ports(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        for c in pod.containers():
            for index, port in enumerate(as_list(c.body.get("ports"))):
                value = as_dict(port).get("hostPort")
                if value not in (None, 0):
                    path = f"{c.path}.ports[{index}].hostPort"
                    yield Hit(pod.obj, path, f"{c.label} binds hostPort {show(value)}")


@rule(
    "KG106",
    name="probe-host",
    title="Probes and lifecycle hooks do not target another host",
    levels=ALWAYS,
    reason="A probe or hook with a host field makes the kubelet connect to an arbitrary "
    "address from the node's network, a server-side request forgery path. Pod Security "
    "Admission enforces this from Kubernetes 1.34; kubegen checks it for every target.",
    sources=(f"{PSS}: Host Probes / Lifecycle Hooks (v1.34+)",),
    fix="Remove the host field; probes and hooks then target the pod's own IP.",
    scanners=(),
    tags=TAGS,
    kinds=POD_KINDS,
)
def probe_host(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        for c in pod.containers():
            handlers: list[tuple[str, Any]] = [(p, c.body.get(p)) for p in PROBES]
            lifecycle = as_dict(c.body.get("lifecycle"))
            handlers += [(f"lifecycle.{h}", lifecycle.get(h)) for h in ("postStart", "preStop")]
            for where, handler in handlers:
                if not isinstance(handler, dict):  # no handler: nothing to target
                    continue
                for action in ("httpGet", "tcpSocket"):
                    host = as_dict(handler.get(action)).get("host")
                    if host not in (None, ""):
                        path = f"{c.path}.{where}.{action}.host"
                        yield Hit(pod.obj, path, f"{c.label} {where} targets host {show(host)}")


@rule(
    "KG107",
    name="apparmor",
    title="AppArmor is not disabled or overridden with an unknown profile",
    levels=ALWAYS,
    reason="AppArmor confines what a container process can touch; 'unconfined' removes that layer.",
    sources=(f"{PSS}: AppArmor", NSA),
    fix="Use appArmorProfile.type RuntimeDefault or Localhost (annotation runtime/default or "
    "localhost/<profile>), or leave it unset.",
    scanners=("Polaris linuxHardening", "kubescape C-0055"),
    tags=TAGS,
    kinds=POD_KINDS,
)
def apparmor(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        annotations = as_dict(pod.metadata.get("annotations"))
        meta = "metadata" if pod.obj.kind == "Pod" else pod.path.rpartition(".")[0] + ".metadata"
        for key, value in sorted(annotations.items()):
            if key.startswith(APPARMOR_ANNOTATION):
                ok = value in ("", "runtime/default") or str(value).startswith("localhost/")
                if not ok:
                    path = f"{meta}.annotations[{key}]"
                    yield Hit(pod.obj, path, f"AppArmor annotation is {show(value)}")
        yield from _apparmor_type(pod, pod.security_context, pod.field("securityContext"), "pod")
        for c in pod.containers():
            yield from _apparmor_type(pod, c.security_context, f"{c.path}.securityContext", c.label)


def _apparmor_type(pod: PodView, context: dict[str, Any], path: str, who: str) -> Iterator[Hit]:
    kind = as_dict(context.get("appArmorProfile")).get("type")
    if kind not in (None, "RuntimeDefault", "Localhost"):
        yield Hit(pod.obj, f"{path}.appArmorProfile.type", f"{who} AppArmor type is {show(kind)}")


@rule(
    "KG108",
    name="selinux",
    title="SELinux options keep a container type and set no user or role",
    levels=ALWAYS,
    reason="A custom SELinux type, user or role can lift the confinement the runtime's "
    "container_t type gives.",
    sources=(f"{PSS}: SELinux", NSA),
    fix="Remove seLinuxOptions.user/role; keep type unset or one of container_t, "
    "container_init_t, container_kvm_t.",
    scanners=("Polaris linuxHardening", "kubescape C-0055"),
    tags=TAGS,
    kinds=POD_KINDS,
)
def selinux(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        yield from _selinux(pod, pod.security_context, pod.field("securityContext"), "pod")
        for c in pod.containers():
            yield from _selinux(pod, c.security_context, f"{c.path}.securityContext", c.label)


def _selinux(pod: PodView, context: dict[str, Any], path: str, who: str) -> Iterator[Hit]:
    options = as_dict(context.get("seLinuxOptions"))
    kind = options.get("type")
    if kind is not None and not (isinstance(kind, str) and kind in SELINUX_TYPES):
        yield Hit(pod.obj, f"{path}.seLinuxOptions.type", f"{who} SELinux type is {show(kind)}")
    for name in ("user", "role"):
        if options.get(name) not in (None, ""):
            value = show(options.get(name))
            yield Hit(pod.obj, f"{path}.seLinuxOptions.{name}", f"{who} SELinux {name} is {value}")


@rule(
    "KG109",
    name="proc-mount",
    title="Containers keep the default masked /proc",
    levels=ALWAYS,
    reason="An Unmasked /proc exposes kernel interfaces the runtime normally hides; it is "
    "only harmless inside a user namespace (hostUsers: false).",
    sources=(f"{PSS}: /proc Mount Type",),
    fix="Remove securityContext.procMount (or set it to Default).",
    scanners=("Polaris procMount", "kube-linter unsafe-proc-mount"),
    tags=TAGS,
    kinds=POD_KINDS,
)
def proc_mount(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        if not pod.host_users:
            continue  # any procMount is allowed in a user namespace at baseline
        for c in pod.containers():
            value = c.security_context.get("procMount")
            if value not in (None, "Default"):
                path = f"{c.path}.securityContext.procMount"
                yield Hit(pod.obj, path, f"{c.label} has procMount {show(value)}")


@rule(
    "KG110",
    name="seccomp-baseline",
    title="Seccomp is never Unconfined",
    levels=ALWAYS,
    reason="Seccomp filters the syscalls a container may make; Unconfined opens the whole "
    "kernel attack surface.",
    sources=(f"{PSS}: Seccomp", NSA),
    fix="Set seccompProfile.type to RuntimeDefault (or Localhost) instead of Unconfined.",
    scanners=("Polaris linuxHardening", "kubescape C-0210", "Checkov CKV_K8S_31"),
    tags=TAGS,
    kinds=POD_KINDS,
)
def seccomp_baseline(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        contexts = [(pod.security_context, pod.field("securityContext"), "pod")]
        contexts += [(c.security_context, f"{c.path}.securityContext", c.label)
                     for c in pod.containers()]  # fmt: skip
        for context, path, who in contexts:
            kind = as_dict(context.get("seccompProfile")).get("type")
            if kind not in (None, "RuntimeDefault", "Localhost"):
                yield Hit(pod.obj, f"{path}.seccompProfile.type", f"{who} seccomp is {show(kind)}")


@rule(
    "KG111",
    name="sysctls",
    title="Pods set only safe, namespaced sysctls",
    levels=ALWAYS,
    reason="Unsafe sysctls change kernel settings shared with every pod on the node.",
    sources=(f"{PSS}: Sysctls",),
    fix="Remove the sysctl from spec.securityContext.sysctls, or tune it on the node.",
    scanners=("kube-linter unsafe-sysctls",),
    tags=TAGS,
    kinds=POD_KINDS,
)
def sysctls(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        for index, item in enumerate(as_list(pod.security_context.get("sysctls"))):
            name = as_dict(item).get("name")
            since = SAFE_SYSCTLS.get(str(name))
            if since is None or not ctx.at_least(*since):
                major, minor = ctx.kubernetes_version
                path = pod.field(f"securityContext.sysctls[{index}].name")
                yield Hit(pod.obj, path, f"sysctl {show(name)} is not safe on {major}.{minor}")


@rule(
    "KG112",
    name="windows-host-process",
    title="No Windows HostProcess containers",
    levels=ALWAYS,
    reason="A HostProcess container runs directly on the Windows node with host privileges.",
    sources=(f"{PSS}: HostProcess",),
    fix="Remove windowsOptions.hostProcess (or set it to false).",
    scanners=("Polaris hostProcess",),
    tags=TAGS,
    kinds=POD_KINDS,
)
def windows_host_process(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        contexts = [(pod.security_context, pod.field("securityContext"), "pod")]
        contexts += [(c.security_context, f"{c.path}.securityContext", c.label)
                     for c in pod.containers()]  # fmt: skip
        for context, path, who in contexts:
            value = as_dict(context.get("windowsOptions")).get("hostProcess")
            if value not in (None, False):
                yield Hit(pod.obj, f"{path}.windowsOptions.hostProcess", f"{who} is a HostProcess")
