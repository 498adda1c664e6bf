"""``kubegen access`` says whether each bound account's pods reach the API server, and how."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from network_semantics import Cluster as Evaluator
from network_semantics import External, pods_of
from typer.testing import CliRunner

from kubegen import ApiServer, Cluster, Manifest, Stack
from kubegen._analysis.access import Subject
from kubegen._analysis.api_reach import api_reach
from kubegen._cli.app import app
from kubegen._manifests import ManifestObject
from tests.helpers import write_stack

LEGACY = Subject("ServiceAccount", "legacy", "shop")


def _deployment(host_network: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"serviceAccountName": "legacy",
                            "containers": [{"name": "app", "image": "x:1"}]}
    if host_network:
        spec["hostNetwork"] = True
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "legacy", "namespace": "shop"},
            "spec": {"template": {"metadata": {"labels": {"app": "legacy"}}, "spec": spec}}}


def _egress(*rules: dict[str, Any], name: str = "p") -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"podSelector": {"matchLabels": {"app": "legacy"}},
                     "policyTypes": ["Egress"], "egress": list(rules)}}


def _block(cidr: str, *excluded: str) -> dict[str, Any]:
    block: dict[str, Any] = {"cidr": cidr}
    if excluded:
        block["except"] = list(excluded)
    return {"ipBlock": block}


CASES: dict[str, list[dict[str, Any]]] = {
    "not isolated": [],
    "exact": [_egress({"to": [_block("10.0.0.10/32"), _block("10.0.1.10/32")],
                       "ports": [{"protocol": "TCP", "port": 6443}]})],
    "split over policies": [
        _egress({"to": [_block("10.0.0.0/24")], "ports": [{"port": 6443}]}, name="a"),
        _egress({"to": [_block("10.0.1.0/24")], "ports": [{"port": 6000, "endPort": 7000}]},
                name="b")],
    "one address missing": [_egress({"to": [_block("10.0.0.10/32")],
                                     "ports": [{"port": 6443}]})],
    "excluded": [_egress({"to": [_block("10.0.0.0/16", "10.0.1.0/24")]})],
    "wrong port": [_egress({"to": [_block("10.0.0.0/16")], "ports": [{"port": 443}]})],
    "udp only": [_egress({"to": [_block("10.0.0.0/16")],
                          "ports": [{"protocol": "UDP", "port": 6443}]})],
    "anywhere": [_egress({"ports": [{"port": 6443}]})],
    "deny all": [_egress()],
}
ADDRESSES = ("10.0.0.10", "10.0.1.10")


@pytest.mark.parametrize("case", sorted(CASES))
def test_verdict_agrees_with_the_independent_evaluator(case: str) -> None:
    bodies = [_deployment(), *CASES[case]]
    objects = [ManifestObject(body) for body in bodies]
    (reach,) = api_reach(objects, [LEGACY], [f"{a}/32" for a in ADDRESSES], 6443)
    evaluator = Evaluator.of(bodies)
    (pod,) = pods_of(bodies)
    expected = all(evaluator.allows(pod, External(a), 6443) for a in ADDRESSES)
    assert reach.reachable is expected, case
    assert reach.workload == "shop/legacy"
    assert bool(reach.via) is (expected and case != "not isolated")


def test_only_the_given_accounts_are_reported() -> None:
    objects = [ManifestObject(_deployment())]
    assert api_reach(objects, [Subject("ServiceAccount", "other", "shop")], ["10.0.0.1/32"],
                     443) == []
    assert api_reach(objects, [Subject("Group", "legacy", "shop")], ["10.0.0.1/32"], 443) == []


LEGACY_STACK = """
from kubegen import ApiServer, Cluster, Manifest, Namespace, Stack

CLUSTER = {cluster}
POD = {pod!r}


def build():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    # a legacy pod as it is, unhardened: admitted only by a privileged namespace
    stack.add(Namespace("shop", pod_security="privileged", reason="legacy pods as they are"))
    stack.add(Manifest({{"apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": {{"name": "legacy", "namespace": "shop"}}}}))
    stack.add(Manifest(POD))
    stack.add(Manifest({{
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {{"name": "legacy-view", "namespace": "shop"}},
        "roleRef": {{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "view"}},
        "subjects": [{{"kind": "ServiceAccount", "name": "legacy", "namespace": "shop"}}],
    }}))
    return stack
"""
KNOWN = 'Cluster("prod", api_server=ApiServer(addresses=["10.0.0.10/32"], port=6443))'


def _access(tmp_path: Path, cluster: str, host_network: bool = False) -> str:
    pod = _deployment(host_network)
    pod["spec"]["template"]["spec"].update({
        "automountServiceAccountToken": False, "securityContext": {"runAsNonRoot": True}})
    write_stack(tmp_path, "prod", LEGACY_STACK.format(cluster=cluster, pod=pod))
    result = CliRunner().invoke(app, ["access", str(tmp_path / "stacks/prod")])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_bound_account_whose_pods_cannot_reach_the_api_server_is_named(tmp_path: Path) -> None:
    lines = _access(tmp_path, KNOWN).splitlines()
    assert "API server 10.0.0.10/32 port 6443 (Cluster prod):" in lines
    assert ("  NOT reachable from shop/legacy (ServiceAccount shop/legacy): no egress rule "
            "allows it") in lines


def test_host_network_pods_are_flagged(tmp_path: Path) -> None:
    output = _access(tmp_path, KNOWN, host_network=True)
    assert "(hostNetwork: most network plugins apply no NetworkPolicy to it)" in output


def test_undeclared_and_elsewhere_api_servers_are_said_so(tmp_path: Path) -> None:
    assert "API server: not declared, so reachability is not checked" in _access(tmp_path, "None")
    elsewhere = 'Cluster("lab", api_egress_elsewhere="Cilium kube-apiserver entity")'
    assert ("API server (Cluster lab): egress allowed outside kubegen: Cilium kube-apiserver "
            "entity") in _access(tmp_path, elsewhere)


def test_json_carries_the_same_verdicts(tmp_path: Path) -> None:
    import json

    _access(tmp_path, KNOWN)
    result = CliRunner().invoke(app, ["access", "--format", "json",
                                      str(tmp_path / "stacks/prod")])
    (stack,) = json.loads(result.output)["stacks"]
    assert stack["apiServer"] == {
        "cluster": "prod", "addresses": ["10.0.0.10/32"], "port": 6443, "elsewhere": None,
        "reach": [{"serviceAccount": {"name": "legacy", "namespace": "shop"},
                   "workload": "shop/legacy", "reachable": False, "via": [],
                   "hostNetwork": False}],
    }


def test_stacks_without_bound_accounts_have_no_api_section() -> None:
    stack = Stack("shop", namespace="shop",
                  cluster=Cluster("prod", api_server=ApiServer(addresses=["10.0.0.1/32"])))
    stack.add(Manifest(_deployment()))
    result_objects = stack.objects()
    assert api_reach(result_objects, [], ["10.0.0.1/32"], 443) == []
