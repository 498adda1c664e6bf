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
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kubegen._manifests import SORTED_MAPS, ManifestObject, canonical, canonical_order
from kubegen._render import files as render_files_module
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
