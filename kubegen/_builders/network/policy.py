"""The typed ``NetworkPolicy`` builder: a 1:1 layer under the connection intents.

Field names are the API's in snake_case (``pod_selector``, ``ip_block``, ``end_port``, ``from_``,
``except_``); every value the API server would refuse is refused here, with the fix. See
https://kubernetes.io/docs/concepts/services-networking/network-policies/.

Most stacks never build these by hand: ``api.connect_to(db, port="pg")`` and friends derive them
(see :mod:`kubegen._builders.network.derive`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal, Required, TypedDict, Unpack

from pydantic import (
    Field,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from kubegen._builders.base import Builder, Resource, ResourceArgs, empty_list
from kubegen._builders.network.cidrs import check_cidr, check_except
from kubegen._builders.network.selectors import LabelSelector
from kubegen._manifests import ManifestObject
from kubegen._values import InvalidValue, Protocol, check_port_name, check_port_number

PolicyType = Literal["Ingress", "Egress"]
PROTOCOLS: tuple[str, ...] = ("TCP", "UDP", "SCTP")


def check_policy_port_name(name: str) -> str:
    """A port name as containers declare it; digits-only strings get a pointed fix."""
    if name.isascii() and name.isdigit():
        raise InvalidValue(
            f"port {name!r} is a string of digits, so it would be read as a port name",
            fix=f"pass the number {int(name)}, not the string {name!r}",
        )
    return check_port_name(name)


class NetworkPolicyPortArgs(TypedDict, total=False):
    port: int | str | None
    end_port: int | None
    protocol: Protocol


class NetworkPolicyPort(Builder):
    """A port (or range) a rule applies to.

    Args:
        port: a number (1-65535), the name of a container port of the *destination* pod, or
            None for every port of ``protocol``.
        end_port: with a numeric ``port``, the last port of the range ``port..end_port``.
        protocol: ``TCP`` (default), ``UDP`` or ``SCTP``.
    """

    port: StrictInt | StrictStr | None = None
    end_port: StrictInt | None = None
    protocol: Protocol = "TCP"

    def __init__(self, /, **data: Unpack[NetworkPolicyPortArgs]) -> None:
        super().__init__(**data)

    @field_validator("port")
    @classmethod
    def _check_port(cls, port: int | str | None) -> int | str | None:
        if isinstance(port, int):
            return check_port_number(port)
        if isinstance(port, str):
            return check_policy_port_name(port)
        return port

    @field_validator("end_port")
    @classmethod
    def _check_range(cls, end_port: int | None, info: ValidationInfo) -> int | None:
        if end_port is None or "port" not in info.data:
            return end_port
        port = info.data["port"]
        if not isinstance(port, int):
            raise InvalidValue(
                f"a port range needs a numeric start port, not {port!r}",
                fix="pass port=<first port> as a number together with end_port",
            )
        if not port <= end_port <= 65535:
            raise InvalidValue(
                f"port range {port}-{end_port} is empty or out of range",
                fix=f"use end_port from {port} to 65535",
            )
        return end_port

    def render(self) -> dict[str, Any]:
        """``{protocol, port, endPort}``; protocol is always written, so the YAML is explicit."""
        out: dict[str, Any] = {"protocol": self.protocol}
        if self.port is not None:
            out["port"] = self.port
        if self.end_port is not None:
            out["endPort"] = self.end_port
        return out


class IPBlockArgs(TypedDict, total=False):
    cidr: Required[str]
    except_: list[str] | tuple[str, ...]


class IPBlock(Builder):
    """Addresses outside the cluster (``ipBlock``): a CIDR minus ``except_`` ranges.

    Args:
        cidr: a network such as ``203.0.113.0/24`` or ``2001:db8::/64``; host bits must be zero.
        except_: ranges to leave out, each a strict subset of ``cidr`` (rendered as ``except``).
    """

    cidr: str
    except_: list[str] = Field(default_factory=empty_list, alias="except")

    def __init__(self, /, **data: Unpack[IPBlockArgs]) -> None:
        super().__init__(**data)

    @field_validator("cidr")
    @classmethod
    def _check_cidr(cls, cidr: str) -> str:
        return check_cidr(cidr)

    @field_validator("except_")
    @classmethod
    def _check_except(cls, excluded: list[str], info: ValidationInfo) -> list[str]:
        if "cidr" not in info.data:  # the cidr itself was refused already
            return excluded
        return check_except(info.data["cidr"], excluded)

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cidr": self.cidr}
        if self.except_:
            out["except"] = list(self.except_)
        return out


class NetworkPolicyPeerArgs(TypedDict, total=False):
    pod_selector: LabelSelector | None
    namespace_selector: LabelSelector | None
    ip_block: IPBlock | None


class NetworkPolicyPeer(Builder):
    """Who is on the other end of a rule: pods, namespaces, or an IP block.

    ``pod_selector`` alone selects pods in the policy's namespace; with ``namespace_selector``
    it selects those pods in the matching namespaces; ``namespace_selector`` alone selects every
    pod there. ``ip_block`` stands alone.
    """

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None

    def __init__(self, /, **data: Unpack[NetworkPolicyPeerArgs]) -> None:
        super().__init__(**data)

    @model_validator(mode="after")
    def _one_kind(self) -> NetworkPolicyPeer:
        selectors = self.pod_selector is not None or self.namespace_selector is not None
        if self.ip_block is not None and selectors:
            raise InvalidValue(
                "a peer is either an ip_block or pod/namespace selectors, not both",
                fix="split it into two peers",
            )
        if self.ip_block is None and not selectors:
            raise InvalidValue(
                "a peer needs pod_selector, namespace_selector or ip_block",
                fix="say who: e.g. NetworkPolicyPeer(pod_selector=LabelSelector("
                "match_labels={'app.kubernetes.io/name': 'web'}))",
            )
        return self

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.pod_selector is not None:
            out["podSelector"] = self.pod_selector.render()
        if self.namespace_selector is not None:
            out["namespaceSelector"] = self.namespace_selector.render()
        if self.ip_block is not None:
            out["ipBlock"] = self.ip_block.render()
        return out


class IngressRuleArgs(TypedDict, total=False):
    from_: Sequence[NetworkPolicyPeer]
    ports: Sequence[NetworkPolicyPort]


class IngressRule(Builder):
    """Traffic allowed *into* the selected pods.

    Args:
        from_: sources (rendered ``from``). Empty means every source: prefer naming them.
        ports: destination ports. Empty means every port.
    """

    from_: list[NetworkPolicyPeer] = Field(default_factory=empty_list, alias="from")
    ports: list[NetworkPolicyPort] = Field(default_factory=empty_list)

    def __init__(self, /, **data: Unpack[IngressRuleArgs]) -> None:
        super().__init__(**data)

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.from_:
            out["from"] = [peer.render() for peer in self.from_]
        if self.ports:
            out["ports"] = [port.render() for port in self.ports]
        return out


class EgressRuleArgs(TypedDict, total=False):
    to: Sequence[NetworkPolicyPeer]
    ports: Sequence[NetworkPolicyPort]


class EgressRule(Builder):
    """Traffic allowed *out of* the selected pods.

    Args:
        to: destinations. Empty means every destination: prefer naming them.
        ports: destination ports. Empty means every port.
    """

    to: list[NetworkPolicyPeer] = Field(default_factory=empty_list)
    ports: list[NetworkPolicyPort] = Field(default_factory=empty_list)

    def __init__(self, /, **data: Unpack[EgressRuleArgs]) -> None:
        super().__init__(**data)

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.to:
            out["to"] = [peer.render() for peer in self.to]
        if self.ports:
            out["ports"] = [port.render() for port in self.ports]
        return out


class NetworkPolicyArgs(ResourceArgs, total=False):
    pod_selector: LabelSelector
    policy_types: Required[list[PolicyType] | tuple[PolicyType, ...]]
    ingress: Sequence[IngressRule]
    egress: Sequence[EgressRule]


class NetworkPolicy(Resource):
    """A ``networking.k8s.io/v1`` NetworkPolicy.

    Args:
        name: DNS-1123 subdomain.
        pod_selector: the pods the policy applies to; defaults to every pod in the namespace.
        policy_types: ``["Ingress"]``, ``["Egress"]`` or both; required, so what the policy
            isolates is never left to the API's inference from which rule lists are present.
        ingress: rules that allow traffic in; only with ``"Ingress"`` in ``policy_types``. No
            rules (the default) with ``"Ingress"`` denies all ingress.
        egress: rules that allow traffic out; only with ``"Egress"`` in ``policy_types``.
    """

    api_version: ClassVar[str] = "networking.k8s.io/v1"
    kind: ClassVar[str] = "NetworkPolicy"

    pod_selector: LabelSelector = Field(default_factory=LabelSelector)
    policy_types: list[PolicyType]
    ingress: list[IngressRule] = Field(default_factory=empty_list)
    egress: list[EgressRule] = Field(default_factory=empty_list)

    def __init__(self, name: str, /, **data: Unpack[NetworkPolicyArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("policy_types")
    @classmethod
    def _check_types(cls, types: list[str]) -> list[str]:
        if not types or len(set(types)) != len(types):
            raise InvalidValue(
                f"policy_types {types!r} must name Ingress and/or Egress once each",
                fix="use ['Ingress'], ['Egress'] or ['Ingress', 'Egress']",
            )
        return sorted(types, key=("Ingress", "Egress").index)

    @model_validator(mode="after")
    def _rules_match_types(self) -> NetworkPolicy:
        for kind, rules in (("Ingress", self.ingress), ("Egress", self.egress)):
            if rules and kind not in self.policy_types:
                raise InvalidValue(
                    f"has {kind.lower()} rules but policy_types {self.policy_types} lacks "
                    f"{kind!r}, so the API server would ignore them",
                    fix=f"add {kind!r} to policy_types",
                )
        return self

    def spec(self) -> dict[str, Any]:
        """The ``spec`` mapping in the API's field order."""
        spec: dict[str, Any] = {
            "podSelector": self.pod_selector.render(),
            "policyTypes": list(self.policy_types),
        }
        if self.ingress:
            spec["ingress"] = [rule.render() for rule in self.ingress]
        if self.egress:
            spec["egress"] = [rule.render() for rule in self.egress]
        return spec

    def manifests(self) -> list[ManifestObject]:
        body = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(),
            "spec": self.spec(),
        }
        return [self.manifest(body)]
