"""A pod's DNS: the policy that picks its resolver, and resolver settings of its own.

``dns_policy`` (see https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-s-dns-policy):
``ClusterFirst`` (the Kubernetes default: cluster DNS, then upstream), ``ClusterFirstWithHostNet``
(the same for a ``hostNetwork`` pod, which otherwise gets the node's resolver and cannot resolve
Services; kubegen renders it for every hostNetwork pod unless told otherwise), ``Default`` (the
node's resolver) and ``None`` (only :class:`DNSConfig`). With ``Default`` or ``None`` the pod's
queries go to servers outside cluster DNS, which the stack's ``allow-dns`` policy does not
cover: add ``allow_to(cidr=…, port=53, protocol="UDP")`` for them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Literal, TypedDict, Unpack

from pydantic import Field, field_validator, model_validator

from kubegen._builders.base import Builder
from kubegen._values import InvalidValue, check_dns_subdomain

DNSPolicy = Literal["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]
MAX_NAMESERVERS = 3  # what the API server (and glibc) accept
MAX_SEARCHES = 32
MAX_SEARCH_CHARS = 2048


class DNSConfigArgs(TypedDict, total=False):
    nameservers: list[str] | tuple[str, ...]
    searches: list[str] | tuple[str, ...]
    options: Mapping[str, str | None]


class DNSConfig(Builder):
    """Resolver settings merged into the pod's ``/etc/resolv.conf`` (``dnsConfig``).

    Args:
        nameservers: up to 3 IP addresses; required with ``dns_policy="None"``.
        searches: search domains (up to 32, 2048 characters in all).
        options: resolver options, name → value (None for a flag), e.g. ``{"ndots": "2"}``:
            ``ndots: 2`` saves the five cluster-suffix lookups of every external name.
    """

    nameservers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: dict[str, str | None] = Field(default_factory=dict)

    def __init__(self, /, **data: Unpack[DNSConfigArgs]) -> None:
        super().__init__(**data)

    @field_validator("nameservers")
    @classmethod
    def _addresses(cls, servers: tuple[str, ...]) -> tuple[str, ...]:
        if len(servers) > MAX_NAMESERVERS:
            raise InvalidValue(f"at most {MAX_NAMESERVERS} nameservers are allowed",
                               fix="keep the first three")
        for server in servers:
            try:
                ipaddress.ip_address(server)
            except ValueError:
                raise InvalidValue(f"nameserver {server!r} is not an IP address",
                                   fix="write e.g. '10.96.0.10'") from None
        return servers

    @field_validator("searches")
    @classmethod
    def _domains(cls, searches: tuple[str, ...]) -> tuple[str, ...]:
        if len(searches) > MAX_SEARCHES or sum(len(s) for s in searches) > MAX_SEARCH_CHARS:
            raise InvalidValue(
                f"at most {MAX_SEARCHES} search domains of {MAX_SEARCH_CHARS} characters in all",
                fix="drop some search domains")
        for domain in searches:
            check_dns_subdomain(domain.removesuffix("."))
        return searches

    @field_validator("options")
    @classmethod
    def _names(cls, options: dict[str, str | None]) -> dict[str, str | None]:
        for name in options:
            if not name.strip():
                raise InvalidValue("a resolver option needs a name", fix="e.g. {'ndots': '2'}")
        return options

    @model_validator(mode="after")
    def _something(self) -> DNSConfig:
        if not (self.nameservers or self.searches or self.options):
            raise InvalidValue("an empty DNSConfig changes nothing", fix="drop dns_config=")
        return self

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.nameservers:
            out["nameservers"] = list(self.nameservers)
        if self.searches:
            out["searches"] = list(self.searches)
        if self.options:
            out["options"] = [
                {"name": name} if value is None else {"name": name, "value": value}
                for name, value in self.options.items()
            ]
        return out


__all__ = ["DNSConfig", "DNSPolicy"]
