"""Every Argo CD and Flux object kubegen builds is valid for the upstream CRD of its version.

The CRDs are shipped in tests/data/crds (sources and versions in tests/data/README.md: Argo CD
v3.5.1, kustomize-controller v1.9.4 and source-controller v1.9.1, i.e. Flux v2.9) and applied
with :mod:`tests.crd_schema`, which closes objects the way strict field validation does.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
from typing import Any

import pytest
import yaml

from kubegen import (
    ArgoApplication,
    ArgoApplicationSet,
    ArgoAppProject,
    Cluster,
    Environment,
    Fleet,
    FluxGitRepository,
    FluxHealthCheck,
    FluxKubeConfig,
    FluxKustomization,
    Resource,
    Stack,
)
from kubegen._pipeline import render_objects
from tests import crd_schema
from tests.helpers import REPO as PROJECT

REPO = "https://github.com/acme/platform.git"
EU = Cluster("prod-eu", argocd_server="https://prod-eu.k8s.example.com",
             labels={"acme.dev/cluster": "prod-eu", "acme.dev/region": "eu"},
             flux_kubeconfig=FluxKubeConfig(secret="prod-eu-kubeconfig", key="value.yaml"))
US = Cluster("prod-us", argocd_name="prod-us", labels={"acme.dev/cluster": "prod-us"},
             flux_kubeconfig=FluxKubeConfig(config_map="prod-us"))
MGMT = Cluster("mgmt", argocd_name="in-cluster", labels={"acme.dev/cluster": "mgmt"})
FLEET = Fleet(environments=[
    Environment("tools", clusters=[MGMT]),
    Environment("prod", clusters=[EU, US], layers=["data", "migrations", "app"]),
])


def _everything() -> list[Resource]:
    repo = FluxGitRepository("platform", url=REPO, secret_ref="git-auth", interval="5m")
    return [
        *FLEET.argocd(repo_url=REPO, revision="main", generator="clusters"),
        *FLEET.flux(url=REPO, source="fleet"),
        *[r for r in FLEET.argocd(repo_url=REPO, generator="applications")
          if isinstance(r, ArgoApplication)],
        ArgoApplication("plain", repo_url="git@github.com:acme/platform.git", path="output/dev",
                        revision="a" * 40, recurse=False, destination_namespace="shop",
                        prune=False, self_heal=False, retry_limit=0, reason="migrating"),
        ArgoApplication("named", repo_url=REPO, path="output/prod", cluster=US,
                        project="prod", retry_limit=-1),
        ArgoApplicationSet("dirs", repo_url=REPO, exclude=["output/gitops"], name_prefix="x-",
                           server="https://other.example.com"),
        ArgoApplicationSet("listed", repo_url=REPO, targets={"output/a": EU}),
        ArgoAppProject("adhoc", source_repos=[REPO, "git@github.com:acme/other.git"],
                       clusters=[EU, US, MGMT]),
        repo,
        FluxGitRepository("tagged", url="ssh://git@github.com/acme/platform.git", tag="v1.2.3"),
        FluxGitRepository("pinned", url=REPO, commit="0" * 40),
        FluxKustomization("checked", source=repo, path="output/dev", wait=False,
                          health_checks=[FluxHealthCheck(api_version="apps/v1", kind="Deployment",
                                                         name="api", namespace="shop"),
                                         FluxHealthCheck(api_version="v1", kind="Namespace",
                                                         name="shop")],
                          prune=False, retry_interval=None, deletion_policy="Delete",
                          reason="shared"),
    ]


def _rendered(resources: list[Resource]) -> list[dict[str, Any]]:
    stack = Stack("gitops")
    for resource in resources:
        stack.add(resource)
    files = render_objects(stack, stack.objects())
    return [yaml.safe_load(data) for path, data in files.items()
            if path != "kustomization.yaml"]


RENDERED = _rendered(_everything())


@pytest.mark.parametrize("obj", RENDERED, ids=lambda o: f"{o['kind']}-{o['metadata']['name']}")
def test_every_gitops_object_is_valid_for_its_crd(obj: dict[str, Any]):
    crd_schema.validate(obj)


def test_every_kind_and_generator_is_covered():
    kinds = {(o["apiVersion"], o["kind"]) for o in RENDERED}
    assert kinds == {
        ("argoproj.io/v1alpha1", "Application"),
        ("argoproj.io/v1alpha1", "ApplicationSet"),
        ("argoproj.io/v1alpha1", "AppProject"),
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
        ("source.toolkit.fluxcd.io/v1", "GitRepository"),
    }
    generators = {next(iter(g)) for o in RENDERED if o["kind"] == "ApplicationSet"
                  for g in o["spec"]["generators"]}
    assert generators == {"clusters", "git", "list"}


def test_the_committed_bootstrap_output_is_valid_for_the_crds():
    paths = sorted((PROJECT / "output" / "gitops").rglob("*.yaml"))
    objects = [yaml.safe_load(p.read_text()) for p in paths if p.name != "kustomization.yaml"]
    assert objects
    for obj in objects:
        crd_schema.validate(obj)


def _kustomization() -> dict[str, Any]:
    return next(copy.deepcopy(o) for o in RENDERED if o["kind"] == "Kustomization"
                and "kubeConfig" in o["spec"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda o: o["spec"].update(bogus=True), "'bogus' was unexpected"),
        (lambda o: o["spec"].update(interval="10 minutes"), "does not match"),
        (lambda o: o["spec"]["kubeConfig"].update(configMapRef={"name": "x"}),
         "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef"),
        (lambda o: o["spec"].update(deletionPolicy="Keep"), "is not one of"),
        (lambda o: o["spec"].pop("sourceRef"), "'sourceRef' is a required property"),
    ],
)
def test_the_validator_refuses_what_the_api_server_would(change, message):
    obj = _kustomization()
    change(obj)
    with pytest.raises(crd_schema.CrdError) as err:
        crd_schema.validate(obj)
    assert message in str(err.value)


def test_the_validator_knows_argo_cd_fields():
    app = next(copy.deepcopy(o) for o in RENDERED if o["kind"] == "Application")
    app["spec"]["syncPolicy"]["retry"]["backof"] = {}
    with pytest.raises(crd_schema.CrdError, match="'backof' was unexpected"):
        crd_schema.validate(app)
    repo = next(copy.deepcopy(o) for o in RENDERED if o["kind"] == "GitRepository")
    repo["spec"]["serviceAccountName"] = "sa"
    with pytest.raises(crd_schema.CrdError, match="serviceAccountName can only be set"):
        crd_schema.validate(repo)


def test_the_shipped_crds_are_the_documented_upstream_files():
    readme = (crd_schema.CRDS.parent / "README.md").read_text()
    for (group, kind), name in crd_schema.FILES.items():
        version = "v1alpha1" if group == "argoproj.io" else "v1"
        assert crd_schema.crd_version(group, kind, version)["served"] is True
        with gzip.open(crd_schema.CRDS / name) as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
        row = next(line for line in readme.splitlines() if f"`{name}`" in line)
        assert f"`{digest}`" in row, name
