"""Pod Security Admission of the namespace each pod lands in: what the cluster will refuse.

One pass over the pod templates of a stack: each pod is evaluated (:mod:`.pod_security`) at the
``enforce`` level and version of its namespace (:mod:`.namespaces`). A pod the level rejects is an
error that names the workload's stack line, the opt-outs that caused it, the namespace and its
level, and both ways out: a namespace whose level admits the pod, declared with a reason, or no
opt-out. A builder's ``allow_…`` reason waives kubegen's own rule; the cluster's admission does
not read it. ``warn`` and ``audit`` levels are compared the same way by lint (KG130, KG131).

Pod Security Admission checks Pods, so a Deployment whose template is refused is itself
accepted, and then never gets a pod: the ReplicaSet reports ``FailedCreate`` events forever.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kubegen._coherence import pod_security as pss
from kubegen._coherence.clean import restricted_clean
from kubegen._coherence.namespaces import Mode, NamespacePolicy
from kubegen._coherence.pods import PodView, as_dict
from kubegen._errors import KubegenError

__all__ = ["OPT_OUT_ARGUMENTS", "Evaluation", "evaluate_mode", "rejection", "rejections"]

OPT_OUT = "kubegen.dev/opt-out-"

#: The builder argument behind each opt-out annotation, for messages (``host-network`` →
#: ``allow_host_network``); per-container and per-volume ones are followed by ``.<name>``.
OPT_OUT_ARGUMENTS = {
    "run-as-root": "allow_run_as_root",
    "host-network": "allow_host_network",
    "host-pid": "allow_host_pid",
    "host-ipc": "allow_host_ipc",
    "host-path": "HostPath(..., reason=...)",
    "host-path-write": "HostPath(..., allow_write=...)",
    "unconfined-seccomp": "allow_unconfined_seccomp",
    "privileged": "allow_privileged",
    "privilege-escalation": "allow_privilege_escalation",
    "capabilities": "allow_capabilities",
    "host-ports": "allow_host_ports",
    "default-capabilities": "allow_default_capabilities",
}

#: The opt-outs that can make a pod break each control.
_CAUSES: dict[str, tuple[str, ...]] = {
    "hostNamespaces": ("host-network", "host-pid", "host-ipc"),
    "privileged": ("privileged",),
    "capabilities_baseline": ("capabilities",),
    "capabilities_restricted": ("capabilities", "default-capabilities"),
    "hostPathVolumes": ("host-path", "host-path-write"),
    "restrictedVolumes": ("host-path", "host-path-write"),
    "hostPorts": ("host-ports",),
    "seccompProfile_baseline": ("unconfined-seccomp",),
    "seccompProfile_restricted": ("unconfined-seccomp",),
    "runAsNonRoot": ("run-as-root",),
    "runAsUser": ("run-as-root",),
    "allowPrivilegeEscalation": ("privilege-escalation", "privileged"),
}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A pod evaluated at one mode of its namespace."""

    pod: PodView
    policy: NamespacePolicy
    mode: Mode
    version: pss.Version
    violations: tuple[pss.Violation, ...]


def evaluate_mode(pod: PodView, policy: NamespacePolicy, mode: Mode | None,
                  cluster: pss.Version) -> Evaluation | None:
    """The violations of ``pod`` at ``mode`` (None when the mode is unknown or admits it)."""
    if mode is None or mode.level == "privileged" or restricted_clean(pod):
        return None
    version = mode.effective(cluster)
    violations = pss.evaluate(pod, mode.level, version)
    if not violations:
        return None
    return Evaluation(pod, policy, mode, version, tuple(violations))


def rejections(
    pods: Iterable[PodView], policies: dict[str, NamespacePolicy], cluster: pss.Version
) -> list[KubegenError]:
    """One located error per pod template its namespace's ``enforce`` level rejects."""
    problems: list[KubegenError] = []
    for pod in pods:
        policy = policies.get(pod.namespace)
        if policy is None:
            continue  # unknown: lint warns (KG132)
        found = evaluate_mode(pod, policy, policy.enforce, cluster)
        if found is not None:
            problems.append(rejection(found))
    return problems


def _opt_outs(pod: PodView) -> dict[str, list[str]]:
    """Opt-out name → the containers/volumes it names ('' for the whole pod), from annotations."""
    found: dict[str, list[str]] = {}
    for key in as_dict(pod.obj.metadata.get("annotations")):
        if isinstance(key, str) and key.startswith(OPT_OUT):
            what, _, target = key[len(OPT_OUT):].partition(".")
            found.setdefault(what, []).append(target)
    return found


def _shown_opt_out(what: str, target: str) -> str:
    argument = OPT_OUT_ARGUMENTS.get(what, f"the opt-out {what}")
    if not target:
        return argument
    kind = "volume" if what.startswith("host-path") else "container"
    return f"{argument} on {kind} {target!r}"


def causes(evaluation: Evaluation) -> list[str]:
    """The builder opt-outs (as arguments) behind the violations, in control order."""
    present = _opt_outs(evaluation.pod)
    shown: list[str] = []
    for violation in evaluation.violations:
        for what in _CAUSES.get(violation.control, ()):
            for target in present.get(what, ()):
                text = _shown_opt_out(what, target)
                if text not in shown:
                    shown.append(text)
    return shown


def summary(violations: Iterable[pss.Violation]) -> str:
    """``host namespaces (hostNetwork is true); privileged containers (…)``."""
    by_control: dict[str, list[str]] = {}
    for violation in violations:
        by_control.setdefault(violation.control, []).append(violation.message)
    return "; ".join(
        f"{pss.title_of(control)} ({', '.join(messages)})"
        for control, messages in by_control.items()
    )


def rejection(evaluation: Evaluation) -> KubegenError:
    """The error for a pod template the namespace's enforce level rejects."""
    pod, policy = evaluation.pod, evaluation.policy
    needed = pss.lowest_admitting_level(pod, evaluation.version)
    opt_outs = causes(evaluation)
    version = f"v{evaluation.version[0]}.{evaluation.version[1]}"
    because = f", set by {' and '.join(opt_outs)}" if opt_outs else ""
    message = (
        f"Pod Security Admission would reject its pods: namespace {policy.name!r} enforces "
        f"{evaluation.mode.level} ({version}; {policy.source}) and the pod breaks "
        f"{summary(evaluation.violations)}{because}. An opt-out waives kubegen's lint rules, "
        "never the cluster's admission"
    )
    return KubegenError(
        message,
        fix=_fix(pod, policy, needed, opt_outs),
        origin=pod.obj.origin,
        resource=pod.obj.display,
        field=evaluation.violations[0].path,
    )


def _fix(pod: PodView, policy: NamespacePolicy, needed: pss.Level, opt_outs: list[str]) -> str:
    home = "node-agents" if pod.namespace != "node-agents" else f"{pod.obj.name}-system"
    move = (
        f"run it in a namespace whose enforce level is {needed!r}, declared with a reason: "
        f"stack.add(Namespace({home!r}, pod_security={needed!r}, reason='why these pods need "
        f"it')), or Stack(cluster=Cluster(..., namespaces={{{home!r}: {needed!r}}})) for one "
        f"the platform installs, and pass namespace={home!r} to the workload"
    )
    if policy.namespace_object is not None:  # the stack renders it: its level is the stack's
        move += (
            f"; or, if every pod of {policy.name!r} may run at that level, raise it there: "
            f"stack.add(Namespace({policy.name!r}, pod_security={needed!r}, reason='why these "
            "pods need it'))"
        )
    if opt_outs:
        return f"either {move}; or drop {' and '.join(opt_outs)}"
    return f"either {move}; or change the fields named above so that {policy.name!r} admits it"
