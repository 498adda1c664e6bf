"""Start-up of the ``kubegen`` process: what it imports, and that the shortcuts change nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, *, cwd: Path = ROOT) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_pydantic_loads_without_asyncio_and_asyncio_still_works() -> None:
    code = (
        "import sys, json, warnings\n"
        "from kubegen._cli import startup\n"
        "startup.prepare()\n"
        "loaded = 'asyncio' in sys.modules\n"
        "import pydantic, pydantic_core.core_schema as cs\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    cs.general_plain_validator_function(lambda v, i: v)\n"
        "import asyncio\n"
        "async def answer():\n"
        "    return 42\n"
        "print(json.dumps({'loaded': loaded, 'run': asyncio.run(answer()),\n"
        "    'real': hasattr(asyncio, 'get_running_loop'),\n"
        "    'deprecated': sorted({w.category.__name__ for w in caught})}))\n"
    )
    result = json.loads(_python(code))
    assert result == {
        "loaded": False,
        "run": 42,
        "real": True,
        "deprecated": ["DeprecationWarning"],
    }


def test_import_pydantic_leaves_a_loaded_asyncio_alone() -> None:
    code = (
        "import sys, asyncio\n"
        "real = sys.modules['asyncio']\n"
        "from kubegen._cli import startup\n"
        "startup.import_pydantic()\n"
        "print(sys.modules['asyncio'] is real and 'pydantic.main' in sys.modules)\n"
    )
    assert _python(code).strip() == "True"


def test_cli_turns_plugin_discovery_off_unless_the_caller_chose() -> None:
    code = (
        "import os\n"
        "from kubegen._cli import startup\n"
        "startup.prepare()\n"
        "print(os.environ['PYDANTIC_DISABLE_PLUGINS'])\n"
    )
    assert _python(code).strip() == "1"
    chosen = "import os\nos.environ['PYDANTIC_DISABLE_PLUGINS'] = 'logfire'\n" + code
    assert _python(chosen).strip() == "logfire"


def _cyclic_reference(defs: dict[str, Any]) -> frozenset[str]:
    """Every definition that reaches itself, computed eagerly over the whole graph."""
    from kubegen._policy.schema import _refs

    edges = {name: set(_refs(body)) for name, body in defs.items()}
    cyclic = set()
    for start in edges:
        todo, seen = list(edges[start]), set()
        while todo:
            name = todo.pop()
            if name == start:
                cyclic.add(start)
                break
            if name not in seen and name in edges:
                seen.add(name)
                todo.extend(edges[name])
    return frozenset(cyclic)


def test_lazy_cycle_answers_match_the_whole_graph_walk() -> None:
    from kubegen._policy.schema import _Cycles, _load, shipped_versions

    for version in shipped_versions():
        defs = _load(version).defs
        expected = _cyclic_reference(defs)
        assert expected  # JSONSchemaProps refers to itself in every version
        cycles = _Cycles(defs)
        assert frozenset(name for name in defs if name in cycles) == expected
        assert "no.such.Definition" not in cycles


def test_lazy_cycles_on_a_small_graph() -> None:
    from kubegen._policy.schema import _Cycles

    ref = "#/$defs/"
    defs: dict[str, Any] = {
        "a": {"properties": {"x": {"$ref": ref + "b"}}},
        "b": {"items": [{"$ref": ref + "a"}]},
        "c": {"$ref": ref + "a"},
        "d": {"$ref": ref + "d"},
        "e": {"$ref": ref + "missing"},
    }
    cycles = _Cycles(defs)
    assert [name for name in defs if name in cycles] == ["a", "b", "d"]
    assert _cyclic_reference(defs) == {"a", "b", "d"}

