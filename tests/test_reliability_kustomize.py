"""Every value kubegen accepts renders to YAML that ``kubectl kustomize`` (what Argo CD and Flux
run on ``output/<env>``) reads back exactly; what it cannot read is refused when the stack
renders, naming the field and the fix.

The property test fuzzes keys and values where kustomize treats them differently: annotation
keys and values (kustomize re-writes annotations), label keys and values, ConfigMap data, keys
and values nested in a ``Manifest`` (long keys, ``<<``), and the items of a ``List``. Each
example renders a stack, builds it with ``kubectl kustomize`` and compares every object, as
go-yaml reads it, with what the stack built (strings, booleans and nulls exactly; numbers by
value, as JSON). Skipped, with a message, only where kubectl is not installed.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_support import (
    GoLikeLoader,
    budget,
    hostile_text,
    json_equal,
    mostly,
    parse_documents,
)

from kubegen import ConfigMap, KubegenError, Manifest, Stack, ValidationError
from kubegen._render.files import render_files
from kubegen._render.layout import KUSTOMIZATION

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl is not installed here: kustomize's reading is not checked"
)

# Keys shaped like Kubernetes qualified names, made of what YAML 1.1 reads as numbers, dates,
# booleans and nulls: the annotation keys kustomize breaks on.
typed_word = st.sampled_from(
    ["true", "True", "FALSE", "null", "Null", ".inf", "-.Inf", ".NaN", ".nan", "yes", "on",
     "off", "y", "n", "0", "07", "0755",
     "1e3", "1E3", "1e-3", "1_000", "0x1F", "0X1f", "0o17", "0b101", "1.0", "1.", "2001-12-14",
     "12-30", "1.2.3", "2fa", "8bit", "e5", "5e", "1__0"]
)  # fmt: skip
qualified_ish = st.from_regex(
    r"[0-9a-fA-FxXoObBeE]([0-9a-fA-FxXoObBeE._-]{0,6}[0-9a-fA-F])?", fullmatch=True
)
prefix = st.sampled_from(["", "", "", "example.com/", "a.b/"])
annotation_key = st.one_of(
    typed_word, st.builds(lambda p, k: p + k, prefix, st.one_of(typed_word, qualified_ish)),
    hostile_text,
)
annotation_value = st.one_of(
    hostile_text,
    st.builds(lambda a, b: a + b, st.sampled_from(["\t", " \t", "\t\t", "x"]), hostile_text),
)
long_key = st.builds(
    lambda char, size: char * size,
    st.sampled_from(["k", "é", "<", "\n", '"', "\\", "\u2028", "a b"]),
    st.integers(160, 1100),
)
map_key = st.one_of(hostile_text, long_key, st.sampled_from(["<<", "=", "", "~"]))
json_scalar = st.one_of(
    hostile_text, st.booleans(), st.none(), st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
)  # fmt: skip
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(map_key, inner, max_size=3)
    ),
    max_leaves=8,
)


def _config_map(name: str, draw: Any) -> Callable[[], Any]:
    data = draw(st.dictionaries(mostly(st.from_regex(r"[-._a-zA-Z0-9]{1,20}", fullmatch=True),
                                       hostile_text), hostile_text, max_size=3))
    labels = draw(st.dictionaries(mostly(st.sampled_from(["app", "true", "0755", "1e3"]),
                                         hostile_text), mostly(typed_word, hostile_text),
                                  max_size=2))
    notes = draw(st.dictionaries(annotation_key, annotation_value, max_size=3))
    return lambda: ConfigMap(name, data=data, labels=labels, annotations=notes)  # fmt: skip


def _manifest(name: str, draw: Any) -> Callable[[], Any]:
    meta = {"name": name, "annotations": draw(st.dictionaries(annotation_key, annotation_value,
                                                               max_size=2))}
    body = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta,
            "spec": draw(st.dictionaries(map_key, json_value, max_size=4))}  # fmt: skip
    return lambda: Manifest(body)


def _list(name: str, draw: Any) -> Callable[[], Any]:
    items = [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": f"{name}-item-{i}",
                      "annotations": draw(st.dictionaries(annotation_key, annotation_value,
                                                          max_size=2))},
         "data": draw(st.dictionaries(st.sampled_from(["a", "b"]), hostile_text, max_size=2))}
        for i in range(draw(st.integers(1, 2)))
    ]  # fmt: skip
    body = {"apiVersion": "v1", "kind": "List", "metadata": {"name": name}, "items": items}
    return lambda: Manifest(body)


MAKERS = (_config_map, _manifest, _list)


def _accepted(makers: list[Callable[[], Any]]) -> list[Callable[[], Any]]:
    """The resources kubegen builds and renders on their own; the others must be refused
    cleanly (a KubegenError with a message)."""
    kept = []
    for make in makers:
        stack = Stack("fuzz", namespace="fuzz", create_namespace=False)
        try:
            resource = make()
            stack.add(resource)
            render_files(stack.objects())
        except KubegenError as exc:
            assert str(exc).strip()
            continue
        kept.append(make)
    return kept


def _expected(objects: list[Any]) -> dict[tuple[str, str], Any]:
    """What kustomize must print: each object; a List's items instead of the List. An empty
    ``metadata.annotations`` is not in the file (kubegen leaves it out: to kustomize and the API
    server it is the same as none)."""
    out = {}
    for obj in objects:
        bodies = obj.body["items"] if obj.body["kind"] == "List" else [obj.body]
        for body in bodies:
            meta = body["metadata"]
            if meta.get("annotations") == {}:
                body = {**body, "metadata": {k: v for k, v in meta.items() if k != "annotations"}}
            out[(body["kind"], meta["name"])] = body
    return out


def _kustomize(files: dict[str, bytes], folder: Path) -> list[Any]:
    assert KUBECTL is not None
    for path, content in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(content)
    built = subprocess.run(
        [KUBECTL, "kustomize", str(folder)], capture_output=True, check=False, timeout=120
    )
    assert built.returncode == 0, built.stderr.decode()[-2000:]
    return parse_documents(built.stdout, GoLikeLoader)


@needs_kubectl
@settings(max_examples=budget(6, 150))
@given(data=st.data())
def test_kustomize_reads_back_every_value_kubegen_accepts(tmp_path_factory, data):
    makers = [
        data.draw(st.sampled_from(MAKERS))(f"o-{index}", data.draw)
        for index in range(data.draw(st.integers(3, 7)))
    ]
    kept = _accepted(makers)
    if not kept:
        return
    stack = Stack("fuzz", namespace="fuzz", create_namespace=False)
    for make in kept:
        stack.add(make())
    objects = stack.objects()
    files = render_files(objects)
    assert KUSTOMIZATION in files
    docs = _kustomize(files, tmp_path_factory.mktemp("kustomize"))
    built = {(doc["kind"], doc["metadata"]["name"]): doc for doc in docs}
    expected = _expected(objects)
    assert set(built) == set(expected)
    for key, body in expected.items():
        assert json_equal(built[key], body), (key, built[key], body)


# --- what kustomize cannot read is refused at render time, by field, with the fix -------------

REFUSED = {
    "annotation key true": (ConfigMap("c", annotations={"true": "x"}), "metadata.annotations.true"),
    "annotation key null": (ConfigMap("c", annotations={"null": "x"}), "metadata.annotations.null"),
    "annotation key 0755": (ConfigMap("c", annotations={"0755": "x"}), "metadata.annotations.0755"),
    "annotation key 1e3": (ConfigMap("c", annotations={"1e3": "x"}), "metadata.annotations.1e3"),
    "list item annotation -.inf": (
        Manifest({"apiVersion": "v1", "kind": "List", "metadata": {"name": "l"}, "items": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "i",
             "annotations": {"a": "b", "-.inf": "x"}}}]}),
        "items[0].metadata.annotations.-.inf",
    ),
    "annotation value tab": (ConfigMap("c", annotations={"a": "\ta\nb"}), "metadata.annotations.a"),
    "list item annotation": (
        Manifest({"apiVersion": "v1", "kind": "List", "metadata": {"name": "l"}, "items": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "i",
             "annotations": {"0x1F": "x"}}}]}),
        "items[0].metadata.annotations.0x1F",
    ),
    "list item empty annotation key": (
        Manifest({"apiVersion": "v1", "kind": "List", "metadata": {"name": "l"}, "items": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "i",
             "annotations": {"": "x"}}}]}),
        "items[0].metadata.annotations",
    ),
    "merge key": (
        Manifest({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                  "data": {"<<": "v", "a": "b"}}),
        "data.<<",
    ),
    "key of 1,023 characters": (
        Manifest({"apiVersion": "example.com/v1", "kind": "W", "metadata": {"name": "w"},
                  "spec": {"nested": [{"k" * 1023: "v"}]}}),
        "spec.nested[0].kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk…",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(REFUSED))
def test_what_kustomize_cannot_read_is_refused_by_field(name):
    resource, field = REFUSED[name]
    stack = Stack("s", namespace="s", create_namespace=False)
    stack.add(resource)
    with pytest.raises(ValidationError) as caught:
        render_files(stack.objects())
    assert caught.value.field == field
    assert caught.value.fix and "kustomize" in str(caught.value)


ALLOWED = {
    "annotation keys YAML 1.2 reads as strings": {"on": "x", "yes": "y", "2fa": "z", "12-30": ""},
    "prefixed typed keys": {"example.com/true": "x", "a.b/0755": "y"},
    "values that start with a tab on one line": {"a": "\tx", "b": "\t", "c": " \ta\nb"},
}


@needs_kubectl
def test_near_misses_are_accepted_and_read_back(tmp_path):
    stack = Stack("s", namespace="s", create_namespace=False)
    for index, notes in enumerate(ALLOWED.values()):
        stack.add(ConfigMap(f"c{index}", annotations=notes, data={"k" * 253: "v"}))
    stack.add(Manifest({"apiVersion": "example.com/v1", "kind": "W", "metadata": {"name": "w"},
                        "spec": {"é" * 1022: 1, "=": "=", "~": None, "a": {"": "empty key"}}}))
    objects = stack.objects()
    docs = _kustomize(render_files(objects), tmp_path)
    built = {(doc["kind"], doc["metadata"]["name"]): doc for doc in docs}
    for key, body in _expected(objects).items():
        assert json_equal(built[key], body), key
