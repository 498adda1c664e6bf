"""Pod Security Standards, baseline level (KG101–KG112): the controls that stop known escalations.

Each rule reports the violations of one control of the Pod Security evaluator
(:mod:`kubegen._coherence.pod_security`) at the stack's target version, so lint and the
admission check of the target namespace can never disagree on what a control forbids: every
container list is visited, pod-level and container-level settings are both checked, and the
version-dependent forms apply (the safe sysctls of the version, ``hostUsers: false`` relaxing
``procMount`` from 1.35, …). These are errors in every profile: a namespace labelled
``enforce: baseline`` would reject the pod anyway. One kubegen choice: KG106 (probe and hook
hosts) is checked for every target, although admission enforces it only from 1.34.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from kubegen._coherence import pod_security as pss
from kubegen._coherence.clean import restricted_clean
from kubegen._coherence.pod_security import DEFAULT_CAPABILITIES, Version
from kubegen._policy.context import POD_KINDS, LintContext, PodView
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import E, rule

ALWAYS = Levels(baseline=E, restricted=E, prod=E)
PSS = "Pod Security Standards, baseline"
NSA = "NSA/CISA Kubernetes Hardening Guidance v1.2, 'Kubernetes Pod security'"
KIA = "Kubernetes in Action (2nd ed.), 'Securing cluster nodes and the network'"
TAGS = ("security", "pss-baseline")

__all__ = ["control_hits"]


def control_hits(
    ctx: LintContext,
    control: str,
    *,
    aspects: Iterable[str] | None = None,
    version: Version | None = None,
    pods: Iterable[PodView] | None = None,
) -> Iterator[Hit]:
    """The violations of one Pod Security ``control`` as lint hits.

    Args:
        control: the evaluator's control id (``hostNamespaces``).
        aspects: only violations of these aspects (``drop``, ``missing``…); all by default.
        version: evaluate this form of the control instead of the target version's.
        pods: only these pods (all of the context's by default).
    """
    check = pss.check_of(control, version or ctx.kubernetes_version)
    if check is None:  # the control does not exist at that version
        return
    wanted = None if aspects is None else frozenset(aspects)
    for pod in ctx.pods if pods is None else pods:
        if restricted_clean(pod):  # no control of any level can fire: skip the check
            continue
        for violation in check(pod):
            if wanted is None or violation.aspect in wanted:
                yield Hit(pod.obj, violation.path, violation.message)


@rule(
    "KG101",
    per_object=True,
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
    return control_hits(ctx, "hostNamespaces")


@rule(
    "KG102",
    per_object=True,
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
    return control_hits(ctx, "privileged")


@rule(
    "KG103",
    per_object=True,
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
    return control_hits(ctx, "capabilities_baseline")


@rule(
    "KG104",
    per_object=True,
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
    return control_hits(ctx, "hostPathVolumes")


@rule(
    "KG105",
    per_object=True,
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
    return control_hits(ctx, "hostPorts")


@rule(
    "KG106",
    per_object=True,
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
    since = max(ctx.kubernetes_version, (1, 34))  # kubegen's choice: every target version
    return control_hits(ctx, "hostProbesAndHostLifecycle", version=since)


@rule(
    "KG107",
    per_object=True,
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
    return control_hits(ctx, "appArmorProfile")


@rule(
    "KG108",
    per_object=True,
    name="selinux",
    title="SELinux options keep a container type and set no user or role",
    levels=ALWAYS,
    reason="A custom SELinux type, user or role can lift the confinement the runtime's "
    "container_t type gives.",
    sources=(f"{PSS}: SELinux", NSA),
    fix="Remove seLinuxOptions.user/role; keep type unset or one of container_t, "
    "container_init_t, container_kvm_t (and container_engine_t from Kubernetes 1.31).",
    scanners=("Polaris linuxHardening", "kubescape C-0055"),
    tags=TAGS,
    kinds=POD_KINDS,
)
def selinux(ctx: LintContext) -> Iterator[Hit]:
    return control_hits(ctx, "seLinuxOptions")


@rule(
    "KG109",
    per_object=True,
    name="proc-mount",
    title="Containers keep the default masked /proc",
    levels=ALWAYS,
    reason="An Unmasked /proc exposes kernel interfaces the runtime normally hides; it is "
    "only harmless inside a user namespace (hostUsers: false), which the baseline level "
    "admits from Kubernetes 1.35.",
    sources=(f"{PSS}: /proc Mount Type",),
    fix="Remove securityContext.procMount (or set it to Default).",
    scanners=("Polaris procMount", "kube-linter unsafe-proc-mount"),
    tags=TAGS,
    kinds=POD_KINDS,
)
def proc_mount(ctx: LintContext) -> Iterator[Hit]:
    return control_hits(ctx, "procMount")


@rule(
    "KG110",
    per_object=True,
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
    return control_hits(ctx, "seccompProfile_baseline")


@rule(
    "KG111",
    per_object=True,
    name="sysctls",
    title="Pods set only safe, namespaced sysctls",
    levels=ALWAYS,
    reason="Unsafe sysctls change kernel settings shared with every pod on the node. The safe "
    "set grows with the Kubernetes version (1.27, 1.29, 1.32, 1.37): a sysctl is checked "
    "against the target version's set.",
    sources=(f"{PSS}: Sysctls",),
    fix="Remove the sysctl from spec.securityContext.sysctls, or tune it on the node.",
    scanners=("kube-linter unsafe-sysctls",),
    tags=TAGS,
    kinds=POD_KINDS,
)
def sysctls(ctx: LintContext) -> Iterator[Hit]:
    return control_hits(ctx, "sysctls")


@rule(
    "KG112",
    per_object=True,
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
    return control_hits(ctx, "windowsHostProcess")

