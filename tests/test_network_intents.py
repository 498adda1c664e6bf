"""Intent verbs → policies: naming, peers, ports, reasons, and every error with its message."""

from __future__ import annotations

import inspect
import random

import pytest
from network_support import HTTP, deployment, policies, policy_yaml

from kubegen import ConflictError, Namespace, ServicePort, Stack, ValidationError

SEL = {"app.kubernetes.io/instance": "shop"}


def _sel(name: str) -> dict[str, dict[str, str]]:
    return {"matchLabels": {**SEL, "app.kubernetes.io/name": name}}


def _line() -> int:
    """The caller's line number: where a verb was called, for origin checks."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno


@pytest.fixture
def shop() -> Stack:
    return Stack("shop", namespace="shop")


def test_connect_to_renders_both_ends_with_named_ports(shop: Stack) -> None:
    web = shop.add(deployment("web"))
    api = shop.add(deployment("api", [HTTP, ("metrics", 9090, "TCP")]))
    web.connect_to(api, port="http")
    found = policies(shop)
    assert sorted(found) == [
        ("shop", "allow-dns"),
        ("shop", "api-ingress"),
        ("shop", "default-deny"),
        ("shop", "web-egress"),
    ]
    egress = found[("shop", "web-egress")]["spec"]
    assert egress == {
        "podSelector": _sel("web"),
        "policyTypes": ["Egress"],
        "egress": [
            {"to": [{"podSelector": _sel("api")}], "ports": [{"protocol": "TCP", "port": "http"}]}
        ],
    }
    ingress = found[("shop", "api-ingress")]["spec"]
    assert ingress == {
        "podSelector": _sel("api"),
        "policyTypes": ["Ingress"],
        "ingress": [
            {"from": [{"podSelector": _sel("web")}], "ports": [{"protocol": "TCP", "port": "http"}]}
        ],
    }


def test_port_by_number_or_none_resolves_to_the_targets_named_ports(shop: Stack) -> None:
    web = shop.add(deployment("web"))
    api = shop.add(deployment("api", [HTTP, ("metrics", 9090, "TCP"), ("gossip", 7946, "UDP")]))
    web.connect_to(api, port=9090)
    ports = policies(shop)[("shop", "web-egress")]["spec"]["egress"][0]["ports"]
    assert ports == [{"protocol": "TCP", "port": "metrics"}]
    web.connect_to(api)
    ports = policies(shop)[("shop", "web-egress")]["spec"]["egress"][0]["ports"]
    assert [p["port"] for p in ports] == ["gossip", "http", "metrics"]
    assert [p["protocol"] for p in ports] == ["UDP", "TCP", "TCP"]


def test_across_namespaces_both_sides_name_the_other_namespace(shop: Stack) -> None:
    shop.add(Namespace("data"))
    api = shop.add(deployment("api"))
    db = shop.add(deployment("db", [("pg", 5432, "TCP")], namespace="data"))
    api.connect_to(db, port="pg")
    found = policies(shop)
    assert ("data", "default-deny") in found and ("data", "allow-dns") in found
    to_db = found[("shop", "api-egress")]["spec"]["egress"][0]["to"][0]
    assert to_db == {
        "podSelector": _sel("db"),
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "data"}},
    }
    from_api = found[("data", "db-ingress")]["spec"]["ingress"][0]["from"][0]
    assert from_api["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}


def test_rules_group_peers_by_port_set_and_sort(shop: Stack) -> None:
    api = shop.add(deployment("api", [HTTP, ("metrics", 9090, "TCP")]))
    for name in ("zeta", "alpha", "mid"):
        shop.add(deployment(name)).connect_to(api, port="http")
    shop.add(deployment("prom")).connect_to(api, port="metrics")
    rules = policies(shop)[("shop", "api-ingress")]["spec"]["ingress"]
    assert [
        [p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in r["from"]]
        for r in rules
    ] == [
        ["alpha", "mid", "zeta"],
        ["prom"],
    ]
    assert [r["ports"] for r in rules] == [
        [{"protocol": "TCP", "port": "http"}],
        [{"protocol": "TCP", "port": "metrics"}],
    ]


def _declare(order: list[int]) -> str:
    stack = Stack("shop", namespace="shop")
    stack.add(Namespace("data"))
    web = stack.add(deployment("web"))
    api = stack.add(deployment("api", [HTTP, ("metrics", 9090, "TCP")]))
    db = stack.add(deployment("db", [("pg", 5432, "TCP")], namespace="data"))
    verbs = [
        lambda: web.connect_to(api, port="http"),
        lambda: web.connect_to(api, port=8080),  # the same flow, by number
        lambda: api.connect_to(db, port="pg"),
        lambda: api.connect_to(db, port="pg"),  # declared twice
        lambda: web.allow_from(namespace="ingress-nginx", pods={"app": "nginx"}, port="http"),
        lambda: api.allow_to(cidr="10.20.0.0/16", port=6379),
        lambda: api.allow_to_internet(port=443, reason="payments API"),
        lambda: api.allow_from(namespace="monitoring", port="metrics", reason="prometheus"),
        lambda: api.allow_to(cidr="0.0.0.0/0", except_=["10.0.0.0/8"], port=53, reason="dns"),
    ]
    for index in order:
        verbs[index]()
    return policy_yaml(stack)


def test_same_flows_in_any_order_render_identical_yaml() -> None:
    baseline = _declare(list(range(9)))
    rng = random.Random(5)
    for _ in range(8):
        order = list(range(9))
        rng.shuffle(order)
        assert _declare(order) == baseline
    assert baseline.count("port: pg") == 2  # once per side, though declared twice
    assert baseline.count("port: http") == 3  # web-egress, api-ingress, web-ingress
    assert _declare([0, 2, 4, 5, 6, 7, 8]) == baseline  # without the duplicates


def test_dns_defaults_and_overrides(shop: Stack) -> None:
    from kubegen import ClusterDNS, NetworkDefaults

    shop.add(Namespace("batch"))
    shop.add(Namespace("quiet"))
    shop.add(NetworkDefaults(dns=ClusterDNS(namespace="dns", pods={"app": "coredns"}, port=5353)))
    shop.add(NetworkDefaults(namespace="quiet", dns=None))
    found = policies(shop)
    assert ("quiet", "allow-dns") not in found and ("quiet", "default-deny") in found
    rule = found[("batch", "allow-dns")]["spec"]["egress"][0]
    assert rule == {
        "to": [
            {
                "podSelector": {"matchLabels": {"app": "coredns"}},
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "dns"}},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 5353}, {"protocol": "TCP", "port": 5353}],
    }
    assert found[("shop", "allow-dns")]["spec"]["egress"][0] == rule


def test_default_dns_targets_kube_dns(shop: Stack) -> None:
    spec = policies(shop)[("shop", "allow-dns")]["spec"]
    assert spec["podSelector"] == {} and spec["policyTypes"] == ["Egress"]
    assert spec["egress"][0]["to"][0] == {
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    }
    deny = policies(shop)[("shop", "default-deny")]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_namespace_not_owned_gets_no_default_deny_but_keeps_dns() -> None:
    stack = Stack("shop", namespace="shared", create_namespace=False)
    web = stack.add(deployment("web"))
    api = stack.add(deployment("api"))
    web.connect_to(api, port="http")
    found = policies(stack)
    assert sorted(found) == [("shared", "api-ingress"), ("shared", "web-egress")]
    peers = [rule["to"][0] for rule in found[("shared", "web-egress")]["spec"]["egress"]]
    assert {"k8s-app": "kube-dns"} in [p["podSelector"].get("matchLabels") for p in peers]


def test_broad_rules_carry_their_reasons(shop: Stack) -> None:
    api = shop.add(deployment("api", [HTTP, ("metrics", 9090, "TCP")]))
    api.allow_to_internet(port=443, reason="payments API")
    api.allow_to_internet(port=80, reason="  OCSP  ")
    api.allow_to(cidr="10.0.0.0/8", port=5432, reason="legacy VMs")
    api.allow_from(namespace="monitoring", port="metrics", reason="prometheus scrapes")
    api.allow_from(cidr="0.0.0.0/0", port="http", reason="public load balancer")
    egress = policies(shop)[("shop", "api-egress")]["metadata"]["annotations"]
    assert egress == {
        "kubegen.dev/opt-out-egress-cidr": "10.0.0.0/8: legacy VMs",
        "kubegen.dev/opt-out-egress-internet": "OCSP; payments API",
    }
    ingress = policies(shop)[("shop", "api-ingress")]["metadata"]["annotations"]
    assert ingress == {
        "kubegen.dev/opt-out-ingress-cidr": "0.0.0.0/0: public load balancer",
        "kubegen.dev/opt-out-ingress-namespace": "all pods of namespace monitoring: "
        "prometheus scrapes",
    }
    internet = policies(shop)[("shop", "api-egress")]["spec"]["egress"]
    blocks = [peer["ipBlock"] for rule in internet for peer in rule["to"]]
    assert {
        "cidr": "0.0.0.0/0",
        "except": [
            "10.0.0.0/8",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "172.16.0.0/12",
            "192.168.0.0/16",
        ],
    } in blocks
    assert {
        "cidr": "::/0",
        "except": ["::1/128", "::ffff:0:0/96", "fc00::/7", "fe80::/10"],
    } in blocks


def test_allow_from_same_namespace_pods_and_cidr(shop: Stack) -> None:
    web = shop.add(deployment("web"))
    web.allow_from(pods={"role": "canary"}, port="http")
    web.allow_from(cidr="203.0.113.0/24", except_=["203.0.113.128/25"])
    rules = policies(shop)[("shop", "web-ingress")]["spec"]["ingress"]
    assert rules == [
        {
            "from": [
                {"podSelector": {"matchLabels": {"role": "canary"}}},
                {"ipBlock": {"cidr": "203.0.113.0/24", "except": ["203.0.113.128/25"]}},
            ],
            "ports": [{"protocol": "TCP", "port": "http"}],
        }
    ]


def test_allow_to_pods_with_named_port_and_port_ranges(shop: Stack) -> None:
    api = shop.add(deployment("api"))
    api.allow_to(namespace="cache", pods={"app": "redis"}, port="redis")
    api.allow_to(cidr="10.20.0.0/16", port=30000, end_port=30100, protocol="UDP")
    rules = policies(shop)[("shop", "api-egress")]["spec"]["egress"]
    assert rules == [
        {
            "to": [
                {
                    "podSelector": {"matchLabels": {"app": "redis"}},
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "cache"}},
                }
            ],
            "ports": [{"protocol": "TCP", "port": "redis"}],
        },
        {
            "to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}],
            "ports": [{"protocol": "UDP", "port": 30000, "endPort": 30100}],
        },
    ]


# --- errors at build time (render), naming both ends and the verb's line --------------------


def test_port_name_the_target_does_not_expose(shop: Stack) -> None:
    web = shop.add(deployment("web"))
    api = shop.add(deployment("api", [HTTP, ("metrics", 9090, "TCP")]))
    line = _line() + 1
    web.connect_to(api, port="https")
    with pytest.raises(ValidationError) as caught:
        shop.objects()
    error = caught.value
    assert error.message == (
        "Unable to connect Deployment shop/web to Deployment shop/api: Deployment shop/api "
        "exposes no port named 'https'; it exposes http (8080/TCP), metrics (9090/TCP)"
    )
    assert error.field == "port" and error.value == "https"
    assert error.fix is not None and "'http', 'metrics'" in error.fix
    assert error.origin is not None and error.origin.line == line
    assert error.resource == "Deployment shop/web"


def test_port_number_the_target_does_not_expose(shop: Stack) -> None:
    web = shop.add(deployment("web"))
    api = shop.add(deployment("api"))
    web.connect_to(api, port=9999)
    with pytest.raises(ValidationError, match="exposes no port numbered 9999; it exposes http"):
        shop.objects()


def test_a_service_port_number_is_told_apart_from_the_container_port(shop: Stack) -> None:
    """Online Boutique's emailservice: Service port 5000, container port 8080; the caller's
    address says 5000, but the policy must name the pod's port."""
    checkout = shop.add(deployment("checkout"))
    email = shop.add(deployment("email"))
    email.expose(ServicePort("http", port=5000))
    checkout.connect_to(email, port=5000)
    with pytest.raises(ValidationError) as caught:
        shop.objects()
    assert "exposes no port numbered 5000; it exposes http (8080/TCP) (NetworkPolicies match " \
           "the pod's container port, not a Service's port)" in str(caught.value)
    assert caught.value.fix is not None and "use one of its ports ('http')" in caught.value.fix


def test_target_without_ports(shop: Stack) -> None:
    web = shop.add(deployment("web"))
    worker = shop.add(deployment("worker", []))
    web.connect_to(worker)
    with pytest.raises(ValidationError, match="Deployment shop/worker declares no ports") as caught:
        shop.objects()
    assert caught.value.fix == "add a named port to worker's container"


def test_target_not_in_the_stack(shop: Stack) -> None:
    web = shop.add(deployment("web"))
    stray = deployment("stray")
    line = _line() + 1
    web.connect_to(stray, port="http")
    with pytest.raises(ConflictError) as caught:
        shop.objects()
    error = caught.value
    assert error.message == (
        "Unable to connect Deployment shop/web to Deployment stray: Deployment stray is not part "
        "of this stack"
    )
    assert error.origin is not None and error.origin.line == line
    assert error.fix is not None and "web.allow_to(namespace=" in error.fix


def test_target_in_another_stack(shop: Stack) -> None:
    other = Stack("other", namespace="other")
    web = shop.add(deployment("web"))
    api = other.add(deployment("api"))
    web.connect_to(api, port="http")
    with pytest.raises(
        ConflictError, match=r"to Deployment other/api: .* is not part of this stack"
    ):
        shop.objects()


def test_allow_from_port_this_workload_does_not_expose(shop: Stack) -> None:
    web = shop.add(deployment("web"))
    web.allow_from(namespace="ingress-nginx", pods={"app": "nginx"}, port="https")
    with pytest.raises(ValidationError) as caught:
        shop.objects()
    assert caught.value.message.startswith(
        "Unable to allow ingress to Deployment shop/web from pods app=nginx in namespace "
        "ingress-nginx: Deployment shop/web exposes no port named 'https'"
    )


# --- errors at call time ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "field", "message"),
    [
        (
            lambda w: w.connect_to("api", port="http"),
            "target",
            "connect_to() takes a workload of the stack, not str",
        ),
        (lambda w: w.connect_to(w, port="HTTP"), "port", "not an IANA service name"),
        (lambda w: w.connect_to(w, port=0), "port", "out of range"),
        (
            lambda w: w.connect_to(w, port=8080.0),
            "port",
            "port must be a name or a number, not float",
        ),
        (lambda w: w.allow_from(port="http"), None, "no peer given"),
        (
            lambda w: w.allow_from(cidr="10.0.0.0/16", namespace="x"),
            None,
            "either a CIDR or pods/namespace",
        ),
        (
            lambda w: w.allow_from(namespace="x", pods={}, except_=["10.0.0.0/24"]),
            None,
            "except_ applies only to a cidr",
        ),
        (lambda w: w.allow_from(namespace="Bad_NS", pods={"a": "b"}), None, "DNS-1123 label"),
        (lambda w: w.allow_from(pods={"a": "b c"}), None, "label value 'b c' is invalid"),
        (lambda w: w.allow_from(cidr="10.0.0.1/16"), None, "has host bits set"),
        (
            lambda w: w.allow_from(cidr="10.0.0.0/16", except_=["10.1.0.0/24"]),
            None,
            "strict subset",
        ),
        (
            lambda w: w.allow_from(namespace="monitoring"),
            "reason",
            "ingress from all pods of namespace monitoring is broad and needs a reason",
        ),
        (
            lambda w: w.allow_from(pods={}),
            "reason",
            "ingress from all pods of this namespace is broad",
        ),
        (
            lambda w: w.allow_from(cidr="0.0.0.0/0", reason=" "),
            "reason",
            "ingress from 0.0.0.0/0 is broad and needs a reason",
        ),
        (
            lambda w: w.allow_from(pods={"a": "b"}, reason="x"),
            "reason",
            "reason= documents broad rules only; pods a=b in this namespace is narrow",
        ),
        (
            lambda w: w.allow_to(cidr="10.0.0.0/16", port="http"),
            "port",
            "port name 'http' cannot match addresses of a CIDR",
        ),
        (
            lambda w: w.allow_to(cidr="10.0.0.0/16", port=None),
            "port",
            "egress outside the stack needs a port",
        ),
        (
            lambda w: w.allow_to(cidr="10.0.0.0/16", port=80, end_port=70),
            "end_port",
            "port range 80-70 is empty",
        ),
        (
            lambda w: w.allow_to(pods={"a": "b"}, port="http", end_port=90),
            "end_port",
            "needs a numeric start port",
        ),
        (
            lambda w: w.allow_to(cidr="10.0.0.0/16", port=80, protocol="ICMP"),
            "protocol",
            "unknown protocol 'ICMP'",
        ),
        (
            lambda w: w.allow_to(cidr="10.0.0.0/8", port=80),
            "reason",
            "egress to 10.0.0.0/8 is broad",
        ),
        (
            lambda w: w.allow_to(namespace="x", port=80, reason="why"),
            "reason",
            "all pods of namespace x is narrow",
        ),
        (
            lambda w: w.allow_to_internet(port=443, reason=""),
            "reason",
            "egress to the internet is broad and needs a reason",
        ),
        (
            lambda w: w.allow_to_internet(port="https", reason="x"),
            "port",
            "cannot match internet addresses",
        ),
    ],
)
def test_invalid_intents_are_refused_where_they_are_declared(
    shop: Stack, call, field, message
) -> None:
    web = shop.add(deployment("web"))
    with pytest.raises(ValidationError) as caught:
        call(web)
    error = caught.value
    assert message in error.message
    assert error.field == field
    assert error.resource == "Deployment shop/web"
    assert error.origin is not None and error.origin.file.endswith("test_network_intents.py")
    assert shop.connections == []


def test_verbs_need_the_workload_in_a_stack() -> None:
    loose = deployment("web")
    with pytest.raises(ValidationError, match="is not part of a Stack yet"):
        loose.allow_to_internet(port=443, reason="x")


def test_network_defaults_conflicts(shop: Stack) -> None:
    from kubegen import NetworkDefaults

    shop.add(NetworkDefaults(dns=None))
    shop.add(NetworkDefaults(dns=None))
    with pytest.raises(ConflictError, match="sets the network defaults of the whole stack twice"):
        shop.objects()
    other = Stack("x", namespace="x")
    other.add(NetworkDefaults(namespace="elsewhere", dns=None))
    with pytest.raises(
        ConflictError, match="names namespace 'elsewhere', which the stack does not create"
    ):
        other.objects()


def test_policy_name_collision_with_a_hand_written_policy(shop: Stack) -> None:
    from kubegen import NetworkPolicy

    web = shop.add(deployment("web"))
    web.allow_to_internet(port=443, reason="x")
    shop.add(NetworkPolicy("web-egress", policy_types=["Egress"]))
    with pytest.raises(ConflictError, match="NetworkPolicy shop/web-egress"):
        shop.objects()


@pytest.mark.parametrize(
    ("call", "example"),
    [
        (lambda w: w.allow_from(namespace="monitoring"), "Prometheus scrapes metrics"),
        (lambda w: w.allow_from(cidr="0.0.0.0/0"), "Prometheus scrapes metrics"),
        (lambda w: w.allow_to(cidr="10.0.0.0/8", port=443), "calls the payment provider"),
    ],
)
def test_missing_reason_fix_shows_an_example_of_its_direction(shop: Stack, call, example) -> None:
    web = shop.add(deployment("web"))
    with pytest.raises(ValidationError) as caught:
        call(web)
    assert example in (caught.value.fix or "")
