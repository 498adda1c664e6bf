"""The compiled schema check says "valid" exactly when jsonschema finds no error.

KG001 trusts :mod:`kubegen._policy.fastschema` for valid objects and asks jsonschema only when the
check fails, so a disagreement either hides a schema error or reports a bogus one. The tests break
real manifests in many ways (wrong types, nulls, unknown fields, missing required fields, enum
values, integral floats, booleans for numbers) and compare the two answers.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rbac_support import CLUSTER

from kubegen import (
    ConfigFiles,
    ConfigMap,
    CronJob,
    DaemonSet,
    Deployment,
    HttpProbe,
    Job,
    Port,
    Resources,
    Rule,
    Stack,
    StatefulSet,
)
from kubegen._policy import lint
from kubegen._policy.fastschema import compile_schema
from kubegen._policy.schema import _load, check_for, schema_for, validator_for
from tests.policy_factories import good_stack

VERSION = (1, 33)
IMAGE = "ghcr.io/acme/api:1.2.3@sha256:" + "a" * 64
PROBES = {"readiness": HttpProbe("/ready"), "liveness": HttpProbe("/healthz")}


def _built_objects() -> list[dict[str, Any]]:
    """Manifests as kubegen builds them: every kind a stack commonly renders."""
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    config = stack.add(ConfigMap("settings", data={"A": "1"}))
    api = stack.add(
        Deployment(
            "api", image=IMAGE, port=Port(8080, name="http"), replicas=2,
            resources=Resources(cpu="100m", memory="128Mi"),
            mounts={"/etc/app": ConfigFiles(config)}, **PROBES,
        )
    )
    api.expose()
    db = stack.add(
        StatefulSet("db", image=IMAGE, port=Port(5432, name="pg"), storage="1Gi", **PROBES)
    )
    api.connect_to(db, port="pg")
    api.grant(Rule(resources=["configmaps"], verbs=["get"]))
    stack.add(DaemonSet("agent", image=IMAGE))
    stack.add(Job("migrate", image=IMAGE))
    stack.add(CronJob("report", image=IMAGE, schedule="0 3 * * *"))
    return [obj.body for obj in stack.objects()]


OBJECTS = _built_objects() + [obj.body for obj in good_stack()]


def _agree(body: Any, key: tuple[str, str] | None = None) -> bool:
    """Assert both validators of ``key`` (default: the body's own) agree on ``body``."""
    api_version, kind = key or (body.get("apiVersion"), body.get("kind"))
    check = check_for(VERSION, api_version, kind)
    validator = validator_for(VERSION, api_version, kind)
    assert check is not None and validator is not None, (api_version, kind)
    slow = not any(True for _ in validator.iter_errors(body))
    assert check(body) is slow, (slow, body)
    return slow


def test_every_built_object_is_valid_for_both() -> None:
    kinds = {(b["apiVersion"], b["kind"]) for b in OBJECTS}
    assert len(kinds) >= 13
    for body in OBJECTS:
        assert _agree(body)


def test_every_kubernetes_kind_compiles() -> None:
    """No built-in kind needs the jsonschema fallback (else KG001 would be slow for it)."""
    schemas = _load(VERSION)
    for group, version, kind in schemas.kinds:
        api_version = f"{group}/{version}" if group else version
        assert schema_for(VERSION, api_version, kind) is not None
        assert check_for(VERSION, api_version, kind) is not None, (api_version, kind)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


JSON = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([1.0, 2.5, -0.0]),
        st.sampled_from(["", "x", "TCP", "Always", "IfNotPresent", "RuntimeDefault", "1"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=2),
        st.dictionaries(st.sampled_from(["name", "bogus", "type", "port"]), inner, max_size=2),
    ),
    max_leaves=4,
)  # fmt: skip


@st.composite
def broken(draw: st.DrawFn) -> dict[str, Any]:
    """A built manifest with one to three random edits somewhere inside it."""
    body = copy.deepcopy(draw(st.sampled_from(OBJECTS)))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(body) if p and p[0] not in ("apiVersion", "kind")]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _get(body, path[:-1])
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(JSON)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(st.sampled_from(["bogus", "name", "spec", "x"]))] = draw(JSON)
    return body


def test_every_single_edit_gets_the_same_verdict() -> None:
    """Each field of one object per kind set to null, a string, a number, an object, a list."""
    firsts = {(b["apiVersion"], b["kind"]): b for b in reversed(OBJECTS)}
    for key, original in firsts.items():
        for path in _paths(original)[1:]:
            for value in (None, "bogus", 1, {"x": 1}, []):
                body = copy.deepcopy(original)
                _get(body, path[:-1])[path[-1]] = value
                _agree(body, key)


@settings(max_examples=300, deadline=None)
@given(broken())
def test_broken_manifests_get_the_same_verdict(body: dict[str, Any]) -> None:
    _agree(body)


@pytest.mark.parametrize(
    ("value", "valid"),
    [(2, True), (2.0, True), (2.5, False), (True, False), ("2", False), (None, True)],
)
def test_integers_follow_jsonschema(value: Any, valid: bool) -> None:
    body = copy.deepcopy(next(b for b in OBJECTS if b["kind"] == "Deployment"))
    body["spec"]["replicas"] = value
    assert _agree(body) is valid


TYPE_NAMES = ["string", "object", "array", "boolean", "null", "integer", "number"]
KEYS = st.sampled_from(["a", "b", "c"])


def _schemas(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {},
        optional={
            "type": st.one_of(
                st.sampled_from(TYPE_NAMES), st.lists(st.sampled_from(TYPE_NAMES), max_size=3)
            ),
            "properties": st.dictionaries(KEYS, inner, max_size=2),
            "additionalProperties": st.one_of(st.booleans(), inner),
            "required": st.lists(KEYS, max_size=2, unique=True),
            "items": inner,
            "enum": st.lists(st.sampled_from(["x", "y", ""]), min_size=1, max_size=2),
            "oneOf": st.lists(inner, min_size=1, max_size=3),
            "description": st.just("ignored"),
        },
    )


SCHEMA = st.recursive(st.one_of(st.booleans(), st.just({})), _schemas, max_leaves=6)
INSTANCE = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from([1.0, 0.5]),
        st.sampled_from(["x", "y", "", "z"]),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=6,
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(SCHEMA, st.lists(INSTANCE, min_size=1, max_size=4))
def test_random_schemas_get_the_same_verdict(schema: Any, instances: list[Any]) -> None:
    """Every combination of the supported keywords, against jsonschema itself."""
    from jsonschema import Draft202012Validator

    check = compile_schema(schema, {})
    assert check is not None
    validator = Draft202012Validator(schema)
    for instance in instances:
        assert check(instance) is validator.is_valid(instance), (schema, instance)


def test_unsupported_keywords_fall_back() -> None:
    assert compile_schema({"type": "string", "pattern": "^a"}, {}) is None
    assert compile_schema({"$ref": "#/$defs/missing"}, {}) is None
    assert compile_schema({"enum": [1, "a"]}, {}) is None
    check = compile_schema({"type": "object", "properties": {"a": {"enum": ["x"]}}}, {})
    assert check is not None
    assert check({"a": "x"}) and not check({"a": "y"}) and check({"b": 1})


def test_recursive_definitions_compile_through_refs() -> None:
    defs = {
        "Node": {
            "type": "object",
            "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
            "additionalProperties": False,
        }
    }
    check = compile_schema({"$ref": "#/$defs/Node"}, defs)
    assert check is not None
    assert check({"children": [{"children": []}]})
    assert not check({"children": [{"children": [{"extra": 1}]}]})


def test_lint_reports_schema_errors_through_the_fast_path() -> None:
    objects = good_stack()
    deployment = next(o for o in objects if o.kind == "Deployment")
    deployment.body["spec"]["replicas"] = "three"
    deployment.body["spec"]["bogus"] = 1
    findings = [f for f in lint(objects).findings if f.rule_id == "KG001"]
    assert {(f.path, f.message.split(" (schema")[0]) for f in findings} == {
        ("spec.replicas", 'is "three", expected integer'),
        ("spec.bogus", "unknown field 'bogus'"),
    }
