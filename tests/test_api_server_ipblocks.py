"""KG505/KG506 match ipBlocks against the API server addresses the stack's Cluster declares.

An ingress-nginx controller vendored into a stack is isolated by the policies its flows derive:
it watches Ingresses (KG506: it must reach the API server) and serves the admission webhook
(KG505: the API server must reach it). With ``Cluster(api_server=ApiServer(...))`` an ipBlock
counts only when its CIDR contains the declared address, no ``except`` range carves it out and
(for KG506) the rule allows the declared port; without declared addresses any ipBlock counts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kubegen import (
    ApiServer,
    Cluster,
    Deployment,
    HttpProbe,
    PolicyError,
    Port,
    Stack,
    Vendored,
    lint,
    render,
)

NGINX = Path(__file__).parent / "data" / "vendor" / "ingress-nginx-controller-v1.15.1-deploy.yaml"
IMAGE = "ghcr.io/acme/web:1.0@sha256:" + "a" * 64
API = ApiServer(addresses=["10.0.0.1/32"], port=6443)


def _stack(cluster: Cluster | None) -> tuple[Stack, Deployment, object]:
    stack = Stack("shop", namespace="shop", cluster=cluster)
    nginx = stack.add(Vendored(NGINX, source="https://github.com/kubernetes/ingress-nginx",
                               version="controller-v1.15.1"))
    nginx.drop("Namespace", "ingress-nginx")
    web = stack.add(Deployment("web", image=IMAGE, port=Port(8080, name="http"),
                               readiness=HttpProbe("/ready"), liveness=HttpProbe("/live")))
    controller = nginx.workload("ingress-nginx-controller")
    controller.connect_to(web, port="http")  # isolates the controller for egress
    return stack, web, controller


def _messages(stack: Stack, rule: str) -> list[str]:
    return [f"{f.message} | {f.fix}" for f in lint(stack).findings
            if f.rule_id == rule and f.blocking]


def test_kg506_an_unrelated_cidr_is_refused_naming_the_address_and_the_fix():
    stack, _, controller = _stack(Cluster("prod", api_server=API))
    controller.allow_to(cidr="192.168.0.0/16", port=6443)
    with pytest.raises(PolicyError) as caught:
        render(stack)
    text = str(caught.value)
    assert "KG506" in text and "test_api_server_ipblocks.py:" in text  # located at the stack
    (message,) = _messages(stack, "KG506")
    assert "the API server at 10.0.0.1/32 port 6443 (the Cluster's api_server)" in message
    assert "no ipBlock contains it (192.168.0.0/16 does not)" in message
    assert "allow_to(cidr='10.0.0.1/32', port=6443)" in message


def test_kg506_a_covering_cidr_on_the_declared_port_passes():
    stack, _, controller = _stack(Cluster("prod", api_server=API))
    controller.allow_to(cidr="10.0.0.0/16", port=6443)
    assert not _messages(stack, "KG506")
    assert render(stack)


def test_kg506_an_except_that_carves_the_address_out_is_refused():
    stack, _, controller = _stack(Cluster("prod", api_server=API))
    controller.allow_to(cidr="10.0.0.0/16", except_=["10.0.0.0/24"], port=6443)
    (message,) = _messages(stack, "KG506")
    assert "the ipBlock 10.0.0.0/16 excepts 10.0.0.0/24, which holds it" in message
    # an except elsewhere in the block leaves it in
    stack, _, controller = _stack(Cluster("prod", api_server=API))
    controller.allow_to(cidr="10.0.0.0/16", except_=["10.0.9.0/24"], port=6443)
    assert not _messages(stack, "KG506")


def test_kg506_the_rule_must_allow_the_declared_port_and_every_address():
    stack, _, controller = _stack(Cluster("prod", api_server=API))
    controller.allow_to(cidr="10.0.0.1/32", port=443)
    (message,) = _messages(stack, "KG506")
    assert "the rule with ipBlock 10.0.0.1/32 allows other ports" in message
    # two endpoints: a rule reaching only one leaves the other's calls failing
    two = ApiServer(addresses=["10.0.0.1/32", "10.0.1.1/32"], port=6443)
    stack, _, controller = _stack(Cluster("prod", api_server=two))
    controller.allow_to(cidr="10.0.0.0/24", port=6443)
    (message,) = _messages(stack, "KG506")
    assert "the API server at 10.0.1.1/32 port 6443" in message
    controller.allow_to(cidr="10.0.1.1/32", port=6443)
    assert not _messages(stack, "KG506")


def test_kg505_the_webhook_must_admit_the_declared_addresses():
    stack, web, controller = _stack(Cluster("prod", api_server=API))
    controller.allow_to(cidr="10.0.0.1/32", port=6443)
    web.connect_to(controller, port="https")  # isolates the controller's pods for ingress
    controller.allow_from(cidr="192.168.0.0/16", port="webhook")
    (message,) = _messages(stack, "KG505")
    assert "admits the API server from its address 10.0.0.1/32 (the Cluster's api_server) " \
        "on port 'webhook' (8443): no ipBlock contains it (192.168.0.0/16 does not)" in message
    assert "allow_from(cidr='10.0.0.1/32', port='webhook')" in message
    with pytest.raises(PolicyError, match="KG505"):
        render(stack)
    controller.allow_from(cidr="10.0.0.0/28", port="webhook")
    assert not _messages(stack, "KG505")
    assert render(stack)


def test_kg505_an_except_that_carves_the_address_out_is_refused():
    stack, web, controller = _stack(Cluster("prod", api_server=API))
    controller.allow_to(cidr="10.0.0.1/32", port=6443)
    web.connect_to(controller, port="https")
    controller.allow_from(cidr="10.0.0.0/24", except_=["10.0.0.0/30"], port="webhook")
    (message,) = _messages(stack, "KG505")
    assert "the ipBlock 10.0.0.0/24 excepts 10.0.0.0/30, which holds it" in message


def test_without_declared_addresses_any_ipblock_counts_and_the_fix_says_so():
    stack, web, controller = _stack(None)
    (message,) = _messages(stack, "KG506")  # nothing leaves the pod network yet
    assert "outside the pod network" in message
    assert "declare the API server's addresses with Cluster(" in message
    controller.allow_to(cidr="192.168.0.0/16", port=443)  # unrelated, but nothing to match
    assert not _messages(stack, "KG506")
    web.connect_to(controller, port="https")
    (message,) = _messages(stack, "KG505")
    assert re.search(r"\(an ipBlock, every source or kube-system\) on port 'webhook'", message)
    assert "declare the API server's addresses with Cluster(" in message
    controller.allow_from(cidr="192.168.0.0/16", port="webhook")
    assert not _messages(stack, "KG505")
