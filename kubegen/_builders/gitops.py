"""GitOps delivery: the Argo CD and Flux objects that hand ``output/<env>/`` to the cluster.

kubegen renders each environment into a folder of plain YAML with a ``kustomization.yaml`` at its
root; these builders describe the in-cluster controllers that read those folders from git:

- :class:`ArgoApplication` syncs one folder; :class:`ArgoApplicationSet` creates one Application
  per folder matching a glob (Argo CD's git directory generator).
- :class:`FluxGitRepository` makes the repository available in the cluster;
  :class:`FluxKustomization` applies one folder from it.

Defaults follow kubegen's contract: what git says is what runs, so sync is automated with pruning
and drift correction (Argo CD ``prune``/``selfHeal``; Flux ``prune``/``wait``); turning either off
needs a ``reason``, rendered as a ``kubegen.dev/opt-out-…`` annotation. A GitOps object must never
deploy the folder it is itself rendered into; ``kubegen._analysis.gitops_paths`` enforces that at
render time, when the destination folder is known.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar, Required, TypedDict, Unpack

from pydantic import Field, field_validator, model_validator

from kubegen._builders.base import Builder, Resource, ResourceArgs, empty_list
from kubegen._builders.gitops_values import (
    SCHEME_URL_RE,
    SHA_RE,
    check_duration,
    check_git_ref,
    check_git_url,
    check_repo_path,
)
from kubegen._manifests import ManifestObject
from kubegen._values import DNSSubdomain, InvalidValue, check_dns_subdomain

# Argo CD's in-cluster API server address: the cluster Argo CD itself runs in.
IN_CLUSTER = "https://kubernetes.default.svc"

# Sync options for folders rendered by kubegen (https://argo-cd.readthedocs.io/en/stable/
# user-guide/sync-options/):
# - CreateNamespace=false: kubegen renders every Namespace (with Pod Security labels) as an object
#   in the folder; Argo CD must not create a bare one first, nor apply `managedNamespaceMetadata`.
# - ServerSideApply=true: `kubectl apply --server-side`: no 256 KiB last-applied annotation limit
#   (large ConfigMaps) and field ownership shared cleanly with controllers such as the HPA.
# - PruneLast=true: delete objects removed from git only after the rest of the sync is healthy,
#   so a rename (new Deployment, old one gone) never leaves a gap.
ARGO_SYNC_OPTIONS: tuple[str, ...] = (
    "CreateNamespace=false",
    "ServerSideApply=true",
    "PruneLast=true",
)

_SYNC_OPTION_RE = re.compile(r"[A-Z][A-Za-z]*=[A-Za-z0-9.-]+\Z")

# kubegen writes kustomization.yaml at each env folder's root for kubectl and Flux. Argo CD's
# directory source reads plain manifests only and fails on Kustomize files (user-guide/directory),
# so the Application skips it: the files it lists are exactly the folder's other files.
ARGO_DIRECTORY_EXCLUDE = "kustomization.yaml"

def _folder_glob(value: str) -> str:
    path = check_repo_path(value)
    if not path:
        raise InvalidValue(
            "the repository root is not an env folder", fix="name env folders, e.g. 'output/*'"
        )
    return path


def _need_reason(weakened: list[str], reason: str | None) -> None:
    if weakened and not (reason and reason.strip()):
        raise InvalidValue(
            f"{' and '.join(weakened)} weakens kubegen's GitOps defaults",
            fix="pass reason='why this object needs it', or keep the default",
        )


class FluxHealthCheckArgs(TypedDict, total=False):
    api_version: Required[str]
    kind: Required[str]
    name: Required[str]
    namespace: str | None


class FluxHealthCheck(Builder):
    """One object a :class:`FluxKustomization` waits for before it reports Ready.

    Args:
        api_version: the object's API version, e.g. ``apps/v1``.
        kind: its kind, e.g. ``Deployment``.
        name: its name.
        namespace: its namespace (None for cluster-scoped objects).
    """

    api_version: str
    kind: str
    name: DNSSubdomain
    namespace: DNSSubdomain | None = None

    def __init__(self, /, **data: Unpack[FluxHealthCheckArgs]) -> None:
        super().__init__(**data)

    @field_validator("api_version")
    @classmethod
    def _check_api_version(cls, value: str) -> str:
        if not re.match(r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?v[0-9]+((alpha|beta)[0-9]+)?\Z", value):
            raise InvalidValue(
                f"apiVersion {value!r} is not of the form 'v1' or 'group/v1'",
                fix="use e.g. 'apps/v1'",
            )
        return value

    @field_validator("kind")
    @classmethod
    def _check_kind(cls, value: str) -> str:
        if not re.match(r"[A-Z][A-Za-z0-9]*\Z", value):
            raise InvalidValue(f"kind {value!r} must be a CamelCase word", fix="e.g. 'Deployment'")
        return value

    def body(self) -> dict[str, str]:
        """The ``spec.healthChecks`` entry."""
        ref = {"apiVersion": self.api_version, "kind": self.kind, "name": self.name}
        if self.namespace:
            ref["namespace"] = self.namespace
        return ref


class ArgoSyncedArgs(ResourceArgs, total=False):
    repo_url: Required[str]
    revision: str
    project: str
    server: str
    destination_namespace: str | None
    recurse: bool
    prune: bool
    self_heal: bool
    sync_options: list[str] | tuple[str, ...]
    reason: str | None


class _ArgoSynced(Resource):
    """Fields shared by Argo CD's Application and the template of an ApplicationSet."""

    namespace: DNSSubdomain | None = "argocd"
    repo_url: str
    revision: str = "HEAD"
    project: DNSSubdomain = "default"
    server: str = IN_CLUSTER
    destination_namespace: DNSSubdomain | None = None
    recurse: bool = True
    prune: bool = True
    self_heal: bool = True
    sync_options: list[str] = Field(default_factory=lambda: list(ARGO_SYNC_OPTIONS))
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
    def _check_server(cls, value: str) -> str:
        match = SCHEME_URL_RE.match(value)
        if match is None or match.group("scheme") != "https":
            raise InvalidValue(
                f"{value!r} is not the https:// address of a Kubernetes API server",
                fix=f"use {IN_CLUSTER!r} for the cluster Argo CD runs in",
            )
        return value

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
        _need_reason(self._weakened(), self.reason)
        return self

    def _weakened(self) -> list[str]:
        return [flag for flag, on in (("prune=False", self.prune),
                                      ("self_heal=False", self.self_heal)) if not on]

    def _record_opt_outs(self) -> None:
        if self.reason:
            for what, on in (("auto-prune", self.prune), ("self-heal", self.self_heal)):
                if not on:
                    self._opt_outs.setdefault(what, self.reason.strip())

    def application_spec(self, path: str) -> dict[str, Any]:
        """The Application ``spec`` that syncs ``path`` of the repository."""
        directory: dict[str, Any] = {"recurse": True} if self.recurse else {}
        directory["exclude"] = ARGO_DIRECTORY_EXCLUDE
        destination = {"server": self.server}
        if self.destination_namespace:
            destination["namespace"] = self.destination_namespace
        sync: dict[str, Any] = {"automated": {"prune": self.prune, "selfHeal": self.self_heal}}
        if self.sync_options:
            sync["syncOptions"] = list(self.sync_options)
        return {
            "project": self.project,
            "source": {
                "repoURL": self.repo_url,
                "targetRevision": self.revision,
                "path": path,
                "directory": directory,
            },
            "destination": destination,
            "syncPolicy": sync,
        }


class ArgoApplicationArgs(ArgoSyncedArgs, total=False):
    path: Required[str]


class ArgoApplication(_ArgoSynced):
    """An Argo CD Application that keeps one rendered folder in sync with the cluster.

    Reads ``path`` as a plain-manifest directory (``directory.recurse``, skipping the folder's
    ``kustomization.yaml``), syncs automatically with ``prune`` and ``selfHeal``, and applies with
    the sync options of :data:`ARGO_SYNC_OPTIONS`. See
    https://argo-cd.readthedocs.io/en/stable/user-guide/auto_sync/.

    Args:
        name: the Application's name.
        namespace: where Argo CD watches Applications (defaults to ``argocd``).
        repo_url: the git repository holding ``output/`` (https, http, ssh or ``git@host:path``).
        path: the folder to sync, relative to the repository root, e.g. ``output/prod``.
        revision: branch, tag or commit to follow (defaults to ``HEAD``, the default branch).
        project: the Argo CD AppProject (defaults to ``default``).
        server: the destination API server (defaults to the cluster Argo CD runs in).
        destination_namespace: namespace for objects without one (kubegen sets one on every
            namespaced object, so defaults to None).
        recurse: read subfolders too (defaults to True: kubegen writes one per namespace).
        prune: delete objects removed from git (defaults to True; False needs ``reason``).
        self_heal: revert changes made in the cluster (defaults to True; False needs ``reason``).
        sync_options: defaults to ``CreateNamespace=false``, ``ServerSideApply=true``,
            ``PruneLast=true``.
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
        body = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(),
            "spec": self.application_spec(self.path),
        }
        return [self.manifest(body)]


class ArgoApplicationSetArgs(ArgoSyncedArgs, total=False):
    directory: str
    exclude: list[str] | tuple[str, ...]
    name_prefix: str


class ArgoApplicationSet(_ArgoSynced):
    """An Argo CD ApplicationSet: one Application per env folder found in git.

    Uses the git directory generator over ``directory`` (defaults to ``output/*``), minus the
    ``exclude`` globs (list the folder this object is rendered into, e.g. ``output/gitops``).
    Each Application is named after its folder, ``name_prefix`` first, and is configured like
    :class:`ArgoApplication`. The template uses Go templates with ``missingkey=error``
    (https://argo-cd.readthedocs.io/en/stable/operator-manual/applicationset/GoTemplate/);
    ``{{.path.basenameNormalized}}`` turns a folder such as ``us_east`` into a valid name.

    Args:
        directory: glob of folders relative to the repository root (Go ``path.Match``, where
            ``*`` stays within one folder); defaults to ``output/*``.
        exclude: globs of folders to skip; exclusions win over ``directory``.
        name_prefix: prepended to every generated Application name (defaults to none).
        (others): as for :class:`ArgoApplication`, applied to every generated Application.
    """

    api_version: ClassVar[str] = "argoproj.io/v1alpha1"
    kind: ClassVar[str] = "ApplicationSet"

    directory: str = "output/*"
    exclude: list[str] = Field(default_factory=empty_list)
    name_prefix: str = ""

    def __init__(self, name: str, /, **data: Unpack[ArgoApplicationSetArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("directory")
    @classmethod
    def _check_directory(cls, value: str) -> str:
        return _folder_glob(value)

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

    def manifests(self) -> list[ManifestObject]:
        self._record_opt_outs()
        directories: list[dict[str, Any]] = [{"path": self.directory}]
        directories += [{"path": glob, "exclude": True} for glob in self.exclude]
        generator = {
            "repoURL": self.repo_url,
            "revision": self.revision,
            "directories": directories,
        }
        spec = {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [{"git": generator}],
            "template": {
                "metadata": {"name": self.name_prefix + "{{.path.basenameNormalized}}"},
                "spec": self.application_spec("{{.path.path}}"),
            },
        }
        body = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(),
            "spec": spec,
        }
        return [self.manifest(body)]


class FluxGitRepositoryArgs(ResourceArgs, total=False):
    url: Required[str]
    branch: str | None
    tag: str | None
    commit: str | None
    interval: str
    secret_ref: str | None


class FluxGitRepository(Resource):
    """A Flux source: the git repository holding ``output/``, fetched into the cluster.

    See https://fluxcd.io/flux/components/source/gitrepositories/. Exactly one of ``branch``,
    ``tag`` or ``commit`` may be given; with none, ``branch='main'`` is rendered (Flux's own
    default would be ``master``).

    Args:
        name: the GitRepository's name.
        namespace: defaults to ``flux-system``, where ``flux bootstrap`` installs Flux.
        url: https, http or ssh URL (Flux does not accept ``git@host:path``; write
            ``ssh://git@host/path``).
        branch: branch to follow.
        tag: tag to check out.
        commit: full commit SHA to check out.
        interval: how often to look for new commits (defaults to ``1m``).
        secret_ref: name of the Secret with credentials (defaults to none: a public repository).
    """

    api_version: ClassVar[str] = "source.toolkit.fluxcd.io/v1"
    kind: ClassVar[str] = "GitRepository"

    namespace: DNSSubdomain | None = "flux-system"
    url: str
    branch: str | None = None
    tag: str | None = None
    commit: str | None = None
    interval: str = "1m"
    secret_ref: DNSSubdomain | None = None

    def __init__(self, name: str, /, **data: Unpack[FluxGitRepositoryArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return check_git_url(value, scp_like=False)

    @field_validator("branch", "tag")
    @classmethod
    def _check_ref(cls, value: str | None) -> str | None:
        return None if value is None else check_git_ref(value)

    @field_validator("commit")
    @classmethod
    def _check_commit(cls, value: str | None) -> str | None:
        if value is not None and not SHA_RE.match(value):
            raise InvalidValue(
                f"{value!r} is not a full commit SHA (40 or 64 lowercase hex digits)",
                fix="use the output of `git rev-parse HEAD`",
            )
        return value

    @field_validator("interval")
    @classmethod
    def _check_interval(cls, value: str) -> str:
        return check_duration(value)

    @model_validator(mode="after")
    def _one_ref(self) -> FluxGitRepository:
        given = [f for f in ("branch", "tag", "commit") if getattr(self, f) is not None]
        if len(given) > 1:
            raise InvalidValue(
                f"{' and '.join(given)} are both set; a GitRepository follows one reference",
                fix="keep exactly one of branch=, tag= or commit=",
            )
        return self

    def ref(self) -> dict[str, str]:
        """``spec.ref``: the one git reference followed."""
        if self.tag is not None:
            return {"tag": self.tag}
        if self.commit is not None:
            return {"commit": self.commit}
        return {"branch": self.branch or "main"}

    def manifests(self) -> list[ManifestObject]:
        spec: dict[str, Any] = {"interval": self.interval, "url": self.url, "ref": self.ref()}
        if self.secret_ref:
            spec["secretRef"] = {"name": self.secret_ref}
        body = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(),
            "spec": spec,
        }
        return [self.manifest(body)]


class FluxKustomizationArgs(ResourceArgs, total=False):
    source: Required[FluxGitRepository | str]
    path: Required[str]
    interval: str
    timeout: str
    retry_interval: str | None
    prune: bool
    wait: bool
    health_checks: Sequence[FluxHealthCheck]
    reason: str | None


class FluxKustomization(Resource):
    """A Flux Kustomization that applies one rendered folder and prunes what left it.

    See https://fluxcd.io/flux/components/kustomize/kustomizations/. Defaults: ``prune: true``
    (objects removed from git are deleted) and ``wait: true`` (Ready only when every applied
    object is healthy, within ``timeout``). Flux ignores ``healthChecks`` when ``wait`` is true,
    so naming ``health_checks`` requires ``wait=False``; ``wait=False`` without health checks, or
    ``prune=False``, needs a ``reason``. It must not be rendered into the folder it applies (it
    would apply itself): the render refuses that, naming both paths.

    Args:
        name: the Kustomization's name.
        namespace: defaults to ``flux-system``.
        source: the :class:`FluxGitRepository`, or the name of one in the same namespace (such as
            the ``flux-system`` repository ``flux bootstrap`` creates).
        path: the folder to apply, relative to the repository root; rendered as ``./output/prod``.
        interval: how often to re-apply and correct drift (defaults to ``10m``).
        timeout: limit for build, apply and health checks (defaults to ``5m``).
        retry_interval: how soon to retry after a failure (defaults to none: ``interval``).
        prune: delete objects removed from git (defaults to True).
        wait: wait for every applied object to become healthy (defaults to True).
        health_checks: objects to wait for instead of all (needs ``wait=False``).
        reason: why a default is weakened; rendered as an opt-out annotation.
    """

    api_version: ClassVar[str] = "kustomize.toolkit.fluxcd.io/v1"
    kind: ClassVar[str] = "Kustomization"

    namespace: DNSSubdomain | None = "flux-system"
    source: FluxGitRepository | DNSSubdomain
    path: str
    interval: str = "10m"
    timeout: str = "5m"
    retry_interval: str | None = None
    prune: bool = True
    wait: bool = True
    health_checks: list[FluxHealthCheck] = Field(default_factory=empty_list)
    reason: str | None = None

    def __init__(self, name: str, /, **data: Unpack[FluxKustomizationArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        return "./" + check_repo_path(value)

    @field_validator("interval", "timeout", "retry_interval")
    @classmethod
    def _check_durations(cls, value: str | None) -> str | None:
        return None if value is None else check_duration(value)

    @model_validator(mode="after")
    def _check_health(self) -> FluxKustomization:
        if self.wait and self.health_checks:
            raise InvalidValue(
                "health_checks are ignored by Flux while wait=True (wait already checks every "
                "applied object)",
                fix="drop health_checks, or pass wait=False to check only those objects",
            )
        _need_reason(self._weakened(), self.reason)
        return self

    def _weakened(self) -> list[str]:
        weakened = [] if self.prune else ["prune=False"]
        if not self.wait and not self.health_checks:
            weakened.append("wait=False without health_checks")
        return weakened

    def source_ref(self) -> dict[str, str]:
        """``spec.sourceRef``; the namespace only when it differs from this object's."""
        if isinstance(self.source, str):
            return {"kind": "GitRepository", "name": self.source}
        ref = {"kind": self.source.kind, "name": self.source.name}
        if self.source.namespace and self.source.namespace != self.namespace:
            ref["namespace"] = self.source.namespace
        return ref

    def _record_opt_outs(self) -> None:
        if self.reason:
            if not self.prune:
                self._opt_outs.setdefault("prune", self.reason.strip())
            if not self.wait and not self.health_checks:
                self._opt_outs.setdefault("wait", self.reason.strip())

    def manifests(self) -> list[ManifestObject]:
        self._record_opt_outs()
        spec: dict[str, Any] = {"interval": self.interval}
        if self.retry_interval:
            spec["retryInterval"] = self.retry_interval
        spec.update(timeout=self.timeout, sourceRef=self.source_ref(), path=self.path,
                    prune=self.prune, wait=self.wait)
        if self.health_checks:
            spec["healthChecks"] = [check.body() for check in self.health_checks]
        body = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(),
            "spec": spec,
        }
        return [self.manifest(body)]
