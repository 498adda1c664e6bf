"""Calls of kubegen's verbs (``grant``, ``connect_to``, ``autoscale``…) and of ``Stack``, checked.

Builders validate their fields with pydantic (see :mod:`kubegen._builders.errors`); verbs and
``Stack`` are plain functions, so a wrong call used to surface as Python's own ``TypeError``
(``AccessIntents.grant() got an unexpected keyword argument 'nme'``) or as whatever broke inside
kubegen on a value of the wrong type (``'str' object has no attribute 'kubernetes_version'``):
no stack line, no object, no fix. :func:`checked` wraps a public verb so that such a call raises
one located :class:`CallError` naming the object, the argument, the value, what it expects and a
fix to copy. The normal path costs one extra call frame; the diagnosis runs only on failure.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from pydantic import ConfigDict, TypeAdapter
from pydantic import ValidationError as PydanticError
from pydantic.errors import PydanticSchemaGenerationError, PydanticUserError

from kubegen._errors import KubegenError, ValidationError
from kubegen._origin import Origin, capture

# kubegen._builders.errors (difflib, ast) is imported by the functions below, on failure only:
# every stack module imports this one.

P = ParamSpec("P")
R = TypeVar("R")

# Examples of arguments whose annotation alone says little (``reason: str``).
# The first candidate the annotation accepts is shown.
KEYWORD_EXAMPLES: dict[str, tuple[Any, ...]] = {
    "reason": ("why it is needed",),
    "port": ("http", 443),
    "end_port": (8090,),
    "audience": ("vault",),
    "namespace": ("monitoring",),
    "name": ("api",),
    "kubernetes_version": ("1.33",),
    "labels": ({"acme.dev/team": "payments"},),
    "pods": ({"app.kubernetes.io/name": "api"},),
    "rule_id": ("KG104",),
    "expiration_seconds": (3600,),
    "kind": ("Deployment",),
    "workload": ("cert-manager-webhook",),
    "image": ("quay.io/jetstack/cert-manager-webhook:v1.16.2",),
}

# Raw errors a wrong argument makes kubegen's code raise; anything else is not diagnosed.
_RAW = (TypeError, AttributeError, ValueError, KeyError)


class CallError(ValidationError, TypeError):
    """A verb or ``Stack`` was called with arguments it does not take.

    A :class:`TypeError` too, as Python's own error for such a call is.
    """


def checked(func: Callable[P, R]) -> Callable[P, R]:
    """``func``, reporting a wrong call of it as a located :class:`CallError`."""

    @functools.wraps(func)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except KubegenError:
            raise
        except _RAW as exc:
            error = diagnose(func, args, kwargs)
            if error is None:
                raise
            raise error from exc

    return call


def diagnose(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> CallError | None:
    """The argument of this call that is wrong, as an error; None if every one looks right."""
    signature = inspect.signature(func)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        return _unbindable(func, signature, args, kwargs, str(exc))
    for name, value in bound.arguments.items():
        parameter = signature.parameters[name]
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        error = wrong_argument(func, name, value, owner=args[0] if args else None)
        if error is not None:
            return error
    return None


def wrong_argument(
    func: Callable[..., Any], name: str, value: Any, *, owner: Any = None
) -> CallError | None:
    """The error for ``value`` given as ``name=`` of ``func``, or None if it fits the annotation."""
    annotation = _annotations(func).get(name)
    if annotation is None or _fits(annotation, value):
        return None
    return argument_error(func, name, value, owner=owner)


def argument_error(func: Callable[..., Any], name: str, value: Any, *, owner: Any = None
                   ) -> CallError:
    """The error for ``value`` given as ``name=`` of ``func``, which does not take it."""
    from kubegen._builders.errors import describe

    annotation = _annotations(func).get(name, Any)
    sample = _sample(name, annotation)
    return CallError(
        f"{_verb(func)}() expects {describe(annotation)} for {name}=",
        fix=f"write e.g. {name}={sample}",
        origin=_origin(name),
        resource=_owner(func, owner),
        field=name,
        value=value,
    )


def _unbindable(
    func: Callable[..., Any],
    signature: inspect.Signature,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    python_says: str,
) -> CallError:
    """A call Python refused to bind: an unknown keyword, a missing or doubled argument."""
    from kubegen._builders.errors import closest
    parameters = signature.parameters
    keywords = [n for n, p in parameters.items() if n != "self"
                and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    verb, owner = _verb(func), _owner(func, args[0] if args else None)
    if func.__name__ == "__init__" and len(args) > 1 and isinstance(args[1], str):
        owner = f"{_verb(func)} {args[1]}"  # not built yet: named by the name it was given
    takes = f"it takes {_shape(verb, parameters)}"
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    for name, value in kwargs.items():
        if name not in parameters and not takes_any:
            guess = closest(name, keywords)
            return CallError(
                f"{verb}() has no argument {name!r}",
                fix=f"did you mean {guess}=? ({takes})" if guess else takes,
                origin=_origin(name), resource=owner, field=name, value=value,
            )
    try:
        given = signature.bind_partial(*args, **kwargs).arguments
    except TypeError:
        given = None
    if given is not None:
        hints = _annotations(func)
        for name, parameter in parameters.items():
            variadic = parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
            if name not in given and parameter.default is parameter.empty and not variadic:
                sample = _sample(name, hints.get(name, Any))
                return CallError(
                    f"{verb}() needs {name}=", fix=f"pass {name}={sample}",
                    origin=_origin(None), resource=owner, field=name,
                )
    positional = [n for n, p in parameters.items() if n != "self"
                  and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    given_positionally = len(args) - (1 if "self" in parameters else 0)
    variadic = any(p.kind is p.VAR_POSITIONAL for p in parameters.values())
    if given_positionally > len(positional) and not variadic:
        said = f"takes {len(positional)} positional argument(s), not {given_positionally}"
    else:
        said = python_says.split("() ", 1)[-1]
    return CallError(
        f"{verb}() {said}",
        fix=f"pass the others by keyword, each argument once: {takes}",
        origin=_origin(None), resource=owner,
    )


def _sample(name: str, annotation: Any) -> str:
    """An example value of ``name=`` to copy: a known good one the annotation takes, else one
    made from the annotation."""
    from kubegen._builders.errors import example

    for candidate in KEYWORD_EXAMPLES.get(name, ()):
        if _fits(annotation, candidate):
            return repr(candidate)
    return example(annotation) if annotation is not Any else "..."


def _shape(verb: str, parameters: Mapping[str, inspect.Parameter]) -> str:
    """The call as a user writes it: ``grant(*access, namespace=, purpose=, …)``."""
    shown = []
    for name, parameter in parameters.items():
        if name == "self":
            continue
        if parameter.kind is parameter.VAR_POSITIONAL:
            shown.append(f"*{name}")
        elif parameter.kind is parameter.POSITIONAL_ONLY or (
            parameter.kind is parameter.POSITIONAL_OR_KEYWORD
            and parameter.default is parameter.empty
        ):
            shown.append(name)
        elif parameter.kind is parameter.VAR_KEYWORD:
            shown.append(f"**{name}")
        else:
            shown.append(f"{name}=")
    return f"{verb}({', '.join(shown)})"


def _verb(func: Callable[..., Any]) -> str:
    owner, _, name = func.__qualname__.rpartition(".")
    return owner.rpartition(".")[2] if name == "__init__" else name


def _owner(func: Callable[..., Any], obj: Any) -> str | None:
    """The object a method was called on, as errors name it (``Deployment shop/api``)."""
    if obj is None or "." not in func.__qualname__:
        return None
    display = getattr(obj, "display", None)
    if isinstance(display, str):
        return display
    name = getattr(obj, "name", None)
    kind = type(obj).__name__
    return f"{kind} {name}" if isinstance(name, str) else kind


def _origin(keyword: str | None) -> Origin | None:
    from kubegen._builders.errors import keyword_origin

    return keyword_origin(capture(), keyword)


@functools.cache
def _annotations(func: Callable[..., Any]) -> dict[str, Any]:
    """Each parameter's annotation, evaluated (those that cannot be are left out)."""
    target = inspect.unwrap(func)
    namespace = {**_public_names(), **getattr(target, "__globals__", {})}
    found: dict[str, Any] = {}
    for name, text in getattr(target, "__annotations__", {}).items():
        if name == "return":
            continue
        try:
            found[name] = eval(text, namespace) if isinstance(text, str) else text
        except Exception:  # an annotation only a type checker understands: not checked
            continue
    return found


def _public_names() -> dict[str, Any]:
    """kubegen's public names and the workload base class, for annotations written under
    ``TYPE_CHECKING`` imports."""
    import kubegen
    from kubegen._builders.workloads.base import Workload

    names = {name: getattr(kubegen, name) for name in kubegen.__all__}
    names["Workload"] = Workload
    return names


def _fits(annotation: Any, value: Any) -> bool:
    """Whether pydantic accepts ``value`` for ``annotation`` (True when it cannot tell)."""
    adapter = _adapter(annotation)
    if adapter is None:
        return True
    try:
        adapter.validate_python(value)
    except (PydanticError, ValueError, TypeError, AttributeError, KubegenError):
        return False  # kubegen's validators too, and its models built from a dict
    return True


def _adapter(annotation: Any) -> TypeAdapter[Any] | None:
    for config in (None, ConfigDict(arbitrary_types_allowed=True)):
        try:
            return TypeAdapter(annotation, config=config)
        except (PydanticUserError, PydanticSchemaGenerationError, TypeError, NameError):
            continue
    return None


__all__ = ["CallError", "argument_error", "checked", "diagnose", "wrong_argument"]
