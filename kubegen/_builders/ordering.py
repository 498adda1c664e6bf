"""Order and lifecycle on a cluster: layers (sync waves and Flux Kustomizations) and sync hooks.

Argo CD orders one Application's objects by *sync wave* (``argocd.argoproj.io/sync-wave``) and
waits for each wave to be healthy before the next; Flux orders *Kustomizations* with
``dependsOn`` and cannot order objects inside one. A :class:`Layer` is both at once: a stack
declared with ``layers=`` renders each layer into its own folder (``output/<env>/<layer>/``, with
a ``kustomization.yaml``, so one Flux Kustomization applies it) and stamps every object with the
layer's index as its sync wave. An integer wave that only Argo CD could honour is not offered, so
the two tools deploy in the same order.

A :class:`SyncHook` turns an object (typically a Job) into something that runs again on every
rollout instead of a resource that is applied once: Argo CD ``argocd.argoproj.io/hook`` with a
delete policy, and, for Jobs and Pods, Flux's ``kustomize.toolkit.fluxcd.io/force: enabled``, so
Flux re-creates it whenever its (immutable) spec changes, e.g. on a new image.

Sources: https://argo-cd.readthedocs.io/en/stable/user-guide/sync-waves/,
https://argo-cd.readthedocs.io/en/stable/user-guide/resource_hooks/,
https://fluxcd.io/flux/components/kustomize/kustomizations/#dependencies,
https://fluxcd.io/flux/use-cases/running-jobs/.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypedDict, Unpack

from pydantic import Field, field_validator

from kubegen._builders.base import Builder
from kubegen._builders.gitops_values import check_duration
from kubegen._errors import ValidationError
from kubegen._manifests import ManifestObject
from kubegen._values import DNSLabel, InvalidValue

#: Argo CD annotations kubegen writes for layers and hooks.
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
HOOK = "argocd.argoproj.io/hook"
HOOK_DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy"
#: Flux: re-create the object when a change to an immutable field cannot be applied.
FLUX_FORCE = "kustomize.toolkit.fluxcd.io/force"

HookPhase = Literal["PreSync", "Sync", "PostSync", "SyncFail", "PreDelete", "PostDelete"]
HookDeletePolicy = Literal["BeforeHookCreation", "HookSucceeded", "HookFailed"]

_DEFAULT_DELETE_POLICY: tuple[HookDeletePolicy, ...] = ("BeforeHookCreation",)

# Kinds whose spec Kubernetes forbids changing: a hook of these kinds must be re-created by Flux.
_RECREATED_KINDS = frozenset({"Job", "Pod"})


class LayerArgs(TypedDict, total=False):
    timeout: str | None


class Layer(Builder):
    """One step of a cluster's rollout order: a sync wave for Argo CD, a Kustomization for Flux.

    Declare a stack's layers in order (``Stack(..., layers=("data", "migrations", "app"))``, or
    ``Layer`` objects for their settings) and place resources with ``stack.add(obj, layer=…)``.
    Namespaces and CustomResourceDefinitions always go into the first layer; objects the stack
    derives (NetworkPolicies, RBAC of grants) too, so guards exist before any workload starts.

    Args:
        name: DNS-1123 label; also the folder name under the env folder.
        timeout: how long Flux waits for this layer's objects to become healthy (a Go duration
            such as ``15m``) before it reports the Kustomization failed and retries. None: the
            fleet's default (``3m``). Give slow layers (migrations, operators) more.
    """

    name: DNSLabel
    timeout: str | None = None

    def __init__(self, name: str, /, **data: Unpack[LayerArgs]) -> None:
        super().__init__(name=name, **data)

    @field_validator("timeout")
    @classmethod
    def _check_timeout(cls, value: str | None) -> str | None:
        return None if value is None else check_duration(value)


def layers_of(values: Sequence[str | Layer]) -> tuple[Layer, ...]:
    """Normalise ``layers=`` (names or :class:`Layer` objects); names must be unique."""
    out = tuple(v if isinstance(v, Layer) else Layer(v) for v in values)
    seen: set[str] = set()
    for layer in out:
        if layer.name in seen:
            raise InvalidValue(
                f"layer {layer.name!r} is listed twice", fix="give every layer its own name"
            )
        seen.add(layer.name)
    return out


class SyncHookArgs(TypedDict, total=False):
    delete_policy: list[HookDeletePolicy] | tuple[HookDeletePolicy, ...]


class SyncHook(Builder):
    """Run an object as an Argo CD sync hook; for Jobs and Pods, let Flux re-create it on change.

    A hook is not a tracked resource: Argo CD creates it in its phase of every sync, so a
    migration Job runs again on each rollout (a new image included), and its deletion (by a
    delete policy) never makes the application drift. Flux has no hooks; there the object's
    layer orders it (a Kustomization that ``dependsOn`` the layer before, with ``wait``), and
    ``kustomize.toolkit.fluxcd.io/force: enabled`` makes Flux replace a Job whose spec changed.
    A hooked Job keeps no ``ttlSecondsAfterFinished`` (the Job default is dropped; setting one is
    an error): Flux would re-create a Job that a TTL deleted, and run it again.

    Args:
        phase: ``PreSync`` (before the sync applies anything: the namespace and anything else in
            the same application do not exist yet on a new cluster), ``Sync`` (with the other
            objects, ordered by the layer's wave), ``PostSync`` (after everything is healthy),
            ``SyncFail``, ``PreDelete`` or ``PostDelete``.
        delete_policy: when Argo CD deletes the hook object. Defaults to
            ``BeforeHookCreation``: the last run (and its logs) stays until the next sync
            replaces it, which is what lets a Job with a fixed name run again.
    """

    phase: HookPhase
    delete_policy: list[HookDeletePolicy] = Field(
        default_factory=lambda: list(_DEFAULT_DELETE_POLICY), min_length=1
    )

    def __init__(self, phase: HookPhase, /, **data: Unpack[SyncHookArgs]) -> None:
        super().__init__(phase=phase, **data)

    @field_validator("delete_policy")
    @classmethod
    def _unique(cls, value: list[HookDeletePolicy]) -> list[HookDeletePolicy]:
        return list(dict.fromkeys(value))

    def annotations(self, kind: str) -> dict[str, str]:
        """The annotations that make an object of ``kind`` this hook."""
        notes = {HOOK: self.phase, HOOK_DELETE_POLICY: ",".join(self.delete_policy)}
        if kind in _RECREATED_KINDS:
            notes[FLUX_FORCE] = "enabled"
        return notes

    def apply(self, obj: ManifestObject, *, ttl_given: bool) -> None:
        """Make ``obj`` this hook. A Job loses its default ``ttlSecondsAfterFinished`` (the
        delete policy cleans up; Flux would re-create and re-run a Job a TTL deleted); a TTL the
        user set (``ttl_given``) is an error for that reason."""
        spec = obj.body.get("spec")
        if obj.kind == "Job" and isinstance(spec, dict) and "ttlSecondsAfterFinished" in spec:
            if ttl_given:
                raise ValidationError(
                    "is a sync hook with ttl_after_finished: once the TTL deletes it, Flux "
                    "re-creates the Job and runs it again, and Argo CD's delete policy already "
                    "removes it",
                    origin=obj.origin,
                    resource=obj.display,
                    field="ttl_after_finished",
                    value=spec["ttlSecondsAfterFinished"],
                    fix="drop ttl_after_finished (or pass None); choose when Argo CD deletes the "
                    "hook with delete_policy=",
                )
            del spec["ttlSecondsAfterFinished"]
        meta = obj.body.setdefault("metadata", {})
        current = meta.get("annotations")
        meta["annotations"] = {
            **(current if isinstance(current, dict) else {}), **self.annotations(obj.kind)
        }


__all__ = ["Layer", "SyncHook", "layers_of"]
