"""Argo CD delivery: Applications, ApplicationSets and AppProjects that sync rendered folders.

kubegen renders each environment into a folder of plain YAML; these builders describe the Argo CD
objects that read those folders from git and apply them to a cluster:

- :class:`ArgoApplication` syncs one folder to one destination.
- :class:`ArgoApplicationSet` creates one Application per target: per ``(folder, cluster)`` of a
  fleet (list or cluster generator) or per folder matching a glob (git directory generator).
- :class:`ArgoAppProject` fences an environment's Applications: this repository only, and only
  the environment's clusters as destinations.

Defaults follow kubegen's contract: what git says is what runs, so sync is automated with pruning
and drift correction (``prune``/``selfHeal``); turning either off needs a ``reason``, rendered as
a ``kubegen.dev/opt-out-…`` annotation. A failed sync is retried with exponential backoff, and
``FailOnSharedResource=true`` refuses to take over an object another Application owns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, Required, Unpack

from pydantic import Field, field_validator, model_validator

from kubegen._builders.base import Resource, ResourceArgs, empty_list
from kubegen._builders.cluster import Cluster
from kubegen._builders.gitops_values import (
    IN_CLUSTER,
    SHA_RE,
    check_api_server_url,
    check_git_ref,
    check_git_url,
    check_repo_path,
    need_reason,
)
from kubegen._manifests import ManifestObject
from kubegen._values import DNSSubdomain, InvalidValue, check_dns_label, check_dns_subdomain

# Sync options for folders rendered by kubegen (https://argo-cd.readthedocs.io/en/stable/
# user-guide/sync-options/):
# - CreateNamespace=false: kubegen renders every Namespace (with Pod Security labels) as an object
#   in the folder; Argo CD must not create a bare one first, nor apply `managedNamespaceMetadata`.
# - ServerSideApply=true: `kubectl apply --server-side`: no 256 KiB last-applied annotation limit
#   (large ConfigMaps) and field ownership shared cleanly with controllers such as the HPA.
# - PruneLast=true: delete objects removed from git only after the rest of the sync is healthy,
#   so a rename (new Deployment, old one gone) never leaves a gap.
# - FailOnSharedResource=true: fail the sync instead of silently taking over an object that
#   another Application already applied (two environments rendering one object into a cluster).
ARGO_SYNC_OPTIONS: tuple[str, ...] = (
    "CreateNamespace=false",
    "ServerSideApply=true",
    "PruneLast=true",
    "FailOnSharedResource=true",
)

#: Backoff between retries of a failed sync: Argo CD's documented 5s doubling up to 3m.
ARGO_RETRY_BACKOFF: dict[str, Any] = {"duration": "5s", "factor": 2, "maxDuration": "3m"}

#: Label naming the kubegen cluster an Application (or a generated one) deploys to.
CLUSTER_LABEL = "kubegen.dev/cluster"

_SYNC_OPTION_RE = re.compile(r"[A-Z][A-Za-z]*=[A-Za-z0-9.-]+\Z")

# kubegen writes a kustomization.yaml at each env folder's root (and in each layer folder) for
# kubectl and Flux. Argo CD's directory source reads plain manifests only and would apply those
# files as objects (user-guide/directory), so the Application skips them: the files they list are
# exactly the folder's other files. Argo CD matches the glob against the path relative to the
# synced folder, with `*` crossing `/` (util/glob, gobwas/glob without separators).
ARGO_DIRECTORY_EXCLUDE = "{kustomization.yaml,*/kustomization.yaml}"


def _folder_glob(value: str) -> str:
    path = check_repo_path(value)
    if not path:
        raise InvalidValue(
            "the repository root is not an env folder", fix="name env folders, e.g. 'output/*'"
        )
    return path


class ArgoSyncedArgs(ResourceArgs, total=False):
    repo_url: Required[str]
    revision: str
    project: str
    server: str | None
    cluster: Cluster | None
    destination_namespace: str | None
    recurse: bool
    prune: bool
    self_heal: bool
    sync_options: list[str] | tuple[str, ...]
    retry_limit: int
    reason: str | None


class _ArgoSynced(Resource):
    """Fields shared by Argo CD's Application and the template of an ApplicationSet."""

    namespace: DNSSubdomain | None = "argocd"
    repo_url: str
    revision: str = "HEAD"
    project: DNSSubdomain = "default"
    server: str | None = None
    cluster: Cluster | None = None
    destination_namespace: DNSSubdomain | None = None
    recurse: bool = True
    prune: bool = True
    self_heal: bool = True
    sync_options: list[str] = Field(default_factory=lambda: list(ARGO_SYNC_OPTIONS))
    retry_limit: int = Field(default=5, ge=-1)
    reason: str | None = None

    # Its own __init__, so type checkers call the runtime one, not a synthesized one.
    def __init__(self, name: str, /, **data: Any) -> None:
        super().__init__(name, **data)

    @field_validator("repo_url")
    @classmethod
    def _check_repo_url(cls, value: str) -> str:
        return check_git_url(value, scp_like=True)

    @field_validator("revision")
    @classmethod
    def _check_revision(cls, value: str) -> str:
        return value if SHA_RE.match(value) else check_git_ref(value)

    @field_validator("server")
    @classmethod
    def _check_server(cls, value: str | None) -> str | None:
        return None if value is None else check_api_server_url(value)

    @field_validator("sync_options")
    @classmethod
    def _check_sync_options(cls, value: list[str]) -> list[str]:
        for option in value:
            if not _SYNC_OPTION_RE.match(option):
                raise InvalidValue(
                    f"sync option {option!r} is not of the form 'Name=value'",
                    fix="write e.g. 'ServerSideApply=true' (see Argo CD's sync options)",
                )
        return value

    @model_validator(mode="after")
    def _weakening_needs_reason(self) -> _ArgoSynced:
        if self.server is not None and self.cluster is not None:
            raise InvalidValue(
                "server= and cluster= both name the destination",
                fix="keep cluster= (its argocd_server or argocd_name is used)",
            )
        need_reason(self._weakened(), self.reason)
        return self

    def _weakened(self) -> list[str]:
        return [flag for flag, on in (("prune=False", self.prune),
                                      ("self_heal=False", self.self_heal)) if not on]

    def _record_opt_outs(self) -> None:
        if self.reason:
            for what, on in (("auto-prune", self.prune), ("self-heal", self.self_heal)):
                if not on:
                    self._opt_outs.setdefault(what, self.reason.strip())

    def destination(self) -> dict[str, str]:
        """``spec.destination``: the cluster's server or name (the in-cluster API by default)."""
        if self.cluster is not None:
            destination = self.cluster.argocd_destination()
        else:
            destination = {"server": self.server or IN_CLUSTER}
        if self.destination_namespace:
            destination["namespace"] = self.destination_namespace
        return destination

    def sync_policy(self) -> dict[str, Any]:
        """``spec.syncPolicy``: automated prune/selfHeal, the sync options, retry with backoff."""
        sync: dict[str, Any] = {"automated": {"prune": self.prune, "selfHeal": self.self_heal}}
        if self.sync_options:
            sync["syncOptions"] = list(self.sync_options)
        if self.retry_limit:
            # refresh: a commit that arrives while a failed sync is being retried is used by
            # the next attempt instead of retrying the broken revision to the limit.
            sync["retry"] = {"limit": self.retry_limit, "backoff": dict(ARGO_RETRY_BACKOFF),
                             "refresh": True}
        return sync

    def application_spec(self, path: str, destination: dict[str, str]) -> dict[str, Any]:
        """The Application ``spec`` that syncs ``path`` of the repository to ``destination``."""
        directory: dict[str, Any] = {"recurse": True} if self.recurse else {}
        directory["exclude"] = ARGO_DIRECTORY_EXCLUDE
        return {
            "project": self.project,
            "source": {
                "repoURL": self.repo_url,
                "targetRevision": self.revision,
                "path": path,
                "directory": directory,
            },
            "destination": destination,
            "syncPolicy": self.sync_policy(),
        }


class ArgoApplicationArgs(ArgoSyncedArgs, total=False):
    path: Required[str]


class ArgoApplication(_ArgoSynced):
    """An Argo CD Application that keeps one rendered folder in sync with a cluster.

    Reads ``path`` as a plain-manifest directory (``directory.recurse``, skipping kubegen's
    ``kustomization.yaml`` files), syncs automatically with ``prune`` and ``selfHeal``, retries a
    failed sync with backoff, and applies with the sync options of :data:`ARGO_SYNC_OPTIONS`.
    See https://argo-cd.readthedocs.io/en/stable/user-guide/auto_sync/.

    Args:
        name: the Application's name.
        namespace: where Argo CD watches Applications (defaults to ``argocd``).
        repo_url: the git repository holding ``output/`` (https, http, ssh or ``git@host:path``).
        path: the folder to sync, relative to the repository root, e.g. ``output/prod``.
        revision: branch, tag or commit to follow (defaults to ``HEAD``, the default branch).
        project: the Argo CD AppProject (defaults to ``default``).
        cluster: the :class:`~kubegen.Cluster` to deploy to (its ``argocd_server`` or
            ``argocd_name``); also labels the Application ``kubegen.dev/cluster``.
        server: a destination API server URL instead of ``cluster`` (defaults to the cluster
            Argo CD runs in, ``https://kubernetes.default.svc``).
        destination_namespace: namespace for objects without one (kubegen sets one on every
            namespaced object, so defaults to None).
        recurse: read subfolders too (defaults to True: kubegen writes one per namespace).
        prune: delete objects removed from git (defaults to True; False needs ``reason``).
        self_heal: revert changes made in the cluster (defaults to True; False needs ``reason``).
        sync_options: defaults to ``CreateNamespace=false``, ``ServerSideApply=true``,
            ``PruneLast=true``, ``FailOnSharedResource=true``.
        retry_limit: retries of a failed sync, 5s apart doubling up to 3m (defaults to 5;
            ``-1`` retries forever, ``0`` never).
        reason: why a default is weakened; rendered as an opt-out annotation.
    """

    api_version: ClassVar[str] = "argoproj.io/v1alpha1"
    kind: ClassVar[str] = "Application"

    path: str

    def __init__(self, name: str, /, **data: Unpack[ArgoApplicationArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        return check_repo_path(value) or "."

    def manifests(self) -> list[ManifestObject]:
        self._record_opt_outs()
        labels = {CLUSTER_LABEL: self.cluster.name} if self.cluster is not None else None
        body = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(labels=labels),
            "spec": self.application_spec(self.path, self.destination()),
        }
        return [self.manifest(body)]


class ArgoApplicationSetArgs(ArgoSyncedArgs, total=False):
    targets: Mapping[str, Cluster]
    generator: Literal["list", "clusters"]
    directory: str | None
    exclude: list[str] | tuple[str, ...]
    name_prefix: str


class ArgoApplicationSet(_ArgoSynced):
    """An Argo CD ApplicationSet: one Application per target folder.

    Two ways to find the targets
    (https://argo-cd.readthedocs.io/en/stable/operator-manual/applicationset/Generators/):

    - ``targets``, a mapping of folder → :class:`~kubegen.Cluster` (what
      :meth:`~kubegen.Fleet.argocd` passes): one Application per entry, named ``name_prefix`` +
      the cluster's name and deployed to that cluster. ``generator='list'`` (default) writes
      each cluster's destination into the ApplicationSet; ``generator='clusters'`` selects each
      cluster among those registered in Argo CD by its ``labels`` (which must pick exactly that
      cluster), so Argo CD supplies the server.
    - otherwise the git directory generator over ``directory`` (defaults to ``output/*``), minus
      the ``exclude`` globs (list the folder this object is rendered into, e.g.
      ``output/gitops``); each Application is named after its folder (``name_prefix`` first)
      and goes to ``server``.

    The template uses Go templates with ``missingkey=error``
    (https://argo-cd.readthedocs.io/en/stable/operator-manual/applicationset/GoTemplate/).

    Args:
        targets: folder (relative to the repository root) → cluster.
        generator: ``list`` or ``clusters``, for ``targets``.
        directory: glob of folders relative to the repository root (Go ``path.Match``, where
            ``*`` stays within one folder); the git generator only.
        exclude: globs of folders to skip; exclusions win over ``directory``.
        name_prefix: prepended to every generated Application name (defaults to none).
        (others): as for :class:`ArgoApplication`, applied to every generated Application.
    """

    api_version: ClassVar[str] = "argoproj.io/v1alpha1"
    kind: ClassVar[str] = "ApplicationSet"

    targets: dict[str, Cluster] = Field(default_factory=dict)
    generator: Literal["list", "clusters"] = "list"
    directory: str | None = None
    exclude: list[str] = Field(default_factory=empty_list)
    name_prefix: str = ""

    def __init__(self, name: str, /, **data: Unpack[ArgoApplicationSetArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("targets")
    @classmethod
    def _check_targets(cls, value: dict[str, Cluster]) -> dict[str, Cluster]:
        out = {_folder_glob(path): cluster for path, cluster in value.items()}
        names = [cluster.name for cluster in out.values()]
        for name in names:
            if names.count(name) > 1:
                raise InvalidValue(
                    f"cluster {name!r} is the target of two folders; its Applications would "
                    "share one name",
                    fix="one ApplicationSet per environment: each cluster once",
                )
        return out

    @field_validator("directory")
    @classmethod
    def _check_directory(cls, value: str | None) -> str | None:
        return None if value is None else _folder_glob(value)

    @field_validator("exclude")
    @classmethod
    def _check_exclude(cls, value: list[str]) -> list[str]:
        return [_folder_glob(item) for item in value]

    @field_validator("name_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if value:
            try:
                check_dns_subdomain(value + "a")
            except InvalidValue:
                raise InvalidValue(
                    f"prefix {value!r} would not make valid Application names",
                    fix="use lowercase letters, digits and '-', e.g. 'shop-'",
                ) from None
        return value

    @model_validator(mode="after")
    def _one_kind_of_generator(self) -> ArgoApplicationSet:
        if self.targets and (self.directory is not None or self.exclude):
            raise InvalidValue(
                "targets= and directory=/exclude= are two different generators",
                fix="pass targets= (folders of a fleet) or directory= (folders found in git)",
            )
        if self.targets and self.server is not None:
            raise InvalidValue(
                "server= is not used with targets=: each target cluster has its own destination",
                fix="drop server=",
            )
        for cluster in self.targets.values():
            self._check_app_name(self.name_prefix + cluster.name)
        if self.generator == "clusters":
            self._check_cluster_labels()
        elif len({next(iter(c.argocd_destination())) for c in self.targets.values()}) > 1:
            raise InvalidValue(
                "the target clusters mix argocd_server= and argocd_name=; one list generator "
                "template has one kind of destination",
                fix="address every cluster of the set the same way, or use generator='clusters'",
            )
        return self

    @staticmethod
    def _check_app_name(name: str) -> None:
        try:
            check_dns_label(name)  # Argo CD's label-based tracking puts it in a label value
        except InvalidValue:
            raise InvalidValue(
                f"the generated Application name {name!r} is not a DNS-1123 label (at most 63 "
                "characters)",
                fix="use shorter environment or cluster names, or a shorter name_prefix",
            ) from None

    def _check_cluster_labels(self) -> None:
        if not self.targets:
            raise InvalidValue("generator='clusters' needs targets=", fix="pass targets=")
        seen: dict[tuple[tuple[str, str], ...], str] = {}
        for cluster in self.targets.values():
            key = tuple(sorted(cluster.labels.items()))
            if not key:
                raise InvalidValue(
                    f"cluster {cluster.name!r} has no labels for the cluster generator to select",
                    fix="give the Cluster labels= (those of its Argo CD cluster Secret)",
                )
            other = seen.setdefault(key, cluster.name)
            if other != cluster.name:
                raise InvalidValue(
                    f"clusters {other!r} and {cluster.name!r} have the same labels, so a "
                    "cluster generator cannot tell them apart",
                    fix="give each Cluster a label that only it has",
                )

    def manifests(self) -> list[ManifestObject]:
        self._record_opt_outs()
        if self.targets:
            generators, template = self._targets_spec()
        else:
            generators, template = self._directory_spec()
        spec = {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=error"],
            "generators": generators,
            "template": template,
        }
        return self.spec_manifests(spec)

    def _template(self, name: str, path: str, destination: dict[str, str],
                  cluster: str | None = None) -> dict[str, Any]:
        metadata: dict[str, Any] = {"name": self.name_prefix + name}
        labels = dict(self.labels)
        if cluster is not None:
            labels[CLUSTER_LABEL] = cluster
        if labels:
            metadata["labels"] = labels
        if self.destination_namespace:
            destination["namespace"] = self.destination_namespace
        return {"metadata": metadata, "spec": self.application_spec(path, destination)}

    def _directory_spec(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        directories: list[dict[str, Any]] = [{"path": self.directory or "output/*"}]
        directories += [{"path": glob, "exclude": True} for glob in self.exclude]
        generator = {"repoURL": self.repo_url, "revision": self.revision,
                     "directories": directories}
        destination = {"server": self.destination()["server"]}
        template = self._template("{{.path.basenameNormalized}}", "{{.path.path}}", destination)
        return [{"git": generator}], template

    def _targets_spec(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        if self.generator == "clusters":
            generators = [
                {"clusters": {"selector": {"matchLabels": dict(cluster.labels)},
                              "values": {"cluster": cluster.name, "path": path}}}
                for path, cluster in self.targets.items()
            ]
            template = self._template("{{.values.cluster}}", "{{.values.path}}",
                                      {"server": "{{.server}}"}, cluster="{{.values.cluster}}")
            return generators, template
        elements = []
        for path, cluster in self.targets.items():
            ((field, value),) = cluster.argocd_destination().items()
            key = "server" if field == "server" else "destinationName"
            elements.append({"cluster": cluster.name, "path": path, key: value})
        field = next(iter(next(iter(self.targets.values())).argocd_destination()))
        destination = ({"server": "{{.server}}"} if field == "server"
                       else {"name": "{{.destinationName}}"})
        template = self._template("{{.cluster}}", "{{.path}}", destination, cluster="{{.cluster}}")
        return [{"list": {"elements": elements}}], template


class ArgoAppProjectArgs(ResourceArgs, total=False):
    source_repos: Required[list[str] | tuple[str, ...]]
    clusters: Required[Sequence[Cluster]]
    description: str | None


class ArgoAppProject(Resource):
    """An Argo CD AppProject that fences one environment's Applications.

    Applications in the project may sync only from ``source_repos`` and only to the listed
    clusters (any namespace there), so an ApplicationSet element that points a dev folder at a
    prod cluster is refused by Argo CD itself. Cluster-scoped kinds are allowed (kubegen renders
    Namespaces, and ClusterRoles where asked). See
    https://argo-cd.readthedocs.io/en/stable/user-guide/projects/.

    Args:
        name: the project's name (:meth:`~kubegen.Fleet.argocd` uses the environment's).
        namespace: defaults to ``argocd``.
        source_repos: git repositories the project's Applications may read.
        clusters: the clusters they may deploy to.
        description: shown by Argo CD (defaults to none).
    """

    api_version: ClassVar[str] = "argoproj.io/v1alpha1"
    kind: ClassVar[str] = "AppProject"

    namespace: DNSSubdomain | None = "argocd"
    source_repos: list[str] = Field(min_length=1)
    clusters: list[Cluster] = Field(min_length=1)
    description: str | None = None

    def __init__(self, name: str, /, **data: Unpack[ArgoAppProjectArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("source_repos")
    @classmethod
    def _check_repos(cls, value: list[str]) -> list[str]:
        return [check_git_url(url, scp_like=True) for url in value]

    def manifests(self) -> list[ManifestObject]:
        spec: dict[str, Any] = {}
        if self.description:
            spec["description"] = self.description
        spec["sourceRepos"] = list(self.source_repos)
        spec["destinations"] = [
            {**cluster.argocd_destination(), "namespace": "*"} for cluster in self.clusters
        ]
        spec["clusterResourceWhitelist"] = [{"group": "*", "kind": "*"}]
        return self.spec_manifests(spec)


__all__ = [
    "ARGO_DIRECTORY_EXCLUDE",
    "ARGO_SYNC_OPTIONS",
    "CLUSTER_LABEL",
    "ArgoAppProject",
    "ArgoApplication",
    "ArgoApplicationSet",
]
