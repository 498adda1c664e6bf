"""Strict schema validation against the official Kubernetes schemas (KG001, KG002).

The schemas come from the ``kubernetes-validate`` package, which ships the OpenAPI definitions of
each Kubernetes minor version converted to JSON Schema, in a ``-strict`` flavour where every
object has ``additionalProperties: false`` (an unknown field, usually a typo or a field of another
version, is an error). kubegen does not use the package's ``validate()`` function, which reloads
1.4 MB of definitions per call; it reads the bundled files once per version and compiles one
``jsonschema`` validator per (apiVersion, kind), with ``$ref`` inlined (except recursive ones) and
descriptions dropped, which makes validation several times faster.

Kinds Kubernetes does not serve (custom resources such as Argo CD ``Application`` or
``ExternalSecret``) get an info-level KG002 note instead, unless a schema is known for them: from a
``CustomResourceDefinition`` in the same object set, or one registered with the public
``kubegen.register_crd`` (see :mod:`kubegen._policy.crds`).
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubegen._errors import ValidationError
from kubegen._manifests import ManifestObject, group_of
from kubegen._policy.context import LintContext, as_dict, as_list
from kubegen._policy.crds import crd_schemas, register_schema, registered_schemas
from kubegen._policy.deprecations import removed_in_target
from kubegen._policy.fastschema import Check, compile_schema
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import E, I, rule
from kubegen._policy.rules import show

if TYPE_CHECKING:  # jsonschema is imported only to explain an invalid object (it costs ~0.1 s)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError as SchemaError
    from referencing import Registry

__all__ = [
    "check_for",
    "register_schema",
    "schema_for",
    "schema_identity",
    "schema_version",
    "shipped_versions",
    "validator_for",
]

DEFS_ID = "https://kubernetes.io/api/_definitions.json"
_DROP = frozenset({"description", "format"})
_REF = re.compile(r"#/\$defs/(.+)$")
_DIR = re.compile(r"^v(\d+)\.(\d+)\.\d+-local-strict$")
MAX_ERRORS_PER_OBJECT = 10


def _schema_root() -> Path:
    """The bundled schemas, found without importing kubernetes_validate (which loads PyYAML,
    jsonschema and certifi)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a dependency
        raise ValidationError(
            "Unable to validate schemas: the kubernetes-validate package is not installed",
            fix="pip install kubernetes-validate",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


@cache
def shipped_versions() -> tuple[tuple[int, int], ...]:
    """Kubernetes minor versions whose strict schemas the installed package ships, ascending."""
    found = []
    for entry in _schema_root().iterdir():
        match = _DIR.match(entry.name)
        if match:
            found.append((int(match.group(1)), int(match.group(2))))
    return tuple(sorted(found))


def schema_identity(target: tuple[int, int]) -> str:
    """A cheap identity of the schema data used for ``target``: the folder's name and its
    definitions' size (part of the lint key of :mod:`kubegen._render.cache`)."""
    version = schema_version(target)
    folder = _schema_root().joinpath(f"v{version[0]}.{version[1]}.0-local-strict")
    try:
        size = folder.joinpath("_definitions.json").stat().st_size
    except OSError:
        size = -1
    return f"{folder.name}:{size}"


def schema_version(target: tuple[int, int]) -> tuple[int, int]:
    """The schema version used for ``target``: the newest shipped one not newer than it.

    Raises:
        ValidationError: ``target`` is older than every shipped schema.
    """
    versions = shipped_versions()
    usable = [v for v in versions if v <= target]
    if not usable:
        oldest, newest = versions[0], versions[-1]
        raise ValidationError(
            f"Unable to validate against Kubernetes {target[0]}.{target[1]}: no schemas for it",
            field="kubernetes_version",
            value=f"{target[0]}.{target[1]}",
            fix=f"target a version from {oldest[0]}.{oldest[1]} to {newest[0]}.{newest[1]}",
        )
    return usable[-1]


@dataclass
class _VersionSchemas:
    """The definitions of one Kubernetes version and the validators compiled from them."""

    defs: dict[str, Any]
    kinds: dict[tuple[str, str, str], str]
    groups: frozenset[str]
    recursive: _Cycles
    meta_schema: str | None
    inlined: dict[str, Any] = field(default_factory=dict)
    schemas: dict[tuple[str, str], dict[str, Any] | None] = field(default_factory=dict)
    validators: dict[tuple[str, str], Draft202012Validator | None] = field(default_factory=dict)
    checks: dict[tuple[str, str], Check | None] = field(default_factory=dict)

    @cached_property
    def registry(self) -> Registry[Any]:
        """The definitions as a ``referencing`` registry (for recursive ``$ref``), built on the
        first jsonschema validator only."""
        from referencing import Registry, Resource

        stripped = {"$defs": _strip(self.defs), "$id": DEFS_ID, "$schema": self.meta_schema}
        return Resource.from_contents(stripped) @ Registry()

    def inline(self, node: Any, *, top: bool = False) -> Any:
        """``node`` with ``$ref`` replaced by the definitions (recursive ones stay refs)."""
        if isinstance(node, list):
            return [self.inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            match = _REF.search(ref)
            name = match.group(1) if match else ""
            if name in self.recursive or name not in self.defs:
                return {"$ref": f"{DEFS_ID}#/$defs/{name}"}
            if name not in self.inlined:
                self.inlined[name] = self.inline(self.defs[name], top=True)
            return self.inlined[name]
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DROP or key.startswith("x-kubernetes-"):
                continue
            if key == "properties" and isinstance(value, dict):
                out[key] = {prop: self.inline(sub) for prop, sub in value.items()}
            else:
                out[key] = self.inline(value)
        return out


def _strip(node: Any) -> Any:
    if isinstance(node, list):
        return [_strip(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: ({p: _strip(s) for p, s in value.items()} if key == "properties" else _strip(value))
        for key, value in node.items()
        if key not in _DROP or key == "properties"
    }


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and (match := _REF.search(ref)):
            yield match.group(1)
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


class _Cycles:
    """Definitions that can reach themselves through ``$ref`` (they cannot be inlined).

    Worked out per name on first ask: a render inlines the few dozen definitions its kinds
    reach, not the whole API's hundreds (walking all of them cost ~10 ms per process).
    """

    def __init__(self, defs: Mapping[str, Any]) -> None:
        self.defs = defs
        self.edges: dict[str, set[str]] = {}
        self.known: dict[str, bool] = {}

    def _edges(self, name: str) -> set[str]:
        found = self.edges.get(name)
        if found is None:
            found = self.edges[name] = set(_refs(self.defs[name]))
        return found

    def __contains__(self, start: object) -> bool:
        if not isinstance(start, str) or start not in self.defs:
            return False
        if start not in self.known:
            self.known[start] = self._reaches_itself(start)
        return self.known[start]

    def _reaches_itself(self, start: str) -> bool:
        stack, seen = list(self._edges(start)), set()
        while stack:
            name = stack.pop()
            if name == start:
                return True
            if name not in seen and name in self.defs:
                seen.add(name)
                stack.extend(self._edges(name))
        return False


@cache
def _load(version: tuple[int, int]) -> _VersionSchemas:
    folder = _schema_root().joinpath(f"v{version[0]}.{version[1]}.0-local-strict")
    document = json.loads(folder.joinpath("_definitions.json").read_text(encoding="utf-8"))
    defs: dict[str, Any] = document["$defs"]
    kinds: dict[tuple[str, str, str], str] = {}
    for name, body in defs.items():
        gvks = as_list(body.get("x-kubernetes-group-version-kind"))
        if len(gvks) == 1:  # meta types (DeleteOptions, WatchEvent) list dozens; skip them
            gvk = gvks[0]
            kinds[(gvk["group"], gvk["version"], gvk["kind"])] = name
    return _VersionSchemas(
        defs=defs,
        kinds=kinds,
        groups=frozenset(group for group, _, _ in kinds),
        recursive=_Cycles(defs),
        meta_schema=document.get("$schema"),
    )


def schema_for(version: tuple[int, int], api_version: str, kind: str) -> dict[str, Any] | None:
    """The inlined strict schema of ``apiVersion``/``kind`` in ``version``, or ``None``."""
    schemas = _load(version)
    key = (api_version, kind)
    if key not in schemas.schemas:
        group, _, ver = api_version.rpartition("/")
        name = schemas.kinds.get((group, ver, kind))
        schemas.schemas[key] = None if name is None else schemas.inline({"$ref": f"#/$defs/{name}"})
    return schemas.schemas[key]


def validator_for(
    version: tuple[int, int], api_version: str, kind: str
) -> Draft202012Validator | None:
    """The cached strict validator for ``apiVersion``/``kind`` in ``version``, or ``None``."""
    schemas = _load(version)
    key = (api_version, kind)
    if key not in schemas.validators:
        from jsonschema import Draft202012Validator

        schema = schema_for(version, api_version, kind)
        validator = None
        if schema is not None:
            validator = Draft202012Validator(schema, registry=schemas.registry)
        schemas.validators[key] = validator
    return schemas.validators[key]


def check_for(version: tuple[int, int], api_version: str, kind: str) -> Check | None:
    """The compiled yes/no check of :func:`validator_for`'s schema (see ``fastschema``).

    ``None`` when the kind has no schema or the schema needs ``jsonschema``. A ``True`` answer
    means ``validator_for(...)`` finds no error; ``False`` that it finds at least one.
    """
    schemas = _load(version)
    key = (api_version, kind)
    if key not in schemas.checks:
        schema = schema_for(version, api_version, kind)
        schemas.checks[key] = None if schema is None else compile_schema(schema, schemas.defs)
    return schemas.checks[key]


def _crd_schemas(ctx: LintContext) -> dict[tuple[str, str], dict[str, Any]]:
    found = registered_schemas()
    for crd in ctx.of_kind("CustomResourceDefinition"):
        found.update(crd_schemas(crd.body))
    return found


_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


def _path(error: SchemaError) -> str:
    """``spec.template.spec.containers[0].image``; map keys with dots or slashes in brackets."""
    parts: list[str] = []
    for item in error.absolute_path:
        if isinstance(item, int) or not _IDENTIFIER.match(str(item)):
            parts.append(f"[{item}]")
        else:
            parts.append(f".{item}" if parts else str(item))
    return "".join(parts)


def _types(value: Any) -> str:
    """A schema ``type`` for people: ``["integer", "null"]`` → ``integer`` (null is implied)."""
    names = [str(t) for t in (value if isinstance(value, list) else [value]) if t != "null"]
    return " or ".join(names) or "null"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _explain(error: SchemaError) -> Iterator[tuple[str, str]]:
    """``(path, message)`` pairs for one schema error, in words a manifest author uses."""
    path = _path(error)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(schema.get("properties", {}))
        for name in sorted(set(error.instance) - known):
            yield _join(path, name), f"unknown field {name!r}"
        return
    if error.validator == "type":
        yield path, f"is {show(error.instance)}, expected {_types(error.validator_value)}"
    elif error.validator == "oneOf":
        options = [_types(as_dict(s).get("type")) for s in as_list(error.validator_value)]
        yield path, f"is {show(error.instance)}, expected {' or '.join(options)}"
    elif error.validator == "required":
        missing = [n for n in as_list(error.validator_value) if n not in as_dict(error.instance)]
        for name in missing:
            yield _join(path, str(name)), "is required"
    else:
        yield path, error.message if len(error.message) <= 160 else error.message[:157] + "..."


def _custom_validator(schema: dict[str, Any]) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema)


def _validate(validator: Draft202012Validator, obj: ManifestObject, label: str) -> Iterator[Hit]:
    errors = sorted(validator.iter_errors(obj.body), key=lambda e: [str(p) for p in e.path])
    for count, error in enumerate(errors):
        if count == MAX_ERRORS_PER_OBJECT:
            yield Hit(obj, "", f"more schema errors not shown ({len(errors) - count} left)")
            break
        for path, message in _explain(error):
            yield Hit(obj, path or "(object)", f"{message} (schema: {label})")


@rule(
    "KG001",
    per_object=True,
    name="schema",
    title="Objects match the Kubernetes API schema of the target version (strict)",
    levels=Levels(baseline=E, restricted=E, prod=E),
    reason="The API server rejects (or, for unknown fields, silently drops) what its schema "
    "does not allow; catching it at render time beats a failed apply or a setting that never "
    "took effect.",
    sources=("Kubernetes OpenAPI schemas, via the kubernetes-validate package",),
    fix="Correct the field named in the message (typo, wrong type, or a field that does not "
    "exist in this Kubernetes version).",
    scanners=("kube-linter schema-validation (kubeconform)",),
    tags=("correctness",),
)
def schema_valid(ctx: LintContext) -> Iterator[Hit]:
    if not ctx.schema:
        return
    version = schema_version(ctx.kubernetes_version)
    schemas, custom = _load(version), _crd_schemas(ctx)
    label = f"Kubernetes {version[0]}.{version[1]}"
    compiled: dict[tuple[str, str], Check | None] = {}
    builtin: dict[tuple[str, str], tuple[bool, Check | None]] = {}  # has a schema, its check
    for obj in ctx.objects:
        api_version, kind = obj.api_version, obj.kind
        if not api_version or not kind:
            yield Hit(obj, "apiVersion", "apiVersion and kind are required")
            continue
        key = (api_version, kind)
        known = builtin.get(key)
        if known is None:
            has_schema = schema_for(version, api_version, kind) is not None
            check = check_for(version, api_version, kind) if has_schema else None
            known = builtin[key] = (has_schema, check)
        if known[0]:
            check = known[1]
            if check is None or not check(obj.body):  # only jsonschema explains an error
                validator = validator_for(version, api_version, kind)
                assert validator is not None
                yield from _validate(validator, obj, label)
        elif key in custom:
            if key not in compiled:
                compiled[key] = compile_schema(custom[key], {})
            check = compiled[key]
            if check is None or not check(obj.body):
                yield from _validate(_custom_validator(custom[key]), obj, f"{obj.kind} CRD")
        elif group_of(api_version) in schemas.groups and not removed_in_target(
            ctx, api_version, kind
        ):
            message = f"{label} serves no kind {kind!r} in {api_version}"
            yield Hit(obj, "kind", message)


@rule(
    "KG002",
    per_object=True,
    name="schema-unknown-kind",
    title="Custom resources without a schema are not validated (note)",
    levels=Levels(baseline=I, restricted=I, prod=I),
    reason="kubegen only knows the schemas of built-in kinds, of CRDs in the same object set "
    "and of CRDs registered with kubegen.register_crd(); other custom resources pass unchecked.",
    sources=("Kubernetes docs, 'Custom Resources'",),
    fix="Render the CustomResourceDefinition with the stack, register it with "
    "kubegen.register_crd('path/to/crd.yaml'), or generate typed models with "
    "`kubegen import crd` (their module registers the CRD when imported).",
    scanners=("kubeconform -ignore-missing-schemas",),
    tags=("correctness",),
)
def schema_unknown_kind(ctx: LintContext) -> Iterator[Hit]:
    if not ctx.schema:
        return
    version = schema_version(ctx.kubernetes_version)
    schemas, custom = _load(version), _crd_schemas(ctx)
    unknown: dict[tuple[str, str], bool] = {}  # the verdict depends on apiVersion/kind only
    for obj in ctx.objects:
        api_version, kind = obj.api_version, obj.kind
        if not api_version or not kind:
            continue
        key = (api_version, kind)
        verdict = unknown.get(key)
        if verdict is None:
            verdict = unknown[key] = (
                key not in custom
                and group_of(api_version) not in schemas.groups
                and schema_for(version, api_version, kind) is None
            )
        if verdict:
            yield Hit(obj, "apiVersion", f"{api_version} {kind} has no known schema")
