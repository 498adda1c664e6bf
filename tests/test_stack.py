"""Stack composition, validation messages with origins, and render invariants."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubegen import ConfigMap, ConflictError, Manifest, Namespace, Stack, ValidationError
from kubegen._render.files import render_files


def _render(stack: Stack) -> dict[str, bytes]:
    return render_files(stack.objects())


def test_stack_creates_its_namespace_with_restricted_labels():
    stack = Stack("shop", namespace="shop")
    stack.add(ConfigMap("settings", data={"a": "1"}))
    files = _render(stack)
    ns = yaml.safe_load(files["_cluster/namespace-shop.yaml"])
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/warn"] == "restricted"
    cm = yaml.safe_load(files["shop/configmap-settings.yaml"])
    assert cm["metadata"]["namespace"] == "shop"
    assert cm["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "kubegen"}


def test_invalid_name_names_field_value_fix_and_stack_line():
    with pytest.raises(ValidationError) as info:
        ConfigMap("Bad_Name")
    text = str(info.value)
    assert "test_stack.py:" in text
    assert "ConfigMap Bad_Name" in text
    assert "field 'name' = 'Bad_Name'" in text
    assert "DNS-1123 subdomain" in text
    assert "Fix: use a name such as 'bad-name'" in text


def test_unknown_field_is_reported_as_such():
    with pytest.raises(ValidationError, match=r"field 'replica' .*not a field"):
        ConfigMap("x", replica=3)


def test_duplicate_object_names_both_origins():
    stack = Stack("s", namespace="s")
    stack.add(ConfigMap("same"))
    stack.add(ConfigMap("same"))
    with pytest.raises(ConflictError) as info:
        stack.objects()
    text = str(info.value)
    assert "ConfigMap s/same: is defined twice (first defined at tests/test_stack.py:" in text


def test_same_name_in_other_namespace_is_no_duplicate():
    stack = Stack("s", namespace="a")
    stack.add(ConfigMap("same"))
    stack.add(ConfigMap("same", namespace="b"))
    assert len([o for o in stack.objects() if o.kind == "ConfigMap"]) == 2


def test_weaker_pod_security_needs_a_reason_that_is_rendered():
    with pytest.raises(ValidationError, match="weakens the restricted default"):
        Namespace("ops", pod_security="baseline")
    stack = Stack("s")
    stack.add(Namespace("ops", pod_security="baseline", reason="node exporter needs hostPath"))
    ns = yaml.safe_load(_render(stack)["_cluster/namespace-ops.yaml"])
    annotations = ns["metadata"]["annotations"]
    assert annotations["kubegen.dev/opt-out-pod-security"] == "node exporter needs hostPath"


def test_manifest_escape_hatch_validates_identity():
    with pytest.raises(ValidationError, match="apiVersion 'apps' is not of the form"):
        Manifest({"apiVersion": "apps", "kind": "Deployment", "metadata": {"name": "x"}})
    with pytest.raises(ValidationError, match=r"metadata\.name is missing"):
        Manifest({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})
    with pytest.raises(ValidationError, match=r"metadata\.name 5 is a int, not a string"):
        Manifest({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": 5}})
    with pytest.raises(ValidationError, match="DNS-1123 subdomain"):
        Manifest({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "../x"}})


def test_manifest_is_canonicalised_and_scoped():
    stack = Stack("s", namespace="apps")
    stack.add(Manifest({"spec": {"b": 1, "a": 2}, "kind": "LimitRange", "apiVersion": "v1",
                        "metadata": {"labels": {"z": "1", "a": "2"}, "name": "lr"}}))
    stack.add(Manifest({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                        "metadata": {"name": "high", "namespace": "ignored"}, "value": 1000}))
    files = _render(stack)
    text = files["apps/limitrange-lr.yaml"].decode()
    _, cache, body = text.split("\n", 2)
    assert cache.startswith("# kubegen-cache: object=")
    assert body.startswith("apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: lr\n"
                           "  namespace: apps\n  labels:\n")
    assert list(yaml.safe_load(text)["spec"]) == ["b", "a"]  # author order kept
    assert "namespace" not in yaml.safe_load(files["_cluster/priorityclass-high.yaml"])["metadata"]


def test_kind_in_two_groups_gets_the_group_in_its_file_name():
    stack = Stack("s", namespace="s")
    for group in ("argoproj.io", "example.com"):
        stack.add(Manifest({"apiVersion": f"{group}/v1", "kind": "Application",
                            "metadata": {"name": "web"}}))
    assert {"s/application.argoproj.io-web.yaml", "s/application.example.com-web.yaml"} <= set(
        _render(stack))


def test_kustomization_lists_every_file_sorted():
    stack = Stack("s", namespace="s")
    for name in ("b", "a", "c"):
        stack.add(ConfigMap(name))
    files = _render(stack)
    kust = yaml.safe_load(files["kustomization.yaml"])
    listed = kust["resources"]
    assert listed == sorted(listed)
    assert set(listed) == set(files) - {"kustomization.yaml"}


_keys = st.from_regex(r"[a-z]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_values = st.from_regex(r"([A-Za-z0-9]([A-Za-z0-9_.-]{0,20}[A-Za-z0-9])?)?", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(_keys, _values, min_size=1, max_size=8), st.randoms())
def test_label_and_annotation_insertion_order_never_changes_output(labels, rnd):
    items = list(labels.items())
    shuffled = items[:]
    rnd.shuffle(shuffled)

    def build(pairs: list[tuple[str, str]]) -> dict[str, bytes]:
        stack = Stack("s", namespace="s", labels=dict(pairs))
        stack.add(ConfigMap("cm", labels=dict(pairs), annotations=dict(reversed(pairs)),
                            data=dict(pairs)))
        return _render(stack)

    assert build(items) == build(shuffled)


# Text kustomize can carry: render refuses DEL, C1 controls and U+FFFE/U+FFFF (issue 9).
_portable = st.characters(
    exclude_categories=("Cs",),
    exclude_characters="".join(map(chr, range(0x7F, 0xA0))) + "\ufffe\uffff",
)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(_keys, st.text(_portable, max_size=40), max_size=6))
def test_rendering_is_idempotent(data):
    def build() -> dict[str, bytes]:
        stack = Stack("s", namespace="s")
        stack.add(ConfigMap("cm", data=data))
        return _render(stack)

    first = build()
    assert first == build()
    assert all(v.endswith(b"\n") and not v.endswith(b"\n\n") for v in first.values())


def test_objects_a_pod_reads_are_rendered_even_when_never_added():
    from kubegen import ConfigFiles, Deployment, HttpProbe

    config = ConfigMap("app", data={"a.conf": "x=1"})
    stack = Stack("s", namespace="apps")
    stack.add(Deployment("web", image="ghcr.io/acme/web:1.0.0", port=8080,
                         readiness=HttpProbe("/"), liveness=HttpProbe("/"),
                         mounts={"/etc/app": ConfigFiles(config)}))
    files = _render(stack)
    assert "apps/configmap-app.yaml" in files
    assert config.namespace == "apps"
    other = Stack("t", namespace="t")
    with pytest.raises(ConflictError, match="uses ConfigMap apps/app, which belongs to another"):
        other.add(Deployment("web", image="ghcr.io/acme/web:1.0.0", port=8080,
                             readiness=HttpProbe("/"), liveness=HttpProbe("/"),
                             mounts={"/etc/app": ConfigFiles(config)}))
        other.objects()


def test_namespaced_object_without_any_namespace_is_an_error():
    stack = Stack("s")
    stack.add(ConfigMap("settings"))
    with pytest.raises(ValidationError) as info:
        stack.objects()
    assert "ConfigMap settings: field 'namespace': has no namespace" in str(info.value)
    loose = Stack("t")
    loose.add(Manifest({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}))
    with pytest.raises(ValidationError, match="has no namespace"):
        loose.objects()


def test_stack_argument_errors_name_the_argument():
    with pytest.raises(ValidationError, match=r"Stack s: field 'namespace' = 'Shop_NS': must be"):
        Stack("s", namespace="Shop_NS")
