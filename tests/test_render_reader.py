"""Reading kubegen's YAML back: exact for everything the emitter writes, general for the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given

from kubegen._render import reader
from kubegen._render.layout import HEADER
from kubegen._render.reader import UnreadableYaml, read_document
from kubegen._render.yaml_emitter import dump
from tests.test_yaml_emitter import GOLDEN_IN, GOLDEN_OUT, PROFILE, TRAP_DOC, _same, documents

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def fast_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if the general parser is asked: the emitter's style must be read line by line."""

    monkeypatch.setattr(reader, "_general", _refuse)


@PROFILE
@given(documents)
def test_reads_back_exactly_what_was_dumped(data: dict[str, Any]) -> None:
    text = HEADER + dump(data)
    if "\n? " in text or text.startswith(HEADER + "? "):  # keys over 1,000 characters
        assert _same(read_document(text), data)
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader, "_general", _refuse)
        assert _same(read_document(text.encode()), data)


def _refuse(text: str) -> Any:
    raise AssertionError(f"fell back to the general parser for:\n{text}")


@pytest.mark.usefixtures("fast_only")
def test_golden_and_trap_documents() -> None:
    assert dump(GOLDEN_IN) == GOLDEN_OUT
    assert _same(read_document(GOLDEN_OUT), GOLDEN_IN)
    assert _same(read_document(dump(TRAP_DOC)), TRAP_DOC)
    assert read_document("{}\n") == {}


@pytest.mark.usefixtures("fast_only")
def test_every_committed_example_file_reads_like_pyyaml() -> None:
    files = sorted((REPO / "output").rglob("*.yaml"))
    assert len(files) > 50
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert read_document(text) == yaml.safe_load(text), path


def test_long_keys_go_to_the_general_parser() -> None:
    data = {"k" * 1200: {"x": 1}, "b": [1, "two"]}
    assert _same(read_document(dump(data)), data)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: {b: 1, c: [x, z]}\n", {"a": {"b": 1, "c": ["x", "z"]}}),
        ("# a comment\na: 1  # trailing\n", {"a": 1}),
        ("a: &x hello\nb: *x\n", {"a": "hello", "b": "hello"}),
        ("a:\n    - 1\n    - 2\n", {"a": [1, 2]}),
        ("a: 'single'\nb: >\n  folded\n  text\n", {"a": "single", "b": "folded text\n"}),
        # YAML 1.1 scalars, as kubectl reads them
        ("a: 0x1F\nb: 010\nc: True\nd: yes\ne: 12:30\n",
         {"a": 31, "b": 8, "c": True, "d": True, "e": "12:30"}),
        ("a: 1", {"a": 1}),  # no final newline
        ("---\na: 1\n", {"a": 1}),
    ],
)
def test_other_styles_are_read_by_the_general_parser(text: str, expected: Any) -> None:
    assert read_document(text) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a: [1\n", "invalid YAML"),
        (b"- 1\n- 2\n", "expected one mapping"),
        (b"a: 1\n---\nb: 2\n", "found 2 document"),
        (b"# only a comment\n", "found 0 document"),
        (b"a: \xff\n", "not UTF-8"),
    ],
)
def test_what_is_not_one_mapping_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableYaml, match=message):
        read_document(data)
