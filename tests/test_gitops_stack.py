"""The bootstrap stack: generated from the fleet map, current, consistent with the env folders."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from tests.helpers import REPO, run_cli

ENVS = {"dev": "nonprod-eu", "prod": "prod-eu"}  # the example fleet: one cluster each
LAYERS = ("data", "migrations", "app")


def test_committed_output_is_what_the_stacks_render_and_the_fleet_checks_pass():
    result = run_cli("check", "stacks/dev", "stacks/prod", "stacks/gitops", cwd=REPO)
    assert (result.returncode, result.stdout) == (0, "up to date: 3 stacks\n"), result.stderr


def _kustomize(folder: str) -> list[dict[str, object]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed on this machine")
    built = subprocess.run(
        [kubectl, "kustomize", str(REPO / folder)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


def _objects() -> dict[str, dict]:
    return {o["kind"] + "/" + o["metadata"]["name"]: o for o in _kustomize("output/gitops")}


def test_kubectl_kustomize_builds_output_gitops():
    assert sorted(_objects()) == sorted([
        *(f"AppProject/{env}" for env in ENVS),
        *(f"ApplicationSet/{env}" for env in ENVS),
        "GitRepository/platform",
        *(f"Kustomization/{env}-{cluster}-{layer}" for env, cluster in ENVS.items()
          for layer in LAYERS),
    ])


def test_argo_cd_sends_each_env_folder_to_its_own_cluster_in_its_own_project():
    objects = _objects()
    servers = set()
    for env, cluster in ENVS.items():
        appset = objects[f"ApplicationSet/{env}"]["spec"]
        (element,) = appset["generators"][0]["list"]["elements"]
        assert element["cluster"] == cluster and element["path"] == f"output/{env}"
        assert element["server"] == f"https://{cluster}.k8s.acme.dev"
        servers.add(element["server"])
        assert appset["template"]["spec"]["project"] == env
        project = objects[f"AppProject/{env}"]["spec"]
        assert project["destinations"] == [{"server": element["server"], "namespace": "*"}]
        assert (REPO / element["path"] / "kustomization.yaml").is_file()
    assert len(servers) == len(ENVS)  # never two environments on one cluster by accident


def test_flux_applies_each_layer_after_the_one_before_on_the_env_cluster():
    objects = _objects()
    for env, cluster in ENVS.items():
        previous = None
        for layer in LAYERS:
            spec = objects[f"Kustomization/{env}-{cluster}-{layer}"]["spec"]
            assert spec["path"] == f"./output/{env}/{layer}"
            assert (REPO / "output" / env / layer / "kustomization.yaml").is_file()
            assert spec["kubeConfig"] == {"secretRef": {"name": f"{cluster}-kubeconfig"}}
            assert spec.get("dependsOn") == (None if previous is None else [{"name": previous}])
            assert (spec["prune"], spec["wait"]) == (True, True)
            previous = f"{env}-{cluster}-{layer}"
        migrations = objects[f"Kustomization/{env}-{cluster}-migrations"]["spec"]
        assert migrations["timeout"] == "20m"  # the Job's 15 minute deadline fits


def test_the_migration_job_is_a_hook_rerun_on_a_new_image_and_never_on_ttl_cleanup():
    for env in ENVS:
        job = yaml.safe_load((REPO / "output" / env / "migrations/shop/job-migrate.yaml")
                             .read_text())
        notes = job["metadata"]["annotations"]
        assert notes["argocd.argoproj.io/hook"] == "Sync"
        assert notes["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"
        assert notes["argocd.argoproj.io/sync-wave"] == "1"
        assert notes["kustomize.toolkit.fluxcd.io/force"] == "enabled"
        assert "ttlSecondsAfterFinished" not in job["spec"]
        postgres = yaml.safe_load((REPO / "output" / env / "data/shop/statefulset-postgres.yaml")
                                  .read_text())
        assert postgres["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "0"
