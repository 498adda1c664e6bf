"""The example stacks: snapshots of every rendered file, the committed output is current, and
the reviewer's views (access table, network graph) of them are pinned."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml
from typer.testing import CliRunner

from kubegen._cli.app import app
from kubegen._pipeline import plan
from tests.helpers import REPO, snapshot_tree

ENVS = ["dev", "prod", "gitops"]


@pytest.fixture(scope="module")
def plans() -> dict[str, object]:
    return {env: plan(REPO / "stacks" / env) for env in ENVS}


@pytest.mark.parametrize("env", ENVS)
def test_rendered_files_match_the_snapshot(env: str, plans, snapshot):
    files = plans[env].files  # type: ignore[attr-defined]
    assert {path: data.decode() for path, data in files.items()} == snapshot


@pytest.mark.parametrize("env", ENVS)
def test_committed_output_is_exactly_what_the_code_renders(env: str, plans):
    assert snapshot_tree(REPO / "output" / env) == plans[env].files  # type: ignore[attr-defined]


@pytest.mark.parametrize("env", ENVS)
def test_kubectl_kustomize_builds_the_committed_output(env: str):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed on this machine")
    result = subprocess.run([kubectl, "kustomize", str(REPO / "output" / env)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    built = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    on_disk = [p for p in (REPO / "output" / env).rglob("*.yaml") if p.name != "kustomization.yaml"]
    assert len(built) == len(on_disk)


def test_dev_and_prod_differ_only_where_the_environments_do(plans):
    dev = {p: yaml.safe_load(d) for p, d in plans["dev"].files.items()}  # type: ignore[attr-defined]
    prod = {p: yaml.safe_load(d) for p, d in plans["prod"].files.items()}  # type: ignore[attr-defined]
    assert dev["shop/deployment-api.yaml"]["spec"]["replicas"] == 1
    assert prod["shop/deployment-web.yaml"]["spec"]["replicas"] == 3
    # prod autoscales the api: the HPA owns its replica count, so none is rendered
    assert "replicas" not in prod["shop/deployment-api.yaml"]["spec"]
    hpa = prod["shop/horizontalpodautoscaler-api.yaml"]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 12)
    assert "shop/horizontalpodautoscaler-api.yaml" not in dev
    hosts = {env: files["shop/ingress-shop.yaml"]["spec"]["rules"][0]["host"]
             for env, files in (("dev", dev), ("prod", prod))}
    assert hosts == {"dev": "dev.shop.example.com", "prod": "shop.example.com"}
    prod_images = [c["image"] for doc in prod.values() for c in _containers(doc)]
    assert prod_images and all("@sha256:" in image for image in prod_images)
    assert not any("@sha256:" in c["image"] for doc in dev.values() for c in _containers(doc))
    claims = prod["shop/statefulset-postgres.yaml"]["spec"]["volumeClaimTemplates"]
    assert claims[0]["spec"]["resources"]["requests"]["storage"] == "100Gi"
    # replicated workloads get PDBs only where they run more than one pod
    pdb = "shop/poddisruptionbudget-api.yaml"
    assert pdb in prod and pdb not in dev


WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}


def _containers(doc: dict) -> list[dict]:
    if doc.get("kind") not in WORKLOAD_KINDS:
        return []
    spec = doc["spec"]
    template = spec.get("jobTemplate", {}).get("spec", {}).get("template") or spec.get("template")
    if not template:
        return []
    pod = template["spec"]
    return pod.get("containers", []) + pod.get("initContainers", [])


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_only_the_api_may_talk_to_the_kubernetes_api(env: str, plans):
    files = {p: yaml.safe_load(d) for p, d in plans[env].files.items()}  # type: ignore[attr-defined]
    pods = {doc["metadata"]["name"]: _pod(doc) for doc in files.values() if _containers(doc)}
    assert all(pod["automountServiceAccountToken"] is False for pod in pods.values())
    mounting = sorted(
        name for name, pod in pods.items()
        if any("serviceAccountToken" in source for volume in pod.get("volumes", [])
               for source in volume.get("projected", {}).get("sources", []))
    )
    assert mounting == ["api"]
    subjects = [s["name"] for doc in files.values() if doc["kind"] == "RoleBinding"
                for s in doc["subjects"]]
    assert subjects == ["api"]


def _pod(doc: dict) -> dict:
    spec = doc["spec"]
    return (spec.get("jobTemplate", {}).get("spec", {}).get("template") or spec["template"])["spec"]


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_access_table_of_the_example_stacks(snapshot):
    stacks = [str(REPO / "stacks" / env) for env in ("dev", "prod")]
    assert _cli("access", *stacks) == snapshot
    assert json.loads(_cli("access", *stacks, "--format", "json")) == snapshot


def test_network_graph_of_the_example_stack(snapshot):
    assert _cli("graph", str(REPO / "stacks" / "prod")) == snapshot
    assert _cli("graph", str(REPO / "stacks" / "prod"), "--format", "dot") == snapshot
