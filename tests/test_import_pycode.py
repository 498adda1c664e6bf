"""The importer's Python source (kubegen/_vendor/pycode.py): literals that evaluate back to the
object, within 100 columns wherever a line can be broken."""

from __future__ import annotations

import ast
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from kubegen._vendor.pycode import fitted, literal, wrapped

TEXT = st.text(alphabet=st.sampled_from("ab \n'\"é\\x"), max_size=300)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(alphabet="kx-", min_size=1, max_size=30), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(value=JSON, indent=st.sampled_from([0, 8, 40, 60]))
def test_a_literal_evaluates_back_to_the_object(value: object, indent: int) -> None:
    code = literal(json.dumps(value), indent)
    assert ast.literal_eval(code) == value
    for line in (" " * indent + code).split("\n"):
        # only a line that cannot break is wider: a key and a scalar, or a single word
        assert len(line) <= 100 or ("(" not in line and not line.rstrip().endswith(("[", "{")))


def test_long_strings_break_after_spaces_and_newlines() -> None:
    text = "first line of a long description\n" + "word " * 40
    code = literal(json.dumps({"description": text}), 8)
    lines = code.split("\n")
    assert lines[1] == "            'description': ("
    assert lines[2] == "                'first line of a long description\\n'"
    assert all(len(line) <= 100 for line in lines)
    assert ast.literal_eval(code) == {"description": text}


def test_deep_objects_nest_narrower_and_say_noqa_only_where_ruff_would_flag() -> None:
    deep: object = "leaf words " * 3
    for level in range(30):
        deep = {f"level-{level}": deep}
    code = literal(json.dumps(deep), 8)
    assert ast.literal_eval(code) == deep
    assert max(len(line) - len(line.lstrip()) for line in code.split("\n")) < 80
    long_key = " " * 90 + "'x-kubernetes-preserve-unknown-fields': True,"
    one_word = " " * 90 + "'" + "A" * 40 + "'"
    url = " " * 40 + "'see https://example.com/" + "a" * 80 + "'"
    assert fitted("\n".join([long_key, one_word, url, "short = 1"])).split("\n") == [
        long_key + "  # noqa: E501", one_word, url, "short = 1"]


def test_a_call_wraps_one_argument_per_line() -> None:
    call = "Deployment('api', image='ghcr.io/acme/api:1.2.3', labels={'team': 'web'}, " \
           "annotations={'note': '" + "x " * 60 + "'})"
    code = wrapped(call, 4)
    assert code.startswith("Deployment(\n        'api',\n")
    assert all(len(line) <= 100 for line in code.split("\n"))
    assert ast.dump(ast.parse(code, mode="eval")) == ast.dump(ast.parse(call, mode="eval"))


def test_imported_upstream_modules_are_ruff_clean(tmp_path) -> None:
    """The modules ``import manifests`` writes pass ruff with the repository's settings (E501
    at 100 columns, isort, pyupgrade…) and with ruff's defaults."""
    import subprocess
    import sys
    from pathlib import Path

    from kubegen._vendor.manifest_import import import_manifests

    data = Path(__file__).parent / "data" / "vendor"
    config = Path(__file__).parent.parent / "pyproject.toml"
    modules = []
    for stack, source, namespace in (
            ("ksm", "kube-state-metrics-v2.20.0", None), ("podinfo", "podinfo-6.14.1", "podinfo"),
            ("nginx", "ingress-nginx-controller-v1.15.1-deploy.yaml", None)):
        modules.append(str(import_manifests(data / source, tmp_path / stack,
                                            namespace=namespace).module))
    for settings_ in (["--config", str(config)], ["--isolated"]):
        done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *settings_,
                               *modules], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout


def test_a_long_input_path_keeps_the_module_ruff_clean(tmp_path) -> None:
    """An input deep in a long path (an unpacked sdist in a temporary folder) still gives a
    module within 100 columns: the path goes on a line of its own."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from kubegen._vendor.manifest_import import import_manifests

    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 5)
    deep.mkdir(parents=True)
    source = Path(__file__).parent / "data" / "vendor" / "podinfo-6.14.1"
    shutil.copytree(source, deep / "podinfo")
    module = import_manifests(deep / "podinfo", tmp_path / "podinfo", namespace="podinfo").module
    text = Path(module).read_text()
    assert f"\nFrom:\n{deep / 'podinfo'}\n" in text
    config = Path(__file__).parent.parent / "pyproject.toml"  # E501 at 100 columns
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--config",
                           str(config), str(module)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
