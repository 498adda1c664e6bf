"""Layers of a Stack (folders, sync waves) and sync hooks, as rendered."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubegen import (
    ApiServer,
    Cluster,
    ConfigFiles,
    ConfigMap,
    Deployment,
    HttpProbe,
    Job,
    Layer,
    Manifest,
    Namespace,
    Port,
    Rule,
    Stack,
    StatefulSet,
    SyncHook,
    TcpProbe,
    ValidationError,
    lint,
    render,
)

WAVE = "argocd.argoproj.io/sync-wave"


def shop(**hook: Any) -> Stack:
    stack = Stack("shop", namespace="shop", layers=("data", Layer("migrations"), "app"),
                  cluster=Cluster("c", api_server=ApiServer(addresses=["10.0.0.1/32"])))
    db = stack.add(StatefulSet("postgres", image="postgres:16.4", port=Port(5432, name="pg"),
                               liveness=TcpProbe(), readiness=TcpProbe(), storage="1Gi"),
                   layer="data")
    migrate = stack.add(Job("migrate", image="ghcr.io/acme/api:1.0", args=["migrate"],
                            active_deadline="10m"),
                        layer="migrations", **hook)
    api = stack.add(Deployment(
        "api", image="ghcr.io/acme/api:1.0", port=Port(8080, name="http"),
        readiness=HttpProbe("/ready"), liveness=HttpProbe("/healthz"),
        mounts={"/etc/api": ConfigFiles(ConfigMap("api", data={"a": "b"}))}))
    api.expose()
    api.grant(Rule.read("configmaps"))
    for client in (api, migrate):
        client.connect_to(db, port="pg")
    return stack


def _docs(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {p: yaml.safe_load(t) for p, t in files.items() if not p.endswith("kustomization.yaml")}


def test_each_layer_is_a_folder_with_its_own_kustomization():
    files = render(shop())
    layers = {path.split("/")[0] for path in files if "/" in path}
    assert layers == {"data", "migrations", "app"}
    root = yaml.safe_load(files["kustomization.yaml"])["resources"]
    assert sorted(root) == sorted(p for p in files if p != "kustomization.yaml"
                                  and not p.endswith("/kustomization.yaml"))
    migrations = yaml.safe_load(files["migrations/kustomization.yaml"])["resources"]
    assert migrations == ["shop/job-migrate.yaml", "shop/serviceaccount-migrate.yaml"]
    assert "app/shop/service-api.yaml" in files  # expose() follows its Deployment's layer
    assert "app/shop/configmap-api.yaml" in files  # an adopted ConfigMap follows its pod


def test_layers_are_sync_waves_with_namespaces_guards_and_rbac_first():
    docs = _docs(render(shop()))
    waves = {(d["kind"], d["metadata"]["name"]): d["metadata"]["annotations"][WAVE]
             for d in docs.values()}
    assert waves[("Namespace", "shop")] == "0"
    assert waves[("StatefulSet", "postgres")] == "0"
    assert waves[("NetworkPolicy", "default-deny")] == "0"
    assert waves[("NetworkPolicy", "migrate-egress")] == "0"
    assert waves[("Role", "api-access")] == "0"
    assert waves[("Job", "migrate")] == "1"
    assert waves[("ServiceAccount", "migrate")] == "1"
    assert waves[("Deployment", "api")] == "2"
    for path, doc in docs.items():
        layer = path.split("/")[0]
        assert doc["metadata"]["annotations"][WAVE] == str(["data", "migrations", "app"]
                                                           .index(layer)), path


def test_a_stack_without_layers_renders_as_before():
    stack = Stack("shop", namespace="shop")
    stack.add(ConfigMap("settings", data={"a": "b"}))
    files = render(stack)
    assert sorted(files) == [
        "_cluster/namespace-shop.yaml", "kustomization.yaml", "shop/configmap-settings.yaml",
        "shop/networkpolicy-allow-dns.yaml", "shop/networkpolicy-default-deny.yaml",
    ]
    assert "argocd.argoproj.io" not in "".join(files.values())


def test_a_declared_layer_without_objects_still_gets_its_folder():
    stack = Stack("shop", namespace="shop", layers=("crds", "app"))
    stack.add(ConfigMap("settings", data={"a": "b"}))
    files = render(stack)
    assert yaml.safe_load(files["crds/kustomization.yaml"]) == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "resources": ["_cluster/namespace-shop.yaml", "shop/networkpolicy-allow-dns.yaml",
                      "shop/networkpolicy-default-deny.yaml"],
    }
    empty = Stack("tools", layers=("first", "second"))
    empty.add(Manifest({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "x", "namespace": "tools"}}), layer="first")
    assert "resources: []" in render(empty)["second/kustomization.yaml"]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Stack("s", namespace="s").add(ConfigMap("c"), layer="app"),
         "layer 'app' is not a layer of Stack s (it declares no layers)"),
        (lambda: Stack("s", namespace="s", layers=["a", "b"]).add(ConfigMap("c"), layer="z"),
         "its layers are a, b"),
        (lambda: Stack("s", layers=["a", "a"]), "layer 'a' is listed twice"),
        (lambda: Stack("s", layers=["Bad"]), "must be a DNS-1123 label"),
        (lambda: Stack("s").add(ConfigMap("c", namespace="s"), hook="PreSync"),  # type: ignore[arg-type]
         "hook= takes a SyncHook, not str"),
    ],
)
def test_placement_mistakes_name_the_fix(build, message):
    with pytest.raises(ValidationError) as err:
        build()
    assert message in str(err.value)


def test_namespaces_and_crds_cannot_be_placed_after_the_first_layer():
    stack = Stack("s", layers=("a", "b"))
    stack.add(Namespace("later"), layer="b")
    with pytest.raises(ValidationError) as err:
        stack.objects()
    assert "Namespaces go into the first layer ('a')" in str(err.value)
    assert "test_stack_layers.py" in str(err.value)
    crd = Manifest({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                    "metadata": {"name": "widgets.acme.dev"}})
    unplaced = Stack("s", layers=("a", "b"))
    unplaced.add(crd)  # the default (last) layer: moved to the first
    (obj,) = unplaced.objects()
    assert obj.layer == "a" and obj.body["metadata"]["annotations"][WAVE] == "0"


def test_a_wave_annotation_that_contradicts_the_layer_is_refused():
    stack = Stack("s", layers=("a", "b"))
    stack.add(Manifest({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "x", "namespace": "s",
                                     "annotations": {WAVE: "5"}}}), layer="b")
    with pytest.raises(ValidationError) as err:
        stack.objects()
    assert "sets argocd.argoproj.io/sync-wave: '5', but its layer 'b' is wave 1" in str(err.value)


def test_a_sync_hook_reruns_the_job_on_every_sync_and_on_a_new_image():
    docs = _docs(render(shop(hook=SyncHook("Sync"))))
    job = docs["migrations/shop/job-migrate.yaml"]
    assert job["metadata"]["annotations"] == {
        "argocd.argoproj.io/hook": "Sync",
        "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
        "kustomize.toolkit.fluxcd.io/force": "enabled",
        WAVE: "1",
    }
    assert "ttlSecondsAfterFinished" not in job["spec"]  # the Job default is dropped
    account = docs["migrations/shop/serviceaccount-migrate.yaml"]
    assert "argocd.argoproj.io/hook" not in account["metadata"]["annotations"]
    report = lint(shop(hook=SyncHook("Sync")))
    assert not [f for f in report.findings if f.rule_id == "KG704"]  # cleanup is the hook's
    unhooked = lint(shop())
    assert [f.rule_id for f in unhooked.findings if f.rule_id == "KG704"] == []  # TTL default


def test_a_hook_with_an_explicit_ttl_is_refused_because_flux_would_rerun_it():
    stack = Stack("s", namespace="s")
    stack.add(Job("migrate", image="ghcr.io/acme/api:1.0", ttl_after_finished="1h"),
              hook=SyncHook("PreSync", delete_policy=["HookSucceeded", "HookSucceeded"]))
    with pytest.raises(ValidationError) as err:
        stack.objects()
    text = str(err.value)
    assert "is a sync hook with ttl_after_finished" in text
    assert "field 'ttl_after_finished' = 3600" in text
    assert "Fix: drop ttl_after_finished" in text
    ok = Stack("s", namespace="s")
    ok.add(Job("migrate", image="ghcr.io/acme/api:1.0", ttl_after_finished=None),
           hook=SyncHook("PreSync", delete_policy=["HookSucceeded", "HookSucceeded"]))
    job = next(o for o in ok.objects() if o.kind == "Job")
    assert job.body["metadata"]["annotations"]["argocd.argoproj.io/hook-delete-policy"] == (
        "HookSucceeded"
    )


def test_a_raw_job_keeps_its_written_ttl_and_is_refused_as_a_hook():
    stack = Stack("s", namespace="s")
    stack.add(Manifest({"apiVersion": "batch/v1", "kind": "Job",
                        "metadata": {"name": "raw", "namespace": "s"},
                        "spec": {"ttlSecondsAfterFinished": 60, "template": {}}}),
              hook=SyncHook("Sync"))
    with pytest.raises(ValidationError, match="is a sync hook with ttl_after_finished"):
        stack.objects()
    ok = Stack("s", namespace="s")
    ok.add(Manifest({"apiVersion": "batch/v1", "kind": "Job",
                     "metadata": {"name": "raw", "namespace": "s"}, "spec": {"template": {}}}),
           hook=SyncHook("PreSync"))
    job = next(o for o in ok.objects() if o.kind == "Job")
    assert job.body["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"
    assert job.body["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/force"] == "enabled"


def test_hooks_on_objects_other_than_jobs_need_no_flux_force():
    stack = Stack("s", namespace="s")
    stack.add(ConfigMap("smoke", data={"a": "b"}), hook=SyncHook("PostSync"))
    (cm, _) = [o for o in stack.objects() if o.kind in ("ConfigMap", "Namespace")][::-1]
    assert cm.kind == "ConfigMap"
    assert "kustomize.toolkit.fluxcd.io/force" not in cm.body["metadata"]["annotations"]
    with pytest.raises(ValidationError):
        SyncHook("Later")  # type: ignore[arg-type]


def test_kubectl_kustomize_builds_the_root_and_each_layer(tmp_path: Path):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed on this machine")
    files = render(shop(hook=SyncHook("Sync")))
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    counts = {}
    for folder in ("", "data", "migrations", "app"):
        built = subprocess.run([kubectl, "kustomize", str(tmp_path / folder)],
                               capture_output=True, text=True, timeout=120, check=False)
        assert built.returncode == 0, built.stderr
        counts[folder] = len([d for d in yaml.safe_load_all(built.stdout) if d])
    assert counts[""] == counts["data"] + counts["migrations"] + counts["app"]
    assert counts["migrations"] == 2
