"""Rendering an environment that runs on several clusters: one folder per cluster.

The fleet module is called ``demo_fleet``: the example's ``stacks/fleet`` is imported as
``fleet`` by other tests in this process, and Python caches shared modules by name.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from kubegen import StackLoadError
from kubegen._cli.app import app
from kubegen._loader import load_stack
from kubegen._pipeline import build_objects, plan
from kubegen._render.layout import HEADER
from tests.helpers import run_cli, write_stack

FLEET = '''
from kubegen import ApiServer, Cluster, Environment, Fleet, FluxKubeConfig

EU = Cluster("eu-1", argocd_server="https://eu-1.k8s.example.com",
             flux_kubeconfig=FluxKubeConfig(secret="eu-1-kubeconfig"),
             api_server=ApiServer(addresses=["10.1.0.1/32"]))
US = Cluster("us-1", argocd_server="https://us-1.k8s.example.com",
             flux_kubeconfig=FluxKubeConfig(secret="us-1-kubeconfig"),
             api_server=ApiServer(addresses=["10.2.0.1/32"]))
FLEET = Fleet(environments=[Environment("prod", clusters=[EU, US])])
REPLICAS = {"eu-1": 3, "us-1": 2}  # per-cluster values are plain Python
'''

PROD = '''
from demo_fleet import FLEET, REPLICAS
from kubegen import ConfigMap, Stack

def build():
    stacks = []
    for cluster in FLEET.clusters("prod"):
        stack = Stack("shop", namespace="shop", cluster=cluster)
        stack.add(ConfigMap("settings", data={"replicas": str(REPLICAS[cluster.name]),
                                              "cluster": cluster.name}))
        stacks.append(stack)
    return stacks
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_stack(tmp_path, "demo_fleet", FLEET)
    write_stack(tmp_path, "prod", PROD)
    return tmp_path


def test_each_cluster_renders_into_its_own_folder_with_its_own_values(
    project: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(project)
    result = plan(project / "stacks" / "prod")
    assert result.env_dir == project / "output" / "prod"
    assert sorted(result.files) == [
        f"{c}/{p}" for c in ("eu-1", "us-1")
        for p in ("_cluster/namespace-shop.yaml", "kustomization.yaml",
                  "shop/configmap-settings.yaml", "shop/networkpolicy-allow-dns.yaml",
                  "shop/networkpolicy-default-deny.yaml")
    ]
    settings = {c: yaml.safe_load(result.files[f"{c}/shop/configmap-settings.yaml"])["data"]
                for c in ("eu-1", "us-1")}
    assert settings == {"eu-1": {"cluster": "eu-1", "replicas": "3"},
                        "us-1": {"cluster": "us-1", "replicas": "2"}}
    assert [part.label for part in result.parts] == ["prod/eu-1", "prod/us-1"]
    assert result.report.objects == 8


def test_render_check_and_prune_through_the_cli(project: Path):
    first = run_cli("render", "stacks/prod", cwd=project)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "prod: output/prod: 10 created, 0 changed, 0 removed, 0 unchanged\n"
    assert (project / "output/prod/us-1/kustomization.yaml").is_file()
    assert run_cli("check", "stacks/prod", cwd=project).returncode == 0
    (project / "output/prod/eu-1/shop/configmap-settings.yaml").write_text(HEADER + "x: 1\n")
    stale = run_cli("check", "stacks/prod", cwd=project)
    assert stale.returncode == 1 and "output/prod/eu-1/shop/configmap-settings.yaml" in stale.stdout
    # back to one cluster: the per-cluster folders are pruned, the env folder is flat again
    (project / "stacks/demo_fleet/__init__.py").write_text(
        FLEET.replace('clusters=[EU, US]', 'clusters=[EU]'))
    again = run_cli("render", "stacks/prod", cwd=project)
    assert again.returncode == 0, again.stderr
    assert sorted(p.relative_to(project / "output/prod").as_posix()
                  for p in (project / "output/prod").rglob("*.yaml"))[:2] == [
        "_cluster/namespace-shop.yaml", "kustomization.yaml"]
    assert not (project / "output/prod/eu-1").exists()


def test_out_puts_each_cluster_below_the_given_folder(project: Path):
    done = run_cli("render", "stacks/prod", "--out", str(project / "elsewhere"), cwd=project)
    assert done.returncode == 0, done.stderr
    assert (project / "elsewhere/us-1/shop/configmap-settings.yaml").is_file()


def test_lint_access_and_graph_name_each_cluster(project: Path, monkeypatch):
    monkeypatch.chdir(project)
    runner = CliRunner()
    lint = runner.invoke(app, ["lint", "stacks/prod", "--format", "json"])
    assert lint.exit_code == 0, lint.output
    assert '"prod/eu-1"' in lint.stdout and '"prod/us-1"' in lint.stdout
    graph = runner.invoke(app, ["graph", "stacks/prod"])
    assert "kubegen graph: prod/eu-1" in graph.stdout and "kubegen graph: prod/us-1" in graph.stdout
    access = runner.invoke(app, ["access", "stacks/prod", "--format", "json"])
    assert access.exit_code == 0, access.output
    assert "prod/us-1" in access.stdout


def test_one_stack_apis_refuse_a_stack_per_cluster_with_a_message(project: Path):
    loaded = load_stack(project / "stacks" / "prod")
    assert [part.folder for part in loaded.parts] == ["eu-1", "us-1"]
    with pytest.raises(StackLoadError, match="builds one Stack per cluster"):
        loaded.stack  # noqa: B018
    with pytest.raises(StackLoadError, match=r"\(eu-1, us-1\), not one"):
        build_objects(project / "stacks" / "prod")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("def build():\n    return [Stack('a'), Stack('b')]\n",
         "build() returned 2 Stacks and Stack a has no cluster"),
        ("def build():\n    return [Stack('a', cluster=EU), Stack('b', cluster=EU)]\n",
         "build() returned two Stacks for cluster 'eu-1'"),
        ("def build():\n    return []\n", "build() returned a list of nothing, not of Stacks"),
        ("def build():\n    return 'stack'\n", "build() returned str, not a Stack"),
    ],
)
def test_a_list_of_stacks_needs_one_cluster_each(tmp_path: Path, body: str, message: str):
    write_stack(tmp_path, "demo_fleet", FLEET)
    header = "from demo_fleet import EU\nfrom kubegen import Stack\n\n"
    write_stack(tmp_path, "bad", header + body)
    done = run_cli("render", "stacks/bad", cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr, done.stderr
    assert "stacks/bad/__init__.py:" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_list_of_one_stack_renders_into_the_env_folder(tmp_path: Path):
    write_stack(tmp_path, "dev", "from kubegen import ConfigMap, Stack\n\ndef build():\n"
                "    s = Stack('a', namespace='a')\n    s.add(ConfigMap('c'))\n    return [s]\n")
    done = run_cli("render", "stacks/dev", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "output/dev/a/configmap-c.yaml").is_file()


@pytest.mark.parametrize("namespace", ["", "privileged"])
def test_an_error_names_the_cluster_it_happened_for(tmp_path: Path, namespace: str):
    """Admission refuses a privileged pod in a restricted namespace; in a privileged one,
    kubegen's lint does (KG102): either way the message says which cluster's Stack it is."""
    write_stack(tmp_path, "demo_fleet", FLEET)
    write_stack(tmp_path, "prod", '''
        from demo_fleet import FLEET
        from kubegen import Manifest, Namespace, Stack

        def build():
            out = []
            for cluster in FLEET.clusters("prod"):
                stack = Stack("shop", namespace="shop", cluster=cluster)
                if cluster.name == "us-1":
                    if PRIVILEGED:
                        stack.add(Namespace("shop", pod_security="privileged", reason="a lab"))
                    stack.add(Manifest({"apiVersion": "v1", "kind": "Pod",
                                        "metadata": {"name": "p"},
                                        "spec": {"containers": [{"name": "c", "image": "x:1",
                                        "securityContext": {"privileged": True}}]}}))
                out.append(stack)
            return out
    ''')
    stack_file = tmp_path / "stacks/prod/__init__.py"
    stack_file.write_text(f"PRIVILEGED = {bool(namespace)}\n" + stack_file.read_text())
    done = run_cli("render", "stacks/prod", cwd=tmp_path)
    assert done.returncode == 2
    if namespace:
        assert "error: prod/us-1: Unable to render" in done.stderr, done.stderr
        assert "KG102" in done.stderr
    else:
        assert "error: stacks/prod/__init__.py:12: Pod shop/p on cluster us-1: field" in (
            done.stderr), done.stderr
        assert "Pod Security Admission would reject" in done.stderr
    assert not (tmp_path / "output").exists()


def test_render_names_each_clusters_own_kubernetes_version_in_its_policy_line(tmp_path: Path):
    write_stack(tmp_path, "demo_fleet", FLEET.replace(
        'api_server=ApiServer(addresses=["10.2.0.1/32"]))',
        'api_server=ApiServer(addresses=["10.2.0.1/32"]), kubernetes_version="1.32")'))
    widget = ('Manifest({"apiVersion": "example.com/v1", "kind": "Widget", '
              '"metadata": {"name": "w"}})')
    write_stack(tmp_path, "prod", PROD.replace("import ConfigMap,", "import ConfigMap, Manifest,")
                .replace("stack.add(ConfigMap(", f"stack.add({widget})  # a KG002 note\n"
                         "        stack.add(ConfigMap("))
    done = run_cli("render", "stacks/prod", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if ": policy: " in line]
    assert [line.split(": policy: ")[0] for line in lines] == ["prod/eu-1", "prod/us-1"]
    assert "Kubernetes 1.33)" in lines[0] and "Kubernetes 1.32)" in lines[1]
