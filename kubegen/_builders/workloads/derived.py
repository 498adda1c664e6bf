"""What a pod workload brings along besides its own object.

Every workload renders its own ServiceAccount (so RBAC can be granted to it alone and no token
is automounted from a shared one); replicated ones also render a PodDisruptionBudget and spread
their pods over nodes or zones; and pods carry a checksum annotation of each kubegen ConfigMap
or Secret they read, so a config change rolls them. These are functions of the workload, kept
apart from :mod:`kubegen._builders.workloads.pod`, which renders the pod itself.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from kubegen._builders.config import ConfigMap
from kubegen._builders.secrets import SealedSecret, Secret
from kubegen._manifests import ManifestObject
from kubegen._values import InvalidValue

if TYPE_CHECKING:
    from kubegen._builders.base import Resource
    from kubegen._builders.rbac.accounts import ServiceAccount
    from kubegen._builders.workloads.pod import PodWorkload
    from kubegen._stack import Stack

_SPREAD_KEYS = {
    "nodes": ("kubernetes.io/hostname",),
    "zones": ("kubernetes.io/hostname", "topology.kubernetes.io/zone"),
    "none": (),
}


class StackIndex(NamedTuple):
    """What workloads look up in their stack: user ServiceAccounts, autoscalers."""

    size: int
    accounts: dict[tuple[str | None, str], Resource]  # (namespace, name) -> ServiceAccount
    autoscalers: dict[int, Resource]  # id(target workload) -> its HorizontalPodAutoscaler


_INDEXES: weakref.WeakKeyDictionary[Stack, StackIndex] = weakref.WeakKeyDictionary()


def stack_index(stack: Stack) -> StackIndex:
    """The stack's :class:`StackIndex`, rebuilt when resources were added since (one pass)."""
    size = len(stack)
    index = _INDEXES.get(stack)
    if index is None or index.size != size:
        accounts: dict[tuple[str | None, str], Resource] = {}
        autoscalers: dict[int, Resource] = {}
        for res in stack:
            if res.kind == "ServiceAccount":
                accounts[(res.namespace, res.name)] = res
            elif res.kind == "HorizontalPodAutoscaler":
                autoscalers.setdefault(id(getattr(res, "target", None)), res)  # the first
        index = _INDEXES[stack] = StackIndex(size, accounts, autoscalers)
    return index


def user_account(workload: PodWorkload) -> ServiceAccount | None:
    """The user's ServiceAccount the workload runs as, if it uses one instead of its own.

    A ``ServiceAccount`` object given as ``service_account=``, or one of that name the stack
    holds in the workload's namespace (indexed once per stack size, so many workloads sharing
    an account stay linear).
    """
    account = workload.service_account
    if account is None:
        return None
    if not isinstance(account, str):
        return workload.service_account_object
    from kubegen._builders.rbac.accounts import ServiceAccount

    stack = workload._stack
    if stack is None:
        return None
    found = stack_index(stack).accounts.get((workload.namespace, account))
    return found if isinstance(found, ServiceAccount) else None


def service_accounts(workload: PodWorkload) -> list[ManifestObject]:
    """The workload's own ServiceAccount, or none when it runs as one of the user's.

    A user's account in another namespace is refused: pods can only run as an account of
    their own namespace.
    """
    account = user_account(workload)
    if account is None:
        if workload.service_account == "default":  # the namespace's own (an opt-out)
            return []
        return [service_account(workload)]
    if account.namespace not in (None, workload.namespace):
        raise InvalidValue(
            f"runs as ServiceAccount {account.namespace}/{account.name}, but pods can only use "
            f"an account of their own namespace ({workload.namespace})",
            fix="create the ServiceAccount in the workload's namespace",
            field="service_account", value=account.name,
        )
    return []


def service_account(workload: PodWorkload) -> ManifestObject:
    """The workload's own ServiceAccount; tokens are never automounted from it."""
    meta = workload.metadata(labels=workload.recommended_labels())
    meta["name"] = workload.service_account_name
    meta.pop("annotations", None)
    body = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": meta,
        "automountServiceAccountToken": False,
    }
    return workload.manifest(body)


def disruption_budget(workload: PodWorkload, max_unavailable: int | str) -> ManifestObject:
    """A PodDisruptionBudget keeping all but ``max_unavailable`` pods through drains."""
    meta = workload.metadata(labels=workload.recommended_labels())
    meta["name"] = workload.derived_name("disruption-budget", workload.name)
    meta.pop("annotations", None)
    body = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta,
        "spec": {
            "maxUnavailable": max_unavailable,
            "selector": {"matchLabels": workload.selector_labels()},
        },
    }
    return workload.manifest(body)


def spread_constraints(
    workload: PodWorkload, mode: Literal["nodes", "zones", "none"]
) -> list[dict[str, Any]]:
    """Spread pods over nodes (and zones); ``ScheduleAnyway`` so scaling never blocks."""
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": workload.selector_labels()},
        }
        for key in _SPREAD_KEYS[mode]
    ]


def config_checksums(used: Iterable[Resource]) -> dict[str, str]:
    """``<kind>.checksum.kubegen.dev/<name>: sha256`` per kubegen ConfigMap/Secret in ``used``."""
    found: dict[str, str] = {}
    for source in used:
        if isinstance(source, ConfigMap):
            found[_checksum_key("configmap", source.name)] = source.sha256()
        elif isinstance(source, (Secret, SealedSecret)):
            found[_checksum_key("secret", source.secret_name)] = source.checksum()
    return found


def _checksum_key(kind: str, name: str) -> str:
    """An annotation key whose name part fits the 63-character limit, unique by digest."""
    if len(name) > 63:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[:54].rstrip('-.')}-{digest}"
    return f"{kind}.checksum.kubegen.dev/{name}"


__all__ = [
    "config_checksums",
    "disruption_budget",
    "service_account",
    "service_accounts",
    "spread_constraints",
    "stack_index",
    "user_account",
]
