"""Resources are never silent (KG210): kubegen's built-in guess is a note, an error in ``prod``."""

from __future__ import annotations

from pathlib import Path

import kubegen
from kubegen import Deployment, Job, Resources, Stack, StackDefaults
from tests.helpers import run_cli, write_stack

UNSIZED = """
from kubegen import Deployment, HttpProbe, Port, Resources, Stack

def build() -> Stack:
    stack = Stack("shop", namespace="shop", profile="{profile}")
    stack.add(Deployment("db-proxy", image="ghcr.io/acme/proxy:1.0@sha256:{digest}",
                         replicas=2, port=Port(5432, name="pg"),
                         readiness=HttpProbe("/ready", port="pg"),
                         liveness=HttpProbe("/healthz", port="pg"){resources}))
    return stack
"""
DIGEST = "ab" * 32


def _source(profile: str, resources: str = "") -> str:
    return UNSIZED.format(profile=profile, digest=DIGEST, resources=resources)


def test_prod_refuses_an_unsized_container(tmp_path: Path):
    write_stack(tmp_path, "prod", _source("prod"))
    result = run_cli("render", "stacks/prod", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    error = result.stderr
    assert "Deployment shop/db-proxy  (stacks/prod/__init__.py:5)" in error
    assert ("error   KG210  spec.template.spec.containers[0].resources: container 'db-proxy' "
            "sets no resources and the stack no StackDefaults(resources=...): it runs on "
            "kubegen's guess (requests cpu 100m, memory 128Mi; limits cpu 100m, memory 128Mi)"
            ) in error
    assert "fix: Size the container from its real usage: resources=Resources(" in error
    assert not (tmp_path / "output").exists()


def test_sized_it_renders(tmp_path: Path):
    write_stack(tmp_path, "prod", _source(
        "prod", ",\n                         resources=Resources(cpu='250m', memory='256Mi')"))
    result = run_cli("render", "stacks/prod", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_elsewhere_the_guess_is_a_note(tmp_path: Path):
    write_stack(tmp_path, "dev", _source("restricted"))
    result = run_cli("lint", "stacks/dev", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "  info    KG210  spec.template.spec.containers[0].resources: container 'db-proxy'" in (
        result.stdout)


def test_explicit_stack_defaults_count_as_chosen():
    stack = Stack("shop", namespace="shop", profile="prod", defaults=StackDefaults(
        resources=Resources(cpu="250m", memory="256Mi"), replicas=2))
    stack.add(Deployment("worker", image="ghcr.io/acme/api:1.0@sha256:" + DIGEST))
    assert not [f for f in kubegen.lint(stack).findings if f.rule_id == "KG210"]


def test_each_unsized_container_of_a_pod_is_named():
    stack = Stack("shop", namespace="shop")
    stack.add(Job("migrate", image="ghcr.io/acme/api:1.0", init_containers=[
        kubegen.Container(name="wait", image="ghcr.io/acme/wait:1.0",
                          resources=Resources(cpu="10m", memory="16Mi"))]))
    found = [(f.path, f.severity) for f in kubegen.lint(stack).findings if f.rule_id == "KG210"]
    assert found == [("spec.template.spec.containers[0].resources", "info")]
