"""Pod-level settings of a workload's pod spec: identity, scheduling, DNS, pull secrets.

Rendering and checking of the pod fields that are not containers or volumes, kept apart from
:mod:`~kubegen._builders.workloads.pod` (which renders the pod as a whole). Every field is
optional and renders nothing when unset, so a workload that uses none of them costs a few
attribute reads.

Checks, each as the API server (or Pod Security ``restricted``) would refuse it:

* a group id 0 in ``supplemental_groups``, or a container ``run_as_user``/``run_as_group`` of 0,
  needs the workload's ``allow_run_as_root`` (like the pod's own ids);
* ``fs_group_change_policy`` needs an ``fsGroup`` to apply to;
* a sysctl name has the API server's syntax (dot- or slash-separated segments) and a value;
* ``dns_policy="None"`` needs a ``dns_config`` with at least one nameserver;
* a ``pre_stop``/``post_start`` sleep must end within ``termination_grace`` (30s by default).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from kubegen._builders.workloads.env import ResourceRef
from kubegen._builders.workloads.scheduling import affinity
from kubegen._builders.workloads.volumes import DownwardFiles, Mount
from kubegen._values import InvalidValue, seconds

if TYPE_CHECKING:
    from kubegen._builders.workloads.container import Container
    from kubegen._builders.workloads.defaults import StackDefaults
    from kubegen._builders.workloads.pod import PodWorkload, Role

DEFAULT_GRACE = timedelta(seconds=30)  # the Kubernetes default terminationGracePeriodSeconds
# pkg/apis/core/validation: SysctlSegmentFmt joined by "." or "/", at most 253 characters
_SYSCTL_NAME = re.compile(r"([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?")


def check_sysctls(sysctls: Mapping[Any, Any]) -> dict[str, str | int]:
    """Sysctl names as the API server accepts them; values as strings (numbers allowed)."""
    out: dict[str, str | int] = {}
    for name, value in sysctls.items():
        if not isinstance(name, str) or len(name) > 253 or not _SYSCTL_NAME.fullmatch(name):
            raise InvalidValue(
                f"sysctl name {name!r} is not a kernel parameter name",
                fix="name it as sysctl -a prints it: lowercase segments joined by dots, e.g. "
                "'net.ipv4.ip_unprivileged_port_start'",
                value=name,
            )
        if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value) == "":
            raise InvalidValue(
                f"sysctl {name} has no value the kernel can take: {value!r}",
                fix=f"give it a string or a number: sysctls={{{name!r}: '0'}}",
                field=name, value=value,
            )
        out[name] = str(value)
    return out


def security_context(pod: PodWorkload, defaults: StackDefaults) -> dict[str, Any]:
    """Pod-level securityContext: non-root, ids, seccomp, supplemental groups."""
    context: dict[str, Any] = {}
    fs_group = pod.fs_group if pod.fs_group is not None else defaults.fs_group
    if fs_group is not None:
        context["fsGroup"] = fs_group
    if pod.fs_group_change_policy is not None:
        if fs_group is None:
            raise InvalidValue(
                "fs_group_change_policy applies to the fsGroup, but the pod has none",
                fix="set fs_group= (or StackDefaults(fs_group=…)), or drop "
                "fs_group_change_policy",
                field="fs_group_change_policy", value=pod.fs_group_change_policy,
            )
        context["fsGroupChangePolicy"] = pod.fs_group_change_policy
    group = pod.run_as_group if pod.run_as_group is not None else defaults.run_as_group
    if group is not None:
        context["runAsGroup"] = group
    context["runAsNonRoot"] = pod.allow_run_as_root is None
    user = pod.run_as_user if pod.run_as_user is not None else defaults.run_as_user
    if user is not None:
        context["runAsUser"] = user
    if pod.allow_unconfined_seccomp:
        context["seccompProfile"] = {"type": "Unconfined"}
    elif pod.seccomp_profile is not None:
        context["seccompProfile"] = {"type": "Localhost", "localhostProfile": pod.seccomp_profile}
    else:
        context["seccompProfile"] = {"type": "RuntimeDefault"}
    if pod.supplemental_groups:
        context["supplementalGroups"] = list(pod.supplemental_groups)
    if pod.sysctls:
        context["sysctls"] = [{"name": name, "value": str(value)}
                              for name, value in sorted(pod.sysctls.items())]
    return context


def identity(pod: PodWorkload, spec: dict[str, Any]) -> None:
    """``imagePullSecrets`` of the pod (a ServiceAccount's own are added by Kubernetes)."""
    if pod.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": name} for name in pod.image_pull_secrets]


def dns(pod: PodWorkload, spec: dict[str, Any]) -> None:
    """``dnsPolicy``/``dnsConfig``; a hostNetwork pod resolves Services by default."""
    policy = pod.dns_policy
    if policy is None and spec.get("hostNetwork"):
        policy = "ClusterFirstWithHostNet"
    if policy is not None:
        spec["dnsPolicy"] = policy
    if pod.dns_config is not None:
        spec["dnsConfig"] = pod.dns_config.render()


def scheduling(pod: PodWorkload, spec: dict[str, Any], spread: list[dict[str, Any]]) -> None:
    """Priority, node selection, affinity, tolerations, spread and the grace period."""
    if pod.priority_class is not None:
        spec["priorityClassName"] = pod.priority_class
    if pod.node_selector:
        spec["nodeSelector"] = dict(sorted(pod.node_selector.items()))
    if pod.node_affinity is not None or pod.near or pod.avoid:
        found = affinity(pod, pod.node_affinity, pod.near, pod.avoid)
        if found is not None:
            spec["affinity"] = found
    if pod.tolerations:
        spec["tolerations"] = [t.render() for t in pod.tolerations]
    if spread:
        spec["topologySpreadConstraints"] = spread
    if pod.termination_grace is not None:
        spec["terminationGracePeriodSeconds"] = seconds(pod.termination_grace)


def check(pod: PodWorkload, containers: list[tuple[Role, str, Container]]) -> None:
    """The pod-level checks of the module docstring (run when the workload is validated)."""
    if 0 in pod.supplemental_groups and pod.allow_run_as_root is None:
        raise InvalidValue(
            "supplemental group 0 is the root group, which Pod Security 'restricted' advice "
            "and the scanners forbid",
            fix="use group ids ≥ 10000, or pass allow_run_as_root='why'",
            field="supplemental_groups", value=pod.supplemental_groups,
        )
    if pod.dns_policy == "None" and (pod.dns_config is None or not pod.dns_config.nameservers):
        raise InvalidValue(
            "dns_policy='None' leaves the pod without a resolver unless dns_config names one",
            fix="pass dns_config=DNSConfig(nameservers=['10.96.0.10']), or another dns_policy",
            field="dns_policy", value="None",
        )
    grace = pod.termination_grace if pod.termination_grace is not None else DEFAULT_GRACE
    for _, name, container in containers:
        if (container.run_as_user == 0 or container.run_as_group == 0
                or container.post_start is not None or container.pre_stop is not None):
            _check_container(pod, name, container, grace)
        for path, target in container.mounts.items():
            source = target.source if isinstance(target, Mount) else target
            if isinstance(source, DownwardFiles) and source.items:
                _check_resource_items(path, source, {n for _, n, _ in containers})


def _check_resource_items(path: str, source: DownwardFiles, names: set[str]) -> None:
    for item, ref in (source.items or {}).items():
        if isinstance(ref, ResourceRef) and ref.container not in names:
            raise InvalidValue(
                f"the downwardAPI volume at {path!r} reads the resources of container "
                f"{ref.container!r}, which the pod does not have",
                fix=f"name one of its containers: {', '.join(sorted(names))}",
                field=f"mounts.{path}.items.{item}", value=ref.container,
            )


def _check_container(pod: PodWorkload, name: str, container: Container, grace: timedelta) -> None:
    for field in ("run_as_user", "run_as_group"):
        if getattr(container, field) == 0 and pod.allow_run_as_root is None:
            raise InvalidValue(
                f"container {name}'s {field}=0 runs it as root, which Pod Security "
                "'restricted' forbids",
                fix="use an id ≥ 10000, or pass allow_run_as_root='why' to the workload",
                field=field, value=0,
            )
    for hook in ("post_start", "pre_stop"):
        handler = getattr(container, hook)
        if handler is not None and handler.sleep is not None and handler.sleep > grace:
            raise InvalidValue(
                f"container {name}'s {hook} sleeps {seconds(handler.sleep)}s, longer than the "
                f"pod's termination grace period ({seconds(grace)}s): the kubelet would kill "
                "it first",
                fix=f"sleep less, or raise termination_grace to at least "
                f"'{seconds(handler.sleep) + 5}s'",
                field=f"{hook}.sleep", value=handler.sleep,
            )


__all__ = ["check", "dns", "identity", "scheduling", "security_context"]
