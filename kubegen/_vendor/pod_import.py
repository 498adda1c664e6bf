"""Bare Pods as typed ``Pod(...)`` calls, for ``kubegen import manifests``.

A Pod is its own pod template: its labels are the pods' labels (kubegen's selector labels, or
the input's, kept as ``selector=`` like a Job's, since no controller selects it), its
annotations the pod's (``pod_annotations=``), and its spec is mapped by the same code as a
workload's pod (:mod:`~kubegen._vendor.workload_import`). A field no builder argument
expresses raises :class:`Unmapped` with its path in the Pod (``spec.nodeName``); the call is
kept only when the importer has rendered it and got the input back.
"""

from __future__ import annotations

from typing import Any

from kubegen._builders.workloads.pod import COMPONENT_LABEL
from kubegen._vendor.import_base import MANAGED, Unmapped, call, only, r
from kubegen._vendor.job_import import job_selector
from kubegen._vendor.workload_import import pod_args

#: The API version of the Pods the importer maps.
POD_API = "v1"


def pod_call(
    body: dict[str, Any], namespace: str | None, reason: str = "REASON", stack: str | None = None,
    *, origin: str = "",
) -> str:
    """The ``Pod(...)`` call rendering ``body`` (a ``v1`` Pod), or :class:`Unmapped`;
    ``origin`` (its file) is named by the reasons of its ``HostPath`` volumes."""
    if body.get("kind") != "Pod" or body.get("apiVersion") != POD_API:
        raise Unmapped("apiVersion")
    only(body, {"apiVersion", "kind", "metadata", "spec"}, "Pod")
    meta = body["metadata"]
    only(meta, {"name", "namespace", "labels", "annotations"}, "metadata")
    name = str(meta["name"])
    args = [r(name)]
    if meta.get("namespace") and meta["namespace"] != namespace:
        args.append(f"namespace={r(meta['namespace'])}")
    labels = {k: v for k, v in dict(meta.get("labels") or {}).items()
              if (k, v) != (MANAGED, "kubegen")}
    template = {"metadata": {k: v for k, v in (("labels", labels), (
        "annotations", meta.get("annotations"))) if v}, "spec": body.get("spec") or {}}
    try:
        selector = job_selector({"template": template}, name, stack)
    except Unmapped as exc:
        raise Unmapped(_in_pod(str(exc))) from None
    if selector is not None:
        args.append(f"selector={r(selector)}")
    elif labels.get(COMPONENT_LABEL):
        args.append(f"component={r(labels[COMPONENT_LABEL])}")
    try:
        args += pod_args(template, reason, selector=selector, origin=origin)
    except Unmapped as exc:
        raise Unmapped(_in_pod(str(exc))) from None
    return call("Pod", args)


def _in_pod(where: str) -> str:
    """A pod template's field path as the Pod's own (``spec.template.spec.x`` → ``spec.x``)."""
    for prefix, own in (("spec.template.spec", "spec"), ("spec.template.metadata", "metadata"),
                        ("spec.template", "Pod")):
        if where.startswith(prefix):
            return own + where[len(prefix):]
    return where
