"""``register_crd``: validate custom resources strictly whether or not their CRD is rendered."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kubegen._errors import ValidationError
from kubegen._origin import capture
from kubegen._policy.crds import add_crd
from kubegen._values import InvalidValue


def register_crd(crd: Mapping[str, Any] | str | os.PathLike[str]) -> list[str]:
    """Register a CustomResourceDefinition's schemas, so its custom resources are checked.

    Every rendered custom resource of the CRD's group and kind is then validated against the
    schema of its version (KG001, strict: an unknown field such as ``dnsNamez`` is an error),
    even when the CRD itself is installed by something else; its scope (namespaced or cluster)
    is known too. The modules ``kubegen import crd`` writes call this when imported. See
    https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/

    Args:
        crd: the CRD object as a dict, or the path of a YAML file (or folder of files) holding
            CRDs; other objects in those files are ignored.

    Returns:
        ``"<group>/<version> <Kind>"`` for every schema registered, sorted.

    Raises:
        ValidationError: not a CRD, no schema in it, an invalid schema, or an unreadable file.
    """
    origin = capture()
    try:
        bodies = [crd] if isinstance(crd, Mapping) else _read(Path(crd))
        found = sorted({f"{v} {k}" for body in bodies for v, k in add_crd(body)})
    except InvalidValue as exc:
        raise ValidationError(
            exc.message, fix=exc.fix, origin=origin, resource="register_crd()"
        ) from None
    return found


def _read(path: Path) -> list[Mapping[str, Any]]:
    from kubegen._vendor.files import read_source, source_files
    from kubegen._vendor.yaml_reader import read_documents

    bodies: list[Mapping[str, Any]] = [
        doc.data
        for file in source_files(path)
        for doc in read_documents(read_source(file).text)
        if isinstance(doc.data, dict) and doc.data.get("kind") == "CustomResourceDefinition"
    ]
    if not bodies:
        raise InvalidValue(f"{path} holds no CustomResourceDefinition", fix="pass a CRD file")
    return bodies
