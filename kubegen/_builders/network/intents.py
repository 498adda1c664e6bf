"""Network verbs on workloads: declare who talks to whom; the stack derives the policies.

Under the default-deny policy every namespace of a stack gets, a flow exists only when both ends
allow it. The verbs record :class:`~kubegen._relations.Connection` objects on the stack; when the
stack renders, :func:`~kubegen._builders.network.derive.derive_network` turns them into the
egress rule on the sender and the ingress rule on the receiver:

- ``a.connect_to(b, port="http")``: a workload of the stack to another one.
- ``web.allow_from(namespace="ingress-nginx", pods={...}, port="http")``: ingress from outside.
- ``api.allow_to(cidr="10.20.0.0/16", port=5432)``: egress to pods or addresses outside.
- ``api.allow_to_internet(port=443, reason="…")``: egress to public addresses.

Broad rules (the internet, CIDRs of /0 to /8, ingress from a whole namespace) need ``reason=``,
rendered as a ``kubegen.dev/opt-out-…`` annotation on the policy that carries them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kubegen._builders.calls import checked
from kubegen._builders.network.peers import Direction, ExternalPeer
from kubegen._builders.network.policy import PROTOCOLS, check_policy_port_name
from kubegen._errors import ValidationError
from kubegen._origin import Origin, capture
from kubegen._relations import Connection
from kubegen._values import InvalidValue, Protocol, check_port_number

if TYPE_CHECKING:
    from kubegen._builders.workloads.base import Workload
    from kubegen._stack import Stack


class NetworkIntents:
    """Mixin for workloads: the verbs that declare allowed network flows."""

    if TYPE_CHECKING:

        @property
        def stack(self) -> Stack: ...

        @property
        def display(self) -> str: ...

    @checked
    def connect_to(self, target: Workload, *, port: str | int | None = None) -> Connection:
        """Allow this workload to open connections to ``target``, a workload of the same stack.

        Renders an egress rule in this workload's ``<name>-egress`` policy and an ingress rule
        in the target's ``<name>-ingress`` policy; across namespaces both add a
        namespaceSelector on ``kubernetes.io/metadata.name``.

        Args:
            target: a workload added to the same stack (for anything else use ``allow_to``).
            port: one of the target's ports, by name (``"http"``) or number; None (the default)
                allows every port the target declares. Checked when the stack renders.
        """
        origin = capture()
        from kubegen._builders.workloads.base import Workload

        if not isinstance(target, Workload):
            raise ValidationError(
                f"connect_to() takes a workload of the stack, not {type(target).__name__}",
                origin=origin,
                resource=self.display,
                field="target",
                value=target,
                fix="for peers outside the stack use allow_to(namespace=..., pods=...) or "
                "allow_to(cidr=...)",
            )
        _checked_port(self, port, origin, allow_range=False)
        return self._record(Connection(source=self, target=target, port=port, origin=origin))

    @checked
    def allow_from(
        self,
        *,
        namespace: str | None = None,
        pods: Mapping[str, str] | None = None,
        cidr: str | None = None,
        except_: list[str] | tuple[str, ...] = (),
        port: str | int | None = None,
        reason: str | None = None,
    ) -> Connection:
        """Allow ingress from a peer outside the stack (an ingress controller, a monitoring agent).

        Args:
            namespace: the peer's namespace; with ``pods``, only those pods there. Alone it
                means every pod of that namespace, which is broad and needs ``reason``.
            pods: labels of the peer pods; without ``namespace`` they are in this workload's
                namespace.
            cidr: instead of pods, source addresses outside the cluster (``203.0.113.0/24``).
                /0 to /8 is broad and needs ``reason``.
            except_: ranges inside ``cidr`` to leave out.
            port: one of this workload's ports, by name or number; None (the default) allows
                every port it declares.
            reason: why a broad rule is needed; rendered as an annotation. Only for broad rules.
        """
        origin = capture()
        peer = _peer(self, origin, namespace=namespace, pods=pods, cidr=cidr, except_=except_)
        _checked_port(self, port, origin, allow_range=False)
        options = _reason(self, peer, "ingress", reason, origin)
        return self._record(
            Connection(source=peer, target=self, port=port, origin=origin, options=options)
        )

    @checked
    def allow_to(
        self,
        *,
        namespace: str | None = None,
        pods: Mapping[str, str] | None = None,
        cidr: str | None = None,
        except_: list[str] | tuple[str, ...] = (),
        port: str | int,
        end_port: int | None = None,
        protocol: Protocol = "TCP",
        reason: str | None = None,
    ) -> Connection:
        """Allow egress to a peer outside the stack: pods/a namespace, or a CIDR.

        Args:
            namespace: the peer's namespace; alone it means every pod there.
            pods: labels of the peer pods; without ``namespace`` they are in this namespace.
            cidr: instead of pods, destination addresses (``10.20.0.0/16``); /0 to /8 is broad
                and needs ``reason``.
            except_: ranges inside ``cidr`` to leave out.
            port: the destination port: a number, or a port name (for pods only). Required:
                outside the stack kubegen cannot know which ports the peer serves.
            end_port: with a numeric ``port``, allow the range ``port..end_port``.
            protocol: ``TCP`` (default), ``UDP`` or ``SCTP``.
            reason: why a broad rule is needed; rendered as an annotation. Only for broad rules.
        """
        origin = capture()
        peer = _peer(self, origin, namespace=namespace, pods=pods, cidr=cidr, except_=except_)
        if peer.cidr is not None and isinstance(port, str):
            raise ValidationError(
                f"port name {port!r} cannot match addresses of a CIDR",
                origin=origin,
                resource=self.display,
                field="port",
                value=port,
                fix="pass the port number",
            )
        return self._egress(peer, port, end_port, protocol, reason, origin)

    @checked
    def allow_to_internet(
        self,
        *,
        port: int,
        end_port: int | None = None,
        protocol: Protocol = "TCP",
        reason: str,
    ) -> Connection:
        """Allow egress to public addresses: ``0.0.0.0/0`` and ``::/0`` minus private ranges.

        Excluded: RFC 1918, CGNAT ``100.64.0.0/10``, link-local, loopback; for IPv6 loopback,
        IPv4-mapped, unique-local ``fc00::/7`` and link-local ``fe80::/10``.

        Args:
            port: the destination port number.
            end_port: allow the range ``port..end_port``.
            protocol: ``TCP`` (default), ``UDP`` or ``SCTP``.
            reason: why the workload needs the internet; rendered as the annotation
                ``kubegen.dev/opt-out-egress-internet``.
        """
        origin = capture()
        if isinstance(port, str):
            raise ValidationError(
                f"port name {port!r} cannot match internet addresses",
                origin=origin,
                resource=self.display,
                field="port",
                value=port,
                fix="pass the port number, e.g. port=443",
            )
        return self._egress(ExternalPeer.the_internet(), port, end_port, protocol, reason, origin)

    def _egress(
        self,
        peer: ExternalPeer,
        port: str | int,
        end_port: int | None,
        protocol: str,
        reason: str | None,
        origin: Origin | None,
    ) -> Connection:
        if port is None:
            raise ValidationError(
                "egress outside the stack needs a port",
                origin=origin,
                resource=self.display,
                field="port",
                fix="pass port=<number> (and end_port=<number> for a range)",
            )
        _checked_port(self, port, origin, allow_range=True, end_port=end_port)
        if protocol not in PROTOCOLS:
            raise ValidationError(
                f"unknown protocol {protocol!r}",
                origin=origin,
                resource=self.display,
                field="protocol",
                value=protocol,
                fix=f"use one of {', '.join(PROTOCOLS)}",
            )
        options: dict[str, Any] = {"protocol": protocol}
        options.update(_reason(self, peer, "egress", reason, origin))
        if end_port is not None:
            options["end_port"] = end_port
        return self._record(
            Connection(source=self, target=peer, port=port, origin=origin, options=options)
        )

    def _record(self, connection: Connection) -> Connection:
        self.stack.connections.append(connection)
        return connection


def _peer(owner: NetworkIntents, origin: Origin | None, **given: Any) -> ExternalPeer:
    try:
        return ExternalPeer.of(**given)
    except InvalidValue as exc:
        raise ValidationError(
            exc.message, fix=exc.fix, origin=origin, resource=owner.display
        ) from None


def _checked_port(
    owner: NetworkIntents,
    port: object,
    origin: Origin | None,
    *,
    allow_range: bool,
    end_port: int | None = None,
) -> None:
    """Refuse a port that is neither a number nor a name, before anything is recorded."""
    _guard(owner, origin, "port", port, lambda: _check_port(port))
    if end_port is not None:
        _guard(
            owner,
            origin,
            "end_port",
            end_port,
            lambda: _check_end_port(port, end_port, allow_range),
        )


def _guard(
    owner: NetworkIntents, origin: Origin | None, field: str, value: object, check: Any
) -> None:
    try:
        check()
    except InvalidValue as exc:
        raise ValidationError(
            exc.message,
            fix=exc.fix,
            origin=origin,
            resource=owner.display,
            field=field,
            value=value,
        ) from None


def _check_port(port: object) -> None:
    if isinstance(port, bool) or not isinstance(port, (int, str, type(None))):
        raise InvalidValue(
            f"port must be a name or a number, not {type(port).__name__}",
            fix="pass e.g. port='http' or port=8080",
        )
    if isinstance(port, int):
        check_port_number(port)
    elif isinstance(port, str):
        check_policy_port_name(port)


def _check_end_port(port: object, end_port: int, allow_range: bool) -> None:
    if not allow_range:
        raise InvalidValue("port ranges are not allowed here", fix="drop end_port")
    if not isinstance(port, int):
        raise InvalidValue(
            f"a port range needs a numeric start port, not {port!r}",
            fix="pass port=<first port> as a number together with end_port",
        )
    if (
        isinstance(end_port, bool)
        or not isinstance(end_port, int)
        or not (port <= end_port <= 65535)
    ):
        raise InvalidValue(
            f"port range {port}-{end_port} is empty or out of range",
            fix=f"use end_port from {port} to 65535",
        )


# What a reason for a broad peer reads like, per direction (shown in the fix of a missing one).
_EXAMPLE_REASONS: dict[Direction, str] = {
    "egress": "calls the payment provider's API",
    "ingress": "Prometheus scrapes metrics from every pod of the monitoring namespace",
}


def _reason(
    owner: NetworkIntents,
    peer: ExternalPeer,
    direction: Direction,
    reason: str | None,
    origin: Origin | None,
) -> dict[str, Any]:
    """A broad peer needs a reason; a narrow one takes none (there is nothing to justify)."""
    category = peer.broad_category(direction)
    text = reason.strip() if isinstance(reason, str) else ""
    if category is not None and not text:
        raise ValidationError(
            f"{direction} {'to' if direction == 'egress' else 'from'} {peer.describe()} is "
            "broad and needs a reason",
            origin=origin,
            resource=owner.display,
            field="reason",
            fix=f"say why, e.g. reason={_EXAMPLE_REASONS[direction]!r}; or narrow the peer "
            "(pods=..., a smaller CIDR)",
        )
    if category is None and reason is not None:
        raise ValidationError(
            f"reason= documents broad rules only; {peer.describe()} is narrow",
            origin=origin,
            resource=owner.display,
            field="reason",
            value=reason,
            fix="drop reason=, or keep it as a comment in the stack",
        )
    return {"reason": text} if category is not None else {}
