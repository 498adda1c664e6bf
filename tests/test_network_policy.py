"""The typed NetworkPolicy builder: rendering, and every value the API server would refuse."""

from __future__ import annotations

import pytest

from kubegen import (
    EgressRule,
    IngressRule,
    IPBlock,
    LabelSelector,
    LabelSelectorRequirement,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    Stack,
    ValidationError,
)
from kubegen._builders.network.cidrs import check_cidr, contains, is_broad, sort_key


def test_full_policy_renders_in_api_field_order() -> None:
    stack = Stack("shop", namespace="shop")
    policy = stack.add(
        NetworkPolicy(
            "api",
            pod_selector=LabelSelector(
                match_labels={"app": "api"},
                match_expressions=[
                    LabelSelectorRequirement(key="tier", operator="In", values=["back", "mid"])
                ],
            ),
            policy_types=["Egress", "Ingress"],
            ingress=[
                IngressRule(
                    from_=[
                        NetworkPolicyPeer(
                            pod_selector=LabelSelector(match_labels={"app": "web"}),
                            namespace_selector=LabelSelector(match_labels={"team": "a"}),
                        )
                    ],
                    ports=[NetworkPolicyPort(port="http")],
                )
            ],
            egress=[
                EgressRule(
                    to=[
                        NetworkPolicyPeer(
                            ip_block=IPBlock(cidr="10.0.0.0/8", except_=["10.1.0.0/16"])
                        )
                    ],
                    ports=[NetworkPolicyPort(port=8000, end_port=8100, protocol="UDP")],
                )
            ],
        )
    )
    (obj,) = policy.manifests()
    assert obj.body["apiVersion"] == "networking.k8s.io/v1"
    assert obj.body["metadata"]["namespace"] == "shop"
    assert obj.body["spec"] == {
        "podSelector": {
            "matchLabels": {"app": "api"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["back", "mid"]}],
        },
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {
                "from": [
                    {
                        "podSelector": {"matchLabels": {"app": "web"}},
                        "namespaceSelector": {"matchLabels": {"team": "a"}},
                    }
                ],
                "ports": [{"protocol": "TCP", "port": "http"}],
            }
        ],
        "egress": [
            {
                "to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                "ports": [{"protocol": "UDP", "port": 8000, "endPort": 8100}],
            }
        ],
    }
    assert list(obj.body["spec"]) == ["podSelector", "policyTypes", "ingress", "egress"]


def test_default_deny_shape() -> None:
    policy = NetworkPolicy("deny", namespace="x", policy_types=["Ingress", "Egress"])
    assert policy.spec() == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_except_alias_and_normalized_cidrs() -> None:
    block = IPBlock(cidr="2001:DB8::/32", **{"except": ["2001:db8:0:0::/48"]})
    assert block.render() == {"cidr": "2001:db8::/32", "except": ["2001:db8::/48"]}


@pytest.mark.parametrize(
    ("build", "field", "message", "fix"),
    [
        (lambda: IPBlock(cidr="10.0.0.1/8"), "cidr", "has host bits set", "'10.0.0.0/8'"),
        (lambda: IPBlock(cidr="10.0.0.1"), "cidr", "is not a CIDR", "write '10.0.0.1/32'"),
        (lambda: IPBlock(cidr="2001:db8::1"), "cidr", "is not a CIDR", "'2001:db8::1/128'"),
        (lambda: IPBlock(cidr="10.0.0.0/33"), "cidr", "is not a valid CIDR", "10.0.0.0/16"),
        (lambda: IPBlock(cidr="010.0.0.0/8"), "cidr", "is not a valid CIDR", None),
        (
            lambda: IPBlock(cidr="10.0.0.0/8", except_=["10.0.0.0/8"]),
            "except_",
            "must be a strict subset of cidr '10.0.0.0/8'",
            "longer than /8",
        ),
        (
            lambda: IPBlock(cidr="10.0.0.0/8", except_=["11.0.0.0/16"]),
            "except_",
            "'11.0.0.0/16' must be a strict subset",
            None,
        ),
        (
            lambda: IPBlock(cidr="10.0.0.0/8", except_=["fc00::/7"]),
            "except_",
            "must be a strict subset",
            None,
        ),
        (lambda: NetworkPolicyPort(port=0), "port", "out of range", "1 and 65535"),
        (lambda: NetworkPolicyPort(port=65536), "port", "out of range", None),
        (lambda: NetworkPolicyPort(port="80"), "port", "string of digits", "pass the number 80"),
        (lambda: NetworkPolicyPort(port="HTTP"), "port", "not an IANA service name", None),
        (lambda: NetworkPolicyPort(port="a--b"), "port", "not an IANA service name", None),
        (lambda: NetworkPolicyPort(port="much-too-long-name"), "port", "IANA", None),
        (
            lambda: NetworkPolicyPort(port="http", end_port=90),
            "end_port",
            "needs a numeric start port, not 'http'",
            "as a number",
        ),
        (
            lambda: NetworkPolicyPort(port=90, end_port=80),
            "end_port",
            "port range 90-80 is empty or out of range",
            "from 90 to 65535",
        ),
        (lambda: NetworkPolicyPort(port=90, end_port=70000), "end_port", "out of range", None),
        (lambda: NetworkPolicyPort(port=53, protocol="ICMP"), "protocol", "'TCP'", None),
        (
            lambda: LabelSelectorRequirement(key="tier", operator="In"),
            None,
            "operator In on key 'tier' needs at least one value",
            "operator='Exists'",
        ),
        (
            lambda: LabelSelectorRequirement(key="tier", operator="Exists", values=["x"]),
            None,
            "takes no values",
            "drop values",
        ),
        (
            lambda: LabelSelectorRequirement(key="-bad", operator="Exists"),
            "key",
            "label key '-bad' is invalid",
            None,
        ),
        (
            lambda: LabelSelector(match_labels={"app": "x y"}),
            "match_labels",
            "label value 'x y' is invalid",
            None,
        ),
        (
            lambda: NetworkPolicyPeer(
                ip_block=IPBlock(cidr="10.0.0.0/8"), pod_selector=LabelSelector()
            ),
            None,
            "either an ip_block or pod/namespace selectors",
            "two peers",
        ),
        (lambda: NetworkPolicyPeer(), None, "needs pod_selector, namespace_selector", None),
        (lambda: NetworkPolicy("p", policy_types=[]), "policy_types", "Ingress and/or", None),
        (
            lambda: NetworkPolicy("p", policy_types=["Ingress", "Ingress"]),
            "policy_types",
            "once each",
            None,
        ),
        (
            lambda: NetworkPolicy("p", policy_types=["Egress"], ingress=[IngressRule()]),
            None,
            "has ingress rules but policy_types ['Egress'] lacks 'Ingress'",
            "add 'Ingress' to policy_types",
        ),
        (
            lambda: NetworkPolicy("p", policy_types=["Ingress"], egress=[EgressRule()]),
            None,
            "lacks 'Egress'",
            None,
        ),
        (lambda: NetworkPolicy("Bad_Name", policy_types=["Ingress"]), "name", "DNS-1123", None),
    ],
)
def test_invalid_values_are_refused(build, field, message, fix) -> None:
    with pytest.raises(ValidationError) as caught:
        build()
    error = caught.value
    assert message in error.message
    assert error.field == field
    if fix is not None:
        assert error.fix is not None and fix in error.fix
    assert error.origin is not None and error.origin.file.endswith("test_network_policy.py")


def test_cidr_helpers() -> None:
    assert check_cidr("192.168.0.0/16") == "192.168.0.0/16"
    assert is_broad("10.0.0.0/8") and is_broad("0.0.0.0/0") and is_broad("::/0")
    assert not is_broad("10.0.0.0/9")
    assert contains("0.0.0.0/0", ["10.0.0.0/8"], "93.184.216.34")
    assert not contains("0.0.0.0/0", ["10.0.0.0/8"], "10.2.3.4")
    assert not contains("0.0.0.0/0", [], "2001:db8::1")
    ordered = sorted(["::/0", "100.64.0.0/10", "10.0.0.0/8", "9.0.0.0/8"], key=sort_key)
    assert ordered == ["9.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "::/0"]
