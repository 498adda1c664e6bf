"""Capabilities that reach the process (KG211): an added capability needs a root process; and
ports a non-root process can bind (KG212): those below ``net.ipv4.ip_unprivileged_port_start``.

``securityContext.capabilities.add`` puts a capability into the container's bounding,
permitted and effective sets, but a process that ``exec``s as a non-root user keeps none of
them: the kernel recomputes the sets on ``execve`` from the ambient set and the binary's file
capabilities (capabilities(7), "Transformation of capabilities during execve()"), and
Kubernetes sets no ambient capabilities (kubernetes/kubernetes#56374, containerd#2516). So
``SYS_TIME`` on a container running as uid 10001 changes nothing unless the image gave the
binary that capability with ``setcap``; *Kubernetes in Action*'s ``SYS_TIME`` example works
because its container runs as root. ``NET_BIND_SERVICE`` for a non-root web server is the
common case: the bind to port 80 fails with "permission denied" (containerd 2 and CRI-O open
the low ports to every user instead, through ``net.ipv4.ip_unprivileged_port_start``, which a
pod can also set itself: ``sysctls=`` of the workload, a sysctl Pod Security counts as safe).
"""

from __future__ import annotations

from collections.abc import Iterator

from kubegen._policy.context import POD_KINDS, LintContext, as_dict, as_list
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import W, rule


def _user(context: dict[str, object], pod: dict[str, object]) -> tuple[object, bool]:
    """(runAsUser, runAsNonRoot) of a container, its own values over the pod's."""
    user = context.get("runAsUser", pod.get("runAsUser"))
    non_root = context.get("runAsNonRoot", pod.get("runAsNonRoot")) is True
    if not isinstance(user, int) or isinstance(user, bool):
        user = None  # unset, or junk the schema check (KG001) reports
    return user, non_root


@rule(
    "KG211",
    per_object=True,
    name="capabilities-reach-process",
    title="Added capabilities go to containers that run as root",
    levels=Levels(baseline=W, restricted=W, prod=W),
    reason="A process that runs as a non-root user loses every capability of the container's "
    "sets when it starts (execve keeps only ambient and file capabilities, and Kubernetes sets "
    "no ambient ones), so capabilities.add does nothing for it unless the image's binary "
    "carries them as file capabilities.",
    sources=(
        "capabilities(7), 'Transformation of capabilities during execve()'",
        "kubernetes/kubernetes#56374 (no ambient capabilities for non-root containers)",
        "Kubernetes in Action (2nd ed.), 'Securing cluster nodes and the network'",
    ),
    fix="Run the container as root (run_as_user=0 with allow_run_as_root='why') when it needs "
    "the capability, or give the image's binary the file capability (setcap) and keep the "
    "user; a web server can listen above port 1023 instead of adding NET_BIND_SERVICE, or "
    "the pod can open the low ports to every user through the safe sysctl: "
    "sysctls={'net.ipv4.ip_unprivileged_port_start': 0}.",
    scanners=(),
    tags=("correctness",),
    kinds=POD_KINDS,
)
def capabilities_reach_process(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        if pod.is_windows:
            continue
        for c in pod.containers(("initContainers", "containers")):
            context = c.security_context
            added = [cap for cap in as_list(as_dict(context.get("capabilities")).get("add"))
                     if isinstance(cap, str)]
            if not added or context.get("privileged") is True:
                continue
            user, non_root = _user(context, pod.security_context)
            if user == 0 or (user is None and not non_root):
                continue  # root, or the image's user (which may be root)
            who = f"uid {user}" if isinstance(user, int) else "a non-root user (runAsNonRoot)"
            yield Hit(
                pod.obj,
                f"{c.path}.securityContext.capabilities.add",
                f"{c.label} adds {', '.join(added)} but runs as {who}: the process gets none "
                "of them unless its binary carries them as file capabilities",
            )


_PORT_START = "net.ipv4.ip_unprivileged_port_start"
_KERNEL_DEFAULT = 1024


def _unprivileged_start(pod_context: dict[str, object], host_network: bool) -> int:
    """The lowest port a non-root process of the pod may bind: the pod's sysctl, else 1024."""
    if host_network:  # the node's setting; a hostNetwork pod may not set network sysctls
        return _KERNEL_DEFAULT
    for item in as_list(pod_context.get("sysctls")):
        entry = as_dict(item)
        if entry.get("name") == _PORT_START:
            value = entry.get("value")
            if isinstance(value, str) and value.isdigit():
                return int(value)
    return _KERNEL_DEFAULT


@rule(
    "KG212",
    per_object=True,
    name="low-ports-reach-process",
    title="Non-root containers can bind the ports below 1024 they declare",
    levels=Levels(baseline=W, restricted=W, prod=W),
    reason="Only a process with CAP_NET_BIND_SERVICE may bind a port below "
    "net.ipv4.ip_unprivileged_port_start, 1024 unless the pod sets it, and a non-root process "
    "has no capabilities (KG211). containerd 2 and CRI-O set it to 0 in every pod, but "
    "containerd 1.x leaves 1024: there the server exits with 'permission denied', as a "
    "non-root Apache or nginx on port 80 does.",
    sources=(
        "Kubernetes docs, 'Using sysctls in a Kubernetes Cluster' "
        "(net.ipv4.ip_unprivileged_port_start is a safe sysctl)",
        "ip(7), 'ip_unprivileged_port_start'; moby/moby#8460",
        "Kubernetes in Action (2nd ed.), 'Securing cluster nodes and the network'",
    ),
    fix="Open the low ports to the pod's users with the safe sysctl: "
    "sysctls={'net.ipv4.ip_unprivileged_port_start': 0} on the workload, or make the server "
    "listen above 1023 and keep port 80 on the Service (ServicePort('http', port=80)).",
    scanners=(),
    tags=("correctness",),
    kinds=POD_KINDS,
)
def low_ports_reach_process(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        if pod.is_windows:
            continue
        start = _unprivileged_start(pod.security_context, pod.spec.get("hostNetwork") is True)
        for c in pod.containers(("initContainers", "containers")):
            context = c.security_context
            if context.get("privileged") is True:
                continue
            added = as_list(as_dict(context.get("capabilities")).get("add"))
            if "NET_BIND_SERVICE" in added:
                continue  # KG211's case: file capabilities may give it to the binary
            user, non_root = _user(context, pod.security_context)
            if user == 0 or (user is None and not non_root):
                continue  # root, or the image's user (which may be root)
            for index, port in enumerate(as_list(c.body.get("ports"))):
                number = as_dict(port).get("containerPort")
                if not isinstance(number, int) or isinstance(number, bool) or number >= start:
                    continue
                who = f"uid {user}" if isinstance(user, int) else "a non-root user (runAsNonRoot)"
                where = ("where the runtime keeps the kernel's default (containerd 1.x)"
                         if start == _KERNEL_DEFAULT else f"since the pod's {_PORT_START} is "
                         f"{start}")
                yield Hit(pod.obj, f"{c.path}.ports[{index}].containerPort",
                          f"{c.label} listens on port {number} as {who}: the bind fails {where}")
