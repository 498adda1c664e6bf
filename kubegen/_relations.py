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
    """How a granted workload gets its token: automount, or a projected token when asked."""

    expiration_seconds: int | None = None
    audience: str | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    """``workload`` may do what ``rules`` allow in ``namespace`` (None: its own namespace)."""

    workload: Workload
    rules: tuple[Any, ...]
    namespace: str | None
    origin: Origin | None
    options: dict[str, Any] = field(default_factory=dict)
