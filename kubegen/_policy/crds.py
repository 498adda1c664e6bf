"""Schemas of custom resources: from CRDs in the object set, or registered for the process.

A ``CustomResourceDefinition``'s ``openAPIV3Schema`` (per served version) becomes a strict JSON
Schema (unknown fields are errors unless ``x-kubernetes-preserve-unknown-fields``), so custom
resources are validated like built-in kinds (KG001). CRDs rendered with the stack are picked up
automatically; :func:`add_crd` registers one whether or not it is rendered (``kubegen.register_crd``
and the modules ``kubegen import crd`` writes call it), which also tells kubegen the kind's scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubegen._manifests import CUSTOM_CLUSTER_SCOPED as _cluster_scoped
from kubegen._values import InvalidValue

__all__ = ["add_crd", "cluster_scoped_kinds", "crd_schemas", "registered_schemas"]

_schemas: dict[tuple[str, str], dict[str, Any]] = {}


def structural(node: Any) -> Any:
    """A CRD ``openAPIV3Schema`` as strict JSON Schema: unknown fields are errors unless
    ``x-kubernetes-preserve-unknown-fields`` says otherwise, ``nullable`` allows null."""
    if isinstance(node, list):
        return [structural(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):  # field names, never keywords
            out[key] = {name: structural(sub) for name, sub in value.items()}
        elif not key.startswith("x-"):
            out[key] = structural(value)
    if isinstance(node.get("properties"), dict):
        preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
        if not preserve and "additionalProperties" not in node:
            out["additionalProperties"] = False
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        out["type"] = [node["type"], "null"]
    out.pop("nullable", None)
    return out


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def crd_schemas(crd: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """``(apiVersion, kind)`` → strict schema for every version of ``crd`` that has a schema."""
    spec = _dict(crd.get("spec"))
    group, kind = spec.get("group"), _dict(spec.get("names")).get("kind")
    found: dict[tuple[str, str], dict[str, Any]] = {}
    versions = spec.get("versions")
    for version in versions if isinstance(versions, list) else []:
        version = _dict(version)
        schema = _dict(_dict(version.get("schema")).get("openAPIV3Schema"))
        if schema and group and kind:
            body = structural(schema)
            props = body.setdefault("properties", {})
            for key in ("apiVersion", "kind"):
                props.setdefault(key, {"type": "string"})
            props.setdefault("metadata", {"type": "object"})
            found[(f"{group}/{version.get('name')}", str(kind))] = body
    return found


def add_crd(crd: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Register every versioned schema of ``crd``; returns the ``(apiVersion, kind)`` pairs.

    Raises:
        InvalidValue: ``crd`` is not a CustomResourceDefinition with at least one schema, or a
            schema is not valid JSON Schema.
    """
    if crd.get("kind") != "CustomResourceDefinition":
        raise InvalidValue(
            f"is a {crd.get('kind')!r}, not a CustomResourceDefinition",
            fix="pass the CRD object (apiextensions.k8s.io/v1 CustomResourceDefinition)",
        )
    found = crd_schemas(crd)
    if not found:
        raise InvalidValue(
            f"CRD {_dict(crd.get('metadata')).get('name')!r} has no openAPIV3Schema to check "
            "custom resources against",
            fix="register a CRD that defines spec.versions[].schema.openAPIV3Schema",
        )
    for key, schema in found.items():
        problem = _malformed(schema, "openAPIV3Schema")
        if problem is not None:
            raise InvalidValue(
                f"the schema of {key[1]} {key[0]} is malformed: {problem}",
                fix="fix the CRD's openAPIV3Schema (the API server would refuse it too)",
            )
    _schemas.update(found)
    spec = _dict(crd.get("spec"))
    kind = (str(spec.get("group")), str(_dict(spec.get("names")).get("kind")))
    if spec.get("scope") == "Cluster":
        _cluster_scoped.add(kind)
    else:
        _cluster_scoped.discard(kind)
    return sorted(found)


_TYPES = frozenset({"object", "array", "string", "integer", "number", "boolean", "null"})
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")


def _malformed(node: Any, where: str) -> str | None:
    """What makes ``node`` no JSON Schema the validators can compile, or None.

    A walk over the keywords a structural CRD schema uses (jsonschema's own meta-schema check
    costs seconds on Argo CD's CRDs, and an API server accepted these schemas already).
    """
    if isinstance(node, bool):
        return None
    if not isinstance(node, dict):
        return f"{where} is {type(node).__name__}, not a schema"
    kinds = node.get("type")
    for kind in kinds if isinstance(kinds, list) else [] if kinds is None else [kinds]:
        if kind not in _TYPES:
            return f"{where}.type {kind!r} is no JSON type"
    props = node.get("properties")
    if props is not None and not isinstance(props, dict):
        return f"{where}.properties is not a mapping"
    required = node.get("required")
    if required is not None and not (
        isinstance(required, list) and all(isinstance(r, str) for r in required)
    ):
        return f"{where}.required is not a list of names"
    children = [(f"{where}.properties.{k}", v) for k, v in (props or {}).items()]
    for key in ("items", "additionalProperties", "not"):
        if key in node and not isinstance(node[key], bool):
            children.append((f"{where}.{key}", node[key]))
    for key in _SCHEMA_LISTS:
        if key in node:
            if not isinstance(node[key], list):
                return f"{where}.{key} is not a list"
            children += [(f"{where}.{key}[{i}]", sub) for i, sub in enumerate(node[key])]
    for path, child in children:
        problem = _malformed(child, path)
        if problem is not None:
            return problem
    return None


def register_schema(api_version: str, kind: str, schema: Mapping[str, Any]) -> None:
    """Validate ``apiVersion``/``kind`` against a JSON Schema (2020-12); for tests and tools."""
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(dict(schema))
    _schemas[(api_version, kind)] = dict(schema)


def registered_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """Every schema registered in this process (a copy of the registry)."""
    return dict(_schemas)


def cluster_scoped_kinds() -> Iterable[tuple[str, str]]:
    """``(group, kind)`` of registered cluster-scoped custom resources."""
    return tuple(_cluster_scoped)
