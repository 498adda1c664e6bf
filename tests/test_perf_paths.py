"""Shortcuts taken for speed behave exactly like the plain code they replace.

Each test names the optimisation it guards: per-instance builder state outside
pydantic's model, the origin path cache, deferred pydantic schema building, lazy public names.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kubegen
from kubegen import ConfigMap, Stack, ValidationError
from kubegen import _origin as origin_module
from kubegen._origin import display_path, set_base_dir


def test_private_maps_are_per_instance() -> None:
    """``PrivateAttr(default={})`` must still give every builder its own waivers/opt-outs."""
    one, two = ConfigMap("one"), ConfigMap("two")
    one.waive("KG204", reason="tested")
    one.opt_out("x", reason="tested")
    assert two._waivers == {} and two._opt_outs == {}
    assert one._waivers == {"KG204": "tested"}
    assert one._waivers is not two._waivers and one._opt_outs is not two._opt_outs


def test_display_path_cache_follows_the_base_folder(tmp_path: Path) -> None:
    before = origin_module._base_dir
    target = tmp_path / "stacks" / "prod.py"
    try:
        set_base_dir(tmp_path)
        assert display_path(str(target)) == "stacks/prod.py"
        set_base_dir(tmp_path / "stacks")
        assert display_path(str(target)) == "prod.py"
        set_base_dir(tmp_path / "elsewhere")
        assert display_path(str(target)) == str(target)  # outside the base: shown in full
    finally:
        set_base_dir(before)


def test_relative_filenames_are_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative co_filename depends on the working directory, so it is resolved each time."""
    before = origin_module._base_dir
    (tmp_path / "a").mkdir()
    try:
        set_base_dir(tmp_path)
        monkeypatch.chdir(tmp_path)
        assert display_path("x.py") == "x.py"
        monkeypatch.chdir(tmp_path / "a")
        assert display_path("x.py") == "a/x.py"
        assert "x.py" not in origin_module._shown
    finally:
        set_base_dir(before)


def test_origins_point_at_the_calling_line() -> None:
    line = _line() + 1
    config = ConfigMap("settings")
    assert config.origin is not None
    assert config.origin.line == line
    assert config.origin.file.endswith("test_perf_paths.py")


def test_deferred_models_still_validate_on_first_use() -> None:
    """``defer_build`` builds each model's validator when first needed: errors stay kubegen's."""
    with pytest.raises(ValidationError, match="field 'name' = 'Bad_Name'"):
        ConfigMap("Bad_Name")
    stack = Stack("shop", namespace="shop")
    stack.add(ConfigMap("settings", data={"a": "1"}))
    assert [obj.kind for obj in stack.objects()][:2] == ["Namespace", "ConfigMap"]


ROOT = Path(__file__).resolve().parent.parent


def _type_checking_imports() -> dict[str, str]:
    tree = ast.parse((ROOT / "kubegen" / "__init__.py").read_text())
    block = next(
        node for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
    )
    return {
        alias.name: str(node.module)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_lazy_names_match_the_type_checking_imports() -> None:
    """Type checkers read the TYPE_CHECKING block, runtime reads _LAZY: they must agree."""
    static = _type_checking_imports()
    assert static == kubegen._LAZY
    assert set(static) == set(kubegen.__all__) - {"__version__"}


def test_every_public_name_is_listed_and_loads() -> None:
    assert set(kubegen.__all__) <= set(dir(kubegen))
    for name, module in kubegen._LAZY.items():
        value = getattr(kubegen, name)
        assert value is getattr(sys.modules[module], name)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        kubegen.Nope  # noqa: B018


def test_import_kubegen_loads_no_builder_or_dependency() -> None:
    """``import kubegen`` (every CLI start, every stack) pays for nothing it does not use."""
    code = (
        "import sys, kubegen\n"
        "heavy = [m for m in sys.modules if m.startswith(('kubegen._', 'pydantic', 'jinja2',"
        " 'jsonschema', 'typer', 'ruamel'))]\n"
        "print(heavy)"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _line() -> int:
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno


def test_of_kind_index_keeps_input_order() -> None:
    """``LintContext.of_kind`` (indexed by kind) answers like filtering the objects in order."""
    from kubegen._manifests import ManifestObject
    from kubegen._policy.context import LintContext

    kinds = ["Role", "Service", "Role", "RoleBinding", "Service", "ClusterRole", "Role"]
    objects = tuple(
        ManifestObject({"apiVersion": "v1", "kind": k, "metadata": {"name": f"o{i}"}})
        for i, k in enumerate(kinds)
    )
    ctx = LintContext(objects=objects, kubernetes_version=(1, 33), profile="restricted")
    for wanted in [("Role",), ("Role", "RoleBinding"), ("RoleBinding", "Role", "Role"), ("X",)]:
        assert list(ctx.of_kind(*wanted)) == [o for o in objects if o.kind in wanted]


def _all_builder_classes() -> list[type]:
    from kubegen._builders.base import Builder

    for name in kubegen.__all__:  # import every builder module
        getattr(kubegen, name)
    found, todo = [], [Builder]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_builders_keep_their_state_outside_pydantic() -> None:
    """kubegen's builders declare their per-instance state with ``state()``: no pydantic
    private attribute, no field, defaults fresh per instance."""
    from kubegen._builders.state import State

    classes = _all_builder_classes()
    assert len(classes) >= 40
    for cls in classes:
        if cls.__module__.startswith("kubegen."):
            assert cls.__private_attributes__ == {}, cls
            assert not any(name.startswith("_") for name in cls.model_fields), cls
            assert "_origin" in cls._state_names, cls
        for name in cls._state_names:
            assert isinstance(inspect.getattr_static(cls, name), State), (cls, name)


def test_state_defaults_copies_pickles_and_equality() -> None:
    import copy
    import pickle

    one, two = ConfigMap("same"), ConfigMap("same")
    assert one._opt_outs == {} and one._opt_outs is not two._opt_outs
    assert one == two
    other = ConfigMap("same")
    assert other != one  # built on another line, as with pydantic's private state
    clone = one.model_copy()
    assert clone == one and clone._origin == one._origin
    one.waive("KG204", reason="tested")
    for again in (copy.deepcopy(one), pickle.loads(pickle.dumps(one))):
        assert again._waivers == {"KG204": "tested"} and again._origin == one._origin
        assert again == one and again.model_dump() == one.model_dump()
    assert "_waivers" not in one.model_dump() and "_waivers" not in repr(one)


def test_a_user_builder_with_its_own_post_init_and_private_attributes() -> None:
    from pydantic import PrivateAttr

    from kubegen._builders.base import Builder

    class Hooked(Builder):
        _seen: list[str] = PrivateAttr(default_factory=list)

        def model_post_init(self, context: object, /) -> None:
            self._seen.append("post-init ran")

    hooked = Hooked()
    assert hooked._seen == ["post-init ran"] and hooked._origin is not None
    assert Hooked.trusted(None)._seen == ["post-init ran"]


def test_state_attribute_reads_match_pydantic() -> None:
    """Misses of state or private attributes behave like pydantic's."""
    from pydantic import BaseModel

    config = ConfigMap("settings")
    assert config._waivers == {} and config._stack is None and config._origin is not None
    stack = Stack("shop", namespace="shop")
    stack.add(config)
    assert config._stack is stack
    with pytest.raises(AttributeError) as ours:
        config._nope  # noqa: B018
    with pytest.raises(AttributeError) as plain:
        BaseModel.__getattr__(config, "_nope")
    assert str(ours.value) == str(plain.value)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        config.nope  # type: ignore[attr-defined]  # noqa: B018


# --- files: unbuffered writes and reads, folders made once ------------------------------------

PATHS = st.lists(
    st.lists(st.sampled_from(["a", "b", "_cluster", "x.yaml"]), min_size=1, max_size=4).map(
        "/".join
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(PATHS)
def test_folders_equal_every_parent_of_every_path(paths: list[str]) -> None:
    from kubegen._files.tree import _parents, folders_of

    assert folders_of(paths) == {parent for path in paths for parent in _parents(path)}


@pytest.mark.parametrize("size", [0, 1, 65_535, 65_536, 65_537, 3_000_000])
def test_write_file_and_scan_round_trip_any_size(tmp_path: Path, size: int) -> None:
    """``write_new`` (os.write loop) and scan's chunked reads keep every byte."""
    from kubegen._files.fsops import Folder, write_new
    from kubegen._files.tree import scan
    from kubegen._render.layout import HEADER

    data = HEADER.encode() + bytes(i % 251 for i in range(size))
    (tmp_path / "env" / "ns").mkdir(parents=True)
    folder = Folder.open(tmp_path / "env" / "ns")
    write_new(folder, "big.yaml", data)
    folder.close()
    (tmp_path / "env" / "ns" / "mine.txt").write_bytes(b"# Generated by someone else\n" * 3000)
    (tmp_path / "env" / "short.yaml").write_bytes(HEADER.encode()[:10])
    tree = scan(tmp_path / "env")
    assert tree.owned == {"ns/big.yaml": data}
    assert tree.foreign == {"ns/mine.txt", "short.yaml"}


def test_write_file_creates_like_open_xb(tmp_path: Path) -> None:
    """Same mode (0o666 less the umask) as ``open(dest, "xb")``, and never overwrites."""
    from kubegen._files.fsops import Folder, write_new

    folder = Folder.open(tmp_path)
    write_new(folder, "ours", b"x")
    with open(tmp_path / "theirs", "xb") as handle:
        handle.write(b"x")
    assert (tmp_path / "ours").stat().st_mode == (tmp_path / "theirs").stat().st_mode
    with pytest.raises(FileExistsError):
        write_new(folder, "ours", b"y")
    folder.close()
    assert (tmp_path / "ours").read_bytes() == b"x"


_ODD_VALUES = st.one_of(st.none(), st.text(max_size=8), st.integers(), st.booleans())


@settings(max_examples=300, deadline=None)
@given(
    api=_ODD_VALUES,
    kind=_ODD_VALUES,
    meta=st.one_of(
        st.none(),
        st.text(max_size=3),
        st.fixed_dictionaries({}, optional={"name": _ODD_VALUES, "namespace": _ODD_VALUES}),
    ),
)
def test_manifest_key_reads_the_body_like_its_accessors(
    api: object, kind: object, meta: object
) -> None:
    """``key`` reads the body once; it says what group, kind, namespace and name say, for any
    body (a raw Manifest may carry anything)."""
    from kubegen._manifests import ManifestObject

    body: dict[str, object] = {"metadata": meta}
    if api is not None:
        body["apiVersion"] = api
    if kind is not None:
        body["kind"] = kind
    obj = ManifestObject(body=body)
    assert obj.key == (obj.group, obj.kind, obj.namespace or "", obj.name)
