"""Process start-up of the CLI: load pydantic without the modules a run never uses.

Every ``kubegen`` process imports pydantic, and importing pydantic imports asyncio (with ssl,
socket, logging and concurrent.futures): ``typing_extensions.deprecated`` runs ``import
asyncio.coroutines`` each time it wraps one of pydantic's deprecated functions, only to ask
whether the function is a coroutine. That is about a third of importing pydantic on this
machine, and no kubegen command uses asyncio. :func:`import_pydantic` answers that question
with :func:`inspect.iscoroutinefunction` while pydantic loads, then leaves ``sys.modules``
exactly as it found it, so a later ``import asyncio`` (a user's stack) loads the real one.

The CLI also turns off pydantic's plugin discovery (``PYDANTIC_DISABLE_PLUGINS``, unless the
caller set it): it reads the entry points of every installed distribution to find observers of
validation, which kubegen's own builders do not want. The module that would do it,
``pydantic.plugin._loader``, still imports ``importlib.metadata`` (with email, csv and socket)
when the first model is built; :func:`import_plugin_loader` loads it with a stand-in that
imports the real ``importlib.metadata`` on first use, which a disabled scan never makes.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import types
from typing import Any

_STUBBED = ("asyncio", "asyncio.coroutines")


class _ImportedOnFirstUse(types.ModuleType):
    """A stand-in for a module: any attribute it lacks imports the real module (removing the
    stand-in and its stand-in parents from ``sys.modules`` first) and is read there, so a
    reference kept by mistake still behaves like the real module."""

    def __getattr__(self, name: str) -> object:
        if name in ("__path__", "__file__"):  # the import system asks; a stand-in is neither
            raise AttributeError(name)
        return getattr(self.real(), name)

    def real(self) -> types.ModuleType:
        """The real module, imported now if need be."""
        parts = self.__name__.split(".")
        for end in range(len(parts), 0, -1):
            prefix = ".".join(parts[:end])
            if isinstance(sys.modules.get(prefix), _ImportedOnFirstUse):
                del sys.modules[prefix]
        return importlib.import_module(self.__name__)

    def defer(self, name: str) -> None:
        """Let ``from <module> import name`` take a function that imports the real module
        only when it is called."""

        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(self.real(), name)(*args, **kwargs)

        call.__name__ = call.__qualname__ = name
        setattr(self, name, call)


def _asyncio_stand_ins() -> dict[str, types.ModuleType]:
    """Modules answering what ``typing_extensions.deprecated`` asks asyncio; anything else they
    are asked (by code that kept a reference) loads the real asyncio and answers from it."""
    package = _ImportedOnFirstUse("asyncio", "kubegen start-up stand-in; removed after import")
    coroutines = _ImportedOnFirstUse("asyncio.coroutines")
    coroutines.iscoroutinefunction = inspect.iscoroutinefunction  # type: ignore[attr-defined]
    package.coroutines = coroutines  # type: ignore[attr-defined]
    return {"asyncio": package, "asyncio.coroutines": coroutines}


def import_pydantic() -> None:
    """Import pydantic (and ``pydantic.main``) without importing asyncio.

    Does only a plain import when pydantic or asyncio is loaded already (a test run, a stack
    imported first): the stand-ins never replace a real module.
    """
    if "pydantic" in sys.modules or any(name in sys.modules for name in _STUBBED):
        importlib.import_module("pydantic.main")
        return
    stand_ins = _asyncio_stand_ins()
    sys.modules.update(stand_ins)
    try:
        importlib.import_module("pydantic.main")
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


def import_plugin_loader() -> None:
    """Import ``pydantic.plugin._loader`` without importing ``importlib.metadata`` yet."""
    name = "importlib.metadata"
    if name in sys.modules or "pydantic.plugin._loader" in sys.modules:
        return
    stand_in = _ImportedOnFirstUse(name)
    stand_in.defer("entry_points")  # pydantic >= 2.14 imports the function at module level
    sys.modules[name] = stand_in
    try:
        importlib.import_module("pydantic.plugin._loader")
    finally:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]


def prepare() -> None:
    """Everything the CLI does before parsing its arguments (see the module docstring)."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
    import_pydantic()
    import_plugin_loader()
