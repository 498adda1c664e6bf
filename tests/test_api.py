"""The library API (``kubegen.render``, ``kubegen.lint``): the CLI's gate, without disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubegen import Deployment, PolicyError, Severity, Stack, lint, render
from kubegen._loader import load_stack
from kubegen._pipeline import plan

ROOT = Path(__file__).resolve().parents[1]


def _stack() -> Stack:
    stack = Stack("shop", namespace="shop")
    stack.add(Deployment("api", image="ghcr.io/acme/api:1.0"))
    return stack


@pytest.mark.parametrize("env", ["dev", "prod", "gitops"])
def test_render_is_what_the_cli_writes(env: str):
    expected = plan(ROOT / "stacks" / env).files
    rendered = render(load_stack(ROOT / "stacks" / env).stack)
    assert list(rendered) == list(expected)
    assert {path: text.encode() for path, text in rendered.items()} == expected


def test_render_refuses_what_the_gate_refuses():
    assert "shop/deployment-api.yaml" in render(_stack())  # restricted: renders
    bad = Stack("shop", namespace="shop", profile="prod")
    bad.add(Deployment("api", image="ghcr.io/acme/api:1.0"))  # prod wants a digest
    with pytest.raises(PolicyError) as err:
        render(bad)
    assert "Deployment shop/api" in str(err.value)


def test_lint_reports_with_the_stacks_profile_unless_overridden():
    stack = Stack("shop", namespace="shop", profile="prod")
    stack.add(Deployment("api", image="ghcr.io/acme/api:1.0"))
    report = lint(stack)
    assert report.profile == "prod" and not report.ok
    assert any(f.severity is Severity.ERROR for f in report.errors)
    relaxed = lint(stack, profile="baseline")
    assert relaxed.profile == "baseline"
    assert len(relaxed.errors) < len(report.errors)
