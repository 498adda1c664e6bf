"""Shortcuts in the policy engine answer exactly like the plain code they replace.

Each test names the shortcut it guards: exact-type leaves in the compiled schema check, cycles
in the schema definitions found per name, the manifest accessors that skip ``str()``, and the
opt-out index reusing the lint context's pod views.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubegen._manifests import ManifestObject, group_of
from kubegen._policy.context import LintContext
from kubegen._policy.fastschema import compile_schema
from kubegen._policy.opt_outs import OptOutIndex
from kubegen._policy.schema import _load, _refs, shipped_versions
from kubegen._policy.selectors import _expression_matches, selector_matches
from tests.policy_factories import find, good_stack


class Text(str):
    pass


class Number(int):
    pass


LEAF_TYPES = ["string", "integer", "boolean", "object", "array", "number"]
leaf_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=3),
    st.builds(Text, st.text(max_size=3)),
    st.builds(Number, st.integers()),
    st.just({}),
    st.just([]),
    st.just({"a": 1}),
    st.just([1, "x"]),
)
leaf_schemas = st.builds(
    lambda name, null: {"type": [name, "null"] if null else name},
    st.sampled_from(LEAF_TYPES),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(leaf_schemas, leaf_values, st.booleans())
def test_exact_type_leaves_agree_with_jsonschema(leaf: Any, value: Any, strict: bool) -> None:
    """A value whose exact type passes a leaf skips the leaf's call; the verdict is the same
    in a strict object, a general one (additionalProperties) and a list."""
    from jsonschema import Draft202012Validator

    schemas = [
        {"type": "object", "properties": {"f": leaf}, "additionalProperties": not strict},
        {"type": "object", "additionalProperties": leaf},
        {"type": "array", "items": leaf},
    ]
    instances = [{"f": value}, {"f": value}, [value, value]]
    for schema, instance in zip(schemas, instances, strict=True):
        check = compile_schema(schema, {})
        assert check is not None
        assert check(instance) is Draft202012Validator(schema).is_valid(instance), (schema, value)


def test_bools_are_not_integers_on_the_fast_path() -> None:
    check = compile_schema(
        {"properties": {"n": {"type": ["integer", "null"]}}, "additionalProperties": False}, {}
    )
    assert check is not None
    assert check({"n": 3}) and check({"n": None}) and check({"n": 2.0})
    assert not check({"n": True}) and not check({"n": "3"})


def _old_recursive(defs: dict[str, Any]) -> frozenset[str]:
    """The whole-API cycle search that :class:`_Cycles` replaced (the oracle)."""
    edges = {name: set(_refs(body)) for name, body in defs.items()}
    cyclic = set()
    for start in edges:
        stack, seen = list(edges[start]), set()
        while stack:
            name = stack.pop()
            if name == start:
                cyclic.add(start)
                break
            if name not in seen and name in edges:
                seen.add(name)
                stack.extend(edges[name])
    return frozenset(cyclic)


@pytest.mark.parametrize("version", shipped_versions()[-2:])
def test_cycles_found_per_name_match_the_whole_search(version: tuple[int, int]) -> None:
    schemas = _load(version)
    expected = _old_recursive(schemas.defs)
    assert expected  # JSONSchemaProps refers to itself in every version
    assert {name for name in schemas.defs if name in schemas.recursive} == expected
    assert "no.such.Definition" not in schemas.recursive


def _old_accessors(obj: ManifestObject) -> tuple[Any, ...]:
    meta = obj.body.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    api_version = str(obj.body.get("apiVersion", ""))
    ns = meta.get("namespace")
    return (
        api_version,
        str(obj.body.get("kind", "")),
        group_of(api_version),
        meta,
        str(meta.get("name", "")),
        None if ns is None else str(ns),
    )


odd = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.builds(Text, st.text(max_size=5)))


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["apiVersion", "kind", "metadata"]), odd),
    st.dictionaries(st.sampled_from(["name", "namespace", "labels"]), odd),
    st.booleans(),
)
def test_manifest_accessors_match_str_of_the_field(
    top: dict[str, Any], meta: dict[str, Any], with_meta: bool
) -> None:
    body = {**top, **({"metadata": meta} if with_meta else {})}
    obj = ManifestObject(body)
    got = (obj.api_version, obj.kind, obj.group, obj.metadata, obj.name, obj.namespace)
    assert got == _old_accessors(obj)
    assert all(type(v) is str for v in got[:3] + got[4:5])
    assert got[5] is None or type(got[5]) is str


def test_opt_out_index_from_context_pods_is_the_same() -> None:
    """Own opt-outs and those inherited from a ServiceAccount, found through the context's pod
    views, are the ones found by making the views again."""
    objs = good_stack()
    find(objs, "ServiceAccount")["metadata"]["annotations"] = {
        "kubegen.dev/opt-out-token-automount": "needs the API",
    }
    find(objs, "Deployment")["metadata"]["annotations"] = {
        "kubegen.dev/opt-out-no-cpu-limit": "bursty",
        "kubegen.dev/opt-out-writable-root.api": "cache",
    }
    ctx = LintContext(objects=tuple(objs), kubernetes_version=(1, 33), profile="prod")
    plain, shared = OptOutIndex(objs), OptOutIndex(objs, pods=lambda: ctx.pods)
    assert plain._own is None  # made on the first question
    assert plain.opt_outs() == shared.opt_outs()
    deployment = next(o for o in objs if o.kind == "Deployment")
    assert {o.what for o in shared.opt_outs()[id(deployment)]} == {
        "no-cpu-limit",
        "writable-root",
        "token-automount",
    }


def _old_selector_matches(selector: Any, labels: Mapping[str, Any]) -> bool:
    """``selector_matches`` before its plain-dict/str shortcuts (the oracle)."""
    if not isinstance(selector, Mapping):
        return False
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, Mapping):
        return False
    for key, value in match_labels.items():
        if key not in labels or str(labels[key]) != str(value):
            return False
    expressions = selector.get("matchExpressions") or []
    if not isinstance(expressions, list):
        return False
    return all(_expression_matches(expr, labels) for expr in expressions)


label_values = st.one_of(st.sampled_from(["a", "b", "1"]), st.integers(0, 2), st.booleans())
label_maps = st.dictionaries(st.sampled_from(["app", "tier", "x"]), label_values, max_size=3)
expressions = st.lists(
    st.fixed_dictionaries(
        {
            "key": st.sampled_from(["app", "tier", "x"]),
            "operator": st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist", "Bad"]),
            "values": st.lists(label_values, max_size=2),
        }
    ),
    max_size=2,
)
selectors = st.one_of(
    st.none(),
    st.just("junk"),
    st.fixed_dictionaries(
        {},
        optional={
            "matchLabels": st.one_of(
                label_maps, st.just([]), st.builds(MappingProxyType, label_maps)
            ),
            "matchExpressions": st.one_of(expressions, st.just("junk")),
        },
    ),
)


@settings(max_examples=400, deadline=None)
@given(selectors, st.one_of(label_maps, st.builds(MappingProxyType, label_maps)))
def test_selector_shortcuts_give_the_same_answer(selector: Any, labels: Any) -> None:
    assert selector_matches(selector, labels) is _old_selector_matches(selector, labels)


def test_a_split_lint_of_known_clean_objects_still_checks_their_waivers() -> None:
    """The per-object half skips what was clean (no rule, no waiver parsing); the half across
    objects, and a whole lint, still refuse a bad waiver on such an object."""
    from kubegen._errors import ValidationError
    from kubegen._policy.engine import lint

    objs = good_stack()
    assert lint(objs, known_clean=objs, scope="per_object").findings == ()
    find(objs, "Deployment")["metadata"]["annotations"] = {"kubegen.dev/waive-kg001": "  "}
    assert lint(objs, known_clean=objs, scope="per_object").findings == ()
    for scope in ("cross", "all"):
        with pytest.raises(ValidationError, match="waiver of KG001"):
            lint(objs, known_clean=objs, scope=scope)  # type: ignore[arg-type]
