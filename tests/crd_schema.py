"""Validate rendered GitOps objects against the upstream CRD schemas shipped in tests/data/crds.

The API server validates a custom resource with the ``openAPIV3Schema`` of its CRD version and
prunes (or, with ``kubectl --validate=strict`` and server-side field validation, refuses) fields
the schema does not declare. :func:`validate` does the same offline: it turns the structural
schema into a JSON Schema (objects with ``properties`` are closed unless they say
``x-kubernetes-preserve-unknown-fields``; ``x-kubernetes-int-or-string`` accepts both), validates
with ``jsonschema``, then evaluates the CRD's CEL rules (``x-kubernetes-validations``). CEL is not
interpreted in general: each rule text the shipped CRDs use is translated below, and a rule this
module does not know fails the validation instead of being skipped.

Sources and versions are listed in tests/data/README.md.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the 1.4 MB ApplicationSet CRD
CRDS = Path(__file__).resolve().parent / "data" / "crds"

#: (group, kind) → shipped CRD file.
FILES = {
    ("argoproj.io", "Application"): "argoproj.io_applications.yaml.gz",
    ("argoproj.io", "ApplicationSet"): "argoproj.io_applicationsets.yaml.gz",
    ("argoproj.io", "AppProject"): "argoproj.io_appprojects.yaml.gz",
    ("kustomize.toolkit.fluxcd.io", "Kustomization"):
        "kustomize.toolkit.fluxcd.io_kustomizations.yaml.gz",
    ("source.toolkit.fluxcd.io", "GitRepository"):
        "source.toolkit.fluxcd.io_gitrepositories.yaml.gz",
}


def _has(obj: dict[str, Any], field: str) -> bool:
    return field in obj


#: The CEL rules of the shipped CRDs, by rule text, as Python predicates over ``self``.
CEL_RULES: dict[str, Callable[[dict[str, Any]], bool]] = {
    # Kustomization.spec.kubeConfig: exactly one of configMapRef / secretRef
    "has(self.configMapRef) || has(self.secretRef)":
        lambda s: _has(s, "configMapRef") or _has(s, "secretRef"),
    "!has(self.configMapRef) || !has(self.secretRef)":
        lambda s: not _has(s, "configMapRef") or not _has(s, "secretRef"),
    # GitRepository.spec: serviceAccountName only with the azure or aws provider
    "!has(self.serviceAccountName) || (has(self.provider) && (self.provider == 'azure' "
    "|| self.provider == 'aws'))":
        lambda s: not _has(s, "serviceAccountName") or s.get("provider") in ("azure", "aws"),
}


class CrdError(AssertionError):
    """An object the API server would refuse (or prune) under the shipped CRD."""


@cache
def crd(group: str, kind: str) -> dict[str, Any]:
    """The shipped CRD document for (group, kind)."""
    with gzip.open(CRDS / FILES[(group, kind)], "rt", encoding="utf-8") as handle:
        doc: dict[str, Any] = yaml.load(handle, Loader=_LOADER)
    assert doc["kind"] == "CustomResourceDefinition"
    assert (doc["spec"]["group"], doc["spec"]["names"]["kind"]) == (group, kind)
    return doc


def crd_version(group: str, kind: str, version: str) -> dict[str, Any]:
    """The served version entry (``name``, ``schema``) of the CRD."""
    for entry in crd(group, kind)["spec"]["versions"]:
        if entry["name"] == version:
            if not entry.get("served", False):
                raise CrdError(f"{group}/{version} {kind} is not served by the shipped CRD")
            return entry
    raise CrdError(f"the shipped {kind} CRD has no version {version}")


def json_schema(node: Any, *, root: bool = True) -> Any:
    """The JSON Schema equivalent of a structural ``openAPIV3Schema`` node (strict objects)."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("description", "default", "format") or key.startswith("x-kubernetes-"):
            continue
        if key == "properties":
            out[key] = {
                name: json_schema(child, root=False) if not (root and name == "metadata") else {}
                for name, child in value.items()
            }
        elif key in ("items", "additionalProperties", "not"):
            out[key] = json_schema(value, root=False)
        elif key in ("anyOf", "allOf", "oneOf"):
            out[key] = [json_schema(item, root=False) for item in value]
        else:
            out[key] = value
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    open_object = node.get("x-kubernetes-preserve-unknown-fields") or "additionalProperties" in node
    if node.get("type") == "object" and not open_object:
        out["additionalProperties"] = False
    return out


@cache
def _validator(group: str, kind: str, version: str) -> jsonschema.protocols.Validator:
    schema = crd_version(group, kind, version)["schema"]["openAPIV3Schema"]
    converted = json_schema(schema)
    cls = jsonschema.validators.validator_for(converted, default=jsonschema.Draft7Validator)
    return cls(converted)


def _rules(schema: Any, value: Any, path: str) -> Iterator[str]:
    """Each CEL rule on ``schema`` that ``value`` breaks, as an error message."""
    if not isinstance(schema, dict):
        return
    for rule in schema.get("x-kubernetes-validations", ()):
        check = CEL_RULES.get(rule["rule"])
        if check is None:
            yield f"{path}: CEL rule not translated in tests/crd_schema.py: {rule['rule']!r}"
        elif not check(value):
            yield f"{path}: {rule.get('message', rule['rule'])}"
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key, child in value.items():
            sub = props.get(key, schema.get("additionalProperties"))
            yield from _rules(sub, child, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _rules(schema.get("items"), item, f"{path}[{i}]")


def validate(obj: dict[str, Any]) -> None:
    """Raise :class:`CrdError` listing every way ``obj`` breaks its shipped CRD schema."""
    group, _, version = obj["apiVersion"].rpartition("/")
    kind = obj["kind"]
    if (group, kind) not in FILES:
        raise CrdError(f"no CRD shipped for {group} {kind}")
    validator = _validator(group, kind, version)
    problems = [
        f"{'.'.join(str(p) for p in err.absolute_path) or '<root>'}: {err.message}"
        for err in validator.iter_errors(obj)
    ]
    schema = crd_version(group, kind, version)["schema"]["openAPIV3Schema"]
    problems += list(_rules(schema, obj, "<root>"))
    name = obj.get("metadata", {}).get("name")
    if not isinstance(name, str) or not name:
        problems.append("metadata.name: required")
    if problems:
        raise CrdError(f"{kind} {name}: " + "; ".join(problems[:10]))


def is_crd_typed(obj: dict[str, Any]) -> bool:
    """Whether a CRD for ``obj`` is shipped (so :func:`validate` applies)."""
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return (group, obj.get("kind")) in FILES
