"""Secrets: no plaintext secret data in any committed output, nor in anything kubegen renders.

Until the workloads builders define an explicit-allow annotation, *no* core Secret with ``data``
or ``stringData`` may be rendered at all (kubegen/_render/limits.py refuses it); the fuzzing
tests of test_reliability_values.py run the same scan on every output they produce.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from reliability_support import (
    REPO,
    hostile_text,
    make_project,
    parse_documents,
    plaintext_secrets,
    run_kubegen,
    snapshot,
    write_stack,
)

from kubegen import Manifest, PolicyError, Stack
from kubegen._render.files import render_files


def _committed_outputs() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "output"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    return sorted(p for p in listed.split("\0") if p.endswith((".yaml", ".yml")))


def test_committed_outputs_hold_no_plaintext_secret():
    paths = _committed_outputs()
    assert paths, "no committed output found: the scan would prove nothing"
    for path in paths:
        docs = parse_documents((REPO / path).read_bytes())
        assert plaintext_secrets(docs) == [], path


def test_the_scan_finds_plaintext_secrets():
    """The scanner itself: it must not be a test that can never fail."""
    docs = parse_documents(
        b"kind: Secret\nmetadata: {name: a}\ndata: {k: djE=}\n---\n"
        b"kind: List\nitems:\n- {kind: Secret, metadata: {name: b}, stringData: {k: v}}\n"
        b"---\nkind: Secret\nmetadata: {name: empty}\ndata: {}\n"
    )
    assert plaintext_secrets(docs) == ["a", "b"]


def _secret(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}, **fields}


def _render(body: dict[str, Any]) -> dict[str, bytes]:
    stack = Stack("sec", namespace="sec")
    stack.add(Manifest(body))
    return render_files(stack.objects())


@given(
    field=st.sampled_from(["data", "stringData"]),
    values=st.dictionaries(st.from_regex(r"[-._a-zA-Z0-9]{1,20}", fullmatch=True), hostile_text,
                           min_size=1, max_size=3),
    annotations=st.dictionaries(st.sampled_from(["note", "example.com/allow"]), hostile_text,
                                max_size=2),
)
def test_a_secret_with_data_is_always_refused(field, values, annotations):
    body = _secret(**{field: values})
    body["metadata"]["annotations"] = annotations
    with pytest.raises(PolicyError) as caught:
        _render(body)
    assert "Secret sec/creds" in str(caught.value) and "plaintext" in str(caught.value)


def test_a_secret_of_any_group_with_data_is_refused():
    body = {"apiVersion": "example.com/v1", "kind": "Secret", "metadata": {"name": "creds"},
            "data": {"token": "abc"}}
    with pytest.raises(PolicyError):
        _render(body)


def test_a_secret_inside_a_list_is_refused():
    body = {"apiVersion": "v1", "kind": "List", "metadata": {"name": "bundle"},
            "items": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
                      _secret(stringData={"password": "hunter2"})]}
    with pytest.raises(PolicyError, match=r"items\[1\]"):
        _render(body)


@pytest.mark.parametrize(
    "body",
    [
        _secret(),
        _secret(data={}, type="kubernetes.io/service-account-token"),
        {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
         "metadata": {"name": "creds"}, "spec": {"encryptedData": {"password": "AgBy3i4OJSWK+"}}},
    ],
    ids=["empty", "token-type", "sealed"],
)
def test_secret_references_and_empty_secrets_render(body):
    files = _render(body)
    docs = [parse_documents(data)[0] for data in files.values()]
    assert plaintext_secrets(docs) == []
    assert any(doc.get("metadata", {}).get("name") == "creds" for doc in docs)


LEAKY = """
from kubegen import ConfigMap, Manifest, Stack

def build():
    stack = Stack("dev", namespace="dev")
    stack.add(ConfigMap("fine"))
    stack.add(Manifest({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
                        "stringData": {"password": "hunter2"}}))
    return stack
"""


def test_cli_refuses_a_plaintext_secret_and_writes_nothing(tmp_path):
    project = make_project(tmp_path / "proj")
    write_stack(project, "dev", LEAKY)
    done = run_kubegen("render", "stacks/dev", cwd=project)
    assert done.returncode == 2
    assert done.stderr.startswith("error: stacks/dev/__init__.py:7: Secret dev/db: ")
    assert "hunter2" not in done.stderr + done.stdout  # the error never echoes the secret
    assert snapshot(project / "output") == {}
