"""The Stack: the one mutable registry of a stack module's resources.

A stack module's ``build()`` returns a Stack. The Stack owns its namespace (created with Pod
Security labels), adopts resources into it, records relations between them, and yields every
manifest in a stable order, refusing duplicates with both origins named.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

from kubegen._builders.base import Resource
from kubegen._builders.calls import argument_error, checked
from kubegen._builders.core import Manifest, Namespace
from kubegen._builders.network.derive import derive_network
from kubegen._builders.ordering import SYNC_WAVE, Layer, SyncHook, layers_of
from kubegen._builders.workloads.defaults import StackDefaults
from kubegen._errors import ConflictError, KubegenError, ValidationError
from kubegen._manifests import ManifestObject
from kubegen._origin import Origin, capture
from kubegen._relations import Connection, Grant
from kubegen._values import InvalidValue, check_dns_label, check_labels

if TYPE_CHECKING:
    # Imported when a Stack is given one (whoever built it has loaded it): most stacks are not.
    from kubegen._builders.cluster import Cluster

# Where the RBAC builders that ``derive_access`` checks (roles, bindings) are defined.
_RBAC_BUILDER_MODULES = ("kubegen._builders.rbac.roles", "kubegen._builders.rbac.bindings")

R = TypeVar("R", bound=Resource)
V = TypeVar("V")
W = TypeVar("W")
Profile = Literal["baseline", "restricted", "prod"]
PROFILES: tuple[str, ...] = ("baseline", "restricted", "prod")

MANAGED_BY = {"app.kubernetes.io/managed-by": "kubegen"}


@dataclass(frozen=True, slots=True)
class StackWaiver:
    """A policy finding accepted for the whole stack, or for objects of one kind and/or name."""

    rule_id: str
    reason: str
    kind: str | None = None
    name: str | None = None


class Stack:
    """A set of Kubernetes objects rendered together into ``output/<env>/``.

    Args:
        name: DNS-1123 label naming the stack (used in labels and messages).
        namespace: the default namespace of namespaced resources. The stack creates it as a
            ``Namespace`` with Pod Security ``restricted`` labels unless ``create_namespace`` is
            False or a ``Namespace`` of that name is added explicitly.
        labels: labels added to every object's metadata (never to selectors). Defaults to
            ``app.kubernetes.io/managed-by: kubegen``.
        profile: the policy profile the render gate applies: ``baseline``, ``restricted``
            (default) or ``prod``.
        kubernetes_version: target cluster version for API deprecation and schema checks.
        defaults: :class:`~kubegen.StackDefaults` for every workload (resources, ids, pull,
            CPU-limit and probe policy, replicas); the built-in defaults when omitted.
        cluster: the :class:`~kubegen.Cluster` the output is applied to: its facts (version,
            API server, DNS, namespaces it has) feed the stack's derived objects and checks,
            and name the folder when a stack's ``build()`` returns one Stack per cluster.
            None: nothing is known about the cluster beyond kubegen's defaults.
        layers: the stack's rollout order, as layer names or :class:`~kubegen.Layer` objects.
            Each layer renders into its own folder (``output/<env>/<layer>/``) and is one Argo
            CD sync wave (its index) and one Flux Kustomization; ``add(obj, layer=…)`` places an
            object (the last layer by default). Namespaces, CustomResourceDefinitions and the
            objects the stack derives (NetworkPolicies, grants' RBAC) go into the first layer.
            Defaults to none: one folder, no waves.
    """

    @checked
    def __init__(
        self,
        name: str,
        *,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
        create_namespace: bool = True,
        profile: Profile = "restricted",
        kubernetes_version: str | None = None,
        defaults: StackDefaults | None = None,
        cluster: Cluster | None = None,
        layers: Sequence[str | Layer] = (),
    ) -> None:
        self.origin: Origin | None = capture()
        self.name = self._checked("name", name, check_dns_label)
        self.namespace = (
            None if namespace is None else self._checked("namespace", namespace, check_dns_label)
        )
        self.labels = self._checked("labels", {**MANAGED_BY, **(labels or {})}, check_labels)
        if profile not in PROFILES:
            raise ValidationError(
                f"unknown policy profile {profile!r}",
                fix=f"use one of {', '.join(PROFILES)}",
                origin=self.origin,
                resource=f"Stack {name}",
                field="profile",
            )
        self._typed(("create_namespace", create_namespace, bool),
                    ("cluster", cluster, _cluster_class() if cluster is not None else object),
                    ("kubernetes_version", kubernetes_version, str),
                    ("defaults", defaults, StackDefaults))
        self.create_namespace = create_namespace
        self.profile: Profile = profile
        self.cluster = cluster
        if kubernetes_version is None and cluster is not None:
            kubernetes_version = cluster.kubernetes_version
        self.kubernetes_version = kubernetes_version
        self.defaults = defaults if defaults is not None else StackDefaults()
        self.layers: tuple[Layer, ...] = self._checked("layers", tuple(layers), layers_of)
        self._placement: dict[int, tuple[str | None, SyncHook | None]] = {}
        self.waivers: list[StackWaiver] = []
        self._resources: list[Resource] = []
        self.connections: list[Connection] = []
        self.grants: list[Grant] = []

    def _typed(self, *arguments: tuple[str, object, type]) -> None:
        """Refuse an argument of the wrong type here, not when the stack renders."""
        for field, value, kind in arguments:
            if value is not None and not isinstance(value, kind):
                raise argument_error(Stack.__init__, field, value, owner=self)

    def _checked(self, field: str, value: V, check: Callable[[V], W]) -> W:
        try:
            return check(value)
        except InvalidValue as exc:
            raise ValidationError(
                exc.message,
                fix=exc.fix,
                origin=self.origin,
                resource=f"Stack {getattr(self, 'name', value)}",
                field=field,
                value=value,
            ) from None

    def __repr__(self) -> str:
        return f"Stack({self.name!r}, namespace={self.namespace!r}, resources={len(self)})"

    def __len__(self) -> int:
        return len(self._resources)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self._resources)

    @checked
    def add(
        self, resource: R, *, layer: str | Layer | None = None, hook: SyncHook | None = None
    ) -> R:
        """Adopt ``resource`` (into the stack's namespace if it has none) and return it.

        Args:
            resource: the builder to render with this stack.
            layer: the layer (by name) it belongs to, in a stack with ``layers``; defaults to
                the last layer.
            hook: run it as a :class:`~kubegen.SyncHook` (Argo CD hook; Flux re-creates a
                hooked Job when it changes) instead of applying it once.
        """
        if not isinstance(resource, Resource):
            raise ValidationError(
                f"Stack.add() takes a kubegen resource, not {type(resource).__name__}",
                origin=capture(),
                resource=f"Stack {self.name}",
                fix="wrap raw objects as Manifest({...})",
            )
        if resource._stack is not None and resource._stack is not self:
            raise ConflictError(
                "is already part of another Stack",
                origin=capture(),
                resource=resource.display,
                fix="create a separate builder for each stack",
            )
        if resource._stack is None:
            resource.attach(self)
            self._resources.append(resource)
        if layer is not None or hook is not None:
            self._place(resource, layer, hook)
        return resource

    def _place(self, resource: Resource, layer: str | Layer | None, hook: SyncHook | None) -> None:
        name = layer.name if isinstance(layer, Layer) else layer
        known = [item.name for item in self.layers]
        if name is not None and name not in known:
            where = f"its layers are {', '.join(known)}" if known else "it declares no layers"
            raise ValidationError(
                f"layer {name!r} is not a layer of Stack {self.name} ({where})",
                origin=capture(),
                resource=resource.display,
                field="layer",
                fix=f"use one of {', '.join(known)}" if known
                else "declare them: Stack(..., layers=('data', 'app'))",
            )
        if hook is not None and not isinstance(hook, SyncHook):
            raise ValidationError(
                f"hook= takes a SyncHook, not {type(hook).__name__}",
                origin=capture(),
                resource=resource.display,
                fix="pass hook=SyncHook('Sync')",
            )
        self._placement[id(resource)] = (name, hook)

    def layer_of(self, resource: Resource) -> str | None:
        """The layer ``resource`` renders into: its own, else the last one (None: no layers)."""
        if not self.layers:
            return None
        placed = self._placement.get(id(resource), (None, None))[0]
        return placed or self.layers[-1].name

    @checked
    def waive(
        self, rule_id: str, reason: str, *, kind: str | None = None, name: str | None = None
    ) -> None:
        """Accept a policy finding across the stack (or for one kind/name), with a reason."""
        if not reason.strip():
            raise ValidationError(
                f"waiving {rule_id} needs a reason",
                origin=capture(),
                resource=f"Stack {self.name}",
                fix=f"say why: stack.waive({rule_id!r}, reason='…')",
            )
        self.waivers.append(StackWaiver(rule_id.upper(), reason.strip(), kind, name))

    def _implicit_resources(self) -> list[Resource]:
        if not (self.create_namespace and self.namespace):
            return []
        for res in self._resources:
            if isinstance(res, Namespace) and res.name == self.namespace:
                return []
            if isinstance(res, Manifest) and _is_namespace(res.body, self.namespace):
                return []  # the user's own Namespace object (its labels, its PSA versions)
        ns = Namespace(self.namespace)
        ns._origin = self.origin
        ns.attach(self)
        return [ns]

    def _may_have_access_to_derive(self) -> bool:
        """Whether ``derive_access`` can add or refuse anything: it derives objects from grants
        and checks RBAC builders (whose modules load when one is created) and raw manifests.
        Otherwise the RBAC modules are not even imported (about 10 ms of start-up)."""
        if self.grants or any(isinstance(res, Manifest) for res in self._resources):
            return True
        return any(name in sys.modules for name in _RBAC_BUILDER_MODULES)

    def objects(self) -> list[ManifestObject]:
        """Every manifest of the stack, in add order; duplicates are a ConflictError.

        This is the build step, not the gate: the objects are returned as built, before any
        policy check, so a stack that ``kubegen render`` refuses still has objects to inspect.
        To get files, use :func:`kubegen.render`, :func:`kubegen.check` or
        :func:`kubegen.write`, which refuse such a stack like the CLI; :func:`kubegen.lint`
        says why.
        """
        from kubegen._builders.workloads.pod import stack_render  # loaded with the workloads

        with stack_render(list(self._resources)):
            return self._objects()

    def _objects(self) -> list[ManifestObject]:
        self._adopt_used()
        out: list[ManifestObject] = []
        placed = self.layers or self._placement
        for res in self._implicit_resources() + self._resources:
            try:
                made = res.manifests()
            except KubegenError as exc:
                raise exc.located(origin=res.origin, resource=res.display) from None
            if placed:
                self._order(res, made)
            out.extend(made)
        if self._may_have_access_to_derive():
            from kubegen._builders.rbac.derive import derive_access

            out.extend(derive_access(self))
        out.extend(derive_network(self))
        if self.layers:
            _wave(out, self.layers)
        _refuse_duplicates(out)
        return out

    def _order(self, res: Resource, made: list[ManifestObject]) -> None:
        """Stamp ``res``'s manifests with its layer and its hook's annotations."""
        layer, hook = self._placement.get(id(res), (None, None))
        first = self.layers[0].name if self.layers else None
        for obj in made:
            if self.layers:
                obj.layer = self.layer_of(res)
                if obj.kind in _FIRST_LAYER_KINDS and obj.layer != first:
                    if layer is not None:
                        raise ValidationError(
                            f"is placed in layer {layer!r}, but {obj.kind}s go into the first "
                            f"layer ({first!r}) so that everything after them can use them",
                            origin=res.origin,
                            resource=obj.display,
                            field="layer",
                            fix=f"drop layer= (or use {first!r})",
                        )
                    obj.layer = first
        if hook is not None:
            # A builder's default TTL may go; one written by hand (or in a raw body) may not.
            has_field = "ttl_after_finished" in type(res).model_fields
            given = not has_field or "ttl_after_finished" in res.model_fields_set
            for obj in _hooked(res, made):
                hook.apply(obj, ttl_given=given)

    def _adopt_used(self) -> None:
        """Add the ConfigMaps and Secrets a pod uses that were never added on their own.

        Passing a ``ConfigMap`` object to a workload says "this pod reads it", so the stack
        renders it too (in the workload's namespace unless it names one); otherwise the pod
        would wait forever for an object nothing creates.
        """
        members = {id(res) for res in self._resources}
        for res in list(self._resources):
            for used in res.used_objects():
                if id(used) in members:
                    continue
                if used._stack is not None and used._stack is not self:
                    raise ConflictError(
                        f"uses {used.display}, which belongs to another Stack",
                        origin=res.origin,
                        resource=res.display,
                        fix="build a separate object for each stack",
                    )
                if used.namespace is None and not used.cluster_scoped:
                    used.namespace = res.namespace
                used.attach(self)
                self._resources.append(used)
                if id(res) in self._placement:  # rendered in the layer of the pod using it
                    self._placement[id(used)] = (self._placement[id(res)][0], None)
                members.add(id(used))


# Kinds that every later layer may need: always in the first layer ("namespaces first").
_FIRST_LAYER_KINDS = frozenset({"Namespace", "CustomResourceDefinition"})


def _annotate(obj: ManifestObject, notes: Mapping[str, str]) -> None:
    meta = obj.body.setdefault("metadata", {})
    current = meta.get("annotations")
    meta["annotations"] = {**(current if isinstance(current, dict) else {}), **notes}


def _hooked(res: Resource, made: list[ManifestObject]) -> list[ManifestObject]:
    """The objects a hook on ``res`` applies to: those of its own kind (a Job, not the Job's
    ServiceAccount), or the one object of a ``Manifest``."""
    own = [obj for obj in made if obj.kind == res.kind]
    if own or len(made) == 1:
        return own or made
    raise ValidationError(
        f"hook= needs one object to run, and {res.display} renders {len(made)} of other kinds",
        origin=res.origin,
        resource=res.display,
        fix="put the hook on the object that runs (a Job), e.g. stack.add(Job(...), hook=...)",
    )


def _wave(objects: list[ManifestObject], layers: tuple[Layer, ...]) -> None:
    """Put objects without a layer (derived ones) into the first layer; stamp every object with
    its layer's index as its Argo CD sync wave."""
    index = {layer.name: str(i) for i, layer in enumerate(layers)}
    first = layers[0].name
    for obj in objects:
        if obj.layer is None:
            obj.layer = first
        wave = index[obj.layer]
        notes = obj.metadata.get("annotations")
        given = notes.get(SYNC_WAVE) if isinstance(notes, dict) else None
        if given is not None and str(given) != wave:
            raise ValidationError(
                f"sets {SYNC_WAVE}: {given!r}, but its layer {obj.layer!r} is wave {wave}",
                origin=obj.origin,
                resource=obj.display,
                fix="drop the annotation: the layer sets the wave",
            )
        _annotate(obj, {SYNC_WAVE: wave})


def _cluster_class() -> type[Cluster]:
    """:class:`~kubegen.Cluster`, loaded when a Stack is given one (most are not)."""
    from kubegen._builders.cluster import Cluster

    return Cluster


def _is_namespace(body: Mapping[str, object], name: str) -> bool:
    meta = body.get("metadata")
    return (
        body.get("apiVersion") == "v1"
        and body.get("kind") == "Namespace"
        and isinstance(meta, Mapping)
        and meta.get("name") == name
    )


def _refuse_duplicates(objects: list[ManifestObject]) -> None:
    seen: dict[tuple[str, str, str, str], ManifestObject] = {}
    for obj in objects:
        first = seen.setdefault(obj.key, obj)
        if first is not obj:
            where = f" (first defined at {first.origin})" if first.origin else ""
            raise ConflictError(
                f"is defined twice{where}",
                origin=obj.origin,
                resource=obj.display,
                fix="give one of them another name or namespace, or add it once",
            )
