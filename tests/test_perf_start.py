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


def test_a_cli_start_and_a_first_model_load_neither_asyncio_nor_importlib_metadata() -> None:
    """typing-extensions >= 4.16 (a kubegen requirement) leaves asyncio alone while pydantic
    loads; the plugin loader's stand-in keeps importlib.metadata out of a run that never scans."""
    code = (
        "import sys, json\n"
        "from kubegen._cli import startup\n"
        "startup.prepare()\n"
        "from kubegen import ConfigMap\n"
        "ConfigMap('settings', data={'A': '1'})\n"
        "loaded = sorted(m for m in ('asyncio', 'importlib.metadata') if m in sys.modules)\n"
        "kept = sorted(name for name, mod in sys.modules.items()\n"
        "    if isinstance(mod, startup._ImportedOnFirstUse))\n"
        "import asyncio\n"
        "async def answer():\n"
        "    return 42\n"
        "print(json.dumps({'loaded': loaded, 'kept': kept, 'run': asyncio.run(answer())}))\n"
    )
    assert json.loads(_python(code)) == {"loaded": [], "kept": [], "run": 42}


def test_a_kept_stand_in_acts_as_the_real_module() -> None:
    """pydantic < 2.14 binds the module itself (``import importlib.metadata as ...``): what it
    kept answers from the real module, which then replaces the stand-in."""
    code = (
        "import sys, json\n"
        "from kubegen._cli import startup\n"
        "stand_in = startup._ImportedOnFirstUse('importlib.metadata')\n"
        "sys.modules['importlib.metadata'] = stand_in\n"
        "import importlib.metadata as kept\n"
        "version = kept.version('pydantic')\n"
        "import importlib.metadata as real\n"
        "print(json.dumps({'same': kept is stand_in, 'version': version,\n"
        "    'real': type(real).__name__, 'replaced': sys.modules['importlib.metadata'] is real,\n"
        "    'distributions': kept.distributions is real.distributions}))\n"
    )
    import pydantic

    assert json.loads(_python(code)) == {
        "same": True,
        "version": pydantic.VERSION,
        "real": "module",
        "replaced": True,
        "distributions": True,
    }


def test_import_plugin_loader_leaves_a_loaded_importlib_metadata_alone() -> None:
    code = (
        "import sys, importlib.metadata\n"
        "real = sys.modules['importlib.metadata']\n"
        "from kubegen._cli import startup\n"
        "startup.import_plugin_loader()\n"
        "print(sys.modules['importlib.metadata'] is real,\n"
        "    'pydantic.plugin._loader' in sys.modules)\n"
    )
    assert _python(code).split() == ["True", "True"]


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


def test_plugin_loader_imports_importlib_metadata_only_when_it_scans() -> None:
    code = (
        "import sys, os\n"
        "from kubegen._cli import startup\n"
        "startup.prepare()\n"
        "import pydantic.plugin._loader as loader\n"
        "from kubegen import ConfigMap\n"
        "ConfigMap('settings', data={'A': '1'})\n"
        "before = 'importlib.metadata' in sys.modules\n"
        "os.environ['PYDANTIC_DISABLE_PLUGINS'] = 'some-plugin'  # a scan, skipping one\n"
        "list(loader.get_plugins())\n"
        "print(before, isinstance(loader._plugins, dict),  # the scan ran\n"
        "    type(sys.modules['importlib.metadata']).__name__)\n"
        "import importlib.metadata\n"
        "print(importlib.metadata.version('pydantic') == __import__('pydantic').VERSION)\n"
    )
    assert _python(code).split() == ["False", "True", "module", "True"]


# -- render/check/diff without typer ------------------------------------------------------------

STACK = """
from kubegen import ConfigMap, Stack

def build():
    stack = Stack("demo", namespace="demo")
    stack.add(ConfigMap("settings", data={"MODE": "MODE_VALUE"}))
    return stack
"""
BROKEN = "from kubegen import ConfigMap, Stack\n\ndef build():\n    s = Stack('s')\n" \
    "    s.add(ConfigMap('Nope!'))\n    return s\n"

# Runs the typer app itself, whatever the arguments: the reference for the fast route.
TYPER_ROUTE = (
    "import sys\n"
    "from kubegen._cli.app import app\n"
    "sys.argv[0] = 'kubegen'\n"
    "app()\n"
)
FAST_ROUTE = (
    "import sys\n"
    "from kubegen._cli.commands import main\n"
    "sys.argv[0] = 'kubegen'\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    print('TYPER' if 'typer' in sys.modules else 'NO-TYPER', file=sys.stderr)\n"
)


def _route(code: str, args: list[str], cwd: Path) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=cwd
    )
    return out.returncode, out.stdout, out.stderr


def _both(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``args`` through typer and through the fast route; they must agree exactly."""
    typer_result = _route(TYPER_ROUTE, args, cwd)
    code, stdout, stderr = _route(FAST_ROUTE, args, cwd)
    assert stderr.endswith("NO-TYPER\n")  # fast route: typer was never imported
    assert (code, stdout, stderr.removesuffix("NO-TYPER\n")) == typer_result
    return typer_result


def test_fast_route_prints_and_exits_like_typer(tmp_path: Path) -> None:
    from tests.helpers import write_stack

    write_stack(tmp_path, "prod", STACK)
    write_stack(tmp_path, "broken", BROKEN)
    # render twice (typer's run writes first, so compare it against the fresh files)
    code, stdout, _ = _route(TYPER_ROUTE, ["render", "stacks/prod"], tmp_path)
    assert code == 0 and stdout.endswith("5 created, 0 changed, 0 removed, 0 unchanged\n")
    assert _both(["render", "stacks/prod"], tmp_path)[1].endswith("5 unchanged\n")
    assert _both(["check", "stacks/prod"], tmp_path) == (0, "up to date: 1 stack\n", "")
    write_stack(tmp_path, "prod", STACK.replace("MODE_VALUE", "slow"))
    code, stdout, stderr = _both(["check", "stacks/prod"], tmp_path)
    assert code == 1 and "+  MODE: slow\n" in stdout and stderr.startswith("stale: prod: ")
    assert _both(["diff", "stacks/prod"], tmp_path)[1] == stdout
    code, _, stderr = _both(["render", "stacks/prod", "stacks/broken"], tmp_path)
    assert code == 2 and "stacks/broken/__init__.py:5: ConfigMap Nope!" in stderr
    code, _, stderr = _both(["check", "stacks/prd"], tmp_path)
    assert code == 2 and "stack path stacks/prd does not exist" in stderr
    code, _, stderr = _both(["render", "stacks/prod", "stacks/prod"], tmp_path)
    assert code == 2 and "both render into" in stderr


def test_fast_route_takes_only_plain_paths(tmp_path: Path) -> None:
    from kubegen._cli.commands import fast_command

    assert fast_command(["render", "stacks/prod"]) is not None
    assert fast_command(["check", "a", "b"]) is not None
    for argv in (
        [],
        ["render"],
        ["lint", "stacks/prod"],
        ["--debug", "render", "stacks/prod"],
        ["render", "stacks/prod", "--out", "x"],
        ["render", "--help"],
        ["render", "--", "stacks/prod"],
        ["render", ""],
        ["render", "-"],
        ["render", "stacks/\udcff"],
    ):
        assert fast_command(argv) is None, argv
    unreadable = tmp_path / "secret"
    unreadable.mkdir(mode=0)
    try:
        refused = not os.access(unreadable, os.R_OK)  # root may read anything
        assert (fast_command(["diff", str(unreadable)]) is None) == refused
    finally:
        unreadable.chmod(0o755)


def test_console_script_entry_point_loads_no_typer() -> None:
    """The ``kubegen`` script imports its entry module first: typer must wait for the route."""
    code = (
        "import importlib, sys, tomllib\n"
        "with open('pyproject.toml', 'rb') as f:\n"
        "    target = tomllib.load(f)['project']['scripts']['kubegen']\n"
        "module, _, name = target.partition(':')\n"
        "entry = getattr(importlib.import_module(module), name)\n"
        "print(callable(entry), 'typer' in sys.modules)\n"
    )
    assert _python(code).split() == ["True", "False"]


# -- RBAC modules only for stacks that use RBAC -------------------------------------------------

# Workloads may run as a ServiceAccount object, so its (small) module loads with them; the RBAC
# builders (roles, bindings, their checks) do not.
NO_RBAC_STACK = (
    "import sys\n"
    "from kubegen import ConfigMap, Deployment, HttpProbe, Stack\n"
    "probes = {'readiness': HttpProbe('/ready'), 'liveness': HttpProbe('/healthz')}\n"
    "stack = Stack('shop', namespace='shop')\n"
    "cm = stack.add(ConfigMap('settings', data={'A': '1'}))\n"
    "api = stack.add(Deployment('api', image='ghcr.io/acme/api:1.0', port=8080,\n"
    "    **probes))\n"
    "web = stack.add(Deployment('web', image='ghcr.io/acme/web:1.0', port=8080,\n"
    "    **probes))\n"
    "web.connect_to(api, port=8080)\n"
    "objects = stack.objects()\n"
    "loaded = sorted(m for m in sys.modules if m.startswith('kubegen._builders.rbac.'))\n"
    "from kubegen._builders.rbac.derive import derive_access\n"
    "print(set(loaded) <= {'kubegen._builders.rbac.accounts', 'kubegen._builders.rbac.intents'},\n"
    "    derive_access(stack) == [],\n"
    "    len(objects))\n"
)


def test_a_stack_without_grants_or_rbac_objects_loads_no_rbac_builders() -> None:
    loaded_none, derives_nothing, count = _python(NO_RBAC_STACK).split()
    assert (loaded_none, derives_nothing) == ("True", "True")
    assert int(count) > 6


def test_a_stack_without_a_cluster_loads_no_cluster_module() -> None:
    """``Cluster`` (and the ingress/gateway builders it names) load only for a Stack given one;
    a Stack given something else still refuses it, naming the argument."""
    code = NO_RBAC_STACK.replace(
        "print(", "print('kubegen._builders.cluster' not in sys.modules,\n    "
    ) + (
        "from kubegen import Cluster, ValidationError\n"
        "print(Stack('s', cluster=Cluster('eu-1')).cluster.name)\n"
        "try:\n"
        "    Stack('s', cluster='eu-1')\n"
        "except ValidationError as exc:\n"
        "    print(exc.field)\n"
    )
    first, second, third = _python(code).splitlines()
    assert first.split()[:3] == ["True", "True", "True"]
    assert (second, third) == ("eu-1", "cluster")


def test_raw_rbac_manifests_are_still_checked_in_a_fresh_process() -> None:
    code = (
        "from kubegen import Manifest, Stack, ValidationError\n"
        "stack = Stack('shop', namespace='shop')\n"
        "stack.add(Manifest({'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': 'Role',\n"
        "    'metadata': {'name': 'raw'},\n"
        "    'rules': [{'apiGroups': [''], 'resources': ['configmaps'], 'verbs': ['*']}]}))\n"
        "try:\n"
        "    stack.objects()\n"
        "except ValidationError as exc:\n"
        "    print(exc.resource, exc.field)\n"
    )
    assert _python(code).strip() == "Role shop/raw rules[0].verbs"


def test_rbac_builders_are_checked_without_a_grant_in_a_fresh_process() -> None:
    code = (
        "from kubegen import ClusterRole, ClusterRoleBinding, Group, Rule, Stack, ValidationError\n"
        "stack = Stack('shop', namespace='shop')\n"
        "role = stack.add(ClusterRole('reader', rules=[Rule.read('configmaps')]))\n"
        "stack.add(ClusterRoleBinding('readers', role=role, subjects=[Group('ops')]))\n"
        "try:\n"
        "    stack.objects()\n"
        "except ValidationError as exc:\n"
        "    print(exc.field)\n"
    )
    assert _python(code).strip() == "role"


# -- default factories pydantic can inspect cheaply ---------------------------------------------


def _builder_classes() -> list[type[Any]]:
    import kubegen
    from kubegen._builders.base import Builder

    for name in kubegen.__all__:
        getattr(kubegen, name)  # load every public builder module
    found: list[type[Any]] = []
    todo: list[type[Any]] = [Builder]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_no_builder_field_defaults_to_the_builtin_list_factory() -> None:
    """``inspect.signature(list)`` tokenizes list's text signature on every pydantic ask."""
    offenders = [
        f"{cls.__qualname__}.{name}"
        for cls in _builder_classes()
        if cls.__module__.startswith("kubegen.")  # not builders that tests define
        for name, info in cls.model_fields.items()
        if info.default_factory is list
    ]
    assert offenders == []


def test_empty_list_defaults_are_fresh_per_instance() -> None:
    from kubegen import Container, LabelSelector, NetworkPolicy

    first = Container(name="app", image="nginx:1.27")
    second = Container(name="app", image="nginx:1.27")
    assert first.ports == [] and first.ports is not second.ports
    built = NetworkPolicy.model_construct(name="p")
    assert built.ingress == [] and built.ingress is not NetworkPolicy.model_construct().ingress
    assert LabelSelector().match_expressions == []


# -- the process leaves without the interpreter's teardown once its output is flushed ----------

# A module-level object whose __del__ only runs in the interpreter's teardown: its marker file
# tells whether the process skipped it. EXTRA registers what must still run at exit.
EXIT_STACK = """
import pathlib
from kubegen import ConfigMap, Stack

class Marker:
    def __del__(self):
        pathlib.Path("torn-down").write_text("yes")

MARKER = Marker()
EXTRA

def build():
    stack = Stack("demo", namespace="demo")
    stack.add(ConfigMap("settings", data={f"KEY_{i}": "VALUE" for i in range(COUNT)}))
    return stack
"""


def _exit_stack(root: Path, count: int, extra: str = "") -> None:
    from tests.helpers import write_stack

    body = EXIT_STACK.replace("EXTRA", extra).replace("COUNT", str(count))
    write_stack(root, "prod", body)


def test_cli_process_skips_teardown_after_flushing_and_keeps_exit_codes(tmp_path: Path) -> None:
    from tests.helpers import run_cli

    _exit_stack(tmp_path, 3)
    done = run_cli("render", "stacks/prod", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.endswith("0 unchanged\n")
    _exit_stack(tmp_path, 6000)  # a diff far larger than a pipe's buffer
    stale = run_cli("check", "stacks/prod", cwd=tmp_path)
    assert stale.returncode == 1 and stale.stderr.startswith("stale: prod: ")
    assert stale.stdout.count("+  KEY_") == 5997 and "KEY_5999: VALUE" in stale.stdout
    broken = run_cli("check", "stacks/nope", cwd=tmp_path)
    assert broken.returncode == 2 and "stack path stacks/nope does not exist" in broken.stderr
    typer_route = run_cli("check", "stacks/prod", "--no-such-option", cwd=tmp_path)
    assert typer_route.returncode == 2 and "No such option" in typer_route.stderr
    helped = run_cli("--help", cwd=tmp_path)
    assert helped.returncode == 0 and "render" in helped.stdout
    assert not (tmp_path / "torn-down").exists()
    with_teardown = subprocess.run(  # the same process through main(): Python's own exit
        [sys.executable, "-c", "from kubegen._cli.commands import main; main()", "check",
         "stacks/prod"], cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert with_teardown.returncode == 1 and with_teardown.stdout == stale.stdout
    assert (tmp_path / "torn-down").read_text() == "yes"


def test_cli_process_exits_normally_when_a_stack_left_work_for_exit(tmp_path: Path) -> None:
    """An atexit callback or a running thread of the stack's code still runs to the end."""
    from tests.helpers import run_cli

    extra = (
        "import atexit, threading, time\n"
        "atexit.register(lambda: pathlib.Path('atexit-ran').write_text('yes'))\n"
    )
    _exit_stack(tmp_path, 3, extra)
    assert run_cli("render", "stacks/prod", cwd=tmp_path).returncode == 0
    assert (tmp_path / "atexit-ran").exists() and (tmp_path / "torn-down").exists()
    for marker in ("atexit-ran", "torn-down"):
        (tmp_path / marker).unlink()
    extra = (
        "import threading, time\n"
        "def _late():\n"
        "    time.sleep(0.3)\n"
        "    pathlib.Path('thread-ran').write_text('yes')\n"
        "threading.Thread(target=_late).start()\n"
    )
    _exit_stack(tmp_path, 4, extra)
    stale = run_cli("check", "stacks/prod", cwd=tmp_path)
    assert stale.returncode == 1 and "+  KEY_3: VALUE" in stale.stdout
    assert (tmp_path / "thread-ran").exists() and (tmp_path / "torn-down").exists()


# A stack that records whether the cycle collector runs while kubegen builds it.
GC_STACK = """
import gc, pathlib
from kubegen import ConfigMap, Stack

def build():
    pathlib.Path("collecting").write_text(str(gc.isenabled()))
    stack = Stack("demo", namespace="demo")
    stack.add(ConfigMap("settings", data={"KEY": "VALUE"}))
    return stack
"""


def test_cli_process_skips_cycle_collection_only_where_it_ends_right_after(
    tmp_path: Path,
) -> None:
    """``render|check|diff PATH`` as a process: no cycle collection (everything lives until the
    end); through main() (a caller that goes on) and through typer, collection stays on."""
    from tests.helpers import run_cli, write_stack

    write_stack(tmp_path, "prod", GC_STACK)
    marker = tmp_path / "collecting"
    assert run_cli("render", "stacks/prod", cwd=tmp_path).returncode == 0
    assert marker.read_text() == "False"
    assert run_cli("check", "stacks/prod", cwd=tmp_path).returncode == 0
    assert marker.read_text() == "False"
    assert run_cli("--debug", "check", "stacks/prod", cwd=tmp_path).returncode == 0
    assert marker.read_text() == "True"  # typer's route: any command, collection on
    in_process = subprocess.run(
        [sys.executable, "-c", "from kubegen._cli.commands import main; main()", "check",
         "stacks/prod"], cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert in_process.returncode == 0 and marker.read_text() == "True"
