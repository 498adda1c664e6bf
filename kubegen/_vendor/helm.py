"""``kubegen vendor helm``: run ``helm template`` once and keep its output as a vendored source.

Helm stays a tool of the person vendoring, never of the render: the output is committed under
``vendor/…`` with its provenance (chart, version, repository, release, namespace, the digest
of the values files and of the content) in a header, and the stack reads it with
``Vendored("vendor/<name>")``. Every later read checks the content digest, so a hand edit fails
``kubegen render`` and ``kubegen check``; the fix is a patch in Python or a new vendoring.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kubegen._errors import KubegenError
from kubegen._vendor.files import SKIPPED, SUFFIXES, digest, files_digest, header, read_source

MANIFESTS = "manifests.yaml"


@dataclass(frozen=True, slots=True)
class HelmResult:
    """What was written: the file and how many documents it holds."""

    path: Path
    documents: int


def values_digest(files: Sequence[Path]) -> str:
    """``sha256:…`` over the values files in the order given (their names and bytes)."""
    try:
        return files_digest(files)
    except OSError as exc:
        raise KubegenError(f"cannot read values file {exc.filename}: {exc.strerror}") from None


def helm_command(
    chart: str,
    *,
    version: str,
    values: Sequence[Path],
    release: str,
    namespace: str | None,
    repo: str | None,
) -> list[str]:
    """The ``helm template`` argument list (CRDs included, so the source is complete)."""
    command = ["helm", "template", release, chart, "--version", version, "--include-crds"]
    if repo:
        command += ["--repo", repo]
    if namespace:
        command += ["--namespace", namespace]
    for file in values:
        command += ["--values", str(file)]
    return command


def vendor_helm(
    chart: str,
    *,
    version: str,
    out: Path,
    values: Sequence[Path] = (),
    release: str | None = None,
    namespace: str | None = None,
    repo: str | None = None,
) -> HelmResult:
    """Run ``helm template`` and write ``<out>/manifests.yaml`` with a provenance header.

    Raises:
        KubegenError: helm is not on PATH (one line), helm failed (its message), or ``out``
            holds YAML files kubegen did not write.
    """
    helm = shutil.which("helm")
    if helm is None:
        raise KubegenError(
            "helm is not installed (no `helm` on PATH); install Helm 3 to vendor a chart, "
            "or vendor its rendered YAML with Vendored(...)"
        )
    name = release or Path(chart).name.removesuffix(".tgz")
    _refuse_foreign_files(out)
    digest_of_values = values_digest(values)
    command = helm_command(
        chart, version=version, values=values, release=name, namespace=namespace, repo=repo
    )
    command[0] = helm
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, env=_env()
        )
    except OSError as exc:
        raise KubegenError(f"cannot run helm: {exc.strerror}") from None
    if done.returncode != 0:
        message = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise KubegenError(
            f"helm template failed (exit {done.returncode}): {' '.join(message[:5])[:600]}",
            fix="check the chart name, --repo, --version and the values files",
        )
    text = done.stdout if done.stdout.endswith("\n") or not done.stdout else done.stdout + "\n"
    provenance: dict[str, object] = {
        "chart": chart,
        "version": version,
        "release": name,
        "namespace": namespace,
        "repo": repo,
        "values": digest_of_values,
        "content": digest(text),
        "tool": "helm template",
    }
    kept = _inside(values, out)
    if kept is not None:  # beside the output: every later read checks they are unchanged
        provenance["values_files"] = kept
    out.mkdir(parents=True, exist_ok=True)
    target = out / MANIFESTS
    tmp = out / f".{MANIFESTS}.tmp"
    tmp.write_text(header(provenance) + text, encoding="utf-8")
    os.replace(tmp, target)
    documents = sum(1 for line in text.splitlines() if line.startswith("kind:"))
    return HelmResult(target, documents)


def _inside(values: Sequence[Path], out: Path) -> list[str] | None:
    """The values files' paths relative to ``out`` when all of them are inside it, else None."""
    found = []
    for file in values:
        try:
            found.append(file.resolve().relative_to(out.resolve()).as_posix())
        except ValueError:
            return None
    return found or None


def _env() -> dict[str, str]:
    """helm's environment without kubegen's own start-up settings."""
    return {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}


def _refuse_foreign_files(out: Path) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise KubegenError(f"--out {out} is a file", fix="name a folder, e.g. vendor/cert-manager")
    for file in sorted(out.rglob("*")):
        if file.suffix not in SUFFIXES or file.name in SKIPPED or not file.is_file():
            continue
        if file.name != MANIFESTS or read_source_is_plain(file):
            raise KubegenError(
                f"--out {out} holds {file.name}, which `kubegen vendor helm` did not write",
                fix="vendor into a folder of its own (e.g. vendor/<chart>)",
            )


def read_source_is_plain(file: Path) -> bool:
    """True when ``file`` has no kubegen-vendor header (a hand-made file); an edited one
    raises the hand-edit error, which the new output would overwrite silently otherwise."""
    from kubegen._values import InvalidValue

    try:
        return read_source(file).provenance is None
    except InvalidValue:
        return False  # ours, edited by hand: vendoring again is the documented fix
