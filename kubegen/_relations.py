"""Relations between objects that a Stack records and later turns into objects of their own.

``api.connect_to(db, port="pg")`` records a :class:`Connection` (→ NetworkPolicies);
``api.grant(...)`` records a :class:`Grant` (→ Role + RoleBinding, token mount). Verbs never edit
a sibling object: the Stack derives the related objects when it is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubegen._origin import Origin

if TYPE_CHECKING:
    from kubegen._builders.workloads.base import Workload


@dataclass(frozen=True, slots=True)
class Connection:
    """``source`` may open connections to ``target`` on ``port`` (a name or number).

    ``target`` is a Workload of the same stack or an external peer defined by the network
    builders (a namespace, a CIDR…); ``options`` carries what those builders need.
    """

    source: Any
    target: Any
    port: str | int | None
    origin: Origin | None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ApiAccess:
    """The service account tokens a workload's pods mount, all projected and expiring.

    ``api``: the API token (``grant``), at the path client libraries read. ``audiences``:
    further tokens beside it, one per audience (``grant(audience=…)``, ``mount_token``).
    ``reasons``: why a token of an audience is mounted without any RBAC (``mount_token``).
    ``expiration_seconds``: the lifetime of every token; None is the kubelet's 3607.
    """

    api: bool = False
    expiration_seconds: int | None = None
    audiences: tuple[str, ...] = ()
    reasons: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Grant:
    """``workload`` may do what ``rules`` allow in ``namespace`` (None: its own namespace)."""

    workload: Workload
    rules: tuple[Any, ...]
    namespace: str | None
    origin: Origin | None
    options: dict[str, Any] = field(default_factory=dict)
