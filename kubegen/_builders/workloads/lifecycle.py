"""Container lifecycle hooks: what runs right after a container starts and before it stops.

``Container(pre_stop=Hook(sleep="5s"))`` keeps a serving container alive for a few seconds after
its pod left the Service's endpoints, so in-flight requests finish (*Kubernetes in Action*, 2nd
ed., "Managing the pod lifecycle": the pod is removed from endpoints and told to stop at the
same time). A hook runs inside the container's own grace period: the workload refuses a sleep
longer than ``termination_grace`` (30s by default), as the API server does. Hooks never set a
``host`` (a Pod Security baseline control, Kubernetes 1.34+).

See https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack

from pydantic import Field, model_validator

from kubegen._builders.base import Builder
from kubegen._builders.workloads.probes import resolve_port
from kubegen._values import Duration, DurationLike, InvalidValue, PortName, PortNumber, seconds

if TYPE_CHECKING:
    from kubegen._builders.workloads.container import Port


class HookArgs(TypedDict, total=False):
    command: list[str] | tuple[str, ...] | None
    http: str | None
    port: str | int | None
    scheme: Literal["HTTP", "HTTPS"]
    sleep: DurationLike | None


class Hook(Builder):
    """One lifecycle handler: a command, an HTTP GET, or a pause; exactly one of them.

    Args:
        command: run in the container (no shell), e.g. ``["nginx", "-s", "quit"]``.
        http: GET this absolute path on the container, e.g. ``"/drain"``.
        port: with ``http``, the port name or number; defaults to the container's first port.
        scheme: with ``http``, ``HTTP`` (default) or ``HTTPS``.
        sleep: pause this long (``sleep`` action, Kubernetes 1.30+), e.g. ``"5s"``.
    """

    command: tuple[str, ...] | None = Field(default=None, min_length=1)
    http: str | None = None
    port: PortName | PortNumber | None = None
    scheme: Literal["HTTP", "HTTPS"] = "HTTP"
    sleep: Duration | None = None

    def __init__(self, /, **data: Unpack[HookArgs]) -> None:
        super().__init__(**data)

    @model_validator(mode="after")
    def _one_action(self) -> Hook:
        given = [n for n in ("command", "http", "sleep") if getattr(self, n) is not None]
        if len(given) != 1:
            raise InvalidValue(
                "a hook does exactly one thing: command=, http= or sleep=" + (
                    f" (got {', '.join(given)})" if given else ""),
                fix="e.g. Hook(sleep='5s') or Hook(command=['nginx', '-s', 'quit'])",
            )
        if self.http is None and (self.port is not None or self.scheme != "HTTP"):
            raise InvalidValue("port= and scheme= belong to an http= hook",
                               fix="drop them, or pass http='/path'", field="port",
                               value=self.port)
        if self.http is not None and not self.http.startswith("/"):
            raise InvalidValue(f"hook path {self.http!r} must be an absolute URL path",
                               fix=f"use '/{self.http}'", field="http", value=self.http)
        if self.sleep is not None and seconds(self.sleep) < 1:
            raise InvalidValue("a sleep hook pauses at least 1s", fix="e.g. sleep='5s'",
                               field="sleep", value=self.sleep)
        return self

    def render(self, ports: Sequence[Port]) -> dict[str, Any]:
        """The handler as the API writes it; an HTTP port must be one the container declares."""
        if self.command is not None:
            return {"exec": {"command": list(self.command)}}
        if self.sleep is not None:
            return {"sleep": {"seconds": seconds(self.sleep)}}
        port = resolve_port(self.port, ports, "HTTP hook")
        get: dict[str, Any] = {"path": self.http, "port": port.reference}
        if self.scheme != "HTTP":
            get["scheme"] = self.scheme
        return {"httpGet": get}


__all__ = ["Hook"]
