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
validation, which kubegen's own builders do not want.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import types

_STUBBED = ("asyncio", "asyncio.coroutines")


def _asyncio_stand_ins() -> dict[str, types.ModuleType]:
    """Modules answering only what ``typing_extensions.deprecated`` asks asyncio."""
    package = types.ModuleType("asyncio", "kubegen start-up stand-in; removed after import")
    coroutines = types.ModuleType("asyncio.coroutines")
    coroutines.iscoroutinefunction = inspect.iscoroutinefunction  # type: ignore[attr-defined]
    coroutines._is_coroutine = object()  # type: ignore[attr-defined]
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


def prepare() -> None:
    """Everything the CLI does before parsing its arguments (see the module docstring)."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
    import_pydantic()
