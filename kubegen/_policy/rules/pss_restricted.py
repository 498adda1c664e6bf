"""Pod Security Standards, restricted level (KG121–KG128): current pod hardening practice.

Restricted = every baseline rule (KG101–KG112) plus these. Like the baseline rules, each reports
the violations of one control of the Pod Security evaluator (:mod:`kubegen._coherence.pod_security`)
at the target version, so the nuances of Pod Security Admission hold:

- container-level ``runAsNonRoot`` and ``seccompProfile`` may be unset when the pod level sets
  them; an explicit container-level ``runAsNonRoot: false`` fails even then;
- from Kubernetes 1.35 ``hostUsers: false`` (a user namespace) allows any ``runAsNonRoot`` /
  ``runAsUser``; ``runAsUser: 0`` is checked from 1.23, when the control appeared;
- from 1.25 pods with ``spec.os.name: windows`` skip the Linux-only controls (privilege
  escalation, seccomp, capabilities);
- an explicitly wrong seccomp type is KG110's finding, KG125 reports only a missing one; added
  capabilities outside the default set are KG103's, KG127 reports the default-set ones; so each
  problem is reported once.
"""

from __future__ import annotations

from collections.abc import Iterator

from kubegen._policy.context import POD_KINDS, LintContext
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import E, W, rule
from kubegen._policy.rules.pss_baseline import control_hits

LEVELS = Levels(baseline=W, restricted=E, prod=E)
PSS = "Pod Security Standards, restricted"
NSA = "NSA/CISA Kubernetes Hardening Guidance v1.2, 'Kubernetes Pod security'"
KIA = "Kubernetes in Action (2nd ed.), 'Securing cluster nodes and the network'"
TAGS = ("security", "pss-restricted")


@rule(
    "KG121",
    per_object=True,
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
    return control_hits(ctx, "restrictedVolumes")


@rule(
    "KG122",
    per_object=True,
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
    return control_hits(ctx, "allowPrivilegeEscalation")


@rule(
    "KG123",
    per_object=True,
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
    return control_hits(ctx, "runAsNonRoot")


@rule(
    "KG124",
    per_object=True,
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
    return control_hits(ctx, "runAsUser")


@rule(
    "KG125",
    per_object=True,
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
    return control_hits(ctx, "seccompProfile_restricted", aspects=["missing"])


@rule(
    "KG126",
    per_object=True,
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
    return control_hits(ctx, "capabilities_restricted", aspects=["drop"])


@rule(
    "KG127",
    per_object=True,
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
    return control_hits(ctx, "capabilities_restricted", aspects=["add"])


@rule(
    "KG128",
    per_object=True,
    name="proc-mount-restricted",
    title="User-namespaced pods keep the default /proc too (Kubernetes 1.35+)",
    levels=LEVELS,
    reason="From Kubernetes 1.35 the baseline level lets pods in a user namespace "
    "(hostUsers: false) unmask /proc, the restricted level still does not; below 1.35 KG109 "
    "reports every pod and this rule nothing.",
    sources=(f"{PSS}: /proc Mount Type (v1.35+)",),
    fix="Remove securityContext.procMount (or set it to Default).",
    scanners=("Polaris procMount", "kube-linter unsafe-proc-mount"),
    tags=TAGS,
    kinds=POD_KINDS,
)
def proc_mount_restricted(ctx: LintContext) -> Iterator[Hit]:
    user_namespaced = [pod for pod in ctx.pods if not pod.host_users]  # others: KG109
    return control_hits(ctx, "procMount_restricted", pods=user_namespaced)
