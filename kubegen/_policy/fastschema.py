"""A yes/no JSON Schema check compiled to Python closures, for the keywords Kubernetes uses.

Schema validation (KG001) runs on every object of every render. ``jsonschema`` walks the schema
generically and builds error objects on the way: about 1 ms for a Deployment, most of a second
for a thousand services. The Kubernetes schemas use only ``type``, ``properties``,
``additionalProperties``, ``items``, ``required``, ``enum``, ``oneOf`` and ``$ref``, so this
module compiles a schema once into nested closures that answer only "valid or not", in a few
microseconds. kubegen asks it first and runs ``jsonschema`` only for the rare invalid object, to
produce the messages; a test checks the two agree on valid and broken manifests.

:func:`compile_schema` returns ``None`` for a schema using any other validation keyword
(``pattern``, ``minimum``, ``anyOf``…, as in some CRDs): the caller then uses ``jsonschema`` alone.
Semantics follow ``jsonschema``'s Draft 2020-12 validator: ``integer`` accepts integral floats,
booleans are never numbers, ``enum`` compares strings exactly.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Check", "compile_schema"]

Check = Callable[[Any], bool]

_REF = re.compile(r"#/\$defs/(.+)$")
# Keywords that constrain instances in Draft 2020-12 but that this compiler does not implement.
_UNSUPPORTED = frozenset(
    {
        "allOf", "anyOf", "not", "if", "then", "else", "dependentSchemas", "prefixItems",
        "contains", "patternProperties", "propertyNames", "unevaluatedItems",
        "unevaluatedProperties", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
        "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
        "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties",
        "dependentRequired", "dependencies", "$dynamicRef", "$recursiveRef", "$id", "$anchor",
        "$dynamicAnchor", "$recursiveAnchor", "$vocabulary",
    }
)  # fmt: skip


class Unsupported(Exception):
    """The schema uses a keyword this compiler does not implement."""


def _is_integer(x: Any) -> bool:
    if isinstance(x, bool):
        return False
    return isinstance(x, int) or (isinstance(x, float) and x.is_integer())


def _is_number(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, numbers.Number)


_TYPES: dict[str, Check] = {
    "string": lambda x: isinstance(x, str),
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "integer": _is_integer,
    "number": _is_number,
}


# For a bare type check (``string``, ``["string", "null"]``…), a Python type whose exact
# instances pass it: those skip the call (``isinstance`` is true, and an exact ``int`` is never
# a bool); anything else is asked the check itself. Most Kubernetes fields are such leaves.
_EXACT_OF_NAME: dict[str, type] = {
    "string": str,
    "object": dict,
    "array": list,
    "boolean": bool,
    "integer": int,
}
_EXACT: dict[Check, type] = {}


def _always(_: Any) -> bool:
    return True


def _never(_: Any) -> bool:
    return False


_UNKNOWN: tuple[type | None, Check] = (None, _never)  # a key no property names


class _Compiler:
    """Compiles schema nodes, sharing the closure of a node (by identity) and of each ``$ref``."""

    def __init__(self, defs: Mapping[str, Any]) -> None:
        self.defs = defs
        self.nodes: dict[int, tuple[Any, Check]] = {}  # id(node) -> (node kept alive, check)
        self.refs: dict[str, Check] = {}

    def node(self, schema: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise Unsupported(f"schema of type {type(schema).__name__}")
        known = self.nodes.get(id(schema))
        if known is not None:
            return known[1]
        check = self._build(schema)
        self.nodes[id(schema)] = (schema, check)
        return check

    def ref(self, ref: Any) -> Check:
        match = _REF.search(ref) if isinstance(ref, str) else None
        name = match.group(1) if match else None
        if name is None or name not in self.defs:
            raise Unsupported(f"$ref {ref!r}")
        if name not in self.refs:
            cell: list[Check] = []
            self.refs[name] = lambda x: cell[0](x)  # a cycle reaches the body through the cell
            cell.append(self.node(self.defs[name]))
        return self.refs[name]

    def _build(self, schema: dict[str, Any]) -> Check:
        bad = _UNSUPPORTED.intersection(schema)
        if bad:
            raise Unsupported(", ".join(sorted(bad)))
        names = _type_names(schema["type"]) if "type" in schema else None
        parts: list[Check] = []
        is_object = any(k in schema for k in ("properties", "additionalProperties", "required"))
        if is_object:
            parts.append(self._object(schema, names))  # checks the type too
        if "items" in schema:  # checks the type too, unless the object check did
            parts.append(_items_check(self.node(schema["items"]), None if is_object else names))
        if names is not None and not is_object and "items" not in schema:
            parts.append(_type_check(names))
        if "enum" in schema:
            parts.append(_enum_check(schema["enum"]))
        if "oneOf" in schema:
            parts.append(_one_of_check([self.node(s) for s in schema["oneOf"]]))
        if "$ref" in schema:
            parts.append(self.ref(schema["$ref"]))
        return _all(parts)

    def _object(self, schema: dict[str, Any], names: tuple[str, ...] | None) -> Check:
        """Object keywords, fused with the ``type`` check (one call per mapping, not three)."""
        props = {name: self.node(sub) for name, sub in (schema.get("properties") or {}).items()}
        extra_schema = schema.get("additionalProperties", True)
        extra: Check | None = None if extra_schema is True else self.node(extra_schema)
        required = tuple(schema.get("required") or ())
        other = _type_check(names) if names is not None else _always  # for non-mappings
        if names is not None and "object" not in names:
            return other  # no mapping passes the type check; the object keywords never apply
        get = props.get
        # key -> the exact type that passes its check without a call (leaf fields only)
        exact = {name: _EXACT[sub] for name, sub in props.items() if sub in _EXACT}
        exact_get = exact.get

        if extra is _never:  # the strict Kubernetes object: every key must be a property

            # key -> (exact type or None, check); an unknown key gets _never
            table_get = {name: (exact.get(name), sub) for name, sub in props.items()}.get

            def strict(x: Any) -> bool:
                if not isinstance(x, dict):
                    return other(x)
                for key, value in x.items():
                    exact_type, sub = table_get(key, _UNKNOWN)
                    if exact_type is not value.__class__ and not sub(value):
                        return False
                for name in required:  # noqa: SIM110 - a loop beats all(<genexpr>) here
                    if name not in x:
                        return False
                return True

            return strict

        extra_exact = _EXACT.get(extra) if extra is not None else None

        def general(x: Any) -> bool:
            if not isinstance(x, dict):
                return other(x)
            for key, value in x.items():
                if exact_get(key) is value.__class__:
                    continue
                sub = get(key)
                if sub is None:
                    if extra is not None and value.__class__ is not extra_exact and not extra(
                        value
                    ):
                        return False
                elif not sub(value):
                    return False
            for name in required:  # noqa: SIM110 - a loop beats all(<genexpr>) here
                if name not in x:
                    return False
            return True

        return general


def _all(parts: list[Check]) -> Check:
    if not parts:
        return _always
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts
        return lambda x: first(x) and second(x)
    return lambda x: all(part(x) for part in parts)


_TYPE_CACHE: dict[tuple[str, ...], Check] = {}


def _type_names(value: Any) -> tuple[str, ...]:
    names = tuple(value) if isinstance(value, list) else (value,)
    if not all(isinstance(n, str) and n in _TYPES for n in names):
        raise Unsupported(f"type {value!r}")
    return names


def _type_check(names: tuple[str, ...]) -> Check:
    if names not in _TYPE_CACHE:
        checks = [_TYPES[n] for n in names]
        if len(checks) == 1:
            _TYPE_CACHE[names] = checks[0]
        elif names == ("string", "null"):
            _TYPE_CACHE[names] = lambda x: x is None or isinstance(x, str)
        elif len(names) == 2 and names[1] == "null":  # ["integer", "null"] and the like
            single = checks[0]
            _TYPE_CACHE[names] = lambda x: x is None or single(x)
        else:
            _TYPE_CACHE[names] = lambda x: any(check(x) for check in checks)
        exact = _EXACT_OF_NAME.get(names[0]) if names else None
        if exact is not None and names[1:] in ((), ("null",)):
            _EXACT[_TYPE_CACHE[names]] = exact
    return _TYPE_CACHE[names]


def _enum_check(values: Any) -> Check:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise Unsupported("enum with values other than strings")
    allowed = frozenset(values)
    return lambda x: isinstance(x, str) and x in allowed


def _items_check(item: Check, names: tuple[str, ...] | None) -> Check:
    """``items``, fused with the ``type`` check when there is one."""
    other = _type_check(names) if names is not None else _always  # for non-lists
    if names is not None and "array" not in names:
        return other

    exact = _EXACT.get(item)

    def check(x: Any) -> bool:
        if not isinstance(x, list):
            return other(x)
        for value in x:  # noqa: SIM110 - a loop beats all(<genexpr>) here
            if value.__class__ is not exact and not item(value):
                return False
        return True

    return check


def _one_of_check(options: list[Check]) -> Check:
    if len(options) == 2:  # int-or-string, quantities: exactly one of two
        first, second = options
        return lambda x: first(x) is not second(x)
    return lambda x: sum(1 for option in options if option(x)) == 1


def compile_schema(schema: Any, defs: Mapping[str, Any]) -> Check | None:
    """A function telling whether an instance is valid against ``schema``, or ``None``.

    Args:
        schema: a JSON Schema (Draft 2020-12) node; ``$ref`` values ``…#/$defs/<name>`` resolve
            in ``defs``.
        defs: the definitions ``$ref`` may name.

    Returns:
        ``None`` when the schema (or a definition it reaches) uses a keyword not implemented
        here; then only ``jsonschema`` can judge it.
    """
    try:
        return _Compiler(defs).node(schema)
    except Unsupported:
        return None
