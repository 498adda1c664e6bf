"""The emitter's fast path writes exactly what the emitter it replaced wrote.

``tests/emitter_oracle.py`` is the emitter before its fast path (kept verbatim). The new one
caches whole key lines per indent and value tails, writes a ``|+`` literal first and rewrites it
only if it turns out to end the document, and can sort label-like maps while it writes
(``dump(canonical_order(b), SORTED_MAPS)`` for ``dump(canonical(b))``). Every property below
compares the two on the same input: same text, or the same exception type and message.
"""

from __future__ import annotations

import copy
from collections import UserDict
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kubegen._errors import ConflictError
from kubegen._manifests import SORTED_MAPS, ManifestObject, canonical, canonical_order
from kubegen._render import files as render_files_module
from kubegen._render import layout
from kubegen._render.layout import CLUSTER_DIR
from kubegen._render.yaml_emitter import Unfusable, dump
from tests import emitter_oracle

PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TRICKY = " \t\n\r:#-?,[]{}&*!|>'\"%@`.0123456789eExXoObB_+~yYnN=<\\\x00\x85\u2028\ufeffé"
KEYS = ["labels", "annotations", "matchLabels", "nodeSelector", "metadata", "spec", "name", "a"]


class Text(str):
    """A str subclass: the emitter writes it as the plain string."""


class Items(list[Any]):
    """A list subclass."""


class Fields(dict[str, Any]):
    """A dict subclass."""


texts = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=30),
    st.text(st.sampled_from(TRICKY), max_size=12),
    st.sampled_from(["on", "0755", "x\n\n", "\n", "a\n", " lead\n\n", "- a", "", "é", "~"]),
)
keys = st.one_of(st.sampled_from(KEYS), texts, st.builds(Text, texts))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.floats(allow_infinity=True, allow_nan=True),
    texts,
    st.builds(Text, texts),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(keys, inner, max_size=4),
        st.builds(Items, st.lists(inner, max_size=3)),
        st.builds(Fields, st.dictionaries(keys, inner, max_size=3)),
        st.tuples(inner),  # refused by both
    ),
    max_leaves=12,
)
documents = st.dictionaries(keys, values, max_size=5)


def _outcome(emit: Any, data: Any) -> tuple[str, str]:
    try:
        return "ok", emit(data)
    except Exception as exc:  # the same failure is part of the contract
        return type(exc).__name__, str(exc)


@PROFILE
@given(documents)
@example({"k": "x\n\n"})
@example({"a": ["x", ["y", "x\n\n"]]})
@example({"a": [{"b": "x\n\n"}]})
@example({"a": {"b": ["c", {"d": " x\n\n"}]}})
@example({"a": "x\n\n", "b": 1})
@example({"a": {"b": "x\n\n"}, "c": {}})
@example({"a": 2**63, "b": -(2**63), "c": True, "d": Text("on")})
@example({"a": [2**63 - 1, -(2**63) - 1]})
@example({"x" * 300: "y\n\n"})
def test_dump_matches_the_old_emitter(data: dict[str, Any]) -> None:
    assert _outcome(dump, data) == _outcome(emitter_oracle.dump, data)
    assert _outcome(dump, data) == _outcome(emitter_oracle.dump, data)  # with warm caches


def _fused(body: dict[str, Any]) -> tuple[str, str]:
    return _outcome(lambda b: dump(canonical_order(b), SORTED_MAPS), body)


@PROFILE
@given(documents)
@example({"metadata": {"labels": {"b": "1", "a": "2"}, "name": "n"}, "kind": "K"})
@example({"spec": {"template": {"metadata": {"annotations": {"z": "", "a": "x\n\n"}}}}})
@example({"labels": [{"labels": {"b": "x", "a": "y"}}]})
@example({"labels": {"b": 1, "a": "x"}})
def test_sorting_while_writing_matches_canonical_then_dump(body: dict[str, Any]) -> None:
    expected = _outcome(lambda b: emitter_oracle.dump(canonical(b)), copy.deepcopy(body))
    fused = _fused(body)
    if fused[0] != Unfusable.__name__:
        assert fused == expected
    obj = ManifestObject(copy.deepcopy(body))
    assert _outcome(render_files_module._document, obj) == expected


def test_a_shared_map_under_a_sorted_map_takes_the_two_pass_path() -> None:
    """Sorting first replaces ``p["labels"]`` in place, which shows where ``p`` is also held
    inside a sorted map; the one-pass writer cannot see that, so it refuses the shape."""
    shared: dict[str, Any] = {"labels": {"b": "1", "a": "2"}}
    body = {"metadata": {"labels": {"x": shared}}, "spec": shared}
    with pytest.raises(Unfusable):
        dump(canonical_order(body), SORTED_MAPS)
    expected = emitter_oracle.dump(canonical(copy.deepcopy(body)))
    assert expected.startswith('metadata:\n  labels:\n    x:\n      labels:\n        a: "2"\n')
    assert render_files_module._document(ManifestObject(body)) == expected


def test_a_list_in_a_list_takes_the_two_pass_path() -> None:
    shared: dict[str, Any] = {"labels": {"b": "1", "a": "2"}}
    body = {"items": [[shared]], "spec": shared}
    with pytest.raises(Unfusable):
        dump(canonical_order(body), SORTED_MAPS)
    expected = emitter_oracle.dump(canonical(copy.deepcopy(body)))
    assert render_files_module._document(ManifestObject(body)) == expected


def test_a_keep_literal_in_the_middle_stays_a_literal() -> None:
    assert dump({"a": "x\n\n", "b": "y"}) == 'a: |+\n  x\n\nb: "y"\n'
    assert dump({"b": "y", "a": "x\n\n"}) == 'b: "y"\na: "x\\n\\n"\n'


def test_non_dict_mappings_still_refused_like_before() -> None:
    data = {"a": UserDict({"b": 1})}
    assert _outcome(dump, data) == _outcome(emitter_oracle.dump, data)
    assert _outcome(dump, data)[0] == "TypeError"


def _old_object_paths(objects: list[ManifestObject]) -> list[str]:
    """``layout.object_paths`` before it checked each folder once (the oracle)."""
    groups_by_kind: dict[str, set[str]] = {}
    for obj in objects:
        groups_by_kind.setdefault(obj.kind.lower(), set()).add(obj.group)
    paths: list[str] = []
    owner: dict[str, ManifestObject] = {}
    for obj in objects:
        kind = obj.kind.lower()
        if len(groups_by_kind[kind]) > 1 and obj.group:
            kind = f"{kind}.{obj.group.lower()}"
        path = f"{obj.namespace or CLUSTER_DIR}/{kind}-{obj.name}.yaml"
        layout._check_safe(path, obj)
        other = owner.setdefault(path, obj)
        if other is not obj:
            raise ConflictError(
                f"would be written to {path}, like {other.display}",
                origin=obj.origin,
                resource=obj.display,
                fix="rename one of the two objects",
            )
        paths.append(path)
    return paths


parts = st.sampled_from(["a", "b", "shop", "x.y", "A", "a/b", ".", "..", "-a", "a-", "", "_x"])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["v1", "apps/v1", "argoproj.io/v1alpha1", "x.io/v1", ""]),
            st.sampled_from(["Deployment", "Application", "ConfigMap", "Bad/Kind", ""]),
            st.one_of(st.none(), parts),
            parts,
        ),
        max_size=6,
    )
)
def test_object_paths_match_checking_every_path(specs: list[tuple[Any, ...]]) -> None:
    objects = [
        ManifestObject(
            {
                "apiVersion": api,
                "kind": kind,
                "metadata": {"name": name, **({"namespace": ns} if ns is not None else {})},
            }
        )
        for api, kind, ns, name in specs
    ]
    assert _outcome(layout.object_paths, objects) == _outcome(_old_object_paths, objects)


def test_deep_documents_match_the_old_emitter() -> None:
    """Indents are made per depth on first use: a deeper document than any before still
    writes exactly the old text (maps and lists, a ``|+`` literal at the very end)."""
    data: dict[str, Any] = {}
    node: Any = data
    for depth in range(120):
        child: dict[str, Any] = {"x": f"v{depth}"}
        node["k"] = [child] if depth % 3 == 0 else child
        node = child
    node["end"] = "tail\n\n"
    assert dump(data) == emitter_oracle.dump(data)
    assert dump(data).endswith('end: "tail\\n\\n"\n')


def _old_canonical_order(body: Any) -> dict[str, Any]:
    """``canonical_order`` as first written: always a reordered copy (the oracle)."""
    out: dict[str, Any] = {}
    for key in ("apiVersion", "kind", "metadata"):
        if key in body:
            out[key] = body[key]
    meta = out.get("metadata")
    if isinstance(meta, Mapping):
        ordered = {k: meta[k] for k in ("name", "namespace", "labels", "annotations") if k in meta}
        ordered.update((k, v) for k, v in meta.items() if k not in ordered)
        out["metadata"] = ordered
    out.update((k, v) for k, v in body.items() if k not in out)
    return out


top_keys = st.sampled_from(["apiVersion", "kind", "metadata", "spec", "data", "a"])
meta_keys = st.sampled_from(["name", "namespace", "labels", "annotations", "uid", "z"])
metas = st.one_of(
    st.none(),
    st.just("junk"),
    st.dictionaries(meta_keys, st.text(max_size=2), max_size=5),
    st.builds(Fields, st.dictionaries(meta_keys, st.text(max_size=2), max_size=3)),
    st.builds(MappingProxyType, st.dictionaries(meta_keys, st.text(max_size=2), max_size=3)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(top_keys, metas), max_size=6, unique_by=lambda kv: kv[0]), st.booleans())
def test_canonical_order_keeps_an_ordered_body_and_copies_the_rest(
    items: list[tuple[str, Any]], subclass: bool
) -> None:
    body: dict[str, Any] = Fields(items) if subclass else dict(items)
    got, expected = canonical_order(body), _old_canonical_order(body)

    def shape(d: Any) -> list[tuple[Any, Any, type]]:
        return [
            (k, list(v.items()) if isinstance(v, Mapping) else v, type(v)) for k, v in d.items()
        ]

    assert type(got) is dict
    assert shape(got) == shape(expected)
    if got is body:  # only an exact dict already in order, with a plain dict (or no) metadata
        assert type(body) is dict and list(body) == list(expected)


def test_threads_meeting_new_depths_at_once_write_the_same_text() -> None:
    """Levels past the prebuilt ones are made on first use; threads racing to make them must
    still each get the indent of their own depth."""
    from concurrent.futures import ThreadPoolExecutor

    def nested(depth: int) -> dict[str, Any]:
        data: dict[str, Any] = {"leaf": depth}
        for level in range(depth):  # each level holds the one below once: linear size
            data = {"l": [data], "e": []} if level % 2 else {"k": data}
        return data

    docs = [nested(depth) for depth in range(30, 90, 3)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        texts = list(pool.map(dump, docs * 3))
    assert texts == [emitter_oracle.dump(doc) for doc in docs * 3]
