"""The bootstrap stack: committed output/gitops is current and builds with kubectl kustomize."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from tests.helpers import REPO, run_cli

ENVS = ("dev", "prod")


def test_committed_output_gitops_is_what_the_stack_renders():
    result = run_cli("check", "stacks/gitops", cwd=REPO)
    assert (result.returncode, result.stdout) == (0, "up to date: 1 stack\n"), result.stderr


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


def test_kubectl_kustomize_builds_output_gitops():
    objects = _kustomize("output/gitops")
    found = {(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in objects}
    assert found == {
        ("ApplicationSet", "argocd", "environments"),
        ("GitRepository", "flux-system", "platform"),
        *(("Kustomization", "flux-system", env) for env in ENVS),
    }


def test_bootstrap_deploys_every_env_folder_but_its_own():
    objects = {o["kind"] + "/" + o["metadata"]["name"]: o for o in _kustomize("output/gitops")}
    directories = objects["ApplicationSet/environments"]["spec"]["generators"][0]["git"][
        "directories"
    ]
    assert {"path": "output/gitops", "exclude": True} in directories
    for env in ENVS:
        assert objects[f"Kustomization/{env}"]["spec"]["path"] == f"./output/{env}"
        assert (REPO / "output" / env / "kustomization.yaml").is_file()
