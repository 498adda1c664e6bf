"""Secrets: no plaintext secret data in any committed output, nor in anything kubegen renders.

A Secret with ``data`` or ``stringData`` is rendered only with the explicit allow: the annotation
``kubegen.dev/opt-out-plaintext-secret`` holding a reason (``Secret(allow_plaintext=...)``);
kubegen/_render/limits.py enforces it for every builder, the Manifest escape hatch included.
The fuzzing tests of test_reliability_values.py run the same scan on every output they produce.
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

from kubegen import Manifest, PolicyError, Secret, Stack
from kubegen._render.files import render_files


def _committed_outputs() -> list[str]:
    if not (REPO / ".git").exists():  # an unpacked sdist: it ships exactly the committed files
        found = (p.relative_to(REPO).as_posix() for p in (REPO / "output").rglob("*"))
        return sorted(p for p in found if p.endswith((".yaml", ".yml")))
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
        b"---\nkind: Secret\nmetadata: {name: empty}\ndata: {}\n---\n"
        b"kind: Secret\nmetadata: {name: c, annotations: "
        b"{kubegen.dev/opt-out-plaintext-secret: ' '}}\ndata: {k: djE=}\n---\n"
        b"kind: Secret\nmetadata: {name: ok, annotations: {kubegen.dev/opt-out-plaintext-secret: "
        b"a test fixture}}\ndata: {k: djE=}\n"
    )
    assert plaintext_secrets(docs) == ["a", "b", "c"]


def _secret(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}, **fields}


def _render(body: dict[str, Any]) -> dict[str, bytes]:
    stack = Stack("sec", namespace="sec")
    stack.add(Manifest(body))
    return render_files(stack.objects())


@given(
    field=st.sampled_from(["data", "stringData"]),
    values=st.dictionaries(
        st.from_regex(r"[-._a-zA-Z0-9]{1,20}", fullmatch=True), hostile_text, min_size=1, max_size=3
    ),
    annotations=st.dictionaries(
        st.sampled_from(["note", "example.com/allow"]), hostile_text, max_size=2
    ),
)
def test_a_secret_with_data_is_always_refused(field, values, annotations):
    body = _secret(**{field: values})
    body["metadata"]["annotations"] = annotations
    with pytest.raises(PolicyError) as caught:
        _render(body)
    assert "Secret sec/creds" in str(caught.value) and "plaintext" in str(caught.value)


def test_a_secret_of_any_group_with_data_is_refused():
    body = {
        "apiVersion": "example.com/v1",
        "kind": "Secret",
        "metadata": {"name": "creds"},
        "data": {"token": "abc"},
    }
    with pytest.raises(PolicyError):
        _render(body)


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_allow_without_a_reason_is_refused(reason):
    body = _secret(data={"k": "djE="})
    body["metadata"]["annotations"] = {"kubegen.dev/opt-out-plaintext-secret": reason}
    with pytest.raises(PolicyError):
        _render(body)


def test_the_typed_secret_with_allow_plaintext_renders_and_says_why():
    stack = Stack("sec", namespace="sec")
    stack.add(Secret("creds", data={"user": "demo"}, allow_plaintext="a public demo account"))
    files = render_files(stack.objects())
    [doc] = [parse_documents(d)[0] for p, d in files.items() if p == "sec/secret-creds.yaml"]
    notes = doc["metadata"]["annotations"]
    assert notes["kubegen.dev/opt-out-plaintext-secret"] == "a public demo account"
    assert plaintext_secrets([doc]) == []


def test_a_secret_inside_a_list_is_refused():
    body = {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"name": "bundle"},
        "items": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
            _secret(stringData={"password": "hunter2"}),
        ],
    }
    with pytest.raises(PolicyError, match=r"items\[1\]"):
        _render(body)


@pytest.mark.parametrize(
    "body",
    [
        _secret(),
        _secret(data={}, type="kubernetes.io/service-account-token"),
        {
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"name": "creds"},
            "spec": {"encryptedData": {"password": "AgBy3i4OJSWK+"}},
        },
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
    stack = Stack("dev", namespace="dev", profile="{profile}")
    stack.add(ConfigMap("fine"))
    stack.add(Manifest({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
                        "stringData": {"password": "hunter2"}}))
    return stack
"""


@pytest.mark.parametrize("profile", ["restricted", "baseline"])
def test_cli_refuses_a_plaintext_secret_and_writes_nothing(tmp_path, profile):
    """The policy gate refuses it (restricted); where policy only warns (baseline), render does."""
    project = make_project(tmp_path / "proj")
    write_stack(project, "dev", LEAKY.replace("{profile}", profile))
    done = run_kubegen("render", "stacks/dev", cwd=project)
    assert done.returncode == 2
    assert "Secret dev/db" in done.stderr and "stacks/dev/__init__.py:7" in done.stderr
    assert "Traceback" not in done.stderr
    assert "hunter2" not in done.stderr + done.stdout  # the error never echoes the secret
    assert snapshot(project / "output") == {}
