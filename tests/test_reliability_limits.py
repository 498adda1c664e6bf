"""Limits the API server enforces are errors at build time, naming the object, the field and the
stack line, never a failed ``kubectl apply`` later. Each limit is tested on both sides.
"""

from __future__ import annotations

from typing import Any

import pytest
from reliability_support import make_project, run_kubegen, snapshot, write_stack

from kubegen import ConfigMap, Manifest, Namespace, Stack, ValidationError
from kubegen._render.files import render_files
from kubegen._render.limits import MAX_DATA_BYTES, MAX_FILE_NAME_BYTES, MAX_OBJECT_BYTES


def _render(*resources: Any) -> dict[str, bytes]:
    stack = Stack("lim", namespace="lim")
    for resource in resources:
        stack.add(resource)
    return render_files(stack.objects())


@pytest.mark.parametrize(
    ("make", "ok", "too_long", "field"),
    [
        (lambda v: ConfigMap(v), "a" * 253, "a" * 254, "name"),
        (lambda v: Namespace(v), "a" * 63, "a" * 64, None),
        (lambda v: ConfigMap("c", namespace=v), "a" * 63, "a" * 64, "namespace"),
        (lambda v: ConfigMap("c", labels={"k": v}), "v" * 63, "v" * 64, "labels"),
        (lambda v: ConfigMap("c", labels={v: "x"}), "k" * 63, "k" * 64, "labels"),
        (lambda v: ConfigMap("c", labels={f"{v}/k": "x"}), "p" * 253, "p" * 254, "labels"),
        (
            lambda v: ConfigMap("c", annotations={f"{v}/k": "x"}),
            "p" * 253,
            "p" * 254,
            "annotations",
        ),
        (
            lambda v: ConfigMap("c", annotations={"k": v}),
            "x" * (256 * 1024 - 1),
            "x" * (256 * 1024),
            "annotations",
        ),
        (
            lambda v: ConfigMap("c", data={"k": v}),
            "x" * (1024 * 1024 - 1),
            "x" * (1024 * 1024),
            "data",
        ),
    ],
    ids=[
        "name-253",
        "namespace-name-63",
        "namespace-field-63",
        "label-value-63",
        "label-key-63",
        "label-prefix-253",
        "annotation-prefix-253",
        "annotations-256k",
        "configmap-data-1mib",
    ],
)
def test_builder_limits(make, ok, too_long, field):
    make(ok)
    with pytest.raises(ValidationError) as caught:
        make(too_long)  # the line the error must name
    error = caught.value
    assert error.origin is not None and error.origin.file.endswith("test_reliability_limits.py")
    assert error.field == field
    assert error.fix
    assert len(str(error)) < 2000  # the value is shown shortened, not megabytes of it


def test_stack_names_are_limited():
    Stack("s" * 63, namespace="n" * 63)
    with pytest.raises(ValidationError, match="DNS-1123 label"):
        Stack("s" * 64)
    with pytest.raises(ValidationError, match="DNS-1123 label"):
        Stack("s", namespace="n" * 64)


def _manifest_of_size(size: int) -> Manifest:
    return Manifest(
        {
            "apiVersion": "v1",
            "kind": "Blob",
            "metadata": {"name": "big"},
            "spec": {"payload": "x" * size},
        }
    )


def test_object_over_the_api_server_limit_is_refused_at_render():
    fits = _render(_manifest_of_size(MAX_OBJECT_BYTES - 1000))["lim/blob-big.yaml"]
    assert len(fits) < MAX_OBJECT_BYTES + 200
    blob = _manifest_of_size(MAX_OBJECT_BYTES)
    with pytest.raises(ValidationError) as caught:
        _render(blob)
    message = str(caught.value)
    assert blob.origin is not None and blob.origin.file.endswith("test_reliability_limits.py")
    assert message.startswith(f"{blob.origin}: Blob lim/big: ")
    assert "1.5 MiB" in message and "Fix:" in message


@pytest.mark.parametrize(
    ("kind", "field", "fits", "too_big"),
    [
        ("ConfigMap", "data", "x" * (MAX_DATA_BYTES - 1), "x" * MAX_DATA_BYTES),
        (
            "ConfigMap",
            "binaryData",
            "QUJD" * (MAX_DATA_BYTES // 3 - 1),
            "QUJD" * (MAX_DATA_BYTES // 3 + 1),
        ),
        ("Secret", "data", "QUJD" * (MAX_DATA_BYTES // 3 - 1), "QUJD" * (MAX_DATA_BYTES // 3 + 1)),
    ],
)
def test_data_limit_holds_for_the_escape_hatch_too(kind, field, fits, too_big):
    def body(value: str) -> Manifest:
        meta = {"name": "d", "annotations": {"kubegen.dev/opt-out-plaintext-secret": "test"}}
        return Manifest({"apiVersion": "v1", "kind": kind, "metadata": meta, field: {"k": value}})

    _render(body(fits))
    with pytest.raises(ValidationError, match="1 MiB"):
        _render(body(too_big))


def test_file_names_longer_than_the_filesystem_allows_are_refused():
    name = "a" * 253
    with pytest.raises(ValidationError) as caught:
        _render(ConfigMap(name))
    error = caught.value
    assert error.field == "metadata.name" and "255" in str(error)
    room = int(str(error.fix).split("at most ")[1].split()[0])
    files = _render(ConfigMap("a" * room))  # the suggested length fits exactly
    [path] = [p for p in files if p.startswith("lim/configmap-")]
    assert len(path.split("/")[1].encode()) == MAX_FILE_NAME_BYTES
    with pytest.raises(ValidationError):
        _render(ConfigMap("a" * (room + 1)))


OVERSIZE = """
from kubegen import ConfigMap, Manifest, Stack

def build():
    stack = Stack("dev", namespace="dev")
    stack.add(ConfigMap("fine", data={{"k": "v"}}))
    spec = {{"payload": "x" * {size}}}
    blob = stack.add(Manifest({{"apiVersion": "example.com/v1", "kind": "Blob",
                                "metadata": {{"name": "big"}}, "spec": spec}}))
    blob.waive("KG001", reason="a custom resource the schema check does not know")
    return stack
"""


def test_oversize_object_stops_the_whole_render(tmp_path):
    project = make_project(tmp_path / "proj")
    write_stack(project, "dev", OVERSIZE.format(size=10))
    assert run_kubegen("render", "stacks/dev", cwd=project).returncode == 0
    before = snapshot(project / "output")
    write_stack(project, "dev", OVERSIZE.format(size=2 * 1024 * 1024))
    done = run_kubegen("render", "stacks/dev", cwd=project)
    assert done.returncode == 2
    assert done.stderr.startswith("error: stacks/dev/__init__.py:8: Blob dev/big: renders to ")
    assert "Traceback" not in done.stderr
    assert snapshot(project / "output") == before


@pytest.mark.parametrize(
    "make",
    [
        lambda: Stack("s" * 100_000, namespace="s"),
        lambda: ConfigMap("c" * 100_000),
        lambda: Stack("s", namespace="s", labels={"a": "x" * 100_000}),
        lambda: ConfigMap("c", data={"k" * 100_000: "v"}),
    ],
)
def test_an_enormous_value_is_shortened_in_the_message(make):
    """A 100,000-character name is still one readable message: its start and end, and how
    much was left out, never the whole value (in the object, the reason or the fix)."""
    with pytest.raises(ValidationError) as caught:
        make()
    text = str(caught.value)
    assert len(text) < 2_000, text[:300]
    assert "more characters)" in text and "\n  Fix: " in text
    assert text.startswith(f"{__file__.rsplit('/', 1)[-1]}:") or "test_reliability_limits" in text
