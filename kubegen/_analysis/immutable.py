"""Changes the API server refuses on an existing object: a sync would fail until it is recreated.

GitOps tools apply a changed manifest as an update (a patch); for some fields the API server's
update validation answers "field is immutable" and the sync fails on every retry, while the diff
in the pull request looked harmless. From the upstream update validation
(k8s.io/kubernetes/pkg/apis/{apps,batch,core}/validation, ``Validate*Update``):

- apps/v1 Deployment, ReplicaSet, DaemonSet, StatefulSet and batch/v1 Job: ``spec.selector``;
- StatefulSet: every ``spec`` field but ``replicas``, ``ordinals``, ``template``,
  ``updateStrategy``, ``revisionHistoryLimit``, ``persistentVolumeClaimRetentionPolicy`` and
  ``minReadySeconds`` ("updates to statefulset spec for fields other than … are forbidden");
  so ``volumeClaimTemplates``, ``serviceName`` and ``podManagementPolicy`` are fixed;
- Job: ``spec.template`` (a Job's pods are created once; a new template needs a new Job);
- Service: ``spec.clusterIP`` once set (``None`` for a headless Service included).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubegen._manifests import ManifestObject

__all__ = ["immutable_changes"]

_SELECTOR_KINDS = {
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
    ("apps", "DaemonSet"),
    ("apps", "StatefulSet"),
    ("batch", "Job"),
}
_STATEFULSET_UPDATABLE = frozenset(
    {
        "replicas",
        "ordinals",
        "template",
        "updateStrategy",
        "revisionHistoryLimit",
        "persistentVolumeClaimRetentionPolicy",
        "minReadySeconds",
    }
)


def _spec(obj: ManifestObject) -> Mapping[str, Any]:
    spec = obj.body.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def immutable_changes(before: ManifestObject, after: ManifestObject) -> list[str]:
    """The ``spec`` fields that differ between two versions and that an update cannot change."""
    if (before.group, before.kind) != (after.group, after.kind):
        return []
    old, new = _spec(before), _spec(after)
    kind = (after.group, after.kind)
    fields: list[str] = []
    if kind == ("apps", "StatefulSet"):
        fields = sorted(
            key for key in set(old) | set(new)
            if key not in _STATEFULSET_UPDATABLE and old.get(key) != new.get(key)
        )
    elif kind in _SELECTOR_KINDS and old.get("selector") != new.get("selector"):
        fields = ["selector"]
    if kind == ("batch", "Job") and old.get("template") != new.get("template"):
        fields.append("template")
    if kind == ("", "Service") and "clusterIP" in old and old.get("clusterIP") != new.get(
        "clusterIP"
    ):
        fields.append("clusterIP")
    return [f"spec.{name}" for name in fields]
