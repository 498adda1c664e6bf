"""Pod Security Standards, restricted level (KG121–KG128): current pod hardening practice.

Restricted = every baseline rule (KG101–KG112) plus these. Nuances kept from Pod Security
Admission (hardening-reference b1):

- container-level ``runAsNonRoot`` and ``seccompProfile`` may be unset when the pod level sets
  them; an explicit container-level ``runAsNonRoot: false`` fails even then;
- ``hostUsers: false`` (a user namespace) allows any ``runAsNonRoot``/``runAsUser``;
- pods with ``spec.os.name: windows`` skip the Linux-only controls (privilege escalation,
  seccomp, capabilities);
- an explicitly wrong seccomp type is KG110's finding; KG125 reports only a missing one, and
  capabilities outside the default set are KG103's, KG127 reports the default-set ones, so
  each problem is reported once.
"""

from __future__ import annotations

from collections.abc import Iterator

from kubegen._policy.context import POD_KINDS, LintContext, as_dict, as_list
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import E, W, rule
from kubegen._policy.rules import show
from kubegen._policy.rules.pss_baseline import DEFAULT_CAPABILITIES

LEVELS = Levels(baseline=W, restricted=E, prod=E)
PSS = "Pod Security Standards, restricted"
NSA = "NSA/CISA Kubernetes Hardening Guidance v1.2, 'Kubernetes Pod security'"
KIA = "Kubernetes in Action (2nd ed.), 'Securing cluster nodes and the network'"
TAGS = ("security", "pss-restricted")

#: Default-set capabilities restricted forbids (those outside the default set are KG103's).
RESTRICTED_OUT = DEFAULT_CAPABILITIES - {"NET_BIND_SERVICE"}

ALLOWED_VOLUMES = frozenset(
    {
        "configMap", "downwardAPI", "emptyDir", "projected", "secret", "csi",
        "persistentVolumeClaim", "ephemeral", "image",
    }
)  # fmt: skip


@rule(
    "KG121",
    name="volume-types",
    title="Pods use only core volume types",
    levels=LEVELS,
    reason="Network and host volume plugins (nfs, iscsi, gitRepo, hostPath…) mount storage "
    "with node credentials or run code on the node; restricted pods get storage through "
    "PersistentVolumeClaims instead.",
    sources=(f"{PSS}: Volume Types",),
    fix="Use configMap, downwardAPI, emptyDir, projected, secret, csi, persistentVolumeClaim, "
    "ephemeral or image volumes; move other storage behind a PersistentVolumeClaim.",
    scanners=("kubescape C-0048",),
    tags=TAGS,
    kinds=POD_KINDS,
)
def volume_types(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        for index, volume in enumerate(as_list(pod.spec.get("volumes"))):
            volume = as_dict(volume)
            for key in sorted(volume):
                if key != "name" and key not in ALLOWED_VOLUMES and volume[key] is not None:
                    path = pod.field(f"volumes[{index}].{key}")
                    name = show(volume.get("name"))
                    yield Hit(pod.obj, path, f"volume {name} is of type {key}")


@rule(
    "KG122",
    name="privilege-escalation",
    title="Containers set allowPrivilegeEscalation: false",
    levels=LEVELS,
    reason="Without it a process can gain privileges through setuid binaries or file "
    "capabilities (no_new_privs is off). Restricted requires it explicitly.",
    sources=(f"{PSS}: Privilege Escalation", NSA, KIA),
    fix="Set securityContext.allowPrivilegeEscalation: false on every container.",
    scanners=(
        "Polaris privilegeEscalationAllowed",
        "kube-linter privilege-escalation-container",
        "kubescape C-0016",
        "Checkov CKV_K8S_5, CKV_K8S_20",
    ),
    tags=TAGS,
    kinds=POD_KINDS,
)
def privilege_escalation(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        if pod.is_windows:
            continue
        for c in pod.containers():
            value = c.security_context.get("allowPrivilegeEscalation")
            if value is not False:
                path = f"{c.path}.securityContext.allowPrivilegeEscalation"
                shown = "unset" if value is None else show(value)
                yield Hit(pod.obj, path, f"{c.label} has allowPrivilegeEscalation {shown}")


@rule(
    "KG123",
    name="run-as-non-root",
    title="Containers must run as non-root",
    levels=LEVELS,
    reason="A root process in a container is root on the node once it escapes; runAsNonRoot "
    "makes the kubelet refuse images whose user is 0.",
    sources=(f"{PSS}: Running as Non-root", NSA, KIA),
    fix="Set spec.securityContext.runAsNonRoot: true on the pod (and never false on a "
    "container), with an image that runs as a non-zero UID.",
    scanners=(
        "Polaris runAsRootAllowed",
        "kube-linter run-as-non-root",
        "kubescape C-0013",
        "Checkov CKV_K8S_6, CKV_K8S_23",
    ),
    tags=TAGS,
    kinds=POD_KINDS,
)
def run_as_non_root(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        if not pod.host_users:
            continue  # user namespaces map root to an unprivileged host UID
        pod_value = pod.security_context.get("runAsNonRoot")
        if pod_value not in (None, True):
            path = pod.field("securityContext.runAsNonRoot")
            yield Hit(pod.obj, path, f"pod has runAsNonRoot {show(pod_value)}")
        for c in pod.containers():
            value = c.security_context.get("runAsNonRoot")
            path = f"{c.path}.securityContext.runAsNonRoot"
            if value is None and pod_value is not True:
                yield Hit(pod.obj, path, f"neither the pod nor {c.label} sets runAsNonRoot: true")
            elif value not in (None, True):
                yield Hit(pod.obj, path, f"{c.label} has runAsNonRoot {show(value)}")


@rule(
    "KG124",
    name="run-as-user",
    title="No pod or container sets runAsUser: 0",
    levels=LEVELS,
    reason="runAsUser: 0 runs the process as root whatever the image says.",
    sources=(f"{PSS}: Running as Non-root user (v1.23+)", NSA),
    fix="Remove runAsUser: 0, or use a non-zero UID (kubegen suggests 10000 or more).",
    scanners=("kubescape C-0013", "Checkov CKV_K8S_40"),
    tags=TAGS,
    kinds=POD_KINDS,
)
def run_as_user(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        if not pod.host_users:
            continue
        if pod.security_context.get("runAsUser") == 0:
            yield Hit(pod.obj, pod.field("securityContext.runAsUser"), "pod has runAsUser 0")
        for c in pod.containers():
            if c.security_context.get("runAsUser") == 0:
                path = f"{c.path}.securityContext.runAsUser"
                yield Hit(pod.obj, path, f"{c.label} has runAsUser 0")


@rule(
    "KG125",
    name="seccomp-restricted",
    title="A seccomp profile is set (RuntimeDefault or Localhost)",
    levels=LEVELS,
    reason="Without a profile most runtimes run containers Unconfined; RuntimeDefault blocks "
    "the syscalls containers never need.",
    sources=(f"{PSS}: Seccomp", NSA),
    fix="Set spec.securityContext.seccompProfile.type: RuntimeDefault on the pod.",
    scanners=(
        "Polaris linuxHardening",
        "kube-score container-seccomp-profile",
        "kubescape C-0210",
        "Checkov CKV_K8S_31, CKV_K8S_32",
    ),
    tags=TAGS,
    kinds=POD_KINDS,
)
def seccomp_restricted(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        if pod.is_windows or as_dict(pod.security_context.get("seccompProfile")).get("type"):
            continue
        for c in pod.containers():
            if as_dict(c.security_context.get("seccompProfile")).get("type") is None:
                path = f"{c.path}.securityContext.seccompProfile.type"
                yield Hit(pod.obj, path, f"neither the pod nor {c.label} sets a seccomp profile")


@rule(
    "KG126",
    name="capabilities-drop-all",
    title="Containers drop ALL capabilities",
    levels=LEVELS,
    reason="The runtime's default capabilities (CHOWN, SETUID, NET_RAW on some runtimes…) are "
    "rarely needed and each is a step towards escalation.",
    sources=(f"{PSS}: Capabilities", NSA),
    fix='Set securityContext.capabilities.drop: ["ALL"] on every container.',
    scanners=("Polaris linuxHardening", "kubescape C-0046", "Checkov CKV_K8S_37"),
    tags=TAGS,
    kinds=POD_KINDS,
)
def capabilities_drop_all(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        if pod.is_windows:
            continue
        for c in pod.containers():
            dropped = as_list(as_dict(c.security_context.get("capabilities")).get("drop"))
            if "ALL" not in dropped:
                path = f"{c.path}.securityContext.capabilities.drop"
                yield Hit(pod.obj, path, f"{c.label} drops {show(dropped)}, not ALL")


@rule(
    "KG127",
    name="capabilities-add-restricted",
    title="Containers add no capability except NET_BIND_SERVICE",
    levels=LEVELS,
    reason="Restricted allows one added capability, binding ports below 1024; the other "
    "default capabilities are not needed by ordinary services.",
    sources=(f"{PSS}: Capabilities",),
    fix="Remove the capability from capabilities.add (NET_BIND_SERVICE is the only one "
    "allowed); capabilities outside the default set are reported by KG103.",
    scanners=("Polaris insecureCapabilities", "Checkov CKV_K8S_25"),
    tags=TAGS,
    kinds=POD_KINDS,
)
def capabilities_add_restricted(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        if pod.is_windows:
            continue
        for c in pod.containers():
            added = as_list(as_dict(c.security_context.get("capabilities")).get("add"))
            bad = [cap for cap in added if isinstance(cap, str) and cap in RESTRICTED_OUT]
            if bad:
                path = f"{c.path}.securityContext.capabilities.add"
                yield Hit(pod.obj, path, f"{c.label} adds {show(bad)}")


@rule(
    "KG128",
    name="proc-mount-restricted",
    title="User-namespaced pods keep the default /proc too (Kubernetes 1.35+)",
    levels=LEVELS,
    reason="From Kubernetes 1.35 the restricted level no longer lets hostUsers: false pods "
    "unmask /proc; below 1.35 this rule reports nothing (KG109 covers other pods).",
    sources=(f"{PSS}: /proc Mount Type (v1.35+)",),
    fix="Remove securityContext.procMount (or set it to Default).",
    scanners=("Polaris procMount", "kube-linter unsafe-proc-mount"),
    tags=TAGS,
    kinds=POD_KINDS,
)
def proc_mount_restricted(ctx: LintContext) -> Iterator[Hit]:
    if not ctx.at_least(1, 35):
        return
    for pod in ctx.pods:
        if pod.host_users:
            continue  # KG109 reports these
        for c in pod.containers():
            value = c.security_context.get("procMount")
            if value not in (None, "Default"):
                path = f"{c.path}.securityContext.procMount"
                yield Hit(pod.obj, path, f"{c.label} has procMount {show(value)}")
