"""A builder's own per-instance state that is not a field: origin, stack, waivers, render memos.

pydantic's private attributes (``PrivateAttr``) are read through ``BaseModel.__getattr__``: each
``self._stack`` first fails the normal attribute lookup, then asks the private attribute whether
its default is a descriptor, which fails again inside Python (pydantic/pydantic#12081). That is
~17,500 machine instructions a read, and rendering 1,000 services reads builder state ~77,000
times: about a fifth of ``kubegen check``. pydantic also fills every instance's private
attributes in Python after validating it.

So kubegen keeps that state as ordinary instance attributes, declared with :func:`state`::

    _stack: Stack | None = state(None)
    _waivers: dict[str, str] = state(factory=dict)

The declaration is a :class:`State` descriptor, listed in the builders' ``ignored_types`` config
so pydantic leaves it out of the model (as it does ``functools.cached_property``). Until an
instance is given a value, reading the attribute gives the default (a fresh ``factory()`` per
instance, kept on it); ``Builder.__setattr__`` stores a value as a plain attribute, where later
reads find it without calling Python code. pydantic's fields, validation, schema, dumps and
``repr`` see none of it; ``model_copy``, ``copy``/``deepcopy`` and pickling carry it along, and
``Builder.__eq__`` compares it, as pydantic does for private attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


class State:
    """The class-level declaration of one state attribute (see the module docstring).

    A non-data descriptor: an instance's own value, once set, shadows it.
    """

    __slots__ = ("default", "factory", "name")

    def __init__(self, default: Any, factory: Callable[[], Any] | None) -> None:
        self.default = default
        self.factory = factory
        self.name = ""

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    def __get__(self, obj: object | None, owner: type[Any] | None = None) -> Any:
        if obj is None:
            return self
        # kept on the instance, so that later reads find it without calling this: a fresh
        # factory() (a mutable default, this instance's own), or the immutable default
        value = self.default if self.factory is None else self.factory()
        object.__setattr__(obj, self.name, value)
        return value

    def __repr__(self) -> str:
        made = self.factory.__name__ + "()" if self.factory is not None else repr(self.default)
        return f"state({made})"


def state(default: Any = None, *, factory: Callable[[], Any] | None = None) -> Any:
    """Declare a state attribute: ``default`` (immutable), or ``factory()`` per instance.

    Typed ``Any`` like pydantic's ``PrivateAttr``, so the annotation gives the attribute's type.
    """
    if factory is not None and default is not None:
        raise TypeError("state() takes a default or a factory, not both")
    return State(default, factory)


def state_names(classes: Iterable[type[Any]]) -> frozenset[str]:
    """The names of the state attributes the classes (a class's ``__mro__``) declare."""
    return frozenset(
        name for klass in classes for name, value in vars(klass).items() if isinstance(value, State)
    )
