"""The fleet: which environment runs on which clusters, and the GitOps objects that follow.

A :class:`Fleet` maps each :class:`Environment` (a stack path: ``stacks/prod`` is ``prod``) to the
:class:`~kubegen.Cluster` objects it runs on. That map is the single place where the layout of the
rendered repository and the delivery objects come from:

- an environment with one cluster renders into ``<output>/<env>/``; one with several renders one
  folder per cluster, ``<output>/<env>/<cluster>/`` (its stack's ``build()`` returns one
  ``Stack(cluster=…)`` per cluster, built with that cluster's values);
- :meth:`Fleet.argocd` returns an AppProject and an ApplicationSet per environment, one
  Application per (environment, cluster) (or those Applications themselves);
- :meth:`Fleet.flux` returns the GitRepository and a Kustomization per (environment, cluster,
  layer), each layer depending on the one before.

Two clusters that Argo CD (or Flux) would reach at the same address are one cluster: the fleet
refuses them, so an environment can never be delivered twice to one place by mistake. Whether
two environments on one cluster render the same object is checked when their stacks are rendered
together (``kubegen render stacks/dev stacks/prod stacks/gitops``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Required, TypedDict, Unpack

from pydantic import Field, field_validator, model_validator

from kubegen._builders.argocd import ArgoApplication, ArgoApplicationSet, ArgoAppProject
from kubegen._builders.base import Builder, Resource, empty_list
from kubegen._builders.cluster import Cluster
from kubegen._builders.flux import FluxGitRepository, FluxKustomization
from kubegen._builders.gitops_values import check_repo_path
from kubegen._builders.ordering import Layer, layers_of
from kubegen._errors import ValidationError
from kubegen._origin import capture
from kubegen._values import DNSLabel, InvalidValue

#: Labels on generated objects: which environment, cluster and layer they deliver.
ENV_LABEL = "kubegen.dev/env"
CLUSTER_LABEL = "kubegen.dev/cluster"
LAYER_LABEL = "kubegen.dev/layer"

#: Flux's recommended health-check timeout, for layers that do not set their own.
DEFAULT_LAYER_TIMEOUT = "3m"


class EnvironmentArgs(TypedDict, total=False):
    clusters: Required[Sequence[Cluster]]
    layers: Sequence[str | Layer]


class Environment(Builder):
    """One environment of the fleet: the stack ``stacks/<name>`` and the clusters it runs on.

    Args:
        name: the environment, i.e. the name of its stack (folder) and output folder.
        clusters: where it runs; with more than one, its stack's ``build()`` returns one
            ``Stack(cluster=…)`` per cluster and each renders into
            ``<output>/<name>/<cluster>/``.
        layers: the layers its stack declares (``Stack(..., layers=…)``), in order; Flux gets one
            Kustomization per layer. Defaults to none: one Kustomization per cluster.
    """

    name: DNSLabel
    clusters: list[Cluster] = Field(min_length=1)
    layers: list[Layer] = Field(default_factory=empty_list)

    def __init__(self, name: str, /, **data: Unpack[EnvironmentArgs]) -> None:
        super().__init__(name=name, **data)

    @field_validator("layers", mode="before")
    @classmethod
    def _layers(cls, value: object) -> object:
        if isinstance(value, (list, tuple)):
            return list(layers_of(list(value)))
        return value

    @field_validator("clusters")
    @classmethod
    def _distinct(cls, value: list[Cluster]) -> list[Cluster]:
        names = [cluster.name for cluster in value]
        for name in names:
            if names.count(name) > 1:
                raise InvalidValue(f"cluster {name!r} is listed twice", fix="list it once")
        return value


class FleetArgs(TypedDict, total=False):
    environments: Required[Sequence[Environment]]
    output: str


class Fleet(Builder):
    """The map of environments to clusters that the rendered layout and GitOps objects follow.

    Args:
        environments: every :class:`Environment`, each naming its clusters.
        output: the output folder relative to the git repository root (defaults to
            ``output``, the ``[tool.kubegen] output`` of a project at the repository root).
    """

    environments: list[Environment] = Field(min_length=1)
    output: str = "output"

    def __init__(self, /, **data: Unpack[FleetArgs]) -> None:
        super().__init__(**data)

    @field_validator("output")
    @classmethod
    def _check_output(cls, value: str) -> str:
        path = check_repo_path(value)
        if not path:
            raise InvalidValue("output is the repository root", fix="use e.g. 'output'")
        return path

    @model_validator(mode="after")
    def _consistent(self) -> Fleet:
        names = [env.name for env in self.environments]
        for name in names:
            if names.count(name) > 1:
                raise InvalidValue(f"environment {name!r} is listed twice", fix="list it once")
        clusters: dict[str, Cluster] = {}
        for env in self.environments:
            for cluster in env.clusters:
                if clusters.setdefault(cluster.name, cluster) != cluster:
                    raise InvalidValue(
                        f"two different clusters are named {cluster.name!r}",
                        fix="use one Cluster object per cluster, shared by its environments",
                    )
        for tool, address in (("Argo CD", Cluster.argocd_address),
                              ("Flux", Cluster.flux_address)):
            seen: dict[str, str] = {}
            for cluster in clusters.values():
                other = seen.setdefault(address(cluster), cluster.name)
                if other != cluster.name:
                    raise InvalidValue(
                        f"clusters {other!r} and {cluster.name!r} are one cluster for {tool} "
                        f"({address(cluster)}), so their environments would be delivered to the "
                        "same place",
                        fix="give each Cluster its own argocd_server (or argocd_name) and "
                        "flux_kubeconfig; only one may be the cluster the controllers run in",
                    )
        return self

    def environment(self, name: str) -> Environment:
        """The environment called ``name``; an error naming the known ones otherwise."""
        for env in self.environments:
            if env.name == name:
                return env
        known = ", ".join(env.name for env in self.environments)
        raise ValidationError(
            f"the fleet has no environment {name!r} (it has {known})",
            origin=capture(),
            resource="Fleet",
            fix=f"add Environment({name!r}, clusters=[...]) to the Fleet, or use one of {known}",
        )

    def clusters(self, env: str) -> list[Cluster]:
        """The clusters ``env`` runs on, in the fleet's order."""
        return list(self.environment(env).clusters)

    def folder(self, env: str, cluster: Cluster | str) -> str:
        """The folder (relative to the repository root) rendered for ``env`` on ``cluster``."""
        environment = self.environment(env)
        name = cluster if isinstance(cluster, str) else cluster.name
        if name not in {c.name for c in environment.clusters}:
            raise ValidationError(
                f"environment {env!r} does not run on cluster {name!r}",
                origin=capture(),
                resource="Fleet",
                fix="add the cluster to the environment's clusters",
            )
        base = f"{self.output}/{env}"
        return base if len(environment.clusters) == 1 else f"{base}/{name}"

    def targets(self) -> list[tuple[Environment, Cluster, str]]:
        """Every (environment, cluster, folder), in the fleet's order."""
        return [
            (env, cluster, self.folder(env.name, cluster))
            for env in self.environments
            for cluster in env.clusters
        ]

    def argocd(
        self,
        *,
        repo_url: str,
        revision: str = "HEAD",
        namespace: str = "argocd",
        generator: Literal["list", "clusters", "applications"] = "list",
    ) -> list[Resource]:
        """Argo CD objects for the whole fleet: per environment an :class:`ArgoAppProject`
        (this repository, the environment's clusters) and an :class:`ArgoApplicationSet`
        generating ``<env>-<cluster>`` Applications, each syncing its folder to its cluster
        (or, with ``generator="applications"``, those :class:`ArgoApplication` objects).

        Args:
            repo_url: the git repository holding the output folder.
            revision: branch, tag or commit to follow (defaults to ``HEAD``).
            namespace: Argo CD's namespace (defaults to ``argocd``).
            generator: ``list`` (destinations written into the ApplicationSet), ``clusters``
                (clusters selected by their ``labels`` among those registered in Argo CD) or
                ``applications`` (no ApplicationSet: one Application per environment and
                cluster, e.g. for an app-of-apps or a hub without the ApplicationSet
                controller). Defaults to ``list``.
        """
        out: list[Resource] = []
        for env in self.environments:
            labels = {ENV_LABEL: env.name}
            out.append(ArgoAppProject(
                env.name, namespace=namespace, labels=labels, source_repos=[repo_url],
                clusters=env.clusters,
                description=f"kubegen environment {env.name}: {self.output}/{env.name}",
            ))
            if generator == "applications":
                out += [
                    ArgoApplication(
                        f"{env.name}-{cluster.name}", namespace=namespace, labels=labels,
                        repo_url=repo_url, revision=revision, project=env.name,
                        path=self.folder(env.name, cluster), cluster=cluster,
                    )
                    for cluster in env.clusters
                ]
                continue
            out.append(ArgoApplicationSet(
                env.name, namespace=namespace, labels=labels, repo_url=repo_url,
                revision=revision, project=env.name, name_prefix=f"{env.name}-",
                generator=generator,
                targets={self.folder(env.name, c): c for c in env.clusters},
            ))
        return out

    def flux(
        self,
        *,
        url: str,
        branch: str = "main",
        namespace: str = "flux-system",
        source: str = "platform",
    ) -> list[Resource]:
        """Flux objects for the whole fleet: a :class:`FluxGitRepository` and, per environment
        and cluster, a :class:`FluxKustomization` (one per layer, named
        ``<env>-<cluster>[-<layer>]``, each depending on the previous layer's) applying the
        folder through the cluster's ``flux_kubeconfig``.

        Args:
            url: the git repository holding the output folder (https or ssh).
            branch: the branch to follow (defaults to ``main``).
            namespace: Flux's namespace, where the kubeConfig Secrets are (``flux-system``).
            source: the GitRepository's name (defaults to ``platform``).
        """
        repo = FluxGitRepository(source, namespace=namespace, url=url, branch=branch)
        out: list[Resource] = [repo]
        for env, cluster, folder in self.targets():
            previous: FluxKustomization | None = None
            layers: list[Layer | None] = list(env.layers) or [None]
            for layer in layers:
                name = f"{env.name}-{cluster.name}" + (f"-{layer.name}" if layer else "")
                labels = {ENV_LABEL: env.name}
                if layer is not None:
                    labels[LAYER_LABEL] = layer.name
                kustomization = FluxKustomization(
                    name, namespace=namespace, labels=labels, source=repo, cluster=cluster,
                    path=f"{folder}/{layer.name}" if layer else folder,
                    depends_on=[previous] if previous is not None else [],
                    timeout=(layer.timeout if layer else None) or DEFAULT_LAYER_TIMEOUT,
                )
                out.append(kustomization)
                previous = kustomization
        return out


__all__ = ["CLUSTER_LABEL", "ENV_LABEL", "LAYER_LABEL", "Environment", "Fleet"]
