"""Health probes: HTTP, TCP, exec and gRPC checks for readiness, liveness and startup.

A probe's ``port`` defaults to the container's first port and must name (or number) a port the
container declares, so a renamed port cannot silently break health checking; a port the process
listens on without declaring it is a number with ``undeclared=True``. Timings left unset
keep the Kubernetes defaults (period 10s, timeout 1s, failure threshold 3). Probes never set a
``host``: the check targets the pod itself (a Pod Security baseline control).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack

from pydantic import Field, field_validator

from kubegen._builders.base import Builder
from kubegen._values import Duration, DurationLike, InvalidValue, PortName, PortNumber, seconds

if TYPE_CHECKING:
    from kubegen._builders.workloads.container import Port


class ProbeArgs(TypedDict, total=False):
    initial_delay: DurationLike | None
    period: DurationLike | None
    timeout: DurationLike | None
    failure_threshold: int | None
    success_threshold: int | None


class Probe(Builder):
    """Timings shared by every probe kind.

    Args:
        initial_delay: wait before the first check (default 0s).
        period: time between checks (Kubernetes default 10s).
        timeout: time one check may take (Kubernetes default 1s).
        failure_threshold: failed checks in a row before acting (Kubernetes default 3).
        success_threshold: successes in a row to count as healthy again (readiness only).
    """

    initial_delay: Duration | None = None
    period: Duration | None = None
    timeout: Duration | None = None
    failure_threshold: int | None = Field(default=None, ge=1)
    success_threshold: int | None = Field(default=None, ge=1)

    # Its own __init__, so type checkers call the runtime one, not a synthesized one.
    def __init__(self, /, **data: Any) -> None:
        super().__init__(**data)

    def handler(self, ports: Sequence[Port]) -> dict[str, Any]:
        """The check itself (``httpGet``, ``tcpSocket``, ``exec`` or ``grpc``)."""
        raise NotImplementedError

    def render(self, ports: Sequence[Port], *, role: str) -> dict[str, Any]:
        """The probe block for ``role`` (``readiness``, ``liveness`` or ``startup``)."""
        if role != "readiness" and self.success_threshold not in (None, 1):
            raise InvalidValue(
                f"a {role} probe's success_threshold must be 1",
                fix="drop success_threshold (only readiness probes may raise it)",
                field="success_threshold",
                value=self.success_threshold,
            )
        body = self.handler(ports)
        for key, value in (
            ("initialDelaySeconds", self.initial_delay),
            ("periodSeconds", self.period),
            ("timeoutSeconds", self.timeout),
        ):
            if value is not None:
                body[key] = seconds(value)
        if self.success_threshold is not None:
            body["successThreshold"] = self.success_threshold
        if self.failure_threshold is not None:
            body["failureThreshold"] = self.failure_threshold
        return body


def probe_port(
    port: str | int | None, ports: Sequence[Port], what: str, *, undeclared: bool
) -> str | int:
    """What a probe renders as its port: the declared port's name, or with ``undeclared`` the
    number as given (a port the process listens on without declaring it)."""
    if not undeclared:
        return resolve_port(port, ports, what).reference
    if not isinstance(port, int):
        raise InvalidValue(
            f"the {what} has undeclared=True, which takes a port number, not {port!r}",
            fix="pass port=<number>, or drop undeclared=True to name a declared port",
            field="port", value=port,
        )
    if any(p.number == port for p in ports):
        raise InvalidValue(
            f"the {what} has undeclared=True, but the container declares port {port}",
            fix="drop undeclared=True", field="undeclared", value=True,
        )
    return port


def resolve_port(port: str | int | None, ports: Sequence[Port], what: str) -> Port:
    """The declared container port a probe (or Service) refers to."""
    if not ports:
        raise InvalidValue(
            f"the {what} needs a port, but the container declares none",
            fix="declare the port: ports=[Port(8080, name='http')]",
        )
    if port is None:
        return ports[0]
    for candidate in ports:
        if port == candidate.number or (port == candidate.port_name and not candidate.unnamed):
            return candidate
    declared = ", ".join(f"{p.reference}={p.number}" if not p.unnamed else str(p.number)
                         for p in ports)
    raise InvalidValue(
        f"the {what} refers to port {port!r}, which the container does not declare "
        f"(declared: {declared})",
        fix="use one of the declared port names, or declare the port"
        + (" (or, for a probe on a port the process does not declare, undeclared=True)"
           if isinstance(port, int) else ""),
        field="port",
        value=port,
    )


class HttpProbeArgs(ProbeArgs, total=False):
    port: str | int | None
    undeclared: bool
    scheme: Literal["HTTP", "HTTPS"]
    headers: Mapping[str, str]


class HttpProbe(Probe):
    """An HTTP GET on ``path``; 200-399 is healthy.

    Args:
        path: absolute URL path, e.g. ``'/healthz'``.
        port: port name or number; defaults to the container's first port.
        scheme: ``HTTP`` (default) or ``HTTPS``.
        headers: extra request headers, in author order.
        undeclared: ``port`` is a number the process listens on without the container
            declaring it (ingress-nginx's health port 10254): rendered as that number and not
            checked against the declared ports. Defaults to False.
    """

    path: str
    port: PortName | PortNumber | None = None
    scheme: Literal["HTTP", "HTTPS"] = "HTTP"
    headers: dict[str, str] = Field(default_factory=dict)
    undeclared: bool = False

    def __init__(self, path: str, /, **data: Unpack[HttpProbeArgs]) -> None:
        Builder.__init__(self, path=path, **data)

    @field_validator("path")
    @classmethod
    def _absolute(cls, path: str) -> str:
        if not path.startswith("/"):
            raise InvalidValue(
                f"probe path {path!r} must be an absolute URL path", fix=f"use '/{path}'"
            )
        return path

    def handler(self, ports: Sequence[Port]) -> dict[str, Any]:
        port = probe_port(self.port, ports, "HTTP probe", undeclared=self.undeclared)
        get: dict[str, Any] = {"path": self.path, "port": port}
        if self.scheme != "HTTP":
            get["scheme"] = self.scheme
        if self.headers:
            get["httpHeaders"] = [{"name": k, "value": v} for k, v in self.headers.items()]
        return {"httpGet": get}


class TcpProbeArgs(ProbeArgs, total=False):
    port: str | int | None
    undeclared: bool


class TcpProbe(Probe):
    """Healthy when a TCP connection to ``port`` opens (default: the first port).

    Args:
        port: port name or number; defaults to the container's first port.
        undeclared: ``port`` is a number the process listens on without the container
            declaring it (ingress-nginx's health port 10254): rendered as that number and not
            checked against the declared ports. Defaults to False.
    """

    port: PortName | PortNumber | None = None
    undeclared: bool = False

    def __init__(self, /, **data: Unpack[TcpProbeArgs]) -> None:
        super().__init__(**data)

    def handler(self, ports: Sequence[Port]) -> dict[str, Any]:
        port = probe_port(self.port, ports, "TCP probe", undeclared=self.undeclared)
        return {"tcpSocket": {"port": port}}


class ExecProbe(Probe):
    """Healthy when ``command`` (run in the container, no shell) exits 0."""

    command: list[str] = Field(min_length=1)

    def __init__(self, command: list[str] | tuple[str, ...], /, **data: Unpack[ProbeArgs]) -> None:
        Builder.__init__(self, command=command, **data)

    def handler(self, ports: Sequence[Port]) -> dict[str, Any]:
        return {"exec": {"command": list(self.command)}}


class GrpcProbeArgs(ProbeArgs, total=False):
    port: str | int | None
    undeclared: bool
    service: str | None


class GrpcProbe(Probe):
    """A gRPC Health Checking Protocol call on ``port`` (default: the first port).

    Args:
        port: port name or number (rendered as the number, which the API requires).
        service: the service name sent in the health request; unset by default.
        undeclared: ``port`` is a number the process listens on without the container
            declaring it (ingress-nginx's health port 10254): rendered as that number and not
            checked against the declared ports. Defaults to False.
    """

    port: PortName | PortNumber | None = None
    undeclared: bool = False
    service: str | None = None

    def __init__(self, /, **data: Unpack[GrpcProbeArgs]) -> None:
        super().__init__(**data)

    def handler(self, ports: Sequence[Port]) -> dict[str, Any]:
        number = (probe_port(self.port, ports, "gRPC probe", undeclared=True) if self.undeclared
                  else resolve_port(self.port, ports, "gRPC probe").number)
        grpc: dict[str, Any] = {"port": number}
        if self.service is not None:
            grpc["service"] = self.service
        return {"grpc": grpc}


AnyProbe = HttpProbe | TcpProbe | ExecProbe | GrpcProbe
