"""Flux delivery: the GitRepository and Kustomizations that apply rendered folders.

- :class:`FluxGitRepository` makes the repository holding ``output/`` available in the cluster
  where Flux runs.
- :class:`FluxKustomization` applies one folder from it, to that cluster or (through
  ``cluster=``, Flux's ``spec.kubeConfig``) to a remote one, after the Kustomizations it
  ``depends_on`` are ready.

Defaults are those of Flux's recommended settings
(https://fluxcd.io/flux/components/kustomize/kustomizations/#recommended-settings): ``prune``
and ``wait``, drift corrected every hour (new commits apply at once), ``timeout: 3m``,
``retryInterval: 2m``. Turning ``prune`` or ``wait`` off needs a ``reason``, rendered as a
``kubegen.dev/opt-out-…`` annotation. Deleting a Kustomization leaves its objects in place
(``deletionPolicy: Orphan``), as deleting a kubegen Argo CD Application does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar, Literal, Required, TypedDict, Unpack

from pydantic import Field, field_validator, model_validator

from kubegen._builders.base import Builder, Resource, ResourceArgs, empty_list
from kubegen._builders.cluster import Cluster
from kubegen._builders.gitops_values import (
    SHA_RE,
    check_duration,
    check_git_ref,
    check_git_url,
    check_repo_path,
    need_reason,
)
from kubegen._manifests import ManifestObject
from kubegen._values import DNSSubdomain, InvalidValue, check_dns_label

#: Label naming the kubegen cluster a Kustomization applies to.
CLUSTER_LABEL = "kubegen.dev/cluster"

DeletionPolicy = Literal["MirrorPrune", "Delete", "WaitForTermination", "Orphan"]


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
        return self.spec_manifests(spec)


class FluxKustomizationArgs(ResourceArgs, total=False):
    source: Required[FluxGitRepository | str]
    path: Required[str]
    cluster: Cluster | None
    depends_on: list[FluxKustomization | str] | tuple[FluxKustomization | str, ...]
    interval: str
    timeout: str
    retry_interval: str | None
    prune: bool
    wait: bool
    deletion_policy: DeletionPolicy
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
        name: the Kustomization's name, at most 63 characters (Flux writes it into a label of
            every object it applies).
        namespace: defaults to ``flux-system``.
        source: the :class:`FluxGitRepository`, or the name of one in the same namespace (such as
            the ``flux-system`` repository ``flux bootstrap`` creates).
        path: the folder to apply, relative to the repository root; rendered as ``./output/prod``.
        cluster: the :class:`~kubegen.Cluster` to apply to: its ``flux_kubeconfig`` becomes
            ``spec.kubeConfig`` (none: the cluster Flux runs in), and the Kustomization is
            labelled ``kubegen.dev/cluster``. None: the cluster Flux runs in.
        depends_on: Kustomizations (or their names, same namespace) that must be Ready first.
        interval: how often to re-apply and correct drift (defaults to ``60m``; a new commit is
            applied as soon as the source has it).
        timeout: limit for build, apply and health checks (defaults to ``3m``).
        retry_interval: how soon to retry after a failure (defaults to ``2m``).
        prune: delete objects removed from git (defaults to True).
        wait: wait for every applied object to become healthy (defaults to True).
        deletion_policy: what deleting the Kustomization does to its objects (defaults to
            ``Orphan``: they keep running; Flux's own default, ``MirrorPrune``, deletes them).
        health_checks: objects to wait for instead of all (needs ``wait=False``).
        reason: why a default is weakened; rendered as an opt-out annotation.
    """

    api_version: ClassVar[str] = "kustomize.toolkit.fluxcd.io/v1"
    kind: ClassVar[str] = "Kustomization"

    namespace: DNSSubdomain | None = "flux-system"
    source: FluxGitRepository | DNSSubdomain
    path: str
    cluster: Cluster | None = None
    depends_on: list[FluxKustomization | DNSSubdomain] = Field(default_factory=empty_list)
    interval: str = "60m"
    timeout: str = "3m"
    retry_interval: str | None = "2m"
    prune: bool = True
    wait: bool = True
    deletion_policy: DeletionPolicy = "Orphan"
    health_checks: list[FluxHealthCheck] = Field(default_factory=empty_list)
    reason: str | None = None

    def __init__(self, name: str, /, **data: Unpack[FluxKustomizationArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("name")
    @classmethod
    def _short_name(cls, value: str) -> str:
        try:
            check_dns_label(value)
        except InvalidValue:
            raise InvalidValue(
                f"a Kustomization name is at most 63 characters of a DNS-1123 label (Flux "
                f"labels every applied object kustomize.toolkit.fluxcd.io/name={value})",
                fix="use a shorter name",
            ) from None
        return value

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
        need_reason(self._weakened(), self.reason)
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

    def _dependencies(self) -> list[dict[str, str]]:
        out = []
        for dep in self.depends_on:
            if isinstance(dep, str):
                out.append({"name": dep})
                continue
            ref = {"name": dep.name}
            if dep.namespace and dep.namespace != self.namespace:
                ref["namespace"] = dep.namespace
            out.append(ref)
        return out

    def _record_opt_outs(self) -> None:
        if self.reason:
            if not self.prune:
                self._opt_outs.setdefault("prune", self.reason.strip())
            if not self.wait and not self.health_checks:
                self._opt_outs.setdefault("wait", self.reason.strip())

    def manifests(self) -> list[ManifestObject]:
        self._record_opt_outs()
        spec: dict[str, Any] = {}
        if self.depends_on:
            spec["dependsOn"] = self._dependencies()
        spec["interval"] = self.interval
        if self.retry_interval:
            spec["retryInterval"] = self.retry_interval
        spec.update(timeout=self.timeout, sourceRef=self.source_ref(), path=self.path,
                    prune=self.prune, wait=self.wait, deletionPolicy=self.deletion_policy)
        if self.cluster is not None and self.cluster.flux_kubeconfig is not None:
            spec["kubeConfig"] = self.cluster.flux_kubeconfig.body()
        if self.health_checks:
            spec["healthChecks"] = [check.body() for check in self.health_checks]
        labels = {CLUSTER_LABEL: self.cluster.name} if self.cluster is not None else None
        body = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(labels=labels),
            "spec": spec,
        }
        return [self.manifest(body)]


__all__ = [
    "CLUSTER_LABEL",
    "FluxGitRepository",
    "FluxHealthCheck",
    "FluxKustomization",
]
