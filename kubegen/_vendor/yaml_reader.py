"""Read upstream YAML (multi-document) into plain data: the one module that parses YAML.

kubegen writes YAML with its own emitter (:mod:`kubegen._render.yaml_emitter`); reading
third-party files needs a real parser, and this is the only place that imports ruamel.yaml for
it (ruff's banned-api setting names this file as the exception, with the reason).

Documents are read the way ``kubectl`` reads them (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1
scalars): ``yes``/``on`` are booleans and ``0755`` is octal, but timestamps stay strings and
sexagesimal numbers (``12:30``) stay strings, as in Kubernetes' JSON. Duplicate keys are errors,
``!!binary`` becomes its base64 text. Each document keeps the line it starts on, so errors and
lint findings point into the vendored file.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from kubegen._values import InvalidValue


@dataclass(frozen=True, slots=True)
class Document:
    """One YAML document: its data and the 1-based line it starts on."""

    data: Any
    line: int


class _Constructor(SafeConstructor):
    """ruamel's safe constructor with kubectl's view of timestamps, sexagesimals and binary."""

    found: list[Document]

    def construct_document(self, node: Any) -> Any:
        data = super().construct_document(node)
        self.found.append(Document(data, node.start_mark.line + 1))
        return data

    def _scalar_text(self, node: Any) -> Any:
        return self.construct_scalar(node)

    def _number(self, node: Any) -> Any:
        text = str(self.construct_scalar(node))
        if ":" in text:  # YAML 1.1 sexagesimal; go-yaml v2 keeps it a string
            return text
        if node.tag.endswith(":int"):
            return SafeConstructor.construct_yaml_int(self, node)
        return SafeConstructor.construct_yaml_float(self, node)

    def _binary(self, node: Any) -> Any:
        return "".join(str(self.construct_scalar(node)).split())


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor._scalar_text)
_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor._number)
_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor._number)
_Constructor.add_constructor("tag:yaml.org,2002:binary", _Constructor._binary)


_cache: dict[str, list[Document]] = {}
_CACHE_FROM = 64 * 1024  # only big files are worth keeping (install manifests with CRDs)


def copy_data(value: Any) -> Any:
    """A copy of parsed YAML data (dicts, lists, scalars), several times faster than deepcopy."""
    if type(value) is dict:
        return {key: copy_data(item) for key, item in value.items()}
    if type(value) is list:
        return [copy_data(item) for item in value]
    return value


def read_documents(text: str) -> list[Document]:
    """Every non-empty document of ``text`` with its start line; the caller owns the data.

    Big texts are parsed once per process (a library user or a test building the same stack
    again reads the file again, and parsing dominates): later calls get a fresh copy.

    Raises:
        InvalidValue: the text is not YAML; ``field`` holds ``line N``.
    """
    if len(text) >= _CACHE_FROM:
        key = hashlib.sha256(text.encode()).hexdigest()
        found = _cache.get(key)
        if found is None:
            found = _cache[key] = _parse(text)
        return [Document(copy_data(doc.data), doc.line) for doc in found]
    return _parse(text)


def _parse(text: str) -> list[Document]:
    found: list[Document] = []
    yaml = YAML(typ="safe", pure=False)
    yaml.version = (1, 1)
    # a class per call: with libyaml, ruamel mixes the constructor class into its C loader
    yaml.Constructor = type("_Reader", (_Constructor,), {"found": found})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ruamel's YAML 1.1 float advice
            for _ in yaml.load_all(text):
                pass
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = exc.problem or exc.context or "invalid YAML"
        raise InvalidValue(
            f"line {line}: {problem}", fix="fix the YAML syntax (or re-export the file)"
        ) from None
    except YAMLError as exc:
        raise InvalidValue(f"not valid YAML: {exc}", fix="fix the YAML syntax") from None
    except RecursionError:
        raise _too_deep() from None
    try:
        _check_expansion(found, len(text))
    except RecursionError:
        raise _too_deep() from None
    return [doc for doc in found if doc.data is not None]


def _too_deep() -> InvalidValue:
    return InvalidValue(
        "the YAML is nested deeper than Python can read (no Kubernetes object is)",
        fix="check the file: it is not a Kubernetes manifest",
    )


#: How many values the documents may hold once aliases are expanded, per character of text (and
#: at least :data:`_MIN_BUDGET`): a "billion laughs" file of a few lines would otherwise expand to
#: more data than memory when kubegen copies, checks and writes it.
_PER_CHAR = 4
_MIN_BUDGET = 1_000_000


def _check_expansion(found: list[Document], length: int) -> None:
    budget = max(_MIN_BUDGET, _PER_CHAR * length)
    sizes: dict[int, int] = {}
    total = 0
    for doc in found:
        total += _size(doc.data, sizes, set())
        if total > budget:
            raise InvalidValue(
                f"YAML aliases expand to more than {budget:,} values",
                fix="write the data out instead of nesting aliases (anchors) in aliases",
            )


def _size(value: Any, sizes: dict[int, int], open_: set[int]) -> int:
    """Values in ``value`` with aliases expanded; shared nodes are counted once per use."""
    if type(value) is not dict and type(value) is not list:
        return 1
    key = id(value)
    known = sizes.get(key)
    if known is not None:
        return known
    if key in open_:
        raise InvalidValue(
            "a YAML alias refers to a collection that contains it (a cycle)",
            fix="write the data out without recursive anchors",
        )
    open_.add(key)
    items = value.values() if type(value) is dict else value
    size = 1 + sum(_size(item, sizes, open_) for item in items)
    open_.discard(key)
    sizes[key] = min(size, 1 << 62)
    return sizes[key]
