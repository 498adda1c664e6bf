"""Cluster facts: validation, and what a Stack takes from its cluster."""

from __future__ import annotations

import pytest

from kubegen import (
    ApiServer,
    Cluster,
    ClusterDNS,
    Deployment,
    FluxKubeConfig,
    Stack,
    ValidationError,
)
from kubegen._builders.network.defaults import dns_settings


def test_api_server_normalises_cidrs_and_defaults_to_443():
    api = ApiServer(addresses=["10.0.0.10/32", "2001:DB8::/64"])
    assert api.addresses == ["10.0.0.10/32", "2001:db8::/64"]
    assert api.port == 443


def test_api_server_refuses_a_bare_address_with_the_cidr_as_fix():
    with pytest.raises(ValidationError) as err:
        ApiServer(addresses=["10.0.0.10"])
    assert "10.0.0.10/32" in str(err.value)
    assert err.value.field == "addresses[0]" or "addresses" in str(err.value)


def test_api_server_needs_an_address():
    with pytest.raises(ValidationError):
        ApiServer(addresses=[])


@pytest.mark.parametrize("version", ["1.33", "1.9", "1.100"])
def test_cluster_accepts_major_minor(version):
    assert Cluster("prod", kubernetes_version=version).kubernetes_version == version


@pytest.mark.parametrize("version", ["v1.33", "1.33.2", "2.0", "1.033", ""])
def test_cluster_refuses_other_versions(version):
    with pytest.raises(ValidationError) as err:
        Cluster("prod", kubernetes_version=version)
    assert "MAJOR.MINOR" in str(err.value)


def test_cluster_namespace_levels_are_validated():
    cluster = Cluster("prod", namespaces={"ingress-nginx": "baseline"})
    assert cluster.pod_security_of("ingress-nginx") == "baseline"
    assert cluster.pod_security_of("elsewhere") is None
    with pytest.raises(ValidationError):
        Cluster("prod", namespaces={"ingress-nginx": "lenient"})  # type: ignore[dict-item]
    with pytest.raises(ValidationError):
        Cluster("prod", namespaces={"Ingress": "baseline"})


def test_stack_takes_version_and_dns_from_its_cluster():
    dns = ClusterDNS(pods={"k8s-app": "coredns"})
    cluster = Cluster("prod", kubernetes_version="1.31", dns=dns)
    stack = Stack("shop", namespace="shop", cluster=cluster)
    assert stack.kubernetes_version == "1.31"
    assert dns_settings(stack)[None] is dns
    assert Stack("shop", kubernetes_version="1.32", cluster=cluster).kubernetes_version == "1.32"


def test_the_cluster_dns_reaches_the_rendered_allow_dns_policy():
    cluster = Cluster("prod", dns=ClusterDNS(pods={"k8s-app": "coredns"}, port=5353))
    stack = Stack("shop", namespace="shop", cluster=cluster)
    stack.add(Deployment("api", image="ghcr.io/acme/api:1.0"))
    allow_dns = next(o for o in stack.objects() if o.name == "allow-dns")
    (rule,) = allow_dns.body["spec"]["egress"]
    assert rule["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "coredns"}}
    assert {p["port"] for p in rule["ports"]} == {5353}


# --- how GitOps reaches the cluster ----------------------------------------------------------


def test_cluster_gitops_facts_default_to_the_cluster_the_controllers_run_in():
    local = Cluster("mgmt")
    assert local.argocd_destination() == {"server": "https://kubernetes.default.svc"}
    assert local.argocd_address() == "server https://kubernetes.default.svc"
    assert local.flux_address() == "in-cluster"
    remote = Cluster("prod-eu", argocd_name="prod-eu",
                     flux_kubeconfig=FluxKubeConfig(secret="prod-eu-kubeconfig", key="value"))
    assert remote.argocd_destination() == {"name": "prod-eu"}
    assert remote.flux_address() == "kubeConfig secretRef prod-eu-kubeconfig"
    assert remote.flux_kubeconfig is not None
    assert remote.flux_kubeconfig.body() == {
        "secretRef": {"name": "prod-eu-kubeconfig", "key": "value"}
    }


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Cluster("c", argocd_server="https://a.example.com", argocd_name="a"),
         "names the server or the cluster name, not both"),
        (lambda: Cluster("c", argocd_server="http://a.example.com"),
         "is not the https:// address of a Kubernetes API server"),
        (lambda: Cluster("c", labels={"bad key!": "x"}), "label"),
        (lambda: FluxKubeConfig(), "exactly one Secret or one ConfigMap"),
        (lambda: FluxKubeConfig(secret="a", config_map="b"), "exactly one Secret or one ConfigMap"),
        (lambda: FluxKubeConfig(config_map="a", key="value"), "key= applies to a Secret only"),
    ],
)
def test_cluster_gitops_facts_are_validated(build, message):
    with pytest.raises(ValidationError) as err:
        build()
    assert message in str(err.value)
    assert "Fix:" in str(err.value) or "label" in message
