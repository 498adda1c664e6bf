"""The digest cache in the committed files (:mod:`kubegen._render.cache`).

What it promises: reusing a file never changes a byte (a render over any earlier files writes
what a render from nothing writes), an unchanged object is neither emitted nor linted again by
the per-object rules, and any edit of the YAML below the cache line is seen. What it does not
promise: a digest recomputed on purpose passes ``check``; ``check --full`` catches that.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kubegen import ConfigMap, Deployment, HttpProbe, Manifest, Port, Stack
from kubegen._cli.app import app
from kubegen._manifests import ManifestObject, canonical_order
from kubegen._pipeline import lint_objects, stack_lint_key, stack_waivers
from kubegen._policy import annotate_waivers, lint
from kubegen._policy.engine import lint_clean
from kubegen._render import cache, files
from kubegen._render.files import plan_files, render_files

REPO = Path(__file__).resolve().parent.parent
EPOCHS = REPO / "tests" / "data" / "cache-epochs.json"
IMAGE = "ghcr.io/acme/api:2.3.1@sha256:" + "a" * 64
runner = CliRunner()


def _stack(version: str = "1.33", replicas: int = 2) -> Stack:
    stack = Stack("shop", namespace="shop", kubernetes_version=version)
    config = stack.add(ConfigMap("api", data={"LOG_LEVEL": "info"}))
    api = stack.add(Deployment("api", image=IMAGE, replicas=replicas, port=Port(8080, name="http"),
                               readiness=HttpProbe("/ready"), liveness=HttpProbe("/healthz"),
                               labels={"team": "payments"}))
    api.expose()
    assert config is not None
    return stack


def _render(stack: Stack, previous: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """What the pipeline writes for ``stack`` over ``previous`` (lint included)."""
    objects = stack.objects()
    annotate_waivers(objects, stack_waivers(stack))  # as the pipeline does first
    planned = plan_files(objects, previous=previous, lint_key=stack_lint_key(stack))
    planned.emit()
    report = lint_objects(stack, objects, known_clean=planned.known_clean())
    return planned.files(lint_clean(objects, report))


def test_object_files_carry_the_cache_line_and_the_kustomization_the_lint_key() -> None:
    out = _render(_stack())
    lines = out["shop/deployment-api.yaml"].decode().split("\n")
    assert re.fullmatch(r"# kubegen-cache: object=[0-9a-f]{16} text=[0-9a-f]{16} lint=clean",
                        lines[1])
    document = "\n".join(lines[2:]).encode()
    assert lines[1].split()[3] == "text=" + hashlib.sha256(document).hexdigest()[:16]
    assert out["kustomization.yaml"].decode().split("\n")[1] == (
        "# kubegen-cache: lint-key=" + stack_lint_key(_stack()))


def test_unchanged_files_are_reused_without_emitting(monkeypatch: pytest.MonkeyPatch) -> None:
    first = _render(_stack())
    emitted: list[str] = []
    real = files._render_one

    def counting(obj: ManifestObject, path: str) -> bytes:
        emitted.append(path)
        return real(obj, path)

    monkeypatch.setattr(files, "_render_one", counting)
    assert _render(_stack(), previous=first) == first
    assert emitted == []
    changed = _render(_stack(replicas=3), previous=first)
    assert emitted == ["shop/deployment-api.yaml"]  # only the object that changed
    assert changed["shop/deployment-api.yaml"] != first["shop/deployment-api.yaml"]


def test_an_edited_file_is_emitted_again_not_reused() -> None:
    first = _render(_stack())
    path = "shop/deployment-api.yaml"
    edited = dict(first)
    edited[path] = first[path].replace(b"readOnlyRootFilesystem: true",
                                       b"readOnlyRootFilesystem: false")
    assert edited[path] != first[path]
    assert _render(_stack(), previous=edited)[path] == first[path]
    garbled = dict(first)  # a cache line naming another text: not trusted either
    garbled[path] = re.sub(rb"text=[0-9a-f]{16}", b"text=" + b"0" * 16, first[path])
    planned = plan_files(_stack().objects(), previous=garbled, lint_key=stack_lint_key(_stack()))
    assert planned.reuse[planned.paths.index(path)] is None


def test_cache_lines_checked_ahead_decide_as_checking_them_here() -> None:
    """What the child reading the folder checks (checked_lines) leads to the same reuse as
    checking each file while planning: hand edits and garbled lines included."""
    first = _render(_stack())
    path = "shop/deployment-api.yaml"
    edited = dict(first)
    edited[path] = first[path].replace(b"replicas: 2", b"replicas: 9")
    edited["shop/configmap-api.yaml"] = re.sub(rb"text=[0-9a-f]{16}", b"text=" + b"0" * 16,
                                               first["shop/configmap-api.yaml"])
    checked = cache.checked_lines(edited)
    assert path not in checked and "shop/configmap-api.yaml" not in checked
    assert "shop/service-api.yaml" in checked
    objects = _stack().objects()
    ahead = plan_files(objects, previous=edited, lint_key=stack_lint_key(_stack()),
                       checked=checked)
    here = plan_files(objects, previous=edited, lint_key=stack_lint_key(_stack()))
    assert [r and (r.data, r.document, r.clean) for r in ahead.reuse] == [
        r and (r.data, r.document, r.clean) for r in here.reuse]
    assert sum(r is None for r in ahead.reuse) == 2  # the two edited files


LABEL_MAPS = st.dictionaries(st.sampled_from(["b", "a", "c", "app.kubernetes.io/name"]),
                             st.sampled_from(["x", "y", "1"]), max_size=4)


@settings(max_examples=200, deadline=None)
@given(LABEL_MAPS, LABEL_MAPS, st.booleans(), st.sampled_from(["", "0" * 16, "other"]))
def test_a_recorded_digest_never_changes_what_the_digest_is(
    labels: dict[str, str], selector: dict[str, str], shuffle: bool, other: str
) -> None:
    """object_digest with the file's recorded digest (its fast path tries the plain repr
    first) returns exactly what it returns without one: for label maps in any order, when the
    recorded digest is this object's, another object's, or garbage."""
    if shuffle:
        labels = dict(reversed(list(labels.items())))
    body = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "api", "labels": labels},
            "spec": {"selector": {"matchLabels": selector}, "ports": [{"port": 80}]}}
    proper = cache.object_digest("shop/pdb-api.yaml", body)
    assert proper is not None
    in_order = {"matchLabels": dict(sorted(selector.items()))}
    sorted_body = {**body, "metadata": {"name": "api", "labels": dict(sorted(labels.items()))},
                   "spec": {**body["spec"], "selector": in_order}}
    assert cache.object_digest("shop/pdb-api.yaml", sorted_body) == proper
    other_body = {**body, "kind": "ConfigMap"}
    recorded_values = [proper, cache.object_digest("shop/pdb-api.yaml", other_body), other]
    for recorded in recorded_values:
        assert recorded is not None
        assert cache.object_digest("shop/pdb-api.yaml", body, recorded.encode()) == proper


def test_builders_write_label_maps_in_the_order_the_emitter_does() -> None:
    """What makes the fast path hit: every map the emitter sorts is already sorted in what the
    builders build, so an unchanged object is matched by its plain repr."""
    for obj in _stack().objects():
        ordered = canonical_order(obj.body)
        assert cache._as_written(ordered) is ordered, obj.display


def test_per_object_rules_skip_known_clean_objects_and_cross_object_rules_do_not() -> None:
    bare = Manifest({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                     "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    stack = Stack("s", namespace="s")
    stack.add(bare)
    objects = stack.objects()
    pod = next(obj for obj in objects if obj.kind == "Pod")
    full = {f.rule_id for f in lint(objects).findings if f.object_key == pod.key}
    skipped = {f.rule_id for f in lint(objects, known_clean=[pod]).findings
               if f.object_key == pod.key}
    per_object = {"KG123", "KG126", "KG201", "KG207"}  # runAsNonRoot, drop ALL, RO root, tag
    cross = {"KG301"}  # the default ServiceAccount (shared ones are found across objects)
    assert per_object | cross <= full
    assert not per_object & skipped
    assert cross <= skipped


def test_clean_marks_are_trusted_only_under_the_same_lint_key() -> None:
    first = _render(_stack("1.33"))
    same = plan_files(_stack("1.33").objects(), previous=first,
                      lint_key=stack_lint_key(_stack("1.33")))
    assert len(same.known_clean()) == len(same.objects)
    other = plan_files(_stack("1.32").objects(), previous=first,
                       lint_key=stack_lint_key(_stack("1.32")))
    assert stack_lint_key(_stack("1.32")) != stack_lint_key(_stack("1.33"))
    assert other.known_clean() == []
    assert all(reuse is not None for reuse in other.reuse)  # the YAML itself is still reused


def test_objects_with_findings_are_never_marked_clean() -> None:
    stack = Stack("s", namespace="s")
    stack.add(Manifest({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                        "spec": {"containers": [{"name": "c", "image": "busybox"}]}}))
    stack.waive("KG123", reason="test")  # waived hits count as hits
    objects = stack.objects()
    out = render_files(objects, clean=lint_clean(objects, lint(objects)), lint_key="k")
    assert b"lint=clean" not in out["s/pod-p.yaml"]
    assert b"lint=clean" in out["s/networkpolicy-default-deny.yaml"]


_label = st.from_regex(r"[a-z]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_value = st.one_of(st.text(max_size=12), st.integers(-5, 5), st.booleans(), st.none(),
                   st.floats(allow_nan=False, allow_infinity=False, width=32))
_spec = st.recursive(_value, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_label, inner, max_size=3)), max_leaves=8)


@st.composite
def _manifests(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(st.sampled_from(["a", "b", "c"]), unique=True, min_size=1))
    return [
        {"apiVersion": "example.com/v1", "kind": "Widget",
         "metadata": {"name": name, "labels": draw(st.dictionaries(_label, _label, max_size=3))},
         "spec": draw(st.dictionaries(st.sampled_from(["labels", "x", "items"]), _spec,
                                      max_size=3))}
        for name in names
    ]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_manifests(), _manifests())
def test_rendering_over_any_earlier_files_writes_what_rendering_from_nothing_writes(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> None:
    def stack(bodies: list[dict[str, Any]]) -> Stack:
        made = Stack("s", namespace="s")
        for body in bodies:
            made.add(Manifest(json.loads(json.dumps(body))))
        return made

    try:
        earlier = _render(stack(before))
        fresh = _render(stack(after))
    except Exception:  # a body the render refuses either way: nothing to compare
        return
    assert _render(stack(after), previous=earlier) == fresh
    assert _render(stack(after), previous=fresh) == fresh


def test_check_catches_a_hand_edit_and_only_full_catches_a_forged_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n')
    package = tmp_path / "stacks" / "cachedemo"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "from kubegen import Deployment, HttpProbe, Port, Stack\n\n"
        "def build() -> Stack:\n"
        "    stack = Stack('shop', namespace='shop')\n"
        f"    stack.add(Deployment('api', image={IMAGE!r}, port=Port(8080, name='http'),\n"
        "        readiness=HttpProbe('/ready'), liveness=HttpProbe('/healthz')))\n"
        "    return stack\n"
    )
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["render", "stacks/cachedemo"]).exit_code == 0
    target = tmp_path / "output" / "cachedemo" / "shop" / "deployment-api.yaml"
    original = target.read_bytes()
    target.write_bytes(original.replace(b"readOnlyRootFilesystem: true",
                                        b"readOnlyRootFilesystem: false"))
    result = runner.invoke(app, ["check", "stacks/cachedemo"])
    assert result.exit_code == 1
    assert re.search(r"^- +readOnlyRootFilesystem: false$", result.output, re.M)  # the edit
    # The same edit with its text digest recomputed: the cache cannot tell, --full can.
    header, line, document = target.read_bytes().split(b"\n", 2)
    forged = re.sub(rb"text=[0-9a-f]{16}",
                    b"text=" + hashlib.sha256(document).hexdigest()[:16].encode(), line)
    target.write_bytes(b"\n".join([header, forged, document]))
    assert runner.invoke(app, ["check", "stacks/cachedemo"]).exit_code == 0
    full = runner.invoke(app, ["check", "--full", "stacks/cachedemo"])
    assert full.exit_code == 1
    assert "readOnlyRootFilesystem: false" in full.output


def _fingerprint(folders: list[str]) -> str:
    digest = hashlib.sha256()
    for folder in folders:
        root = REPO / folder
        paths = sorted(root.rglob("*.py")) if root.is_dir() else [root]
        for path in paths:
            digest.update(path.relative_to(REPO).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


RENDER_SOURCES = ["kubegen/_render", "kubegen/_manifests.py"]
LINT_SOURCES = ["kubegen/_policy", "kubegen/_coherence", "kubegen/_manifests.py"]


def test_the_epochs_were_looked_at_since_their_code_last_changed() -> None:
    """A change to the emitter may write an unchanged object differently, and a change to the
    rules may hit it differently: bump RENDER_EPOCH / LINT_EPOCH in kubegen/_render/cache.py
    when it does, then record the new fingerprints here (printed below)."""
    recorded = json.loads(EPOCHS.read_text())
    now = {
        "render": {"epoch": cache.RENDER_EPOCH, "sources": _fingerprint(RENDER_SOURCES)},
        "lint": {"epoch": cache.LINT_EPOCH, "sources": _fingerprint(LINT_SOURCES)},
    }
    assert recorded == now, f"update {EPOCHS.relative_to(REPO)} to {json.dumps(now)}"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_per_object_rules_find_the_same_on_an_object_alone(env: str) -> None:
    """The ``per_object`` flag is a promise: those rules' hits on an object come from that
    object alone (here: each object of an example stack, linted alone and with the rest)."""
    from kubegen import load_stack
    from kubegen._policy.registry import get_rule

    stack = load_stack(REPO / "stacks" / env)
    objects = stack.objects()

    def own(findings: Any, obj: ManifestObject) -> list[tuple[str, str, str]]:
        return sorted((f.rule_id, f.path, f.message) for f in findings
                      if f.object_key == obj.key and get_rule(f.rule_id).per_object)

    together = lint(objects, kubernetes_version="1.33").findings
    assert any(get_rule(f.rule_id).per_object for f in together)  # the check has something
    for obj in objects:
        alone = lint([obj], kubernetes_version="1.33").findings
        assert own(alone, obj) == own(together, obj), obj.display
