"""What every builder shares: validation that reports like kubegen, origins, opt-outs, waivers.

A *builder* is a pydantic model whose errors are turned into :class:`ValidationError` with the
stack file and line that called it. A *resource* is a builder a :class:`Stack` can hold: it has a
name, an optional namespace, and yields manifests.

Signatures for type checkers: pydantic's metaclass is a ``dataclass_transform``, so mypy and
pyright give every model class that does not define ``__init__`` itself a synthesized,
keyword-only ``__init__`` built from its fields. That would hide the positional name and the
workloads' container shorthand, and reject ``'30s'`` for a ``Duration``. So every public builder
defines its own ``__init__(…, /, **data: Unpack[<Class>Args])``: the ``<Class>Args`` TypedDict
next to it lists each keyword with the type the builder *accepts* (``Mapping`` for dicts,
``Sequence`` for lists, ``DurationLike`` for durations…), and ``tests/test_signatures.py``
compares it with ``model_fields`` so it cannot drift. At run time ``data`` is an ordinary dict:
validation and error messages stay pydantic's and kubegen's. A subclass, including one in a
user's stack, needs such an ``__init__`` of its own for the same reason.
"""

from __future__ import annotations

import functools
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypedDict, TypeVar, cast

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from kubegen._builders.calls import checked
from kubegen._builders.state import State, state, state_names
from kubegen._builders.strict import make_scalars_strict
from kubegen._errors import KubegenError, ValidationError
from kubegen._manifests import ManifestObject
from kubegen._origin import Origin, capture
from kubegen._values import (
    AnnotationMap,
    DNSLabel,
    DNSSubdomain,
    InvalidValue,
    LabelMap,
    check_annotations,
)
from kubegen._values.invalid import UNSET

if TYPE_CHECKING:
    from kubegen._stack import Stack

# Annotation prefix under which every weakened default carries its reason, visible in the diff.
OPT_OUT_PREFIX = "kubegen.dev/opt-out-"


#: What an error message shows instead of a value of a secret-bearing field.
REDACTED = "<redacted>"


def _redact_field(value: Any) -> Any:
    """A secret field's value with its keys kept and every value hidden."""
    if isinstance(value, Mapping):
        return {key: REDACTED for key in value}
    return REDACTED


def redact(value: Any, loc: tuple[int | str, ...], secret_fields: frozenset[str]) -> Any:
    """The input of a validation error at ``loc``, with values of ``secret_fields`` hidden.

    Key names stay visible (``{'password': '<redacted>'}``), so the message still says which
    entry is wrong; an error about a key itself (pydantic's ``[key]`` location) shows the key.
    """
    if not secret_fields:
        return value
    if not loc:
        if isinstance(value, Mapping):
            return {
                k: _redact_field(v) if k in secret_fields else v for k, v in value.items()
            }
        return value
    if loc[0] not in secret_fields or loc[-1] == "[key]":
        return value
    return _redact_field(value) if len(loc) == 1 else REDACTED


def convert_pydantic_error(
    exc: pydantic.ValidationError,
    *,
    resource: str,
    origin: Origin | None,
    secret_fields: frozenset[str] = frozenset(),
    model: type[BaseModel] | None = None,
) -> ValidationError:
    """pydantic's errors as one kubegen error listing a located problem per field.

    ``model`` is the builder class that validated (its annotations word what each field
    expects, and its fields are the candidates for a misspelled keyword). Each problem names
    the line of its own keyword when the call spans several lines. Values of
    ``secret_fields`` are shown as ``<redacted>`` (see :func:`redact`).
    """
    from kubegen._builders import errors

    groups: dict[tuple[int | str, ...], list[Any]] = {}
    places: dict[tuple[int | str, ...], Any] = {}
    for details in exc.errors():
        loc = tuple(details["loc"])
        place = errors.place_of(model, loc) if model is not None else None
        key = place.loc if place is not None else loc
        groups.setdefault(key, []).append(details)
        places.setdefault(key, place)
    problems = [
        _problem(group, places[key], key, resource, origin, secret_fields)
        for key, group in groups.items()
    ]
    problems.sort(key=lambda p: p.origin.line if p.origin is not None else 0)  # as written
    first = problems[0]
    if len(problems) == 1:
        return first
    error = ValidationError(first.message, fix=first.fix, origin=origin, resource=resource,
                            field=first.field, value=first.value)
    error.problems = [*problems]
    return error


def _problem(
    group: list[Any],
    place: Any,
    loc: tuple[int | str, ...],
    resource: str,
    origin: Origin | None,
    secret_fields: frozenset[str],
) -> ValidationError:
    """One located error for the pydantic errors of one field (several for a union)."""
    from kubegen._builders import errors

    error = next((e for e in group if isinstance((e.get("ctx") or {}).get("error"),
                                                  (InvalidValue, KubegenError))), group[0])
    cause = (error.get("ctx") or {}).get("error")
    value = UNSET if error["type"] == "missing" else error.get("input")
    if isinstance(cause, InvalidValue) and cause.field is not None:
        loc = (*loc, *cause.field.split("."))
        value = cause.value
    if place is None:
        message, fix = error["msg"], None
    elif len(group) > 1 and error is group[0] and not isinstance(cause, InvalidValue):
        message, fix = errors.union_words(place)
    else:
        message, fix = errors.words_for(error, place)
    shown = {} if value is UNSET else {"value": redact(value, loc, secret_fields)}
    return ValidationError(
        message,
        fix=fix,
        origin=errors.keyword_origin(origin, loc[0] if loc else None),
        resource=resource,
        field=errors.field_path(loc) or None,
        **shown,
    )


def error_from(exc: InvalidValue) -> ValidationError:
    """A :class:`ValidationError` with the message, fix, field and value of ``exc``.

    For checks that run outside pydantic (at render time); the Stack adds origin and resource.
    """
    shown = {} if exc.value is UNSET else {"value": exc.value}
    return ValidationError(exc.message, fix=exc.fix, field=exc.field, **shown)


def empty_list() -> list[Any]:
    """A new empty list, for ``Field(default_factory=empty_list)``.

    pydantic asks every default factory for its ``inspect.signature`` (at class creation, schema
    build and ``model_construct``); for the builtin ``list`` that parses its text signature with
    ``tokenize`` (~0.15 ms a call, and ~3 ms to compile tokenize's regex once per process). A
    Python function answers from its code object.
    """
    return []


# -- builders kubegen derives itself, from values it validated already ------------------------
#: False makes :meth:`Builder.trusted` validate like the constructor; the tests flip it to prove
#: that the fast path builds exactly what the validating one does.
TRUST_DERIVED = True
_B = TypeVar("_B", bound="Builder")


_IMMUTABLE = (type(None), str, int, float, bool, tuple, frozenset)


class _Defaults(NamedTuple):
    """What :meth:`Builder.trusted` needs of a class's fields, computed once per class."""

    known: frozenset[str]
    required: tuple[str, ...]
    # Immutable defaults, and (field, factory) of default factories that take no data: given
    # to model_construct ready-made, which spares pydantic's per-call inspection of each
    # factory's signature (a tenth of deriving a stack's NetworkPolicies).
    template: dict[str, Any]
    factories: tuple[tuple[str, Callable[[], Any]], ...]


@functools.cache
def _defaults(cls: type[BaseModel]) -> _Defaults:
    template: dict[str, Any] = {}
    factories: list[tuple[str, Callable[[], Any]]] = []
    for name, info in cls.model_fields.items():
        if info.default_factory is not None:
            if not info.default_factory_takes_validated_data:
                factories.append((name, cast("Callable[[], Any]", info.default_factory)))
        elif not info.is_required() and isinstance(info.default, _IMMUTABLE):
            template[name] = info.default
    required = tuple(name for name, info in cls.model_fields.items() if info.is_required())
    return _Defaults(frozenset(cls.model_fields), required, template, tuple(factories))


def _trusted_values(cls: type[BaseModel], fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with the defaults :class:`_Defaults` prepares; refuses unknown and missing
    fields (``model_construct`` takes any keyword silently: a typo would drop a value)."""
    plan = _defaults(cls)
    if not fields.keys() <= plan.known:
        raise TypeError(f"{cls.__name__}.trusted(): unknown fields in {sorted(fields)}")
    for name in plan.required:
        if name not in fields:
            raise TypeError(f"{cls.__name__}.trusted(): missing field {name}")
    values = plan.template.copy()
    values.update(fields)
    for name, factory in plan.factories:
        if name not in fields:
            values[name] = factory()
    return values


def assigning_namespace(builder: Builder) -> bool:
    """True while ``builder.namespace = …`` is validated.

    pydantic reruns every "after" model validator on any assignment; ``Stack.add`` assigns the
    stack's namespace to each object that has none. A check that does not read the namespace
    returns early when this is true (the namespace field itself is still validated, and checks
    that read it, such as a RoleBinding's, still run).
    """
    return builder._assigning_namespace


class NoArgs(TypedDict, total=False):
    """No keyword arguments: for builders whose positional arguments are all there is."""


class ResourceArgs(TypedDict, total=False):
    """The keywords every :class:`Resource` takes; each resource's ``<Class>Args`` adds its own."""

    namespace: str | None
    labels: Mapping[str, str]
    annotations: Mapping[str, str]


class Builder(BaseModel):
    """Base of kubegen's typed builders: strict fields, kubegen errors, remembered origin.

    ``_secret_fields`` names the fields that hold secret values (a Secret's ``data``); errors
    and ``repr()`` show their keys but never their values. Defaults to none. Per-instance state
    that is not a field is declared with :func:`~kubegen._builders.state.state`.
    """

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        arbitrary_types_allowed=True,
        populate_by_name=True,
        defer_build=True,
        ignored_types=(State,),
    )

    _secret_fields: ClassVar[frozenset[str]] = frozenset()
    # The names of the class's state attributes (set per class by __pydantic_init_subclass__).
    _state_names: ClassVar[frozenset[str]] = frozenset({"_origin"})
    _origin: Origin | None = state(None)
    # True while an assignment to ``namespace`` validates (see :func:`assigning_namespace`).
    _assigning_namespace: bool = state(False)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._state_names = state_names(cls.__mro__)
        make_scalars_strict(cls.model_fields)

    def __init__(self, /, **data: Any) -> None:
        origin = capture()
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise convert_pydantic_error(
                exc,
                resource=self._describe_raw(data),
                origin=origin,
                secret_fields=self._secret_fields,
                model=type(self),
            ) from None
        object.__setattr__(self, "_origin", origin)  # state, not a field (see __setattr__)

    if not TYPE_CHECKING:  # typed __getattr__/__setattr__ would let mypy accept any attribute

        def __getattr__(self, item: str) -> Any:
            """pydantic's lookup; a missing attribute that looks like a mistyped field or
            keyword raises a kubegen error naming the right one."""
            try:
                return super().__getattr__(item)
            except AttributeError:
                from kubegen._builders.errors import missing_attribute

                error = missing_attribute(self, item)
                if error is None:
                    raise
                raise error from None

        def __setattr__(self, name: str, value: Any) -> None:
            """Validate an assignment like the constructor does, with a located kubegen error.

            A state attribute (``self._stack = …``) is stored as a plain instance attribute,
            which is what pydantic itself does with an underscore name that is no private
            attribute; doing it here spares pydantic's handler lookup on every write.
            """
            if name in type(self)._state_names:
                object.__setattr__(self, name, value)
                return
            namespace = name == "namespace"
            try:
                if namespace:
                    object.__setattr__(self, "_assigning_namespace", True)
                super().__setattr__(name, value)
            except pydantic.ValidationError as exc:
                raise convert_pydantic_error(
                    exc,
                    resource=self._describe_raw(self.__dict__),
                    origin=capture(),
                    secret_fields=self._secret_fields,
                    model=type(self),
                ) from None
            finally:
                if namespace:
                    object.__setattr__(self, "_assigning_namespace", False)

    def __eq__(self, other: object) -> bool:
        """pydantic's comparison (type and fields), then the state attributes, as pydantic
        compares private attributes: a builder from another line or stack is another one."""
        equal = super().__eq__(other)
        if equal is not True or not isinstance(other, Builder):
            return equal
        return all(getattr(self, name) == getattr(other, name) for name in self._state_names)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """The fields that were given (defaults left out), secret values hidden."""
        given = self.model_fields_set
        for name, value in super().__repr_args__():
            if name in given:
                yield name, _redact_field(value) if name in self._secret_fields else value

    @classmethod
    def _describe_raw(cls, data: Mapping[str, Any]) -> str:
        name = data.get("name")
        return f"{cls.__name__} {name}" if isinstance(name, str) else cls.__name__

    @property
    def origin(self) -> Origin | None:
        """The stack file and line where this builder was created."""
        return self._origin

    @classmethod
    def trusted(cls: type[_B], origin: Origin | None, /, **fields: Any) -> _B:
        """A builder made by kubegen from values that passed validation already.

        Skips pydantic validation (``model_construct``) and the origin frame walk: ``origin``
        is the user object or call it derives from. Only for values that are known valid (the
        caller checks what could fail, or falls back to the constructor); fields not given
        take their defaults. With ``TRUST_DERIVED`` off it runs the validating constructor.
        """
        if not TRUST_DERIVED:
            obj = cls._validated(fields)
            obj._origin = origin
            return obj
        values = _trusted_values(cls, fields)
        # Any: pydantic's mypy plugin types model_construct on type[_B] as the bound class,
        # plain mypy as _B; one spelling for both
        construct: Any = cls.model_construct
        built: _B = construct(set(fields), **values)  # fields set: only those given
        object.__setattr__(built, "_origin", origin)
        return built

    @classmethod
    def _validated(cls: type[_B], fields: dict[str, Any]) -> _B:
        return cls(**fields)


class Resource(Builder):
    """A top-level object a Stack holds: named, optionally namespaced, yields manifests.

    Subclasses set ``api_version`` and ``kind`` and implement :meth:`manifests`.
    """

    api_version: ClassVar[str]
    kind: ClassVar[str]
    cluster_scoped: ClassVar[bool] = False
    #: True for routes (Ingress, HTTPRoute), whose traffic the network layer derives policies
    #: for when the stack renders.
    derives_connections: ClassVar[bool] = False

    name: DNSSubdomain
    namespace: DNSLabel | None = None
    labels: LabelMap = Field(default_factory=dict)
    annotations: AnnotationMap = Field(default_factory=dict)

    _stack: Stack | None = state(None)
    _waivers: dict[str, str] = state(factory=dict)
    _opt_outs: dict[str, str] = state(factory=dict)

    def __init__(self, name: str, /, **data: Any) -> None:
        super().__init__(name=name, **data)

    @classmethod
    def _validated(cls: type[_B], fields: dict[str, Any]) -> _B:
        rest = dict(fields)
        return cls(rest.pop("name"), **rest)  # type: ignore[call-arg]

    @property
    def display(self) -> str:
        """``Deployment shop/api``: how errors name this resource."""
        if self.cluster_scoped or not self.namespace:
            return f"{self.kind} {self.name}"
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def stack(self) -> Stack:
        """The Stack this resource was added to; verbs that relate objects need it."""
        if self._stack is None:
            raise ValidationError(
                "is not part of a Stack yet",
                resource=self.display,
                origin=self._origin,
                fix="add it first: `obj = stack.add(obj)`, then relate it to other objects",
            )
        return self._stack

    def attach(self, stack: Stack) -> None:
        """Called by ``Stack.add``: adopt the stack's namespace when none was given."""
        self._stack = stack
        if not self.cluster_scoped and self.namespace is None:
            self.namespace = stack.namespace

    def require_namespace(self) -> str:
        """The namespace of a namespaced object; having none is an error, never ``default``."""
        if not self.namespace:
            raise ValidationError(
                "has no namespace, so it would land in whatever namespace kubectl defaults to",
                resource=self.display,
                origin=self._origin,
                field="namespace",
                fix="give the Stack a namespace (Stack(..., namespace='shop')) or pass "
                "namespace='…' to this object",
            )
        return self.namespace

    @checked
    def waive(self, rule_id: str, reason: str) -> None:
        """Accept a policy finding for this object; the reason is rendered as an annotation."""
        if not reason.strip():
            raise ValidationError(
                f"waiving {rule_id} needs a reason",
                resource=self.display,
                origin=self._origin,
                fix=f"say why: obj.waive({rule_id!r}, reason='…')",
            )
        self._waivers[rule_id.upper()] = reason.strip()

    def opt_out(self, what: str, reason: str) -> None:
        """Record a weakened default and its reason (annotation ``kubegen.dev/opt-out-<what>``)."""
        if not reason or not reason.strip():
            raise ValidationError(
                f"weakening '{what}' needs a reason",
                resource=self.display,
                origin=self._origin,
                fix="pass reason='why this object needs it'",
            )
        try:
            check_annotations({OPT_OUT_PREFIX + what: reason})
        except InvalidValue as exc:
            raise ValidationError(
                exc.message, resource=self.display, origin=capture(), fix=exc.fix
            ) from None
        self._opt_outs[what] = reason.strip()

    def metadata(self, *, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The object's metadata with stack labels, its own labels and opt-out annotations."""
        meta: dict[str, Any] = {"name": self.name}
        if not self.cluster_scoped:
            meta["namespace"] = self.require_namespace()
        stack = self._stack
        merged = dict(stack.labels) if stack is not None else {}
        if labels:
            merged.update(labels)
        own = self.labels
        if own:
            merged.update(own)
        if merged:  # in the order the emitter writes them (the cache digest's fast path)
            meta["labels"] = dict(sorted(merged.items())) if len(merged) > 1 else merged
        opt_outs = self._opt_outs
        if self.annotations or opt_outs:
            notes = dict(self.annotations)
            for what, reason in opt_outs.items():
                notes[OPT_OUT_PREFIX + what] = reason
            meta["annotations"] = dict(sorted(notes.items())) if len(notes) > 1 else notes
        return meta

    def manifest(self, body: dict[str, Any]) -> ManifestObject:
        """Wrap a body built by this resource with its origin and waivers."""
        return ManifestObject(body=body, origin=self._origin, waivers=dict(self._waivers))

    def spec_manifests(self, spec: dict[str, Any]) -> list[ManifestObject]:
        """The one object of a resource whose body is its kind, its metadata and ``spec``."""
        body = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(),
            "spec": spec,
        }
        return [self.manifest(body)]

    def used_objects(self) -> list[Resource]:
        """Other kubegen objects this one reads (a pod's ConfigMaps and Secrets).

        The Stack renders each of them even when it was never added on its own.
        """
        return []

    @abstractmethod
    def manifests(self) -> list[ManifestObject]:
        """The Kubernetes objects this resource stands for, in a stable order."""
