"""``kubegen vendor helm`` and ``kubegen import crd|manifests``: bringing third-party software in.

Each command writes files a team commits and reviews (vendored YAML with its provenance, typed
CRD models, a starting stack module); none of them runs during ``render`` or ``check``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kubegen._cli.app import _guard, app
from kubegen._cli.commands import echo

vendor_app = typer.Typer(
    help="Vendor third-party manifests (helm template output) into the repository.",
    no_args_is_help=True,
)
import_app = typer.Typer(
    help="Import CRDs as typed models, or existing manifests as a starting stack.",
    no_args_is_help=True,
)
app.add_typer(vendor_app, name="vendor")
app.add_typer(import_app, name="import")


@vendor_app.command("helm")
def helm(
    chart: Annotated[str, typer.Argument(help="Chart reference: repo/name, a path or an OCI URL.")],
    version: Annotated[str, typer.Option("--version", help="Chart version (required).")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write, e.g. vendor/cert-manager.")],
    values: Annotated[
        list[Path] | None, typer.Option("--values", "-f", help="Values file (repeatable).")
    ] = None,
    release: Annotated[
        str | None, typer.Option("--release", help="Release name (default: the chart name).")
    ] = None,
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Namespace to template into.")
    ] = None,
    repo: Annotated[str | None, typer.Option("--repo", help="Chart repository URL.")] = None,
) -> None:
    """Run `helm template` and write its output with provenance into --out."""

    def run() -> int:
        from kubegen._vendor.helm import vendor_helm

        result = vendor_helm(
            chart, version=version, out=out, values=values or [], release=release,
            namespace=namespace, repo=repo,
        )
        echo(f"vendored {chart} {version}: {result.documents} objects -> {result.path}")
        echo(f"use it with Vendored({str(out)!r}, source=..., version={version!r})")
        return 0

    _guard(run)


@import_app.command("crd")
def import_crd(
    paths: Annotated[list[Path], typer.Argument(help="CRD files or folders.", show_default=False)],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the generated modules.")
    ] = Path("crds"),
) -> None:
    """Generate typed pydantic models, one module per API group/version, from CRDs."""

    def run() -> int:
        from kubegen._vendor.crd_import import import_crds

        for module in import_crds(paths, out):
            echo(f"wrote {module}")
        return 0

    _guard(run)


@import_app.command("manifests")
def import_manifests(
    source: Annotated[Path, typer.Argument(help="A YAML file or folder.", show_default=False)],
    stack: Annotated[Path, typer.Option("--stack", help="Stack package to write, stacks/NAME.")],
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="For objects that name none.")
    ] = None,
) -> None:
    """Write a starting stack module from existing manifests, and report what kubegen's
    defaults would change (each difference with its rule id)."""

    def run() -> int:
        from kubegen._vendor.manifest_import import import_manifests as do_import

        result = do_import(source, stack, namespace=namespace)
        echo(f"wrote {result.module}: {result.typed} typed builders, {result.raw} Manifests")
        if result.kept:
            echo(f"kept as Manifest, no exact typed builder ({len(result.kept)}):")
            for line in result.kept:
                echo(f"  {line}")
        if result.differences:
            echo(f"hardening differences kept as they were ({len(result.differences)}):")
            for line in result.differences:
                echo(f"  {line}")
        return 0

    _guard(run)
