"""What each public builder's ``__init__`` must accept, derived from its pydantic fields.

Type checkers cannot see a builder's runtime ``__init__(name, /, **data)``: pydantic's metaclass
is a ``dataclass_transform``, so every class without its own ``__init__`` gets a synthesized,
keyword-only one. Each public builder therefore defines ``__init__`` with
``**data: Unpack[<Class>Args]``; this module computes what that TypedDict must hold, so
``tests/test_signatures.py`` fails as soon as a field is added, renamed, retyped or made optional
without its signature following.

A field's *accepted* type is its annotation, with these rules (the runtime accepts all of them):

* validated aliases are their base type (``DNSSubdomain`` → ``str``), except those with a
  before-validator, which accept what the validator takes (``Duration`` → ``DurationLike``,
  ``Quantity`` → ``QuantityLike``, ``Reason`` → ``str``);
* ``dict[K, V]`` → ``Mapping[K, V]`` (pydantic copies any mapping; Mapping is covariant, so a
  prepared ``dict[str, str]`` can be passed where values may also be ``ConfigMapKey``);
* ``list[T]`` and ``tuple[T, ...]`` → ``Sequence[T]``; or ``list[T] | tuple[T, ...]`` when a bare
  string would match ``Sequence[T]`` (pydantic refuses a string for a list, so must mypy);
* a few arguments are exceptions, each with its reason: :data:`OVERRIDES`.
"""

from __future__ import annotations

import inspect
import sys
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator
from pydantic.fields import FieldInfo

import kubegen
from kubegen._builders.base import Builder, Resource
from kubegen._builders.workloads.base import Workload
from kubegen._builders.workloads.pod import SHORTHAND_FIELDS, PodWorkload
from kubegen._values import Duration, DurationLike, Quantity, QuantityLike, Reason

# What a before-validator accepts, by validator function.
BEFORE_INPUTS: dict[Any, Any] = {
    Duration.__metadata__[0].func: DurationLike,
    Quantity.__metadata__[0].func: QuantityLike,
    Reason.__metadata__[0].func: str,
}

_AFFINITY_SHORTHAND = Sequence[
    kubegen.PodAffinity | Workload | Mapping[str, str] | Literal["self"]
]

# Arguments whose accepted type the rules do not derive: field validators (mode="before") that
# take more than the field's type, and positional arguments the runtime __init__ inspects.
OVERRIDES: dict[tuple[type, str], Any] = {
    (kubegen.Container, "ports"): Sequence[kubegen.Port | int],  # bare numbers
    (kubegen.ConfigMap, "files"): Sequence[Path | str],  # resolved against the stack file
    (kubegen.Template, "path"): Path | str,
    (PodWorkload, "port"): kubegen.Port | int,  # the shorthand's one port
    # Kubernetes-style mappings become Tolerations; a workload, "self" or labels a PodAffinity
    (PodWorkload, "tolerations"): Sequence[kubegen.Toleration | Mapping[str, Any]],
    (PodWorkload, "near"): _AFFINITY_SHORTHAND,
    (PodWorkload, "avoid"): _AFFINITY_SHORTHAND,
    (kubegen.NodeRequirement, "values"): Sequence[str | int],  # Gt/Lt take numbers
    (Workload, "service_account"): str | kubegen.ServiceAccount | None,  # checked lazily
    # __init__ reads metadata.name from the dict, or dumps a pydantic model (typed CRDs) first
    (kubegen.Manifest, "body"): dict[str, Any] | BaseModel,
    (kubegen.Vendored, "path"): Path | str,  # resolved against the project root
}

# Required fields that may be left out: __init__ or a before model-validator fills them in.
DEFAULTED: dict[type, set[str]] = {
    kubegen.NetworkDefaults: {"name"},  # "network-defaults"
    kubegen.Rule: {"api_groups"},  # the core group, or none for URL rules
    kubegen.Vendored: {"name"},  # the file or folder name
}

# Fields that are no argument at all: Manifest takes its name from the body.
NOT_ARGUMENTS: dict[type, set[str]] = {kubegen.Manifest: {"name"}}


def public_builders() -> list[type[Builder]]:
    """Every builder class exported from ``kubegen`` except the abstract bases."""
    found = [getattr(kubegen, name) for name in kubegen.__all__]
    return [
        obj for obj in found
        if inspect.isclass(obj) and issubclass(obj, Builder) and obj not in (Builder, Resource)
    ]


def _admits_str(tp: Any) -> bool:
    if tp is str or tp is Any:
        return True
    if get_origin(tp) is Literal:
        return any(isinstance(arg, str) for arg in get_args(tp))
    if get_origin(tp) in (Union, types.UnionType):
        return any(_admits_str(arg) for arg in get_args(tp))
    return False


def accepted(tp: Any, metadata: typing.Iterable[Any] = ()) -> Any:
    """The type a keyword for a field annotated ``tp`` (plus pydantic ``metadata``) accepts."""
    for meta in metadata:
        if isinstance(meta, BeforeValidator):
            return BEFORE_INPUTS[meta.func]
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        return accepted(args[0], tp.__metadata__)
    if origin in (Union, types.UnionType):
        return Union[tuple(accepted(arg) for arg in args)]  # noqa: UP007
    if origin is list or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        item = accepted(args[0])
        return list[item] | tuple[item, ...] if _admits_str(item) else Sequence[item]
    if origin is dict:
        return Mapping[accepted(args[0]), accepted(args[1])]
    return tp


def _field_type(cls: type, name: str, field: FieldInfo) -> Any:
    for owner in cls.__mro__:
        if (owner, name) in OVERRIDES:
            return OVERRIDES[owner, name]
    return accepted(field.annotation, field.metadata)


def positional(cls: type) -> list[str]:
    """The positional-only parameters of ``cls.__init__`` after ``self``."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return [p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_ONLY]


def expected_keywords(cls: type[Builder]) -> dict[str, tuple[Any, bool]]:
    """``{keyword: (accepted type, required)}`` for the keywords of ``cls(...)``."""
    skip = set(positional(cls)) | NOT_ARGUMENTS.get(cls, set())
    defaulted = DEFAULTED.get(cls, set())
    out = {
        name: (_field_type(cls, name, field), field.is_required() and name not in defaulted)
        for name, field in cls.model_fields.items()
        if name not in skip
    }
    if issubclass(cls, PodWorkload):
        fields = kubegen.Container.model_fields
        for name in sorted(SHORTHAND_FIELDS):
            kind = PodWorkload if name == "port" else kubegen.Container
            out[name] = (_field_type(kind, name, fields.get(name, FieldInfo())), False)
    return out


def expected_positional(cls: type[Builder]) -> dict[str, Any]:
    """``{parameter: accepted type}`` for the positional parameters of ``cls(...)``."""
    fields = cls.model_fields
    return {name: _field_type(cls, name, fields[name]) for name in positional(cls)}


def _namespace() -> dict[str, Any]:
    """Names a signature may use only under TYPE_CHECKING, for resolving them here."""
    names: dict[str, Any] = {name: getattr(kubegen, name) for name in kubegen.__all__}
    names.update(Mapping=Mapping, Sequence=Sequence, Any=Any, Path=Path)
    return names


def declared(cls: type[Builder]) -> tuple[dict[str, Any], type | None]:
    """The declared positional types of ``cls.__init__`` and the TypedDict behind ``**data``."""
    init = cls.__init__
    module = vars(sys.modules[init.__module__])
    hints = typing.get_type_hints(init, globalns=module, localns=_namespace())
    params = list(inspect.signature(init).parameters.values())[1:]
    pos = {p.name: hints[p.name] for p in params if p.kind is inspect.Parameter.POSITIONAL_ONLY}
    var = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
    if not var or get_origin(hints[var[0].name]) is not typing.Unpack:
        return pos, None
    return pos, get_args(hints[var[0].name])[0]


def declared_keywords(typed_dict: type) -> dict[str, tuple[Any, bool]]:
    """``{key: (type, required)}`` of a ``total=False`` TypedDict, required keys ``Required[…]``.

    Read from the annotations because ``__required_keys__`` ignores ``Required`` written as a
    string (``from __future__ import annotations``) before Python 3.14.
    """
    module = vars(sys.modules[typed_dict.__module__])
    hints = typing.get_type_hints(
        typed_dict, globalns=module, localns=_namespace(), include_extras=True
    )
    out = {}
    for key, tp in hints.items():
        marker = get_origin(tp)
        if marker in (typing.Required, typing.NotRequired):
            tp = get_args(tp)[0]
        required = marker is typing.Required or (
            key in typed_dict.__required_keys__  # type: ignore[attr-defined]
            and marker is not typing.NotRequired
        )
        out[key] = (tp, required)
    return out


def signature_problems(cls: type[Builder]) -> list[str]:
    """What is wrong with the ``__init__`` of ``cls`` for type checkers; empty when all is well."""
    if "__init__" not in vars(cls):
        return [f"{cls.__name__} needs its own __init__, or type checkers synthesize one"]
    positional_types, typed_dict = declared(cls)
    problems = [
        f"positional {name}: declared {_text(positional_types.get(name))}, accepts {_text(tp)}"
        for name, tp in expected_positional(cls).items()
        if positional_types.get(name) != tp
    ]
    if typed_dict is None:
        return [*problems, f"{cls.__name__}.__init__ must take **data: Unpack[<TypedDict>]"]
    have, want = declared_keywords(typed_dict), expected_keywords(cls)
    for key in sorted(have.keys() - want.keys()):
        problems.append(f"{typed_dict.__name__}.{key} is no keyword of {cls.__name__}")
    for key in sorted(want.keys() - have.keys()):
        problems.append(f"{typed_dict.__name__} lacks `{_entry(key, *want[key])}`")
    for key in sorted(have.keys() & want.keys()):
        if have[key] != want[key]:
            problems.append(
                f"{typed_dict.__name__} has `{_entry(key, *have[key])}`, "
                f"want `{_entry(key, *want[key])}`"
            )
    return problems


def _text(tp: Any) -> str:
    return "nothing" if tp is None else render(tp)


def _entry(key: str, tp: Any, required: bool) -> str:
    return f"{key}: Required[{render(tp)}]" if required else f"{key}: {render(tp)}"


def render(tp: Any) -> str:
    """``tp`` as source text, for messages that say what to write."""
    if tp is type(None):
        return "None"
    if tp is Ellipsis:
        return "..."
    if tp is Any:
        return "Any"
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        return _render_union(args)
    if origin is Literal:
        return "Literal[" + ", ".join(f'"{a}"' for a in args) + "]"
    if origin is not None:
        return f"{origin.__name__}[{', '.join(render(a) for a in args)}]"
    return getattr(tp, "__name__", repr(tp))


def _render_union(args: tuple[Any, ...]) -> str:
    parts: list[str] = []
    rest = list(args)
    for alias, name in ((DurationLike, "DurationLike"), (QuantityLike, "QuantityLike")):
        members = get_args(alias)
        if all(m in rest for m in members):
            rest = [a for a in rest if a not in members]
            parts.append(name)
    none = type(None) in rest
    parts += [render(a) for a in rest if a is not type(None)]
    return " | ".join(parts + (["None"] if none else []))
