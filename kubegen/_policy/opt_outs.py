"""Opt-outs as waivers: a default weakened on purpose waives exactly the rules it trips.

Builders render every weakened default as an annotation with its reason,
``kubegen.dev/opt-out-<what>`` for the whole object or ``kubegen.dev/opt-out-<what>.<container>``
for one container of a pod (``allow_writable_root="…"`` on container ``api`` renders
``kubegen.dev/opt-out-writable-root.api``). The annotation already records the exception in the
YAML, so the policy engine reads it as a waiver of the rules in :data:`OPT_OUTS`:

- only the rules the table names for that opt-out, and where the table names a field, only
  findings at that field (``host-network`` waives KG101 for ``hostNetwork``, not ``hostPID``);
- a volume-level opt-out (``host-path.<volume>``: each HostPath's own reason) waives only the
  findings of that volume;
- a container-level opt-out waives only findings whose field path lies inside that container
  (``…containers[1]…`` resolved to the container's name through the object's pod spec);
- ``token-automount`` on a ServiceAccount also covers the pods that run as that account, since
  the opt-out exists for pods kubegen does not build.

The finding stays in the report, marked waived with the opt-out's reason, and no
``kubegen.dev/waive-*`` annotation is added for it: the opt-out annotation already shows it.
Because only annotations are read, ``kubegen lint`` of YAML read back from ``output/`` agrees.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from kubegen._analysis.opt_outs import OPT_OUT_PREFIX, OptOut, read_opt_outs
from kubegen._manifests import ManifestObject
from kubegen._policy.context import CONTAINER_LISTS, PodView, as_dict, as_list, pod_view

__all__ = ["OPT_OUTS", "OPT_OUT_PREFIX", "Implies", "OptOut", "OptOutIndex", "parse_opt_outs"]


@dataclass(frozen=True, slots=True)
class Implies:
    """What one opt-out waives.

    Args:
        rules: the rule ids it waives; empty when no rule checks the weakened default (the
            annotation is then only the record of the decision).
        field: when set, only findings whose field path ends with it are waived.
        service_account: the opt-out sits on a ServiceAccount and also waives the rules on the
            pods that run as that account.
        volume: the opt-out's suffix names a pod volume (``host-path.<volume>``), not a
            container: it waives findings of that volume only.
    """

    rules: frozenset[str]
    field: str | None = None
    service_account: bool = False
    volume: bool = False


def _implies(
    *rules: str, field: str | None = None, service_account: bool = False, volume: bool = False
) -> Implies:
    return Implies(frozenset(rules), field=field, service_account=service_account, volume=volume)


#: Opt-out name (the part after ``kubegen.dev/opt-out-``, without ``.<container>``) → waived rules.
OPT_OUTS: Mapping[str, Implies] = {
    # Pod-level fields of workloads (PodWorkload.allow_*).
    "run-as-root": _implies("KG123", "KG124"),
    "host-network": _implies("KG101", field=".hostNetwork"),
    "host-pid": _implies("KG101", field=".hostPID"),
    "host-ipc": _implies("KG101", field=".hostIPC"),
    # One per HostPath volume (``host-path.<volume>``; a writable one also ``-write``).
    "host-path": _implies("KG104", "KG121", field=".hostPath", volume=True),
    "host-path-write": _implies(),
    "unconfined-seccomp": _implies("KG110"),
    "default-service-account": _implies("KG301", field=".serviceAccountName"),
    # Container fields (Container.allow_*, Resources/StackDefaults.allow_no_cpu_limit); also
    # valid for the whole pod (StackDefaults.allow_no_probes renders ``no-probes``).
    # A privileged container renders no capabilities and seccomp Unconfined (what runs).
    "privileged": _implies("KG102", "KG110", "KG122", "KG126"),
    "privilege-escalation": _implies("KG122"),
    "writable-root": _implies("KG201"),
    "capabilities": _implies("KG103", "KG127"),
    "host-ports": _implies("KG105"),
    "no-probes": _implies("KG205", "KG206"),
    "secret-env": _implies("KG802"),
    "no-cpu-limit": _implies("KG204"),
    "no-memory-limit": _implies("KG203"),
    "no-resources": _implies("KG202", "KG203", "KG204"),
    "cached-tag": _implies("KG209"),
    "default-capabilities": _implies("KG126"),
    # Other builders.
    "plaintext-secret": _implies("KG801"),
    "external-service": _implies("KG503"),
    # On a ServiceAccount it also covers the pods of that account; on a workload, its own pods.
    "token-automount": _implies("KG302", service_account=True),
    "service-account-token": _implies(),  # mount_token(): a token without RBAC, no rule
    "pod-security": _implies("KG603"),
    # RBAC guards (allow={"<guard>": …} on grants, roles and bindings).
    "rbac-wildcard": _implies("KG401"),
    "rbac-admin-role": _implies("KG402"),
    "rbac-escalation-verbs": _implies("KG403"),
    "rbac-pod-exec": _implies("KG404"),
    "rbac-secrets-read": _implies("KG405"),
    "rbac-public-subject": _implies("KG406"),
    "rbac-cluster-scope": _implies(),
    "rbac-out-of-namespace": _implies(),
    # Broad network peers and GitOps sync settings: no rule checks them.
    "egress-internet": _implies(),
    "egress-cidr": _implies(),
    "ingress-cidr": _implies(),
    "ingress-namespace": _implies(),
    "auto-prune": _implies(),
    "self-heal": _implies(),
    "prune": _implies(),
    "wait": _implies(),
}

_CONTAINER = re.compile(r"^(?P<pod>.+)\.(?P<list>" + "|".join(CONTAINER_LISTS) + r")\[(?P<i>\d+)\]")


def parse_opt_outs(obj: ManifestObject) -> list[OptOut]:
    """The opt-out annotations of ``obj`` whose name is in :data:`OPT_OUTS` and reason non-blank
    (read by :func:`kubegen._analysis.opt_outs.read_opt_outs`, which ``kubegen review`` shares).

    Unknown names waive nothing (a typo in a hand-written annotation cannot hide a finding).
    """
    return [opt_out for opt_out in read_opt_outs(obj) if opt_out.what in OPT_OUTS]


def _container_of(obj: ManifestObject, path: str) -> str | None:
    """The name of the container a finding's field path lies in, or ``None``."""
    match = _CONTAINER.match(path)
    pod = pod_view(obj)
    if match is None or pod is None or match.group("pod") != pod.path:
        return None
    entries = as_list(pod.spec.get(match.group("list")))
    index = int(match.group("i"))
    name = as_dict(entries[index]).get("name") if index < len(entries) else None
    return name if isinstance(name, str) else None


_VOLUME = re.compile(r"^(?P<pod>.+)\.volumes\[(?P<i>\d+)\]")


def _volume_of(obj: ManifestObject, path: str) -> str | None:
    """The name of the pod volume a finding's field path lies in, or ``None``."""
    match = _VOLUME.match(path)
    pod = pod_view(obj)
    if match is None or pod is None or match.group("pod") != pod.path:
        return None
    volumes = as_list(pod.spec.get("volumes"))
    index = int(match.group("i"))
    name = as_dict(volumes[index]).get("name") if index < len(volumes) else None
    return name if isinstance(name, str) else None


@dataclass(slots=True)
class OptOutIndex:
    """The opt-outs of every object of one lint run, including those inherited from accounts."""

    objects: Sequence[ManifestObject]
    # the objects' pod views (in order), from where they are made anyway (the lint context)
    pods: Callable[[], Sequence[PodView]] | None = None
    _own: dict[int, list[OptOut]] | None = None

    def opt_outs(self) -> dict[int, list[OptOut]]:
        """``id(object)`` → its opt-outs, own then inherited; made on the first question.

        A stack without findings never asks, and parsing nothing can fail here (unknown
        names are ignored), so building it late changes no outcome.
        """
        if self._own is not None:
            return self._own
        own: dict[int, list[OptOut]] = {}
        accounts: dict[tuple[str, str], list[OptOut]] = {}
        for obj in self.objects:
            own[id(obj)] = parse_opt_outs(obj)
            if obj.kind == "ServiceAccount":
                inherited = [o for o in own[id(obj)] if OPT_OUTS[o.what].service_account]
                accounts[(obj.namespace or "default", obj.name)] = inherited
        pods = (
            [pod for pod in map(pod_view, self.objects) if pod is not None]
            if self.pods is None
            else self.pods()
        )
        for pod in pods:
            obj, spec = pod.obj, pod.spec
            account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
            own[id(obj)] += accounts.get((pod.namespace, str(account)), [])
        self._own = own
        return own

    def reason(self, obj: ManifestObject, rule_id: str, path: str) -> str | None:
        """The reason of the first opt-out of ``obj`` that waives ``rule_id`` at ``path``."""
        container: str | None = None
        resolved = False
        for opt_out in self.opt_outs().get(id(obj), ()):
            implies = OPT_OUTS[opt_out.what]
            if rule_id not in implies.rules:
                continue
            if implies.field is not None and not path.endswith(implies.field):
                continue
            if opt_out.container is not None and implies.volume:
                if _volume_of(obj, path) != opt_out.container:
                    continue
            elif opt_out.container is not None:
                if not resolved:
                    container, resolved = _container_of(obj, path), True
                if container != opt_out.container:
                    continue
            return opt_out.reason
        return None
