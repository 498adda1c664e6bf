"""Pod: one hardened pod, with no controller to replace it (*Kubernetes in Action*, "Pods").

A bare Pod is what a chapter on pods, a debugging session or a one-off tool runs: it is
hardened like every workload's pod (non-root, read-only root, no capabilities, its own
ServiceAccount without a token), labelled with the selector labels so Services, connections and
NetworkPolicies find it, and held to the probe rule of a Deployment. Nothing recreates it when
its node fails, and Kubernetes refuses most changes to a running pod (only images and a few
fields may change), so anything meant to keep running belongs in a Deployment.
"""

from __future__ import annotations

from typing import Any, ClassVar, Unpack

from kubegen._builders.workloads import derived
from kubegen._builders.workloads.pod import PodWorkload, PodWorkloadArgs
from kubegen._manifests import ManifestObject


class Pod(PodWorkload):
    """A hardened bare Pod (``v1`` Pod): prefer a Deployment for anything that must keep running.

    The pod's labels are its template labels (the stack's, the selector labels, the version
    and ``pod_labels``) and its annotations the object's own plus ``pod_annotations`` and the
    checksums of the ConfigMaps and Secrets it uses. See
    https://kubernetes.io/docs/concepts/workloads/pods/.

    Manifests: the Pod and its ServiceAccount.
    """

    api_version: ClassVar[str] = "v1"
    kind: ClassVar[str] = "Pod"

    def __init__(self, name: str, /, **data: Unpack[PodWorkloadArgs]) -> None:
        super().__init__(name, **data)

    def build_manifests(self) -> list[ManifestObject]:
        defaults = self.prepare()
        template = self.pod_template(defaults, spread=[])
        meta = self.metadata(labels=template["metadata"]["labels"])
        annotations: dict[str, Any] = {**template["metadata"].get("annotations", {}),
                                       **meta.get("annotations", {})}
        if annotations:
            meta["annotations"] = dict(sorted(annotations.items()))
        body = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": meta,
            "spec": template["spec"],
        }
        return [self.manifest(body), *derived.service_accounts(self)]
