"""Secrets: no plaintext secret data in any committed output, nor in anything kubegen renders.

A Secret with ``data`` or ``stringData`` is rendered only with the explicit allow: the annotation
``kubegen.dev/opt-out-plaintext-secret`` holding a reason (``Secret(allow_plaintext=...)``);
kubegen/_render/limits.py enforces it for every builder, the Manifest escape hatch included.
The fuzzing tests of test_reliability_values.py run the same scan on every output they produce.
"""

from __future__ import annotations

import base64
import random
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

from kubegen import Manifest, PolicyError, SealedSecret, Secret, Stack, ValidationError
from kubegen._policy import lint as policy_lint
from kubegen._render.files import render_files
from kubegen._values.credentials import only_references, sealed_problem
from tests.policy_factories import find, good_stack, set_in


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
            "spec": {"encryptedData": {"password": "AgBy3i4OJSWK+PiT" + "Qx7m" * 183}},
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


# --- sealed values look like kubeseal output; credentials in env values are found ------------
# kubeseal's format (sealed-secrets docs/developer/crypto.md): 2 bytes giving the length of the
# RSA-OAEP-encrypted session key, that key (the modulus' length), the AES-GCM ciphertext + tag.


def _kubeseal_shaped(rsa_bytes: int = 512, plaintext: int = 12, seed: int = 7) -> str:
    noise = random.Random(seed).randbytes(rsa_bytes + plaintext + 16)
    return base64.b64encode(rsa_bytes.to_bytes(2, "big") + noise).decode()


PEM = b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA" + b"q" * 1600 + b"\n-----END"
NOT_SEALED = {
    "base64 of a PEM private key": base64.b64encode(PEM).decode(),
    "base64 of a password": base64.b64encode(b"hunter2").decode(),
    "base64 of a long passphrase": base64.b64encode(b"correct horse battery staple " * 30).decode(),
    "truncated kubeseal output": _kubeseal_shaped()[:400],
    "a plaintext password": "hunter2",
    "random bytes of 700": base64.b64encode(random.Random(1).randbytes(700)).decode(),
}
SEALED_OK = {
    "4096-bit key": _kubeseal_shaped(512),
    "2048-bit key": _kubeseal_shaped(256),
    "3072-bit key, empty value": _kubeseal_shaped(384, plaintext=0),
}


def _sealed_manifest(encrypted: dict[str, str], template_data: Any = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"encryptedData": encrypted, "template": {"type": "Opaque"}}
    if template_data is not None:
        spec["template"]["data"] = template_data
    return {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": "creds"}, "spec": spec}  # fmt: skip


@pytest.mark.parametrize("name", list(NOT_SEALED))
def test_a_value_that_is_not_kubeseal_output_is_refused_by_the_builder_and_in_a_manifest(name):
    value = NOT_SEALED[name]
    with pytest.raises(ValidationError, match="does not look like kubeseal output"):
        SealedSecret("creds", encrypted_data={"password": value})
    with pytest.raises(PolicyError, match=r"spec\.encryptedData\['password'\]") as caught:
        _render(_sealed_manifest({"password": value}))
    assert value not in str(caught.value)


@pytest.mark.parametrize("name", list(SEALED_OK))
def test_kubeseal_shaped_values_render(name):
    value = SEALED_OK[name]
    assert SealedSecret("creds", encrypted_data={"password": value}).encrypted_data
    files = _render(_sealed_manifest({"password": value}))
    assert any(path.endswith("sealedsecret-creds.yaml") for path in files)


@given(text=st.text(min_size=1).filter(lambda t: t[0] > "\x08"))
def test_base64_of_any_text_is_never_taken_for_ciphertext(text):
    """Text (UTF-8) starts with a byte of 0x09 or more: as a key length that is 2,304 bytes or
    more, longer than any RSA key kubeseal uses."""
    assert sealed_problem(base64.b64encode(text.encode()).decode()) is not None


@pytest.mark.parametrize(
    ("data", "fires"),
    [
        ({"password": "hunter2"}, True),
        ({"url": "postgres://app:hunter2@db:5432/shop?sslmode=require"}, True),
        ({"url": 'postgres://app:{{ index . "password" }}@db:5432/shop'}, False),
        ({"config.ini": '[db]\npassword = {{ index . "password" }}\n'}, False),
        ({"url": "postgres://app:hunter2@db {{ index . \"x\" }}"}, True),
    ],
)
def test_sealed_secret_template_data_holds_templates_only(data, fires):
    body = _sealed_manifest({"password": SEALED_OK["4096-bit key"]}, data)
    if not fires:
        _render(body)
        return
    with pytest.raises(PolicyError, match=r"spec\.template\.data") as caught:
        _render(body)
    assert "hunter2" not in str(caught.value)
    body["metadata"]["annotations"] = {"kubegen.dev/opt-out-plaintext-secret": "a test fixture"}
    _render(body)  # the explicit allow, with a reason


# Environment variables, KG803. Names from detect-secrets' KeywordDetector denylist (password,
# passwd, pass, pwd, secret, token, api_key, private_key, client_key, db_key, ... matched with
# any prefix and suffix), URLs from its BasicAuthDetector (scheme://user:password@host), both at
# https://github.com/Yelp/detect-secrets/tree/010e929eb1e4fa350c8325dfe85f69a2ef81821b/
# detect_secrets/plugins; the references and placeholders they skip; Kubernetes' $(VAR).
KG803_FIRES = [
    ("DB_PASSWORD", "hunter2"),
    ("ADMIN_PASSWORD_NAME", "hunter2"),  # a suffix does not make a literal a reference
    ("DB_PASSWORD", "$(PREFIX)hunter2"),  # a reference followed by a literal
    ("DB_PASSWORD", "$$(NOT_A_REFERENCE)"),  # $$ escapes: the literal text $(NOT_A_REFERENCE)
    ("POSTGRES_PASSWORD_FILE", "hunter2"),  # not a path
    ("MYSQL_PWD", "hunter2"),
    ("DB_PASS", "hunter2"),
    ("DBPASSWORD", "hunter2"),
    ("GITHUB_TOKEN", "ghp_0123456789abcdefghijklmnopqrstuvwxyz"),
    ("STRIPE_API_KEY", "sk_live_0123456789"),
    ("CLIENT_KEY", "abc"),
    ("SIGNING_KEY", "abc"),
    ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("DATABASE_URL", "postgres://app:hunter2@db:5432/shop"),  # any name: the URL has a password
    ("BROKER", "amqp://guest:guest@rabbitmq:5672/"),
    ("REDIS_URL", "redis://:hunter2@redis:6379/0"),
    ("TOKEN_URL", "https://svc:s3cr3t@auth.example.org/token"),
    ("DB_PASSWORD", "postgres://app:$(PREFIX)x@db"),  # literal text in the password
    ("VAULT_PIN_PASSWORD", "123456"),  # a number can be a PIN
]
KG803_QUIET = [
    ("DB_PASSWORD", "$(DB_PASSWORD_FROM_SECRET)"),
    ("DSN_PASSWORD", "$(USER):$(PASS)"),
    ("POSTGRES_PASSWORD_FILE", "/run/secrets/postgres/password"),
    ("TLS_SECRET_NAME", "ingress-tls"),  # names a Secret object
    ("DB_CREDENTIALS_REF", "db-credentials"),
    ("PWD", "/srv/app"),  # the shell's working directory
    ("PASSENGER_COUNT", "3"),  # PASS only as a whole word
    ("FEATURE_TOKENS", "true"),  # a placeholder / flag value
    ("DATABASE_URL", "postgres://app:$(DB_PASSWORD)@db:5432/shop"),  # from another variable
    ("DATABASE_URL", "postgres://app@db:5432/shop"),  # no password
    ("OIDC_TOKEN_URL", "https://auth.example.org/token"),  # a URL without a password
    ("LOG_LEVEL", "debug"),
    ("TOKEN_TTL", "3600"),  # a setting of the credential, not the credential
    ("SESSION_TOKEN_TIMEOUT", "30s"),
    ("API_TOKEN_REFRESH", "15m"),  # a duration
]


def _kg803(name: str, value: str) -> list[str]:
    stack = good_stack()
    set_in(find(stack, "Deployment"), "spec.template.spec.containers[0].env",
           [{"name": name, "value": value}])  # fmt: skip
    report = policy_lint(stack, profile="restricted")
    return [f.message for f in report.findings if f.rule_id == "KG803"]


@pytest.mark.parametrize(("name", "value"), KG803_FIRES)
def test_kg803_finds_credentials_in_env_values(name, value):
    [message] = _kg803(name, value)
    assert name in message
    password = value.partition("://")[2].partition("@")[0].partition(":")[2]
    if "://" in value and password:
        assert f":{password}@" not in message and ":***@" in message


@pytest.mark.parametrize(("name", "value"), KG803_QUIET)
def test_kg803_leaves_references_paths_and_flags_alone(name, value):
    assert _kg803(name, value) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("$(A)", True), ("$(A)$(B)", True), ("$(A):$(B)/x", False), ("$(A)-$(B)", True),
        ("$(A)b", False), ("$$(A)", False), ("a$(B)", False), ("", False), ("$(", False),
    ],
)  # fmt: skip
def test_only_references(value, expected):
    assert only_references(value) is expected
