"""The fleet map: environments on clusters, the layout it implies, the GitOps objects from it."""

from __future__ import annotations

import pytest

from kubegen import (
    ArgoApplicationSet,
    ArgoAppProject,
    Cluster,
    Environment,
    Fleet,
    FluxGitRepository,
    FluxKubeConfig,
    FluxKustomization,
    Layer,
    ValidationError,
)

REPO = "https://github.com/acme/platform.git"


def cluster(name: str, **extra: object) -> Cluster:
    return Cluster(
        name,
        argocd_server=f"https://{name}.k8s.example.com",
        flux_kubeconfig=FluxKubeConfig(secret=f"{name}-kubeconfig"),
        labels={"acme.dev/cluster": name},
        **extra,  # type: ignore[arg-type]
    )


DEV, EU, US = cluster("nonprod"), cluster("prod-eu"), cluster("prod-us")
LAYERS = (Layer("data"), Layer("migrations", timeout="20m"), "app")


def fleet(**extra: object) -> Fleet:
    return Fleet(
        environments=[
            Environment("dev", clusters=[DEV]),
            Environment("prod", clusters=[EU, US], layers=LAYERS),
        ],
        **extra,  # type: ignore[arg-type]
    )


def _error(build) -> str:
    with pytest.raises(ValidationError) as info:
        build()
    return str(info.value)


def test_one_cluster_renders_into_the_env_folder_several_into_one_folder_each():
    f = fleet()
    assert f.clusters("prod") == [EU, US]
    assert f.folder("dev", DEV) == "output/dev"
    assert f.folder("prod", "prod-us") == "output/prod/prod-us"
    assert [(e.name, c.name, path) for e, c, path in f.targets()] == [
        ("dev", "nonprod", "output/dev"),
        ("prod", "prod-eu", "output/prod/prod-eu"),
        ("prod", "prod-us", "output/prod/prod-us"),
    ]
    assert fleet(output="./deploy/rendered/").folder("dev", DEV) == "deploy/rendered/dev"


def test_unknown_environment_or_cluster_names_the_known_ones():
    text = _error(lambda: fleet().clusters("staging"))
    assert "the fleet has no environment 'staging' (it has dev, prod)" in text
    assert "test_fleet.py" in text
    text = _error(lambda: fleet().folder("dev", EU))
    assert "environment 'dev' does not run on cluster 'prod-eu'" in text


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Fleet(environments=[Environment("dev", clusters=[DEV]),
                                     Environment("dev", clusters=[EU])]),
         "environment 'dev' is listed twice"),
        (lambda: Fleet(environments=[Environment("a", clusters=[DEV]),
                                     Environment("b", clusters=[cluster("nonprod",
                                                                        kubernetes_version="1.31")])]),
         "two different clusters are named 'nonprod'"),
        (lambda: Fleet(environments=[Environment("dev", clusters=[Cluster("a"), Cluster("b")])]),
         "clusters 'a' and 'b' are one cluster for Argo CD (server https://kubernetes.default.svc)"),
        (lambda: Fleet(environments=[Environment("dev", clusters=[
            Cluster("a", argocd_name="a"), Cluster("b", argocd_name="b")])]),
         "clusters 'a' and 'b' are one cluster for Flux (in-cluster)"),
        (lambda: Environment("dev", clusters=[DEV, DEV]), "cluster 'nonprod' is listed twice"),
        (lambda: Environment("dev", clusters=[]), "at least 1 item"),
        (lambda: Environment("dev", clusters=[DEV], layers=["a", Layer("a")]),
         "layer 'a' is listed twice"),
        (lambda: Fleet(environments=[Environment("dev", clusters=[DEV])], output="/abs"),
         "is not a folder inside the repository"),
        (lambda: Layer("slow", timeout="ten minutes"), "is not a duration"),
    ],
)
def test_contradictions_in_the_map_are_refused(build, message):
    assert message in _error(build)


def test_two_environments_may_share_a_cluster():
    shared = Fleet(environments=[Environment("dev", clusters=[DEV]),
                                 Environment("staging", clusters=[DEV])])
    assert shared.folder("staging", DEV) == "output/staging"


def test_argocd_objects_per_environment():
    made = fleet().argocd(repo_url=REPO, revision="main")
    assert [(type(r).__name__, r.name) for r in made] == [
        ("ArgoAppProject", "dev"), ("ArgoApplicationSet", "dev"),
        ("ArgoAppProject", "prod"), ("ArgoApplicationSet", "prod"),
    ]
    project, appset = made[2], made[3]
    assert isinstance(project, ArgoAppProject) and isinstance(appset, ArgoApplicationSet)
    spec = project.manifests()[0].body["spec"]
    assert spec["sourceRepos"] == [REPO]
    assert [d["server"] for d in spec["destinations"]] == [
        "https://prod-eu.k8s.example.com", "https://prod-us.k8s.example.com"
    ]
    body = appset.manifests()[0].body
    assert body["metadata"]["labels"]["kubegen.dev/env"] == "prod"
    elements = body["spec"]["generators"][0]["list"]["elements"]
    assert [(e["cluster"], e["path"]) for e in elements] == [
        ("prod-eu", "output/prod/prod-eu"), ("prod-us", "output/prod/prod-us")
    ]
    template = body["spec"]["template"]
    assert template["metadata"]["name"] == "prod-{{.cluster}}"
    assert template["spec"]["project"] == "prod"
    assert template["spec"]["source"]["targetRevision"] == "main"
    clusters = fleet().argocd(repo_url=REPO, generator="clusters")[3]
    generators = clusters.manifests()[0].body["spec"]["generators"]
    assert [g["clusters"]["values"]["cluster"] for g in generators] == ["prod-eu", "prod-us"]


def test_argocd_applications_instead_of_an_application_set():
    made = fleet().argocd(repo_url=REPO, revision="main", generator="applications")
    assert [(type(r).__name__, r.name) for r in made] == [
        ("ArgoAppProject", "dev"), ("ArgoApplication", "dev-nonprod"),
        ("ArgoAppProject", "prod"), ("ArgoApplication", "prod-prod-eu"),
        ("ArgoApplication", "prod-prod-us"),
    ]
    body = made[4].manifests()[0].body
    assert body["metadata"]["labels"] == {"kubegen.dev/cluster": "prod-us",
                                          "kubegen.dev/env": "prod"}
    spec = body["spec"]
    assert spec["project"] == "prod"
    assert spec["destination"] == {"server": "https://prod-us.k8s.example.com"}
    assert (spec["source"]["path"], spec["source"]["targetRevision"]) == (
        "output/prod/prod-us", "main")
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}


def test_flux_objects_one_kustomization_per_cluster_and_layer_in_order():
    made = fleet().flux(url=REPO, branch="release")
    assert isinstance(made[0], FluxGitRepository)
    assert made[0].manifests()[0].body["spec"]["ref"] == {"branch": "release"}
    kustomizations = [r for r in made if isinstance(r, FluxKustomization)]
    specs = {k.name: k.manifests()[0].body for k in kustomizations}
    assert list(specs) == [
        "dev-nonprod",
        "prod-prod-eu-data", "prod-prod-eu-migrations", "prod-prod-eu-app",
        "prod-prod-us-data", "prod-prod-us-migrations", "prod-prod-us-app",
    ]
    dev = specs["dev-nonprod"]["spec"]
    assert dev["path"] == "./output/dev"
    assert "dependsOn" not in dev
    assert dev["kubeConfig"] == {"secretRef": {"name": "nonprod-kubeconfig"}}
    migrations = specs["prod-prod-us-migrations"]
    assert migrations["spec"]["path"] == "./output/prod/prod-us/migrations"
    assert migrations["spec"]["dependsOn"] == [{"name": "prod-prod-us-data"}]
    assert migrations["spec"]["timeout"] == "20m"
    assert migrations["metadata"]["labels"] == {
        "kubegen.dev/cluster": "prod-us", "kubegen.dev/env": "prod",
        "kubegen.dev/layer": "migrations",
    }
    app = specs["prod-prod-us-app"]["spec"]
    assert app["dependsOn"] == [{"name": "prod-prod-us-migrations"}]
    assert app["timeout"] == "3m"
    assert (app["prune"], app["wait"], app["interval"], app["retryInterval"]) == (
        True, True, "60m", "2m"
    )


def test_generated_names_must_fit_in_a_label():
    long = cluster("c" * 50)
    text = _error(lambda: Fleet(environments=[
        Environment("production", clusters=[long], layers=["migrations", "app"])
    ]).flux(url=REPO))
    assert "a Kustomization name is at most 63 characters" in text
