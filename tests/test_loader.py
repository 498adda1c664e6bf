"""Loading stack modules: always from their source."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_stack_edited_to_the_same_length_within_the_second_renders_the_new_code(
    tmp_path: Path,
) -> None:
    """Python trusts cached bytecode whose source keeps its size and mtime second: kubegen
    compiles stack modules from source, so such an edit is never rendered stale."""
    repo = Path(__file__).resolve().parent.parent
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n')
    module = tmp_path / "stacks" / "samelen" / "__init__.py"
    module.parent.mkdir(parents=True)
    source = ("from kubegen import ConfigMap, Stack\n\n"
              "def build():\n    stack = Stack('s', namespace='s')\n"
              "    stack.add(ConfigMap('c', data={'VERSION': '1.4.2'}))\n    return stack\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(repo)

    def render() -> str:
        done = subprocess.run([sys.executable, "-m", "kubegen", "render", "stacks/samelen"],
                              cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return (tmp_path / "output/samelen/s/configmap-c.yaml").read_text()

    module.write_text(source)
    stamp = module.stat().st_mtime_ns
    assert "1.4.2" in render()
    module.write_text(source.replace("1.4.2", "1.4.3"))
    os.utime(module, ns=(stamp, stamp))  # same size, same mtime: what a cache would trust
    assert "1.4.3" in render()
