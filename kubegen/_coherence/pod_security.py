"""Pod Security Standards, evaluated control by control as Pod Security Admission does.

Written from the Pod Security Standards page and the checks of ``k8s.io/pod-security-admission``
(``policy/check_*.go``), and verified against that library's own test fixtures
(``tests/data/pod-security-admission``). What it keeps from the admission controller:

- each control is *versioned*: the check that applies is the newest one whose minimum version is
  at most the evaluated version (``runAsUser`` only exists from 1.23, the safe sysctls grow in
  1.27, 1.29, 1.32 and 1.37, user-namespaced pods are relaxed only from 1.35, …);
- ``restricted`` runs every ``baseline`` control except those a restricted control overrides at
  that version (``restrictedVolumes`` replaces ``hostPathVolumes``, ``capabilities_restricted``
  replaces ``capabilities_baseline`` from 1.22, …);
- every container list is visited (``initContainers``, ``containers``, ``ephemeralContainers``);
- a version newer than the newest known control version is evaluated as that version.

Each control yields :class:`Violation` records with the field path inside the manifest, so the
lint rules (``KG101``–``KG128``) report exactly what the evaluator decides on. The evaluation of
one pod at one ``(level, version)`` runs a check list compiled once for that pair.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from kubegen._coherence.pods import ContainerView, PodView, as_dict, as_list

__all__ = [
    "CONTROLS",
    "DEFAULT_CAPABILITIES",
    "LEVELS",
    "MAX_VERSION",
    "Control",
    "Level",
    "Version",
    "Violation",
    "admits",
    "check_of",
    "evaluate",
    "lowest_admitting_level",
    "safe_sysctls",
]

Level = Literal["privileged", "baseline", "restricted"]
Version = tuple[int, int]
LEVELS: tuple[Level, ...] = ("privileged", "baseline", "restricted")


@dataclass(frozen=True, slots=True)
class Violation:
    """One reason a control forbids a pod.

    Args:
        control: the upstream check id (``hostNamespaces``, ``runAsNonRoot``…).
        path: the field path inside the manifest (``spec.template.spec.hostNetwork``).
        message: what is wrong, with the value (``hostNetwork is true``).
        aspect: the part of a control that has several (``drop``/``add`` for capabilities,
            ``explicit``/``missing`` for seccomp and runAsNonRoot); empty otherwise.
    """

    control: str
    path: str
    message: str
    aspect: str = ""


Check = Callable[[PodView], Iterator[Violation]]


@dataclass(frozen=True, slots=True)
class Versioned:
    """A control's check from version ``since`` on, and the baseline controls it replaces."""

    since: Version
    check: Check
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Control:
    """One Pod Security control of one level, with its versions (strictly increasing)."""

    id: str
    level: Level
    title: str
    versions: tuple[Versioned, ...]

    def at(self, version: Version) -> Versioned | None:
        """The form that applies at ``version``, or None before the control existed."""
        found = None
        for form in self.versions:
            if form.since <= version:
                found = form
        return found


def _show(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _contexts(pod: PodView) -> tuple[tuple[dict[str, Any], str, str], ...]:
    """(securityContext, its path, who) of the pod, then of every container."""
    return pod.security_contexts()


def _linux(check: Check) -> Check:
    """The 1.25 form of a Linux-only control: pods with ``spec.os.name: windows`` pass."""

    def windows_exempt(pod: PodView) -> Iterator[Violation]:
        if not pod.is_windows:
            yield from check(pod)

    return windows_exempt


def _relaxed_for_user_namespaces(check: Check) -> Check:
    """The 1.35 form of a control: pods with ``hostUsers: false`` pass."""

    def relaxed(pod: PodView) -> Iterator[Violation]:
        if pod.host_users:
            yield from check(pod)

    return relaxed


# -- baseline ---------------------------------------------------------------------------------


def host_namespaces(pod: PodView) -> Iterator[Violation]:
    for name in ("hostNetwork", "hostPID", "hostIPC"):
        value = pod.spec.get(name)
        if value not in (None, False):
            yield Violation("hostNamespaces", pod.field(name), f"{name} is {_show(value)}")


def privileged(pod: PodView) -> Iterator[Violation]:
    for c in pod.containers():
        value = c.security_context.get("privileged")
        if value not in (None, False):
            yield Violation("privileged", f"{c.path}.securityContext.privileged",
                            f"{c.label} has privileged {_show(value)}")


#: Capabilities a container runtime grants by default; baseline allows adding only these.
DEFAULT_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
        "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    }
)  # fmt: skip


def _default_capability(cap: Any) -> bool:
    return isinstance(cap, str) and cap in DEFAULT_CAPABILITIES


def _added(c: ContainerView) -> list[Any]:
    return as_list(as_dict(c.security_context.get("capabilities")).get("add"))


def capabilities_baseline(pod: PodView) -> Iterator[Violation]:
    for c in pod.containers():
        bad = [cap for cap in _added(c) if not _default_capability(cap)]
        if bad:
            yield Violation("capabilities_baseline", f"{c.path}.securityContext.capabilities.add",
                            f"{c.label} adds {', '.join(map(str, bad))}, outside the default set")


def host_path_volumes(pod: PodView) -> Iterator[Violation]:
    for index, volume in enumerate(as_list(pod.spec.get("volumes"))):
        source = as_dict(volume).get("hostPath")
        if source is not None:
            where = _show(as_dict(source).get("path"))
            yield Violation("hostPathVolumes", pod.field(f"volumes[{index}].hostPath"),
                            f"volume {_show(as_dict(volume).get('name'))} mounts host path {where}")


def host_ports(pod: PodView) -> Iterator[Violation]:
    for c in pod.containers():
        for index, port in enumerate(as_list(c.body.get("ports"))):
            value = as_dict(port).get("hostPort")
            if value not in (None, 0):
                yield Violation("hostPorts", f"{c.path}.ports[{index}].hostPort",
                                f"{c.label} binds hostPort {_show(value)}")


_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def host_probes_and_lifecycle(pod: PodView) -> Iterator[Violation]:
    for c in pod.containers():
        handlers: list[tuple[str, Any]] = [(p, c.body.get(p)) for p in _PROBES]
        lifecycle = as_dict(c.body.get("lifecycle"))
        handlers += [(f"lifecycle.{h}", lifecycle.get(h)) for h in ("postStart", "preStop")]
        for where, handler in handlers:
            for action in ("httpGet", "tcpSocket"):
                host = as_dict(as_dict(handler).get(action)).get("host")
                if host not in (None, ""):
                    yield Violation("hostProbesAndHostLifecycle", f"{c.path}.{where}.{action}.host",
                                    f"{c.label} {where} targets host {_show(host)}")


def _among(value: Any, names: frozenset[str]) -> bool:
    """``value in names`` for a value read from YAML, which may be a list or a map."""
    return isinstance(value, str) and value in names


APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
_APPARMOR_TYPES = frozenset({"RuntimeDefault", "Localhost"})


def app_armor(pod: PodView) -> Iterator[Violation]:
    for context, path, who in _contexts(pod):
        profile = context.get("appArmorProfile")
        if profile is not None and not _among(as_dict(profile).get("type"), _APPARMOR_TYPES):
            kind = as_dict(profile).get("type")
            yield Violation("appArmorProfile", f"{path}.appArmorProfile.type",
                            f"{who} AppArmor type is {_show(kind)}")
    annotations = as_dict(pod.metadata.get("annotations"))
    for key, value in sorted(annotations.items()):
        if key.startswith(APPARMOR_ANNOTATION) and not (
            value in ("", "runtime/default") or str(value).startswith("localhost/")
        ):
            yield Violation("appArmorProfile", f"{pod.metadata_path}.annotations[{key}]",
                            f"AppArmor annotation {key} is {_show(value)}")


_SELINUX_1_0 = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
_SELINUX_1_31 = _SELINUX_1_0 | {"container_engine_t"}


def _selinux(types: frozenset[str]) -> Check:
    def check(pod: PodView) -> Iterator[Violation]:
        for context, path, who in _contexts(pod):
            options = context.get("seLinuxOptions")
            if options is None:
                continue
            options = as_dict(options)
            kind = options.get("type", "")
            if not (isinstance(kind, str) and kind in types):
                yield Violation("seLinuxOptions", f"{path}.seLinuxOptions.type",
                                f"{who} SELinux type is {_show(kind)}")
            for name in ("user", "role"):
                if options.get(name) not in (None, ""):
                    yield Violation("seLinuxOptions", f"{path}.seLinuxOptions.{name}",
                                    f"{who} SELinux {name} is {_show(options.get(name))}")

    return check


def _unmasked(control: str, pod: PodView) -> Iterator[Violation]:
    for c in pod.containers():
        value = c.security_context.get("procMount")
        if value not in (None, "Default"):
            yield Violation(control, f"{c.path}.securityContext.procMount",
                            f"{c.label} has procMount {_show(value)}")


def proc_mount(pod: PodView) -> Iterator[Violation]:
    return _unmasked("procMount", pod)


def proc_mount_restricted(pod: PodView) -> Iterator[Violation]:
    return _unmasked("procMount_restricted", pod)


_SECCOMP_TYPES = frozenset({"RuntimeDefault", "Localhost"})
SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_ANNOTATION = "container.seccomp.security.alpha.kubernetes.io/"


def _seccomp_annotation_ok(value: Any) -> bool:
    return value in ("runtime/default", "docker/default") or str(value).startswith("localhost/")


def seccomp_annotations(pod: PodView) -> Iterator[Violation]:
    """Before 1.19 seccomp was set by annotations on the pod."""
    annotations = as_dict(pod.metadata.get("annotations"))
    keys = [SECCOMP_POD_ANNOTATION]
    keys += [SECCOMP_CONTAINER_ANNOTATION + c.name for c in pod.containers()]
    for key in keys:
        if key in annotations and not _seccomp_annotation_ok(annotations[key]):
            yield Violation("seccompProfile_baseline", f"{pod.metadata_path}.annotations[{key}]",
                            f"seccomp annotation {key} is {_show(annotations[key])}")


def _seccomp_type(context: dict[str, Any]) -> tuple[bool, Any]:
    """(whether seccompProfile is set, its type)."""
    profile = context.get("seccompProfile")
    return profile is not None, as_dict(profile).get("type")


def _bad_seccomp(control: str, pod: PodView) -> Iterator[Violation]:
    for context, path, who in _contexts(pod):
        present, kind = _seccomp_type(context)
        if present and not _among(kind, _SECCOMP_TYPES):
            yield Violation(control, f"{path}.seccompProfile.type",
                            f"{who} seccomp profile is {_show(kind)}", "explicit")


def seccomp_baseline(pod: PodView) -> Iterator[Violation]:
    return _bad_seccomp("seccompProfile_baseline", pod)


def seccomp_restricted(pod: PodView) -> Iterator[Violation]:
    yield from _bad_seccomp("seccompProfile_restricted", pod)
    pod_set, _ = _seccomp_type(pod.security_context)
    if pod_set:  # valid: containers inherit it; invalid: reported above
        return
    for c in pod.containers():
        if not _seccomp_type(c.security_context)[0]:
            yield Violation("seccompProfile_restricted", f"{c.path}.securityContext.seccompProfile",
                            f"neither the pod nor {c.label} sets a seccomp profile", "missing")


#: Safe sysctls, and the Kubernetes minor version whose Pod Security Standards first allow them.
SAFE_SYSCTLS: dict[str, Version] = {
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
    "net.ipv4.tcp_slow_start_after_idle": (1, 37),
    "net.ipv4.tcp_notsent_lowat": (1, 37),
}


def safe_sysctls(version: Version) -> frozenset[str]:
    """The sysctls the baseline level allows at ``version``."""
    return frozenset(name for name, since in SAFE_SYSCTLS.items() if since <= version)


def _sysctls(since: Version) -> Check:
    allowed = safe_sysctls(since)

    def check(pod: PodView) -> Iterator[Violation]:
        for index, item in enumerate(as_list(pod.security_context.get("sysctls"))):
            name = as_dict(item).get("name")
            if not _among(name, allowed):
                since = SAFE_SYSCTLS.get(name) if isinstance(name, str) else None
                why = f"safe only from {since[0]}.{since[1]}" if since else "not a safe sysctl"
                yield Violation("sysctls", pod.field(f"securityContext.sysctls[{index}].name"),
                                f"sysctl {_show(name)} is {why}")

    return check


def windows_host_process(pod: PodView) -> Iterator[Violation]:
    for context, path, who in _contexts(pod):
        value = as_dict(context.get("windowsOptions")).get("hostProcess")
        if value not in (None, False):
            yield Violation("windowsHostProcess", f"{path}.windowsOptions.hostProcess",
                            f"{who} is a Windows HostProcess")


# -- restricted -------------------------------------------------------------------------------

#: The volume types restricted allows; any other (hostPath, nfs, iscsi, …) is refused.
ALLOWED_VOLUMES = frozenset(
    {
        "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
        "persistentVolumeClaim", "projected", "secret",
    }
)  # fmt: skip


def restricted_volumes(pod: PodView) -> Iterator[Violation]:
    for index, volume in enumerate(as_list(pod.spec.get("volumes"))):
        volume = as_dict(volume)
        kinds = [k for k in volume if k != "name" and volume[k] is not None]
        # No source at all is an emptyDir: the API server defaults it so before admission.
        if not kinds or any(k in ALLOWED_VOLUMES for k in kinds):
            continue
        kind = kinds[0]
        path = pod.field(f"volumes[{index}].{kind}")
        yield Violation("restrictedVolumes", path,
                        f"volume {_show(volume.get('name'))} is of type {kind}")


def allow_privilege_escalation(pod: PodView) -> Iterator[Violation]:
    for c in pod.containers():
        value = c.security_context.get("allowPrivilegeEscalation")
        if value is not False:
            shown = "unset" if value is None else _show(value)
            yield Violation("allowPrivilegeEscalation",
                            f"{c.path}.securityContext.allowPrivilegeEscalation",
                            f"{c.label} has allowPrivilegeEscalation {shown}")


def run_as_non_root(pod: PodView) -> Iterator[Violation]:
    pod_value = pod.security_context.get("runAsNonRoot")
    if pod_value is not None and pod_value is not True:
        yield Violation("runAsNonRoot", pod.field("securityContext.runAsNonRoot"),
                        f"pod has runAsNonRoot {_show(pod_value)}", "explicit")
    for c in pod.containers():
        value = c.security_context.get("runAsNonRoot")
        path = f"{c.path}.securityContext.runAsNonRoot"
        if value is None:
            if pod_value is not True:
                yield Violation("runAsNonRoot", path,
                                f"neither the pod nor {c.label} sets runAsNonRoot: true", "missing")
        elif value is not True:
            yield Violation("runAsNonRoot", path, f"{c.label} has runAsNonRoot {_show(value)}",
                            "explicit")


def run_as_user(pod: PodView) -> Iterator[Violation]:
    for context, path, who in _contexts(pod):
        value = context.get("runAsUser")
        if value == 0 and not isinstance(value, bool):
            yield Violation("runAsUser", f"{path}.runAsUser", f"{who} has runAsUser 0")


def capabilities_restricted(pod: PodView) -> Iterator[Violation]:
    for c in pod.containers():
        caps = as_dict(c.security_context.get("capabilities"))
        dropped = as_list(caps.get("drop"))
        if "ALL" not in dropped:
            shown = ", ".join(map(str, dropped)) or "nothing"
            yield Violation("capabilities_restricted",
                            f"{c.path}.securityContext.capabilities.drop",
                            f"{c.label} drops {shown}, not ALL", "drop")
        bad = [cap for cap in as_list(caps.get("add")) if cap != "NET_BIND_SERVICE"]
        # Aspect "add": default-set capabilities; beyond the default set: what baseline refuses.
        default = [cap for cap in bad if _default_capability(cap)]
        beyond = [cap for cap in bad if not _default_capability(cap)]
        for aspect, caps_of in (("add", default), ("add-beyond-default", beyond)):
            if caps_of:
                yield Violation("capabilities_restricted",
                                f"{c.path}.securityContext.capabilities.add",
                                f"{c.label} adds {', '.join(map(str, caps_of))}", aspect)


# -- the catalogue ----------------------------------------------------------------------------


def _control(
    id: str, level: Level, title: str, *forms: tuple[Version, Check] | Versioned
) -> Control:
    versions = tuple(f if isinstance(f, Versioned) else Versioned(f[0], f[1]) for f in forms)
    return Control(id, level, title, versions)


_CAPS_BASELINE = "capabilities_baseline"
_SECCOMP_BASELINE = "seccompProfile_baseline"

#: Every control, baseline first, in the order Pod Security Admission evaluates them.
CONTROLS: tuple[Control, ...] = (
    _control("appArmorProfile", "baseline", "AppArmor", ((1, 0), app_armor)),
    _control(_CAPS_BASELINE, "baseline", "capabilities", ((1, 0), capabilities_baseline)),
    _control("hostNamespaces", "baseline", "host namespaces", ((1, 0), host_namespaces)),
    _control("hostPathVolumes", "baseline", "hostPath volumes", ((1, 0), host_path_volumes)),
    _control("hostPorts", "baseline", "host ports", ((1, 0), host_ports)),
    _control("hostProbesAndHostLifecycle", "baseline", "probe or lifecycle host",
             ((1, 34), host_probes_and_lifecycle)),
    _control("privileged", "baseline", "privileged containers", ((1, 0), privileged)),
    _control("procMount", "baseline", "/proc mount type", ((1, 0), proc_mount),
             ((1, 35), _relaxed_for_user_namespaces(proc_mount))),
    _control("seLinuxOptions", "baseline", "SELinux options", ((1, 0), _selinux(_SELINUX_1_0)),
             ((1, 31), _selinux(_SELINUX_1_31))),
    _control(_SECCOMP_BASELINE, "baseline", "seccomp profile", ((1, 0), seccomp_annotations),
             ((1, 19), seccomp_baseline)),
    _control("sysctls", "baseline", "sysctls",
             *(((since), _sysctls(since)) for since in sorted(set(SAFE_SYSCTLS.values())))),
    _control("windowsHostProcess", "baseline", "Windows HostProcess",
             ((1, 0), windows_host_process)),
    _control("allowPrivilegeEscalation", "restricted", "privilege escalation",
             ((1, 8), allow_privilege_escalation),
             ((1, 25), _linux(allow_privilege_escalation))),
    _control("capabilities_restricted", "restricted", "capabilities",
             Versioned((1, 22), capabilities_restricted, (_CAPS_BASELINE,)),
             Versioned((1, 25), _linux(capabilities_restricted), (_CAPS_BASELINE,))),
    _control("procMount_restricted", "restricted", "/proc mount type",
             Versioned((1, 35), proc_mount_restricted, ("procMount",))),
    _control("restrictedVolumes", "restricted", "volume types",
             Versioned((1, 0), restricted_volumes, ("hostPathVolumes",))),
    _control("runAsNonRoot", "restricted", "running as non-root", ((1, 0), run_as_non_root),
             ((1, 35), _relaxed_for_user_namespaces(run_as_non_root))),
    _control("runAsUser", "restricted", "running as non-root user", ((1, 23), run_as_user),
             ((1, 35), _relaxed_for_user_namespaces(run_as_user))),
    _control("seccompProfile_restricted", "restricted", "seccomp profile",
             Versioned((1, 19), seccomp_restricted, (_SECCOMP_BASELINE,)),
             Versioned((1, 25), _linux(seccomp_restricted), (_SECCOMP_BASELINE,))),
)

_BY_ID = {control.id: control for control in CONTROLS}

#: The newest version at which any control changes; newer targets are evaluated as this one.
MAX_VERSION: Version = max(form.since for c in CONTROLS for form in c.versions)


def clamp(version: Version) -> Version:
    """The version Pod Security Admission evaluates for a target ``version``."""
    return min(version, MAX_VERSION)


def check_of(control_id: str, version: Version) -> Check | None:
    """The check of ``control_id`` at ``version`` (None before the control existed)."""
    form = _BY_ID[control_id].at(clamp(version))
    return form.check if form is not None else None


@cache
def compiled(level: Level, version: Version) -> tuple[tuple[Control, Check], ...]:
    """The (control, check) pairs a pod is evaluated with at ``level`` and ``version``."""
    if level == "privileged":
        return ()
    version = clamp(version)
    forms = [(c, c.at(version)) for c in CONTROLS if c.level == "baseline" or level == "restricted"]
    present = [(c, f) for c, f in forms if f is not None]
    overridden = {name for c, f in present if c.level == "restricted" for name in f.overrides}
    return tuple((c, f.check) for c, f in present if c.id not in overridden)


def evaluate(pod: PodView, level: Level, version: Version) -> list[Violation]:
    """Every violation that makes Pod Security Admission at ``level``/``version`` reject ``pod``."""
    found: list[Violation] = []
    for _, check in compiled(level, version):
        found.extend(check(pod))
    return found


def admits(pod: PodView, level: Level, version: Version) -> bool:
    """Whether ``level`` at ``version`` admits ``pod``."""
    return all(next(iter(check(pod)), None) is None for _, check in compiled(level, version))


def lowest_admitting_level(pod: PodView, version: Version) -> Level:
    """The strictest level that admits ``pod``: ``restricted``, ``baseline`` or ``privileged``."""
    stricter_first: tuple[Level, ...] = ("restricted", "baseline")
    for level in stricter_first:
        if admits(pod, level, version):
            return level
    return "privileged"


def title_of(control_id: str) -> str:
    """How messages name a control (``host namespaces``)."""
    return _BY_ID[control_id].title
