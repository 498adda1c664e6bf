"""Hostile values: any text in any field gives a clear KubegenError or output that reads back
exactly (PyYAML, both loaders; ``kubectl kustomize`` in a smaller sample), never a crash and never
YAML injection (no value can add a key, an object or a document).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_support import (
    SPECIALS,
    GoLikeLoader,
    assert_api_server_accepts_metadata,
    assert_files_round_trip,
    budget,
    hostile_text,
    maybe_hostile_name,
    mostly,
    parse_documents,
    plaintext_secrets,
    strict_equal,
)

from kubegen import (
    ConfigMap,
    Container,
    Deployment,
    HttpProbe,
    KubegenError,
    Manifest,
    Namespace,
    Port,
    Stack,
)
from kubegen._render.files import render_files
from kubegen._render.layout import KUSTOMIZATION

label_key = mostly(
    st.sampled_from(["app", "tier", "example.com/team", "a.b-c_d", "x" * 63, "k8s.io/" + "y" * 63]),
    hostile_text,
)
label_value = mostly(st.sampled_from(["", "v1", "a-b_c.d", "z" * 63]), hostile_text)
annotation_key = mostly(
    st.sampled_from(["note", "example.com/why", "a.b/c-d_e.f", "kubegen.dev/x"]), hostile_text
)
config_key = mostly(st.from_regex(r"[-._a-zA-Z0-9]{1,30}", fullmatch=True), hostile_text)

json_scalar = st.one_of(
    hostile_text,
    st.booleans(),
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)
    ),
    max_leaves=12,
)


def _render(stack: Stack) -> tuple[dict[str, bytes], dict[str, Any]] | KubegenError:
    """Render ``stack`` in memory; return files and the body of each file, or the error."""
    try:
        objects = stack.objects()
        files = render_files(objects)
    except KubegenError as exc:
        assert str(exc).strip()
        return exc
    assert render_files(stack.objects()) == files, "rendering twice gave different bytes"
    bodies = {}
    for obj in objects:
        [path] = [p for p, data in files.items() if p != KUSTOMIZATION and data and _is(obj, p)]
        bodies[path] = obj.body
    return files, bodies


def _is(obj: Any, path: str) -> bool:
    folder, _, rest = path.partition("/")
    return (
        folder == (obj.namespace or "_cluster")
        and rest.endswith(f"-{obj.name}.yaml")
        and (rest.startswith(obj.kind.lower()))
    )


def _check_output(files: dict[str, bytes], bodies: dict[str, Any]) -> dict[str, Any]:
    assert_files_round_trip(files, bodies)
    docs = {path: parse_documents(data)[0] for path, data in files.items()}
    assert plaintext_secrets(list(docs.values())) == []
    for path, doc in docs.items():
        if path != KUSTOMIZATION:
            assert_api_server_accepts_metadata(doc)
    return docs


def _build(make: Any) -> Any:
    """Run a builder call; a KubegenError is a fine answer, anything else fails the test."""
    try:
        return make()
    except KubegenError as exc:
        assert str(exc).strip()
        return exc


@given(
    name=maybe_hostile_name,
    data=st.dictionaries(config_key, hostile_text, max_size=5),
    labels=st.dictionaries(label_key, label_value, max_size=3),
    annotations=st.dictionaries(annotation_key, hostile_text, max_size=3),
)
def test_configmap_values_read_back_exactly(name, data, labels, annotations):
    stack = Stack("fuzz", namespace="fuzz")
    built = _build(lambda: ConfigMap(name, data=data, labels=labels, annotations=annotations))
    if isinstance(built, KubegenError):
        return
    stack.add(built)
    result = _render(stack)
    if isinstance(result, KubegenError):
        return
    docs = _check_output(*result)
    doc = docs[f"fuzz/configmap-{name}.yaml"]
    assert strict_equal(doc.get("data", {}), data)
    assert strict_equal(doc["metadata"].get("annotations", {}), annotations)
    assert labels.items() <= doc["metadata"]["labels"].items()
    assert set(doc) == {"apiVersion", "kind", "metadata", "data"}
    assert set(doc["metadata"]) <= {"name", "namespace", "labels", "annotations"}


@given(
    what=mostly(st.sampled_from(["pod-security", "host-network", "x.y_z"]), hostile_text),
    reason=hostile_text,
)
def test_opt_out_reasons_read_back_and_keys_are_checked(what, reason):
    config = ConfigMap("c")
    built = _build(lambda: config.opt_out(what, reason))
    if isinstance(built, KubegenError):
        return
    stack = Stack("fuzz", namespace="fuzz")
    stack.add(config)
    result = _render(stack)
    if isinstance(result, KubegenError):
        return
    notes = _check_output(*result)["fuzz/configmap-c.yaml"]["metadata"]["annotations"]
    assert strict_equal(notes, {f"kubegen.dev/opt-out-{what}": reason.strip()})


@given(
    name=maybe_hostile_name,
    reason=hostile_text,
    level=st.sampled_from(["restricted", "baseline", "privileged"]),
    annotations=st.dictionaries(annotation_key, hostile_text, max_size=3),
)
def test_namespace_values_read_back_exactly(name, reason, level, annotations):
    stack = Stack("fuzz", create_namespace=False)
    built = _build(
        lambda: Namespace(name, pod_security=level, reason=reason, annotations=annotations)
    )
    if isinstance(built, KubegenError):
        return
    stack.add(built)
    result = _render(stack)
    if isinstance(result, KubegenError):
        return
    doc = _check_output(*result)[f"_cluster/namespace-{name}.yaml"]
    notes = dict(doc["metadata"].get("annotations", {}))
    if level != "restricted":  # the reason as given (Namespace) or whitespace-collapsed (Reason)
        got = notes.pop("kubegen.dev/opt-out-pod-security")
        assert " ".join(got.split()) == " ".join(reason.split())
    assert strict_equal(notes, annotations)


@given(
    name=maybe_hostile_name,
    namespace=maybe_hostile_name,
    labels=st.dictionaries(label_key, label_value, max_size=3),
)
def test_stack_values_are_checked(name, namespace, labels):
    built = _build(lambda: Stack(name, namespace=namespace, labels=labels))
    if isinstance(built, KubegenError):
        return
    result = _render(built)
    assert not isinstance(result, KubegenError)
    _check_output(*result)


@given(
    name=maybe_hostile_name,
    namespace=st.one_of(st.none(), st.none(), maybe_hostile_name),
    kind=mostly(st.sampled_from(["Widget", "ConfigMap", "LimitRange", "Namespace"]), hostile_text),
    api_version=mostly(st.sampled_from(["v1", "example.com/v1alpha1"]), hostile_text),
    spec=st.dictionaries(hostile_text, json_value, max_size=4),
)
def test_manifest_bodies_read_back_exactly(name, namespace, kind, api_version, spec):
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    body = {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}
    stack = Stack("fuzz", namespace="fuzz")
    built = _build(lambda: Manifest(body))
    if isinstance(built, KubegenError):
        return
    stack.add(built)
    result = _render(stack)
    if isinstance(result, KubegenError):
        return
    docs = _check_output(*result)
    [doc] = [d for p, d in docs.items() if p.endswith(f"-{name}.yaml") and d["kind"] == kind]
    assert strict_equal(doc["spec"], spec)
    assert set(doc) == {"apiVersion", "kind", "metadata", "spec"}


IMAGE = "ghcr.io/acme/api:1.2.3@sha256:" + "0123456789abcdef" * 4
env_name = mostly(st.from_regex(r"[A-Z_][A-Z0-9_]{0,15}", fullmatch=True), hostile_text)
probe_path = mostly(st.builds(lambda t: "/" + t, hostile_text), hostile_text)


@given(
    env=st.dictionaries(env_name, hostile_text, max_size=4),
    args=st.lists(hostile_text, max_size=3),
    command=st.lists(hostile_text, min_size=1, max_size=2),
    annotations=st.dictionaries(annotation_key, hostile_text, max_size=2),
    path=probe_path,
)
def test_workload_text_reads_back_exactly(env, args, command, annotations, path):
    """Env values, args and commands are the text fields of every workload's containers."""

    def make() -> Deployment:
        container = Container(
            image=IMAGE,
            env=env,
            args=args,
            command=command,
            ports=[Port(8080, name="http")],
            readiness=HttpProbe(path),
            liveness=HttpProbe("/healthz"),
        )
        return Deployment("api", container=container, annotations=annotations)

    built = _build(make)
    if isinstance(built, KubegenError):
        return
    stack = Stack("fuzz", namespace="fuzz")
    stack.add(built)
    result = _render(stack)
    if isinstance(result, KubegenError):
        return
    doc = _check_output(*result)["fuzz/deployment-api.yaml"]
    [container] = doc["spec"]["template"]["spec"]["containers"]
    assert strict_equal({e["name"]: e["value"] for e in container.get("env", [])}, env)
    assert strict_equal(container.get("args", []), args)
    assert strict_equal(container["command"], command)
    assert container["readinessProbe"]["httpGet"]["path"] == path
    assert annotations.items() <= doc["metadata"].get("annotations", {}).items()


@given(
    value=st.one_of(
        st.sets(st.integers(), max_size=2),
        st.binary(max_size=3),
        st.just(float("nan")),
        st.just(float("inf")),
        st.just(object()),
        st.just(2**64),
        st.just("\ud800"),
        st.dictionaries(st.integers(), st.text(), min_size=1),
    )
)
def test_manifest_refuses_what_json_cannot_hold(value):
    body = {"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"x": value}}
    with pytest.raises(KubegenError) as caught:
        Manifest(body)
    assert "spec.x" in str(caught.value)


def test_manifest_refuses_a_body_that_contains_itself():
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}}
    body["spec"] = {"again": body}
    with pytest.raises(KubegenError, match="nested more than"):
        Manifest(body)


def test_shared_sub_objects_render_without_anchors():
    shared = {"cpu": "100m", "memory": "64Mi"}
    stack = Stack("fuzz", namespace="fuzz")
    stack.add(
        Manifest(
            {
                "apiVersion": "v1",
                "kind": "Widget",
                "metadata": {"name": "w"},
                "spec": {"a": shared, "b": shared, "c": [shared, shared]},
            }
        )
    )
    files, bodies = _render(stack)  # type: ignore[misc]
    _check_output(files, bodies)


UNPORTABLE = "\x7f\x80\x85\x9f\ufffe\uffff"  # kustomize rejects them or reads NEL as a space
PORTABLE = [s for s in SPECIALS if not any(c in s for c in UNPORTABLE)]


def test_every_special_string_reads_back_from_one_configmap():
    data = {f"k{i:03d}": text for i, text in enumerate(PORTABLE)}
    stack = Stack("fuzz", namespace="fuzz")
    stack.add(ConfigMap("specials", data=data, annotations={"note": "\n".join(PORTABLE)}))
    files, bodies = _render(stack)  # type: ignore[misc]
    doc = _check_output(files, bodies)["fuzz/configmap-specials.yaml"]
    assert strict_equal(doc["data"], data)


@pytest.mark.parametrize("char", list(UNPORTABLE))
@pytest.mark.parametrize("where", ["data", "annotation", "manifest-key"])
def test_text_kustomize_cannot_carry_is_refused_by_field(char, where):
    stack = Stack("fuzz", namespace="fuzz")
    if where == "data":
        stack.add(ConfigMap("c", data={"k": f"a{char}b"}))
        field = "data.k"
    elif where == "annotation":
        stack.add(ConfigMap("c", annotations={"note": f"line\n{char}"}))
        field = "metadata.annotations.note"
    else:
        body = {
            "apiVersion": "v1",
            "kind": "Widget",
            "metadata": {"name": "c"},
            "spec": {"list": [{f"k{char}": "v"}]},
        }
        stack.add(Manifest(body))
        field = f"spec.list[0].k{char}"
    result = _render(stack)
    assert isinstance(result, KubegenError)
    assert result.field == field and f"U+{ord(char):04X}" in str(result)


# --- kubectl kustomize: a smaller sample, many values per process ------------------------------

KUBECTL = shutil.which("kubectl")


def _kustomize_round_trip(values: list[str], folder: Path) -> int:
    """Render one ConfigMap per value, build with kustomize, compare exactly; return how many
    values kubegen rendered. A value kubegen cannot render alone must be a KubegenError."""
    assert KUBECTL is not None
    stack = Stack("fuzz", namespace="fuzz")
    expected: dict[str, dict[str, str]] = {}
    for index, value in enumerate(values):
        name, data = f"value-{index:03d}", {"value": value}
        alone = Stack("fuzz", namespace="fuzz")
        alone.add(ConfigMap(name, data=data, annotations={"note": value}))
        if isinstance(_render(alone), KubegenError):
            continue
        stack.add(ConfigMap(name, data=data, annotations={"note": value}))
        expected[name] = data
    files, _ = _render(stack)  # type: ignore[misc]
    for path, content in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(content)
    built = subprocess.run(
        [KUBECTL, "kustomize", str(folder)], capture_output=True, check=False, timeout=60
    )
    assert built.returncode == 0, built.stderr.decode()
    docs = [d for d in parse_documents(built.stdout, GoLikeLoader) if d["kind"] == "ConfigMap"]
    assert strict_equal({d["metadata"]["name"]: d["data"] for d in docs}, expected)
    for doc in docs:
        note = {"note": expected[doc["metadata"]["name"]]["value"]}
        assert strict_equal(doc["metadata"]["annotations"], note)
    return len(expected)


needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


@needs_kubectl
def test_kustomize_reads_every_special_string_back(tmp_path):
    rendered = _kustomize_round_trip(SPECIALS, tmp_path)
    assert rendered == len(PORTABLE)  # refused: only what kustomize cannot carry


@needs_kubectl
@settings(max_examples=budget(4, 60))
@given(values=st.lists(hostile_text, min_size=5, max_size=12))
def test_kustomize_reads_hostile_values_back(tmp_path_factory, values):
    _kustomize_round_trip(values, tmp_path_factory.mktemp("kustomize"))
