"""Container hardening beyond the Pod Security Standards (KG201–KG209).

PSS says nothing about read-only root filesystems, resources, probes or images (hardening-
reference b1, last note); these rules come from the NSA/CISA guidance and the common scanners.
Decisions from hardening-reference b4:

- CPU limits (KG204) are a separate rule from requests and memory limits so a stack can waive
  them alone, with a reason, where CFS throttling hurts more than noisy neighbours;
- probes (KG205/KG206) are required, not invented: only serving containers (those declaring
  ports) of long-running workloads (Deployment, StatefulSet, DaemonSet) need them;
- a digest-pinned image passes the pull-policy rule with any policy (Checkov CKV_K8S_15's
  reading): the bytes cannot change, so IfNotPresent is the reproducible choice.

Ephemeral (debug) containers take no resources, probes or images of their own choosing in a
manifest, so only ``containers`` and ``initContainers`` are checked here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from kubegen._policy.context import POD_KINDS, ContainerView, LintContext, PodView, as_dict
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import E, I, W, rule
from kubegen._policy.rules import show

HARDENING = Levels(baseline=W, restricted=E, prod=E)
NSA = "NSA/CISA Kubernetes Hardening Guidance v1.2"
KIA_DEPLOY = "Kubernetes in Action (2nd ed.), 'Deployments'"
RUNNING = ("initContainers", "containers")
SERVING_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
_DIGEST = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")


@dataclass(frozen=True, slots=True)
class ImageRef:
    """An image reference split into repository, tag and digest (either may be missing)."""

    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, ref: str) -> ImageRef:
        """``ghcr.io:443/acme/api:2.3@sha256:…`` → repository, ``2.3``, ``sha256:…``.

        The tag is looked for after the last ``/`` only, so a registry port is not a tag.
        """
        name, _, digest = ref.partition("@")
        head, slash, last = name.rpartition("/")
        repo_last, colon, tag = last.partition(":")
        return cls(
            repository=f"{head}{slash}{repo_last}",
            tag=tag if colon else None,
            digest=digest or None,
        )

    @property
    def pinned(self) -> bool:
        """Whether the reference carries a well-formed content digest."""
        return self.digest is not None and bool(_DIGEST.match(self.digest))


def _running(ctx: LintContext) -> Iterator[tuple[PodView, ContainerView]]:
    for pod in ctx.pods:
        for c in pod.containers(RUNNING):
            yield pod, c


@rule(
    "KG201",
    per_object=True,
    name="read-only-root-filesystem",
    title="Containers mount their root filesystem read-only",
    levels=HARDENING,
    reason="A writable root filesystem lets an intruder drop tools and persist changes; with "
    "it read-only, writes go only to declared emptyDir mounts.",
    sources=(
        f"{NSA}, 'Immutable container file systems'",
        "Kubernetes in Action (2nd ed.), 'Securing cluster nodes and the network'",
    ),
    fix="Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir at each path "
    "the app writes (/tmp, caches).",
    scanners=(
        "Polaris notReadOnlyRootFilesystem",
        "kube-score container-security-context-readonlyrootfilesystem",
        "kube-linter no-read-only-root-fs",
        "kubescape C-0017",
        "Checkov CKV_K8S_22",
    ),
    kinds=POD_KINDS,
)
def read_only_root_filesystem(ctx: LintContext) -> Iterator[Hit]:
    for pod, c in _running(ctx):
        value = c.security_context.get("readOnlyRootFilesystem")
        if value is not True:
            shown = "unset" if value is None else show(value)
            path = f"{c.path}.securityContext.readOnlyRootFilesystem"
            yield Hit(pod.obj, path, f"{c.label} has readOnlyRootFilesystem {shown}")


def _resource(c: ContainerView, section: str, name: str) -> object:
    return as_dict(as_dict(c.body.get("resources")).get(section)).get(name)


@rule(
    "KG202",
    per_object=True,
    name="resource-requests",
    title="Containers request CPU and memory",
    levels=HARDENING,
    reason="The scheduler places pods by their requests; without them a node is overcommitted "
    "and the pod is the first evicted (BestEffort QoS).",
    sources=(
        f"{NSA}, 'Resource policies'",
        "Kubernetes in Action (2nd ed.), 'Managing pods' computational resources'",
    ),
    fix="Set resources.requests.cpu and resources.requests.memory on every container.",
    scanners=(
        "Polaris cpuRequestsMissing, memoryRequestsMissing",
        "kube-score container-resources",
        "kube-linter unset-cpu-requirements, unset-memory-requirements",
        "kubescape C-0268, C-0269",
        "Checkov CKV_K8S_10, CKV_K8S_12",
    ),
    tags=("reliability", "security"),
    kinds=POD_KINDS,
)
def resource_requests(ctx: LintContext) -> Iterator[Hit]:
    for pod, c in _running(ctx):
        for name in ("cpu", "memory"):
            if _resource(c, "requests", name) is None:
                path = f"{c.path}.resources.requests.{name}"
                yield Hit(pod.obj, path, f"{c.label} requests no {name}")


@rule(
    "KG203",
    per_object=True,
    name="memory-limit",
    title="Containers set a memory limit",
    levels=HARDENING,
    reason="Without a memory limit one leaking container can push the node into OOM and take "
    "its neighbours down.",
    sources=(f"{NSA}, 'Resource policies'",),
    fix="Set resources.limits.memory (usually equal to the request).",
    scanners=(
        "Polaris memoryLimitsMissing",
        "kube-score container-resources",
        "kube-linter unset-memory-requirements",
        "kubescape C-0271",
        "Checkov CKV_K8S_13",
    ),
    tags=("reliability", "security"),
    kinds=POD_KINDS,
)
def memory_limit(ctx: LintContext) -> Iterator[Hit]:
    for pod, c in _running(ctx):
        if _resource(c, "limits", "memory") is None:
            path = f"{c.path}.resources.limits.memory"
            yield Hit(pod.obj, path, f"{c.label} sets no memory limit")


@rule(
    "KG204",
    per_object=True,
    name="cpu-limit",
    title="Containers set a CPU limit (waivable per stack)",
    levels=HARDENING,
    reason="A CPU limit caps what a runaway container takes from its neighbours. It also "
    "causes CFS throttling and forbids bursting, so kubegen keeps it a separate rule that a "
    "stack can waive with a reason (the trade-off kube-score exposes as "
    "--ignore-container-cpu-limit).",
    sources=(
        f"{NSA}, 'Resource policies'",
        "Kubernetes docs, 'Resource Management for Pods and Containers' (CPU limits, throttling)",
    ),
    fix="Set resources.limits.cpu, or opt out with a reason: "
    "StackDefaults(allow_no_cpu_limit='latency-sensitive; requests sized for peak') for the "
    "stack, Resources(..., allow_no_cpu_limit=...) for one container.",
    scanners=(
        "Polaris cpuLimitsMissing",
        "kube-score container-resources (--ignore-container-cpu-limit)",
        "kube-linter unset-cpu-requirements",
        "kubescape C-0270",
        "Checkov CKV_K8S_11",
    ),
    tags=("reliability", "security"),
    kinds=POD_KINDS,
)
def cpu_limit(ctx: LintContext) -> Iterator[Hit]:
    for pod, c in _running(ctx):
        if _resource(c, "limits", "cpu") is None:
            yield Hit(pod.obj, f"{c.path}.resources.limits.cpu", f"{c.label} sets no CPU limit")


def _serving(ctx: LintContext) -> Iterator[tuple[PodView, ContainerView]]:
    """Containers with ports in long-running workloads, including port-declaring sidecars."""
    for pod in ctx.pods:
        if pod.obj.kind in SERVING_KINDS:
            for c in pod.containers(RUNNING):
                if c.body.get("ports") and (c.list_name == "containers" or c.is_sidecar):
                    yield pod, c


@rule(
    "KG205",
    per_object=True,
    name="readiness-probe",
    title="Serving containers declare a readiness probe",
    levels=HARDENING,
    reason="Without a readiness probe a pod receives Service traffic the moment it starts, "
    "and a rollout cannot tell a broken version from a working one.",
    sources=(KIA_DEPLOY, "Kubernetes docs, 'Configure Liveness, Readiness and Startup Probes'"),
    fix="Add a readinessProbe (httpGet on a health endpoint, or tcpSocket on the port).",
    scanners=(
        "Polaris readinessProbeMissing",
        "kube-score pod-probes",
        "kube-linter no-readiness-probe",
        "kubescape C-0018",
        "Checkov CKV_K8S_9",
    ),
    tags=("reliability",),
    kinds=SERVING_KINDS,
)
def readiness_probe(ctx: LintContext) -> Iterator[Hit]:
    for pod, c in _serving(ctx):
        if not c.body.get("readinessProbe"):
            yield Hit(pod.obj, f"{c.path}.readinessProbe", f"{c.label} serves ports but has none")


@rule(
    "KG206",
    per_object=True,
    name="liveness-probe",
    title="Serving containers declare a liveness probe",
    levels=HARDENING,
    reason="Without a liveness probe a deadlocked process keeps its pod Running forever; the "
    "kubelet restarts only what it can see failing.",
    sources=(KIA_DEPLOY, "Kubernetes docs, 'Configure Liveness, Readiness and Startup Probes'"),
    fix="Add a livenessProbe that checks the process itself (not its dependencies).",
    scanners=(
        "Polaris livenessProbeMissing",
        "kube-score pod-probes",
        "kube-linter no-liveness-probe",
        "kubescape C-0056",
        "Checkov CKV_K8S_8",
    ),
    tags=("reliability",),
    kinds=SERVING_KINDS,
)
def liveness_probe(ctx: LintContext) -> Iterator[Hit]:
    for pod, c in _serving(ctx):
        if not c.body.get("livenessProbe"):
            yield Hit(pod.obj, f"{c.path}.livenessProbe", f"{c.label} serves ports but has none")


@rule(
    "KG207",
    per_object=True,
    name="image-tag",
    title="Images name a tag (or digest) other than latest",
    levels=HARDENING,
    reason="An untagged or :latest image changes under the same manifest: rollbacks restore "
    "nothing and two nodes may run different code.",
    sources=(f"{NSA}, 'Scan containers and pods'", KIA_DEPLOY),
    fix="Use an explicit version tag, e.g. ghcr.io/acme/api:2.3.1 (plus @sha256:… for prod).",
    scanners=(
        "Polaris tagNotSpecified",
        "kube-score container-image-tag",
        "kube-linter latest-tag",
        "kubescape C-0075",
        "Checkov CKV_K8S_14",
    ),
    kinds=POD_KINDS,
)
def image_tag(ctx: LintContext) -> Iterator[Hit]:
    for pod, c in _running(ctx):
        image = str(c.body.get("image", ""))
        ref = ImageRef.parse(image)
        if ref.tag == "latest":
            yield Hit(pod.obj, f"{c.path}.image", f"{c.label} uses image {show(image)}")
        elif ref.tag is None and ref.digest is None:
            yield Hit(pod.obj, f"{c.path}.image", f"{c.label} image {show(image)} has no tag")


@rule(
    "KG208",
    per_object=True,
    name="image-digest",
    title="Images are pinned by digest (prod)",
    levels=Levels(baseline=I, restricted=I, prod=E),
    reason="A tag can be moved to other bytes; a digest cannot. Pinning makes a render "
    "reproducible and closes the window between review and pull.",
    sources=(f"{NSA}, 'Scan containers and pods'", "Kubernetes docs, 'Images' (image digests)"),
    fix="Append the digest: image: ghcr.io/acme/api:2.3.1@sha256:<64 hex>.",
    scanners=("kubescape C-0306", "Checkov CKV_K8S_43"),
    tags=("security", "supply-chain"),
    kinds=POD_KINDS,
)
def image_digest(ctx: LintContext) -> Iterator[Hit]:
    for pod, c in _running(ctx):
        image = str(c.body.get("image", ""))
        if not ImageRef.parse(image).pinned:
            yield Hit(pod.obj, f"{c.path}.image", f"{c.label} image {show(image)} has no digest")


@rule(
    "KG209",
    per_object=True,
    name="image-pull-policy",
    title="Tag-only images are pulled Always",
    levels=Levels(baseline=W, restricted=W, prod=W),
    reason="With IfNotPresent a node keeps whatever an old pull of the tag gave it, so pods "
    "of one Deployment can run different bytes. A digest-pinned image is immutable, so any "
    "policy is fine for it (as Checkov CKV_K8S_15 accepts).",
    sources=("Kubernetes docs, 'Images' (image pull policy, digests)",),
    fix="Pin the image by digest (preferred; keep IfNotPresent), or set imagePullPolicy: Always.",
    scanners=(
        "Polaris pullPolicyNotAlways",
        "kube-score container-image-pull-policy",
        "kubescape C-0075",
        "Checkov CKV_K8S_15",
    ),
    tags=("reliability", "supply-chain"),
    kinds=POD_KINDS,
)
def image_pull_policy(ctx: LintContext) -> Iterator[Hit]:
    for pod, c in _running(ctx):
        ref = ImageRef.parse(str(c.body.get("image", "")))
        if ref.pinned:
            continue
        policy = c.body.get("imagePullPolicy")
        # Kubernetes defaults to Always for :latest or no tag, else IfNotPresent.
        effective = policy or ("Always" if ref.tag in (None, "latest") else "IfNotPresent")
        if effective != "Always":
            shown = show(policy) if policy else f"unset (defaults to {effective})"
            path = f"{c.path}.imagePullPolicy"
            yield Hit(pod.obj, path, f"{c.label} pulls tag {ref.tag!r} with policy {shown}")
