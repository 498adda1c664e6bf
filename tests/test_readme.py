"""The README's promises hold: its stack example runs and renders what the tour says."""

from __future__ import annotations

import re

import yaml

import kubegen
from tests.helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
DIGEST = "sha256:" + "ab" * 32


def _tour_example() -> str:
    block = re.search(r"```python\n(# stacks/prod/__init__.py\n.*?)```", README, re.S)
    assert block is not None, "the README tour lost its stack example"
    return block.group(1).replace("sha256:…", DIGEST)


def test_readme_stack_example_renders_hardened_output():
    namespace: dict[str, object] = {}
    exec(compile(_tour_example(), "README.md", "exec"), namespace)
    # Through the render gate (coherence and the prod profile's lint), as `kubegen render` does.
    files = kubegen.render(namespace["build"]())  # type: ignore[operator]
    assert {"_cluster/namespace-shop.yaml", "shop/networkpolicy-default-deny.yaml",
            "shop/networkpolicy-api-egress.yaml", "shop/networkpolicy-postgres-ingress.yaml",
            "shop/role-api-access.yaml", "shop/rolebinding-api-access.yaml",
            "shop/service-api.yaml", "shop/poddisruptionbudget-api.yaml"} <= set(files)
    api = yaml.safe_load(files["shop/deployment-api.yaml"])
    pod = api["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    # granted: the only pod with a token, projected and expiring, never automounted
    assert pod["automountServiceAccountToken"] is False
    assert "kube-api-access" in [volume["name"] for volume in pod["volumes"]]
    db = yaml.safe_load(files["shop/statefulset-postgres.yaml"])["spec"]["template"]["spec"]
    assert db["automountServiceAccountToken"] is False
    assert "kube-api-access" not in [volume["name"] for volume in db.get("volumes", [])]


def test_quickstart_is_two_commands_and_renders_every_example_env():
    block = re.search(r"## Quickstart\n\n```console\n(.*?)```", README, re.S)
    assert block is not None
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(lines) == 2 and lines[1] == "pytest"
    envs = {p.parent.name for p in (REPO / "stacks").glob("*/__init__.py")
            if "def build(" in p.read_text(encoding="utf-8")}
    assert {f"stacks/{env}" for env in envs} == set(re.findall(r"stacks/\w+", lines[0]))
