"""Which files a vendored path stands for, in a fixed order, and their provenance header.

A vendored path is one YAML file or a folder of them (``*.yaml``/``*.yml``, recursively, sorted
by relative path; ``kustomization.yaml`` files are kustomize's, not objects, and are skipped).
A file written by ``kubegen vendor helm`` starts with a provenance header::

    # Vendored by kubegen from a Helm chart: edit the stack's patches, not this file.
    # kubegen-vendor: {"chart": "cert-manager", "content": "sha256:…", "values": "sha256:…", …}

``content`` is the digest of everything after the header, so a hand edit is caught by every
``kubegen render``/``check`` that reads the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubegen._values import InvalidValue

SUFFIXES = (".yaml", ".yml")
SKIPPED = frozenset({"kustomization.yaml", "kustomization.yml", "Chart.yaml", "values.yaml"})
HEADER_NOTE = "# Vendored by kubegen from a Helm chart: edit the stack's patches, not this file.\n"
PROVENANCE_PREFIX = "# kubegen-vendor: "


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One vendored file: where it is, its text after any header, and its provenance."""

    path: Path
    text: str
    provenance: dict[str, Any] | None


def digest(text: str) -> str:
    """``sha256:<hex>`` of ``text`` encoded as UTF-8."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def files_digest(files: Sequence[Path]) -> str:
    """``sha256:…`` over ``files`` in the order given (their names and bytes): the ``values``
    of a provenance header.

    Raises:
        OSError: a file cannot be read.
    """
    hasher = hashlib.sha256()
    for file in files:
        data = file.read_bytes()
        hasher.update(f"{file.name}\0{len(data)}\0".encode())
        hasher.update(data)
    return "sha256:" + hasher.hexdigest()


def header(provenance: dict[str, Any]) -> str:
    """The two header lines for ``provenance`` (keys sorted, so the bytes are stable)."""
    return HEADER_NOTE + PROVENANCE_PREFIX + json.dumps(provenance, sort_keys=True) + "\n"


def source_files(path: Path) -> list[Path]:
    """The YAML files ``path`` stands for, sorted by their path relative to it.

    Raises:
        InvalidValue: the path does not exist, or a folder holds no YAML file.
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InvalidValue(
            f"{path} does not exist",
            fix="pass the path of a YAML file or folder, relative to the project root "
            "(the folder of pyproject.toml)",
        )
    found = sorted(
        (p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()),
        key=lambda p: p.relative_to(path).as_posix(),
    )
    found = [p for p in found if p.name not in SKIPPED]
    if not found:
        raise InvalidValue(f"{path} holds no .yaml or .yml file", fix="vendor some manifests first")
    return found


def read_source(path: Path) -> SourceFile:
    """Read one vendored file and check its provenance header, if it has one.

    Raises:
        InvalidValue: unreadable, not UTF-8, or edited after ``kubegen vendor`` wrote it.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidValue(f"cannot read {path}: {exc}", fix="check the file") from None
    if not text.startswith(HEADER_NOTE):
        return SourceFile(path, text, None)
    first, _, rest = text[len(HEADER_NOTE) :].partition("\n")
    if not first.startswith(PROVENANCE_PREFIX):
        raise _edited(path, "its kubegen-vendor provenance line is missing")
    try:
        provenance = json.loads(first[len(PROVENANCE_PREFIX) :])
    except json.JSONDecodeError:
        raise _edited(path, "its kubegen-vendor provenance line is not JSON") from None
    if not isinstance(provenance, dict) or provenance.get("content") != digest(rest):
        raise _edited(path, "its content no longer matches the digest in its header")
    _check_values(path, provenance)
    return SourceFile(path, rest, provenance)


def _check_values(path: Path, provenance: dict[str, Any]) -> None:
    """The values files kept beside the output must be those it was rendered from."""
    names = provenance.get("values_files")
    if not isinstance(names, list) or not names:
        return
    files = [path.parent / str(name) for name in names]
    try:
        same = files_digest(files) == provenance.get("values")
    except OSError:
        same = False
    if not same:
        shown = ", ".join(str(name) for name in names)
        raise VendoredEdit(
            f"{path.parent / str(names[0])} changed (or went) after kubegen vendored {path}: "
            f"the output no longer follows from its values ({shown})",
            fix="vendor again with `kubegen vendor helm … --values` to render the new values, "
            "or restore the values file (git checkout)",
        )


class VendoredEdit(InvalidValue):
    """A vendored file or folder changed after ``kubegen vendor`` wrote it: drift, not a typo."""


def _edited(path: Path, why: str) -> InvalidValue:
    return VendoredEdit(
        f"{path} was edited by hand after kubegen vendored it: {why}",
        fix="restore it (git checkout) and change it with patches in the stack "
        "(set_image, patch, json_patch…), or vendor it again with `kubegen vendor helm`",
    )
