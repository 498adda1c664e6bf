"""Golden files: the example shop stack rendered to YAML text (see tests/workload_examples.py).

When the canonical emitter replaces the temporary one, refresh with
``python -m pytest tests/test_workloads_snapshots.py --snapshot-update`` and review the diff.
"""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion
from workload_examples import build_shop

from kubegen._render.files import render_files

SNAPSHOTTED = (
    "shop/deployment-api.yaml",
    "shop/statefulset-postgres.yaml",
    "shop/cronjob-backup.yaml",
    "shop/configmap-api.yaml",
)


@pytest.mark.parametrize("path", SNAPSHOTTED)
def test_shop_prod_files(path: str, snapshot: SnapshotAssertion) -> None:
    files = render_files(build_shop("prod").objects())
    assert files[path].decode() == snapshot


def test_shop_file_list(snapshot: SnapshotAssertion) -> None:
    files = render_files(build_shop("dev").objects())
    assert sorted(files) == snapshot


def test_render_is_deterministic() -> None:
    assert render_files(build_shop("prod").objects()) == render_files(build_shop("prod").objects())
