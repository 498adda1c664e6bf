"""``Vendored``: upstream manifests in a stack, as they are, patched in Python.

The files are read when the builder is created (so a patch that matches nothing fails on its own
line), every object is validated like a ``Manifest``, and rendered through kubegen's layout and
emitter (one file per object, canonical key order). kubegen adds nothing to them: no stack
labels, no waiver annotations; only the namespace of namespaced objects that name none.
Their lint findings are reported per source and gate only with ``gate=True``.
"""

from __future__ import annotations

import copy
import difflib
import functools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, ParamSpec, Required, TypeVar, Unpack

from kubegen._builders.base import Resource, ResourceArgs
from kubegen._builders.calls import argument_error, checked, diagnose
from kubegen._builders.core import check_body
from kubegen._builders.state import state
from kubegen._builders.workloads.base import Workload
from kubegen._builders.workloads.resources import Resources
from kubegen._errors import DriftError, ValidationError
from kubegen._manifests import ManifestObject, VendorTag, group_of, is_cluster_scoped
from kubegen._origin import Origin, capture, display_path
from kubegen._values import InvalidValue, check_labels
from kubegen._vendor import patches
from kubegen._vendor.files import VendoredEdit, read_source, source_files
from kubegen._vendor.yaml_reader import read_documents

if TYPE_CHECKING:
    from kubegen._stack import Stack

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")

P = ParamSpec("P")
R = TypeVar("R")


def _call_checked(func: Callable[P, R]) -> Callable[P, R]:
    """``func`` with its arguments checked before it runs: a misspelled keyword, a missing
    argument or a value of the wrong type is one located error naming the method, the
    argument and what it takes (see :mod:`kubegen._builders.calls`), never Python's own
    ``TypeError`` or whatever a wrong value breaks further in. A patch runs once per stack
    build, so the check (well under a millisecond) is not worth deferring to a failure."""
    run = checked(func)

    @functools.wraps(func)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        error = diagnose(func, args, kwargs)
        if error is not None:
            raise error
        return run(*args, **kwargs)

    return call


class _Doc:
    """One vendored object: its body (patched in place) and the file line it came from."""

    __slots__ = ("body", "origin")

    def __init__(self, body: dict[str, Any], origin: Origin) -> None:
        self.body = body
        self.origin = origin

    @property
    def kind(self) -> str:
        return str(self.body.get("kind"))

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def namespace(self) -> str | None:
        ns = self.body["metadata"].get("namespace")
        return ns if isinstance(ns, str) else None


class VendoredArgs(ResourceArgs, total=False):
    source: Required[str]
    version: Required[str]
    name: str
    licence: str | None
    gate: bool


class Vendored(Resource):
    """Upstream manifests (a YAML file or a folder of them) brought into the stack as they are.

    ``Vendored("vendor/cert-manager-v1.16.2.yaml", namespace="cert-manager",
    source="https://github.com/cert-manager/cert-manager/releases/download/v1.16.2/cert-manager.yaml",
    version="v1.16.2")``. Multi-document files and ``List`` objects are read (YAML 1.1 scalars,
    as kubectl reads them); objects render one per file like any other, byte-stable, and pass
    the same schema validation and lint rules. Findings are reported and summarised per source
    and block a render only with ``gate=True``; ``waive(rule, reason)`` waives a rule for the
    whole source. RBAC objects are not refused by the least-privilege guards: they are linted.

    Patch upstream objects in Python (each patch must match something, or it is an error):
    :meth:`set_image`, :meth:`pin_digest`, :meth:`set_resources`, :meth:`set_replicas`,
    :meth:`set_labels`, :meth:`set_annotations`, :meth:`patch` (strategic merge),
    :meth:`json_patch` (RFC 6902), :meth:`drop`. :meth:`workload` returns a vendored workload as
    a peer for ``connect_to``/``allow_from``… and for a PodDisruptionBudget.

    Args:
        path: a YAML file or folder, relative to the project root (the folder holding
            pyproject.toml; the working directory when there is none).
        source: where the files come from (a URL), shown in reports.
        version: the upstream version, shown in reports.
        name: names the source in messages; defaults to the file or folder name.
        namespace: for namespaced objects that name no namespace; defaults to the stack's.
        licence: the upstream licence (SPDX id), recorded for reviewers.
        gate: let this source's error-level findings stop a render. Defaults to False.
        labels: added to every object's metadata (never to selectors).
        annotations: added to every object's metadata.
    """

    api_version: ClassVar[str] = "kubegen.dev/v1"
    kind: ClassVar[str] = "Vendored"

    path: str
    source: str
    version: str
    licence: str | None = None
    gate: bool = False

    _docs: list[_Doc] = state(factory=list)
    _provenance: dict[str, Any] | None = state(None)

    is_vendored: ClassVar[bool] = True

    def __init__(self, path: str | Path, /, **data: Unpack[VendoredArgs]) -> None:
        if not isinstance(path, str | os.PathLike):  # let validation name the field and type
            super().__init__(data.pop("name", None) or "vendored", path=path, **data)
        name = data.pop("name", None) or _name_for(Path(path))
        super().__init__(name, path=str(path), **data)
        try:
            self._load(_resolve(Path(path), self._origin))
            if self.labels or self.annotations:
                self._stamp()
        except InvalidValue as exc:
            error = DriftError if isinstance(exc, VendoredEdit) else ValidationError
            raise error(
                exc.message, fix=exc.fix, origin=self._origin, resource=self.display, field="path"
            ) from None

    # -- reading --------------------------------------------------------------------------

    def _load(self, root: Path) -> None:
        docs: list[_Doc] = []
        stamped: list[Path] = []
        plain: list[Path] = []
        for file in source_files(root):
            read = read_source(file)
            (stamped if read.provenance else plain).append(file)
            if read.provenance and self._provenance is None:
                self._provenance = read.provenance
            shown = display_path(str(file.resolve()))
            try:
                found = read_documents(read.text)
            except InvalidValue as exc:
                raise InvalidValue(f"{shown}: {exc.message}", fix=exc.fix) from None
            for doc in found:
                docs.extend(_objects(doc.data, Origin(shown, doc.line + _offset(read))))
        if stamped and plain:
            raise VendoredEdit(
                f"{display_path(str(plain[0].resolve()))} was added by hand to a folder that "
                "`kubegen vendor helm` wrote",
                fix="remove it, or vendor it as a Vendored source of its own",
            )
        self._docs = docs

    def _stamp(self) -> None:
        check_labels(dict(self.labels))
        for doc in self._docs:
            meta = doc.body["metadata"]
            if self.labels:
                meta["labels"] = {**(meta.get("labels") or {}), **self.labels}
            if self.annotations:
                meta["annotations"] = {**(meta.get("annotations") or {}), **self.annotations}

    @property
    def label(self) -> str:
        """How reports name this source: ``cert-manager v1.16.2``."""
        return f"{self.name} {self.version}"

    @property
    def provenance(self) -> dict[str, Any] | None:
        """What ``kubegen vendor helm`` recorded (chart, version, values digest), if anything."""
        return None if self._provenance is None else dict(self._provenance)

    # -- rendering ------------------------------------------------------------------------

    def manifests(self) -> list[ManifestObject]:
        tag = VendorTag(self.label, self.gate)
        scopes = self._scopes()
        out = []
        for doc in self._docs:
            body = dict(doc.body)
            meta = dict(body["metadata"])
            if (group_of(str(body["apiVersion"])), doc.kind) in scopes or is_cluster_scoped(
                str(body["apiVersion"]), doc.kind
            ):
                meta.pop("namespace", None)
            elif not meta.get("namespace"):
                if not self.namespace:
                    raise ValidationError(
                        f"{doc.kind} {doc.name} names no namespace and the source has none",
                        origin=doc.origin,
                        resource=self.display,
                        fix="pass namespace='…' to Vendored(...) or give the Stack a namespace",
                    )
                meta = {"name": meta["name"], "namespace": self.namespace, **meta}
            body["metadata"] = meta
            out.append(
                ManifestObject(
                    body=body, origin=doc.origin, waivers=dict(self._waivers), vendor=tag
                )
            )
        return out

    def _scopes(self) -> set[tuple[str, str]]:
        """(group, kind) of cluster-scoped custom resources: CRDs here and registered ones."""
        from kubegen._policy.crds import cluster_scoped_kinds

        found = set(cluster_scoped_kinds())
        for doc in self._docs:
            if doc.kind == "CustomResourceDefinition":
                spec = doc.body.get("spec") or {}
                if spec.get("scope") == "Cluster":
                    found.add((str(spec.get("group")), str((spec.get("names") or {}).get("kind"))))
        return found

    def bodies(self) -> list[dict[str, Any]]:
        """The objects as they are now (patched), for the stack's reference checks."""
        return [obj.body for obj in self.manifests()]

    # -- finding objects ------------------------------------------------------------------

    def _select(
        self,
        what: str,
        *,
        kind: str | None = None,
        name: str | None = None,
        namespace: str | None = None,
        kinds: Sequence[str] = (),
    ) -> list[_Doc]:
        found = [
            doc
            for doc in self._docs
            if (kind is None or doc.kind == kind)
            and (not kinds or doc.kind in kinds)
            and (name is None or doc.name == name)
            and (namespace is None or (doc.namespace or self.namespace) == namespace)
        ]
        if not found:
            raise self._no_match(what, kind=kind, name=name, kinds=kinds)
        return found

    def _no_match(
        self, what: str, *, kind: str | None, name: str | None, kinds: Sequence[str]
    ) -> ValidationError:
        present = sorted({d.kind for d in self._docs})
        if kind is not None and kind not in present:
            close = difflib.get_close_matches(kind, present, n=1, cutoff=0.6)
            return ValidationError(
                f"{what} matches nothing: {self.label} has no {kind}",
                origin=capture(),
                resource=self.display,
                field="kind",
                value=kind,
                fix=(f"did you mean {close[0]!r}? " if close else "")
                + f"the source's kinds: {', '.join(present)}",
            )
        pool = [
            d
            for d in self._docs
            if (kind is None or d.kind == kind) and (not kinds or d.kind in kinds)
        ]
        names = sorted({d.name for d in pool})
        close = difflib.get_close_matches(name or "", names, n=1, cutoff=0.5) if name else []
        target = " ".join(filter(None, [kind or "/".join(kinds) or "object", name]))
        hint = f"did you mean {close[0]!r}? " if close else ""
        listed = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
        return ValidationError(
            f"{what} matches nothing: no {target} in {self.label}",
            origin=capture(),
            resource=self.display,
            fix=f"{hint}the source has: {listed or 'no such objects'}",
        )

    def _patch(self, docs: Sequence[_Doc], change: Callable[[dict[str, Any]], None]) -> None:
        """Apply ``change`` to copies first, so a failing patch leaves every object as it was."""
        origin = capture()
        changed = []
        for doc in docs:
            body = copy.deepcopy(doc.body)
            try:
                change(body)
                check_body(body)
            except InvalidValue as exc:
                raise ValidationError(
                    exc.message,
                    fix=exc.fix,
                    origin=origin,
                    resource=f"{doc.kind} {doc.name} ({self.label})",
                    field=exc.field,
                ) from None
            changed.append((doc, body))
        for doc, body in changed:
            doc.body = body

    # -- typed patches --------------------------------------------------------------------

    @_call_checked
    def set_image(self, workload: str, image: str, *, container: str | None = None) -> None:
        """Set the image of ``workload``'s container (the only one, or ``container``)."""
        from kubegen._values import ImageRef

        try:
            ImageRef.parse(image)
        except InvalidValue as exc:
            raise ValidationError(
                exc.message,
                fix=exc.fix,
                origin=capture(),
                resource=self.display,
                field="image",
                value=image,
            ) from None
        docs = self._select("set_image()", name=workload, kinds=WORKLOAD_KINDS)
        self._patch(docs, lambda body: _one_container(body, container).__setitem__("image", image))

    @_call_checked
    def pin_digest(self, image: str, digest: str) -> None:
        """Pin every container whose image repository is ``image`` to ``digest`` (sha256:…).

        The tag stays for readers: ``repo:v1.2@sha256:…``.
        """
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            raise ValidationError(
                "is not a sha256 digest",
                origin=capture(),
                resource=self.display,
                field="digest",
                value=digest,
                fix="pass 'sha256:' and 64 hex digits",
            )
        hits = [
            d
            for d in self._docs
            if any(_repository(c.get("image", "")) == image for c in _containers(d.body))
        ]
        if not hits:
            used = sorted(
                {_repository(c.get("image", "")) for d in self._docs for c in _containers(d.body)}
            )
            raise ValidationError(
                f"pin_digest({image!r}) matches nothing: no container of {self.label} uses it",
                origin=capture(),
                resource=self.display,
                field="image",
                value=image,
                fix=f"use one of: {', '.join(used) or 'none'}",
            )

        def pin(body: dict[str, Any]) -> None:
            for c in _containers(body):
                ref = str(c.get("image", ""))
                if _repository(ref) == image:
                    c["image"] = ref.partition("@")[0] + "@" + digest

        self._patch(hits, pin)

    @_call_checked
    def set_resources(
        self, workload: str, resources: Resources, *, container: str | None = None
    ) -> None:
        """Set requests and limits of ``workload``'s container from a :class:`Resources`."""
        if not isinstance(resources, Resources):  # a dict would pass as the model's fields
            raise argument_error(Vendored.set_resources, "resources", resources, owner=self)
        block = resources.render(omit_cpu_limit=False)
        docs = self._select("set_resources()", name=workload, kinds=WORKLOAD_KINDS)
        self._patch(
            docs,
            lambda body: _one_container(body, container).__setitem__(
                "resources", copy.deepcopy(block)
            ),
        )

    @_call_checked
    def set_replicas(self, workload: str, replicas: int) -> None:
        """Set ``spec.replicas`` of a Deployment, StatefulSet or ReplicaSet."""
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
            raise ValidationError(
                "must be a whole number ≥ 0",
                origin=capture(),
                resource=self.display,
                field="replicas",
                value=replicas,
                fix="e.g. set_replicas('webhook', 3)",
            )
        docs = self._select(
            "set_replicas()", name=workload, kinds=("Deployment", "StatefulSet", "ReplicaSet")
        )
        self._patch(
            docs, lambda body: body.setdefault("spec", {}).__setitem__("replicas", replicas)
        )

    @_call_checked
    def set_labels(
        self, labels: Mapping[str, str], *, kind: str | None = None, name: str | None = None
    ) -> None:
        """Add ``labels`` to the metadata of matching objects (all by default); not selectors."""
        self._meta("set_labels()", "labels", labels, kind, name)

    @_call_checked
    def set_annotations(
        self, annotations: Mapping[str, str], *, kind: str | None = None, name: str | None = None
    ) -> None:
        """Add ``annotations`` to the metadata of matching objects (all by default)."""
        self._meta("set_annotations()", "annotations", annotations, kind, name)

    def _meta(
        self, what: str, key: str, values: Mapping[str, str], kind: str | None, name: str | None
    ) -> None:
        docs = self._select(what, kind=kind, name=name)

        def add(body: dict[str, Any]) -> None:
            meta = body["metadata"]
            meta[key] = {**(meta.get(key) or {}), **values}

        self._patch(docs, add)

    @_call_checked
    def patch(
        self, kind: str, name: str, patch: Mapping[str, Any], *, namespace: str | None = None
    ) -> None:
        """Strategic-merge ``patch`` into one object (``kubectl patch --type strategic``)."""
        docs = self._select(f"patch({kind!r}, {name!r})", kind=kind, name=name, namespace=namespace)
        self._patch(docs, lambda body: patches.strategic_merge(body, patch))

    @_call_checked
    def json_patch(
        self,
        kind: str,
        name: str,
        operations: Sequence[Mapping[str, Any]],
        *,
        namespace: str | None = None,
    ) -> None:
        """Apply RFC 6902 ``operations`` to one object (``kubectl patch --type json``)."""
        docs = self._select(
            f"json_patch({kind!r}, {name!r})", kind=kind, name=name, namespace=namespace
        )
        self._patch(docs, lambda body: patches.json_patch(body, operations))

    @_call_checked
    def drop(self, kind: str, name: str, *, namespace: str | None = None) -> None:
        """Leave one object out (a Namespace the stack creates itself, a demo object…)."""
        docs = self._select(f"drop({kind!r}, {name!r})", kind=kind, name=name, namespace=namespace)
        self._docs = [d for d in self._docs if d not in docs]

    # -- peers ----------------------------------------------------------------------------

    @_call_checked
    def workload(self, name: str, *, kind: str | None = None) -> VendoredWorkload:
        """A vendored Deployment, StatefulSet, DaemonSet, Job or CronJob as a peer of the
        stack's workloads.

        ``api.connect_to(cert_manager.workload("cert-manager-webhook"), port="https")`` renders
        the egress rule on ``api`` and an ingress policy ``cert-manager-webhook-ingress``
        selecting the vendored pods by their ``spec.selector.matchLabels``. Its own verbs
        (``allow_from``, ``allow_to``…) declare its flows, and
        :meth:`VendoredWorkload.disruption_budget` adds a PodDisruptionBudget around it. A
        Job's or CronJob's pods (a Helm hook) are selected by their template's labels.
        """
        kinds = (kind,) if kind else ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
        docs = self._select(f"workload({name!r})", name=name, kinds=kinds)
        if len(docs) > 1:
            raise ValidationError(
                f"workload({name!r}) is ambiguous: {', '.join(d.kind for d in docs)}",
                origin=capture(),
                resource=self.display,
                fix="pass kind='Deployment' (or …)",
            )
        stack = self.stack
        peer = VendoredWorkload.of(self, docs[0], capture())
        peer.attach(stack)
        return peer


class VendoredWorkload(Workload):
    """A workload of a :class:`Vendored` source, seen by the stack's network verbs.

    It renders nothing itself (its source does); it answers what network policies need: the
    pods' selector labels (``spec.selector.matchLabels``), namespace and named ports.
    """

    api_version: ClassVar[str] = "kubegen.dev/v1"
    kind: ClassVar[str] = "VendoredWorkload"

    _source: Vendored | None = state(None)
    _doc: _Doc | None = state(None)

    @classmethod
    def of(cls, source: Vendored, doc: _Doc, origin: Origin | None) -> VendoredWorkload:
        peer = cls.trusted(origin, name=doc.name, namespace=doc.namespace or source.namespace)
        peer._source = source
        peer._doc = doc
        return peer

    def attach(self, stack: Stack) -> None:
        self._stack = stack
        if self.namespace is None:
            self.namespace = stack.namespace

    @property
    def display(self) -> str:
        kind = self._doc.kind if self._doc is not None else "Workload"
        return f"{kind} {self.namespace}/{self.name}" if self.namespace else f"{kind} {self.name}"

    def _body(self) -> dict[str, Any]:
        assert self._doc is not None
        return self._doc.body

    def _pod_spec(self) -> dict[str, Any]:
        spec = self._body().get("spec") or {}
        if self._body().get("kind") == "CronJob":
            spec = (spec.get("jobTemplate") or {}).get("spec") or {}
        return ((spec.get("template") or {}).get("spec")) or {}

    def selector_labels(self) -> dict[str, str]:
        if self._body().get("kind") in ("Job", "CronJob"):  # their selector is generated
            return self._template_labels()
        selector = (self._body().get("spec") or {}).get("selector") or {}
        labels = selector.get("matchLabels")
        if not isinstance(labels, dict) or not labels or selector.get("matchExpressions"):
            raise ValidationError(
                "has no spec.selector.matchLabels a NetworkPolicy could select its pods by",
                origin=self._origin,
                resource=self.display,
                fix="patch a matchLabels selector in, or use allow_to(pods=…) with its labels",
            )
        return {str(k): str(v) for k, v in labels.items()}

    def _template_labels(self) -> dict[str, str]:
        spec = self._body().get("spec") or {}
        if self._body().get("kind") == "CronJob":
            spec = (spec.get("jobTemplate") or {}).get("spec") or {}
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
        if not isinstance(labels, dict) or not labels:
            raise ValidationError(
                "has no pod template labels a NetworkPolicy could select its pods by",
                origin=self._origin,
                resource=self.display,
                fix="patch labels into spec.template.metadata.labels",
            )
        return {str(k): str(v) for k, v in labels.items()}

    def named_ports(self) -> dict[str, tuple[int, str]]:
        found: dict[str, tuple[int, str]] = {}
        for container in self._pod_spec().get("containers") or []:
            for port in container.get("ports") or []:
                if isinstance(port, dict) and port.get("name") and port.get("containerPort"):
                    found[str(port["name"])] = (
                        int(port["containerPort"]),
                        str(port.get("protocol", "TCP")),
                    )
        return found

    @property
    def service_account_name(self) -> str:
        spec = self._pod_spec()
        return str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")

    def manifests(self) -> list[ManifestObject]:
        return []

    @_call_checked
    def disruption_budget(
        self, *, min_available: int | str | None = None, max_unavailable: int | str | None = None
    ) -> Resource:
        """Add a PodDisruptionBudget ``<name>`` selecting the vendored pods; returns it.

        Give exactly one of ``min_available`` and ``max_unavailable`` (a count or a percentage).
        """
        from kubegen._builders.core import Manifest

        if (min_available is None) == (max_unavailable is None):
            raise ValidationError(
                "needs exactly one of min_available and max_unavailable",
                origin=capture(),
                resource=self.display,
                fix="e.g. max_unavailable=1",
            )
        key, value = (
            ("minAvailable", min_available)
            if min_available is not None
            else ("maxUnavailable", max_unavailable)
        )
        pdb = Manifest(
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": {key: value, "selector": {"matchLabels": self.selector_labels()}},
            }
        )
        return self.stack.add(pdb)


def _containers(body: dict[str, Any]) -> list[dict[str, Any]]:
    spec = body.get("spec") or {}
    if body.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    return [
        c
        for key in ("initContainers", "containers")
        for c in pod.get(key) or []
        if isinstance(c, dict)
    ]


def _one_container(body: dict[str, Any], name: str | None) -> dict[str, Any]:
    spec = body.get("spec") or {}
    if body.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    containers = [
        c
        for c in ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
        if isinstance(c, dict)
    ]
    names = [str(c.get("name")) for c in containers]
    if name is None:
        if len(containers) == 1:
            return containers[0]
        raise InvalidValue(
            f"has {len(containers)} containers ({', '.join(names)})",
            fix="name one with container='…'",
        )
    for c in containers:
        if c.get("name") == name:
            return c
    raise InvalidValue(f"has no container {name!r}", fix=f"use one of: {', '.join(names)}")


def _repository(image: str) -> str:
    """``quay.io/x/y:v1@sha256:…`` → ``quay.io/x/y``."""
    ref = image.partition("@")[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    return ref[:colon] if colon > slash else ref


def _objects(data: Any, origin: Origin) -> list[_Doc]:
    if not isinstance(data, dict):
        raise InvalidValue(
            f"{origin}: a document is a {type(data).__name__}, not a Kubernetes object",
            fix="each YAML document must be a mapping with apiVersion, kind and metadata",
        )
    if data.get("kind") == "List" and isinstance(data.get("items"), list):
        return [d for item in data["items"] for d in _objects(item, origin)]
    try:
        check_body(data)
    except InvalidValue as exc:
        raise InvalidValue(f"{origin}: {exc.message}", fix=exc.fix) from None
    return [_Doc(data, origin)]


def _offset(read: Any) -> int:
    """Lines of the provenance header before the documents of a vendored file."""
    return 2 if read.provenance else 0


def _name_for(path: Path) -> str:
    stem = path.name
    for suffix in (".yaml", ".yml"):
        stem = stem.removesuffix(suffix)
    name = re.sub(r"[^a-z0-9.-]+", "-", stem.lower()).strip("-.")
    return name or "vendored"


def _resolve(path: Path, origin: Origin | None) -> Path:
    """A relative path is relative to the project root of the stack file that names it (the
    folder of its pyproject.toml); when nothing is there, to the working directory (a notebook
    or script that builds a stack from elsewhere)."""
    if path.is_absolute():
        return path
    from kubegen import _origin
    from kubegen._project import find_project

    start = Path(_origin._base_dir)
    if origin is not None:
        start = (start / origin.file).parent
    candidate = find_project(start).root / path
    if not candidate.exists() and (Path.cwd() / path).exists():
        return Path.cwd() / path
    return candidate
