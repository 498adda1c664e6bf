"""Process start-up of the CLI: pydantic without plugin discovery and what only it imports.

The CLI turns off pydantic's plugin discovery (``PYDANTIC_DISABLE_PLUGINS``, unless the caller
set it): it reads the entry points of every installed distribution to find observers of
validation, which kubegen's own builders do not want. The module that would do it,
``pydantic.plugin._loader``, still imports ``importlib.metadata`` (with email, csv, socket and
calendar: ~20 ms of CPU, measured on every ``kubegen`` run) when the first model is built, and
pydantic offers no public way around that import. :func:`import_plugin_loader` loads it while a
stand-in for ``importlib.metadata`` imports the real module on first use, which a disabled scan
never makes; ``sys.modules`` is left exactly as it was found, and whatever pydantic takes from
the stand-in behaves like the real module.

(Importing pydantic no longer imports asyncio: ``typing-extensions >= 4.16``, which kubegen
requires, asks :mod:`inspect` whether a deprecated function is a coroutine. The stand-in kubegen
used for that is gone.)
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from typing import Any


class _ImportedOnFirstUse(types.ModuleType):
    """A stand-in for a module: any attribute it lacks imports the real module (removing the
    stand-in from ``sys.modules`` first) and is read there, so a reference kept by mistake
    still behaves like the real module."""

    def __getattr__(self, name: str) -> object:
        if name in ("__path__", "__file__"):  # the import system asks; a stand-in is neither
            raise AttributeError(name)
        return getattr(self.real(), name)

    def real(self) -> types.ModuleType:
        """The real module, imported now if need be."""
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return importlib.import_module(self.__name__)

    def defer(self, name: str) -> None:
        """Let ``from <module> import name`` take a function that imports the real module
        only when it is called."""

        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(self.real(), name)(*args, **kwargs)

        call.__name__ = call.__qualname__ = name
        setattr(self, name, call)


def import_plugin_loader() -> None:
    """Import ``pydantic.plugin._loader`` without importing ``importlib.metadata`` yet.

    A plain import when either is loaded already (a test run, a stack imported first): the
    stand-in never replaces a real module.
    """
    name = "importlib.metadata"
    if name in sys.modules or "pydantic.plugin._loader" in sys.modules:
        importlib.import_module("pydantic.plugin._loader")
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
    import_plugin_loader()
