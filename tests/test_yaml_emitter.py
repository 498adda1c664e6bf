"""The canonical YAML emitter: exact text, YAML 1.1/1.2 round trips, and kustomize (go-yaml)."""

from __future__ import annotations

import copy
import itertools
import json
import math
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from kubegen._render.yaml_emitter import dump

# Strings a naive emitter gets wrong (each maps to itself in TRAP_DOC).
TRAPS = ["on", "off", "yes", "no", "y", "n", "Y", "N", "YES", "On", "true", "false", "True",
         "FALSE", "null", "Null", "~", "", "0755", "0x1F", "0o17", "1_000", "1e3", "1.5e3", ".inf",
         "-.inf", ".NaN", "12:30", "1:20:30", "2001-12-14", "=", "<<", " leading", "trailing ", "-",
         "- a", "? x", "a: b", "a #b", "#c", "&a", "*a", "!tag", "%x", "@x", "`x", "|", "> x", "'q",
         '"q', "[a]", "{a}", "a,b", "---", "...", "\t", "tab\tin", "line1\nline2", "trail\n",
         "two\n\n", "\n lead", " \nx", "NUL\x00", "bom\ufeff", "\x85", "\u2028",
         "é日本"]  # fmt: skip
# More traps for go-yaml and the block-literal rules (tabs, blank/space-only lines, chomping).
MORE_TRAPS = ["0b101", "+1", "-1", ".5", "1_0.5", "1:20:30.5", "0_x1F", "1.", "-.5e3", "1e+20",
              "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "NULL", "oN", "nO",
              ".Inf", "+.inf", "-.INF", ".nan", "a:", "a:b", "http://x:80/p", "--flag=on", "-a",
              "--", "---x", "...x", "a  b", "x\r\ny", "\tfoo\nbar", "\n\tx", "a\n\tb", " \t\nx",
              "a\n  \n", "  \nfoo", "a\n \n\n", "a\n\n\n", "\n", "\n\n", "x\n---\nkind: Secret",
              "a\u2029b", "\u00a0", "soft\u00adhyphen", "rtl\u202eoverride", "zw\u200bj", "\x7f",
              "\x1b[0m", "\U0001f600", "\uffff", "\ufffe", "\x80", "\x9f", "#", "a #", "a\\b",
              'say "hi"', "' '", "--- x", "... x", "---\tx", "._", "-_1", "-._"]  # fmt: skip
TRAP_DOC = {s: s for s in TRAPS + MORE_TRAPS}
# Strings kustomize cannot carry, however they are written: it re-reads values through JSON, so
# DEL, C1 controls and U+FFFE/U+FFFF reach go-yaml's reader raw ("control characters are not
# allowed") and U+0085 (NEL, a line break to go-yaml) comes out as a space.
KUSTOMIZE_LOSES = {"\x85", "\x7f", "\x80", "\x9f", "\ufffe", "\uffff"}
# kustomize writes these back unquoted: go-yaml reads that as the string, PyYAML (YAML 1.1)
# as a "value" key (=), a merge key (<<) or a timestamp.
KUSTOMIZE_UNQUOTES = {"=", "<<", "2001-12-14 21:59:43.10 -5"}

_RUAMEL = YAML(typ="safe", pure=True)


def _ruamel(text: str) -> Any:
    return _RUAMEL.load(text)


def _ruamel_11(text: str) -> Any:
    return _RUAMEL.load("%YAML 1.1\n---\n" + text)


LOADERS: dict[str, Callable[[str], Any]] = {
    "pyyaml (YAML 1.1)": yaml.safe_load,
    "ruamel (YAML 1.2)": _ruamel,
    "ruamel (YAML 1.1)": _ruamel_11,
}
if hasattr(yaml, "CSafeLoader"):  # libyaml: the C parser go-yaml was ported from
    LOADERS["libyaml"] = lambda text: yaml.load(text, Loader=yaml.CSafeLoader)


def _same(a: Any, b: Any) -> bool:
    """Equal with exact types, key order and float signs (1.0 == 1, True == 1, -0.0 == 0.0 fail)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


def _assert_round_trips(data: dict[str, Any]) -> str:
    text = dump(data)
    for name, load in LOADERS.items():
        back = load(text)
        assert _same(back, data), f"{name} read back something else from:\n{text}"
    return text


# --- exact text --------------------------------------------------------------------------------

GOLDEN_IN = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "api",
        "labels": {"tier": "on", "app": "api"},
        "annotations": {},
    },
    "spec": {
        "replicas": 3,
        "paused": False,
        "selector": None,
        "ratio": 0.5,
        "big": 1e20,
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "api",
                        "image": "ghcr.io/acme/api:2.3.1",
                        "args": ["--port", "8080", "yes", "a: b"],
                        "env": [],
                        "command": ["sh", "-c", "echo hi\nexec api\n"],
                    },
                    {},
                ],
                "matrix": [[1, 2], []],
                "script": " indented\nx",
            }
        },
    },
}
GOLDEN_OUT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels:
    tier: "on"
    app: api
  annotations: {}
spec:
  replicas: 3
  paused: false
  selector: null
  ratio: 0.5
  big: 1.0e+20
  template:
    spec:
      containers:
      - name: api
        image: ghcr.io/acme/api:2.3.1
        args:
        - --port
        - "8080"
        - "yes"
        - "a: b"
        env: []
        command:
        - sh
        - -c
        - |
          echo hi
          exec api
      - {}
      matrix:
      - - 1
        - 2
      - []
      script: |2-
         indented
        x
"""


def test_golden_manifest() -> None:
    assert dump(GOLDEN_IN) == GOLDEN_OUT
    _assert_round_trips(GOLDEN_IN)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-42, "-42"),
        (2**63 - 1, "9223372036854775807"),
        (1.5, "1.5"),
        (1.0, "1.0"),
        (-0.0, "-0.0"),
        (1e20, "1.0e+20"),
        (1e-05, "1.0e-05"),
        (2.5e-07, "2.5e-07"),
        (5e-324, "5.0e-324"),
        ("on", '"on"'),
        ("0755", '"0755"'),
        ("2001-12-14", '"2001-12-14"'),
        ("nginx:1.25", "nginx:1.25"),
        ("a,b", "a,b"),
        ("--port=8080", "--port=8080"),
        ("500m", "500m"),
        ("tab\tin", '"tab\\tin"'),
        ("NUL\x00", '"NUL\\0"'),
        ("bom\ufeff", '"bom\\uFEFF"'),
        ("\x85", '"\\x85"'),
        ("\u2028", '"\\u2028"'),
        ("rtl\u202eoverride", '"rtl\\u202Eoverride"'),  # invisible in review: escaped
        ("zero\u200bwidth", '"zero\\u200Bwidth"'),
        ("nb\u00a0sp", '"nb\\xA0sp"'),
        ("\U000e0041", '"\\U000E0041"'),
        ('q"\\', '"q\\"\\\\"'),
        ("é日本", '"é日本"'),
        ("a\nb", "|-\n  a\n  b"),
        ("a\n", "|\n  a"),
        ("a\n\n", "|+\n  a\n"),
        ("\n lead", "|2-\n\n   lead"),
        ("a\n\tb", "|-\n  a\n  \tb"),
        ("\tx\ny", '"\\tx\\ny"'),  # kustomize breaks on literals that start with a tab
        ("x\r\ny", '"x\\r\\ny"'),
        ("a\u2029b\nc", '"a\\u2029b\\nc"'),
        (" \n", '" \\n"'),
    ],
)
def test_scalar_text(value: Any, text: str) -> None:
    assert dump({"k": value, "z": 0}) == f"k: {text}\nz: 0\n"


def test_key_order_is_kept_not_sorted() -> None:
    data = {"zeta": 1, "alpha": {"x": 1, "b": 2}, "mid": [{"z": 1, "a": 2}]}
    assert dump(data) == "zeta: 1\nalpha:\n  x: 1\n  b: 2\nmid:\n- z: 1\n  a: 2\n"


def test_empty_and_non_dict_mappings() -> None:
    assert dump({}) == "{}\n"
    assert dump(MappingProxyType({"a": "b"})) == "a: b\n"


def test_keep_literal_never_ends_the_file() -> None:
    # An end-of-file fixer would strip the blank lines of a final |+ and change the value.
    assert dump({"a": "x\n\n", "b": 1}) == "a: |+\n  x\n\nb: 1\n"
    assert dump({"b": 1, "a": "x\n\n"}) == 'b: 1\na: "x\\n\\n"\n'
    assert dump({"a": ["x\n\n"]}) == 'a:\n- "x\\n\\n"\n'
    assert dump({"a": ["x\n\n", 1]}) == "a:\n- |+\n  x\n\n- 1\n"


def test_long_keys_use_explicit_form() -> None:
    # Parsers refuse implicit keys over 1024 characters.
    long = "k" * 2000
    data = {long: "v", "n": {long: {"a": [long]}}, "s": [{long: 1, "b": 2}]}
    text = _assert_round_trips(data)
    assert text.startswith(f"? {long}\n: v\n")


# --- the YAML 1.1 trap list ----------------------------------------------------------------------


def test_trap_strings_stay_strings() -> None:
    _assert_round_trips({s: s for s in TRAPS})
    _assert_round_trips({"values": TRAPS, "nested": [{s: [s]} for s in TRAPS]})


def test_more_traps_stay_strings() -> None:
    _assert_round_trips(TRAP_DOC)
    _assert_round_trips({"values": list(TRAP_DOC), "deep": [[[s]] for s in TRAP_DOC]})


@pytest.mark.parametrize("word", ["on", "off", "yes", "no", "y", "n", "true", "null", "~"])
def test_bool_and_null_words_are_quoted_in_every_case(word: str) -> None:
    for variant in {word, word.upper(), word.title()}:
        assert dump({"k": variant}) == f'k: "{variant}"\n'


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -math.inf, 2**63, -(2**63) - 1])
def test_numbers_kubernetes_cannot_hold_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match="cannot emit"):
        dump({"k": value})


@pytest.mark.parametrize(
    ("value", "type_name"),
    [({1, 2}, "set"), ((1, 2), "tuple"), (b"x", "bytes"), (object(), "object"), (1j, "complex")],
)
def test_other_types_are_refused_by_name(value: Any, type_name: str) -> None:
    with pytest.raises(TypeError, match=type_name):
        dump({"k": value})
    with pytest.raises(TypeError, match=type_name):
        dump({"k": [value]})


@pytest.mark.parametrize("key", [1, None, True, 1.5, ("a",)])
def test_non_string_keys_are_refused(key: Any) -> None:
    with pytest.raises(TypeError, match=type(key).__name__):
        dump({"ok": {key: 1}})


def test_lone_surrogates_are_refused() -> None:
    for data in ({"k": "a\ud800"}, {"k": ["x\nb\udfff"]}, {"a\udc80": 1}):
        with pytest.raises(ValueError, match="surrogate"):
            dump(data)


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(TypeError, match="list"):
        dump([1])  # type: ignore[arg-type]


# --- properties ----------------------------------------------------------------------------------

PROFILE = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TRICKY = " \t\n\r:#-?,[]{}&*!|>'\"%@`.0123456789eExXoObB_+~yYnN=<\\\x00\x85\u2028\ufeffé"
texts = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"])),
    st.text(st.sampled_from(TRICKY), max_size=12),
    st.sampled_from(TRAPS + MORE_TRAPS),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=10,
)
documents = st.dictionaries(texts, json_like, max_size=4)


@PROFILE
@given(documents)
@example({"k": "x\n\n"})
@example({"--- x": "... y", "n": [1e16, -2.5e-300]})
def test_any_document_round_trips(data: dict[str, Any]) -> None:
    text = _assert_round_trips(data)
    assert text.endswith("\n")
    assert not text.endswith("\n\n")
    assert "\r" not in text


@PROFILE
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_read_back_as_the_same_float(value: float) -> None:
    _assert_round_trips({"v": value, "l": [value]})


def test_all_short_strings_round_trip() -> None:
    # Exhaustive over the characters number, bool and null resolvers care about.
    alphabet = "0_.-+:eEx1 ,=yn~"
    strings = ["".join(p) for n in range(4) for p in itertools.product(alphabet, repeat=n)]
    text = dump({"v": strings})
    for name, load in LOADERS.items():
        try:
            back = load(text)["v"]
        except Exception:  # one bad scalar sinks the document: name the culprits
            back = [_try_load(load, s) for s in strings]
        wrong = [s for s, b in zip(strings, back, strict=True) if b != s]
        assert not wrong, f"{name} misreads {wrong}"


def _try_load(load: Callable[[str], Any], s: str) -> Any:
    try:
        return load(dump({"v": s}))["v"]
    except Exception as error:
        return error


@PROFILE
@given(documents)
def test_dump_is_deterministic(data: dict[str, Any]) -> None:
    first = dump(data)  # new strings: styles computed
    assert dump(copy.deepcopy(data)) == first  # same strings: styles from the cache
    assert dump(json.loads(json.dumps(data))) == first  # equal data built another way


@PROFILE
@given(texts, texts)
def test_scalars_cannot_inject_keys_or_documents(key: str, value: str) -> None:
    for data in (
        {key: value, "after": 1},
        {"k": f"{value}\n---\nkind: Secret\n{key}: x"},
        {"k": [value, f"x\n...\n---\n{value}"], "z": {key: f"\n- {value}"}},
    ):
        text = dump(data)
        for name, load in (("pyyaml", yaml.safe_load_all), ("ruamel", _RUAMEL.load_all)):
            docs = list(load(text))
            assert len(docs) == 1, name
            assert _same(docs[0], data), name


def test_output_is_independent_of_hash_seed() -> None:
    code = "import sys; from kubegen._render.yaml_emitter import dump; "
    code += f"sys.stdout.write(repr(dump({GOLDEN_IN!r})))"
    root = Path(__file__).resolve().parent.parent
    for seed in ("0", "1", "4242"):
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed, "LC_ALL": "C"},
            encoding="utf-8",
            check=True,
        )
        assert done.stdout == repr(GOLDEN_OUT)


# --- kustomize (go-yaml) -------------------------------------------------------------------------

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl not on PATH: cannot check the go-yaml (kustomize) round trip"
)


def _random_tricky_strings(count: int) -> list[str]:
    rng = random.Random(1123)
    alphabet = TRICKY.replace("\x85", "")
    return ["".join(rng.choice(alphabet) for _ in range(rng.randrange(13))) for _ in range(count)]


def _kustomize(tmp_path: Path, *objects: dict[str, Any]) -> str:
    names = []
    for i, obj in enumerate(objects):
        names.append(f"r{i}.yaml")
        (tmp_path / names[-1]).write_text(dump(obj), encoding="utf-8", newline="")
    (tmp_path / "kustomization.yaml").write_text(dump({"resources": names}), encoding="utf-8")
    assert KUBECTL is not None
    done = subprocess.run(
        [KUBECTL, "kustomize", str(tmp_path)],
        capture_output=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _config_map(name: str, values: list[str]) -> dict[str, Any]:
    data = {f"k{i:03d}": s for i, s in enumerate(values)}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


@needs_kubectl
def test_kustomize_reads_trap_strings_exactly(tmp_path: Path) -> None:
    values = [s for s in TRAPS + MORE_TRAPS if s not in KUSTOMIZE_LOSES | KUSTOMIZE_UNQUOTES]
    values += _random_tricky_strings(400)
    cm = _config_map("traps", values)
    back = yaml.safe_load(_kustomize(tmp_path, cm))
    assert back["data"] == cm["data"]


class _GoYamlOutputLoader(yaml.SafeLoader):
    """Reads go-yaml's output the way go-yaml does: bare =, << and spaced dates as strings."""


for _tag in ("value", "merge", "timestamp"):
    _tag = f"tag:yaml.org,2002:{_tag}"
    _GoYamlOutputLoader.add_constructor(_tag, _GoYamlOutputLoader.construct_scalar)


@needs_kubectl
def test_kustomize_reads_strings_it_writes_back_unquoted(tmp_path: Path) -> None:
    cm = _config_map("unquoted", sorted(KUSTOMIZE_UNQUOTES))
    out = _kustomize(tmp_path, cm)
    back = yaml.load(out, Loader=_GoYamlOutputLoader)
    assert back["data"] == cm["data"]


def test_strings_kustomize_loses_still_round_trip_through_pyyaml() -> None:
    _assert_round_trips({s: [s, {s: s}] for s in KUSTOMIZE_LOSES})


@needs_kubectl
def test_kustomize_reads_nested_structure_exactly(tmp_path: Path) -> None:
    # Block literals in indentless sequences, "- - x" and first keys on dash lines are where
    # parsers disagree; go-yaml must read them as PyYAML does. (Keys over 1024 characters are
    # left out: kustomize re-reads values as JSON, where go-yaml cannot take such keys at all.)
    strings = [s for s in TRAPS + MORE_TRAPS if s not in KUSTOMIZE_LOSES | KUSTOMIZE_UNQUOTES]
    spec = {
        "list": strings,
        "nested": [[s, [s]] for s in strings],
        "maps": [{s: s, "n": [s]} for s in strings],
        "keys": {s: {s: [s]} for s in strings},
        "literals": [{"b": ["x\n y\n", "\n z"], "c": [["a\nb", " c\nd\n\n"]]}],
        "scalars": [None, True, False, 0, -7, 2**53, {}, []],
    }
    probe = {"apiVersion": "example.com/v1", "kind": "Probe", "metadata": {"name": "p"}}
    back = yaml.safe_load(_kustomize(tmp_path, {**probe, "spec": spec}))
    assert back["spec"] == spec
