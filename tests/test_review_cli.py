"""``kubegen review`` on the command line: formats, ``--fail-on`` exit codes, a real process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubegen._cli.app import app
from kubegen._review.model import CATEGORIES
from tests.helpers import run_cli
from tests.review_support import DIGEST, ReviewRepo, no_bytecode

CHANGE = {
    "api_internet": "payment provider API",
    "api_grants": [("read-names", "secrets", "stripe-key")],
    "api_image": f"ghcr.io/acme/api:1.1.0@sha256:{'f' * 64}",
    "api_replicas": 3,
    "db": False,
    "web_writable_root": "writes /app/cache | *not* <b>html</b>",
    "extra_namespace": True,
    "tools_pss": "baseline",
}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ReviewRepo:
    no_bytecode()
    monkeypatch.delenv("GITHUB_BASE_REF", raising=False)
    made = ReviewRepo(tmp_path / "repo")
    made.commit("base")
    made.git("checkout", "-q", "-b", "change")
    made.write(**CHANGE)
    monkeypatch.chdir(made.root)
    return made


def _invoke(*args: str):
    return CliRunner().invoke(app, ["review", "stacks/app", *args])


def _stable(text: str, repo: ReviewRepo) -> str:
    base = repo.git("rev-parse", "main").strip()
    return text.replace(base, "<base commit>").replace(base[:12], "<base>")


def test_text(repo: ReviewRepo, snapshot) -> None:
    result = _invoke()
    assert result.exit_code == 0, result.output
    assert _stable(result.stdout, repo) == snapshot


def test_markdown(repo: ReviewRepo, snapshot) -> None:
    result = _invoke("--format", "markdown")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.count("<details>") == 1 == text.count("</details>")
    # a reason cannot inject markup: the table keeps its columns, no raw HTML
    assert r"writes /app/cache \| \*not\* \<b\>html\</b\>" in text
    assert "<b>html</b>" not in text
    assert _stable(text, repo) == snapshot


def test_json(repo: ReviewRepo, snapshot) -> None:
    result = _invoke("-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == 1
    assert set(data["categories"]) == {
        "admission", "any", "deletion", "image", "new-egress", "new-flow", "new-permission",
        "opt-out", "risky-permission", "stateful-deletion", "workload",
    }
    (stack,) = data["stacks"]
    assert list(stack) == [
        "env", "stack", "output", "notes", "risk", "risks", "categories", "network", "access",
        "admission", "exemptions", "findings", "workloads", "objects",
    ]
    image = next(f for w in stack["workloads"] for f in w["fields"] if f["field"] == "image")
    assert image == {"field": "image", "part": "api", "before": f"ghcr.io/acme/api:1.0.0@{DIGEST}",
                     "after": f"ghcr.io/acme/api:1.1.0@sha256:{'f' * 64}"}
    assert stack["admission"][0] == {"namespace": "tools", "mode": "enforce", "before": None,
                                     "after": "baseline", "weaker": True}
    assert _stable(result.stdout, repo) == snapshot


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [
        (None, 0),
        ("new-egress", 1),
        ("new-ingress", 0),
        ("new-ingress,stateful-deletion", 1),
        ("new-finding", 0),
        ("risky-permission", 1),
        ("admission", 1),
    ],
)
def test_fail_on_exit_codes(repo: ReviewRepo, fail_on: str | None, code: int) -> None:
    result = _invoke(*(["--fail-on", fail_on] if fail_on else []))
    assert result.exit_code == code, result.output
    if code:
        assert "(--fail-on)" in result.stderr
        assert result.stdout.startswith("kubegen review: base")


def test_fail_on_is_repeatable_and_any_catches_everything(repo: ReviewRepo) -> None:
    assert _invoke("--fail-on", "new-ingress", "--fail-on", "opt-out").exit_code == 1
    assert _invoke("--fail-on", "any").exit_code == 1


def test_unknown_fail_on_category_is_a_user_error(repo: ReviewRepo) -> None:
    result = _invoke("--fail-on", "new-egres")
    assert result.exit_code == 2
    assert "unknown --fail-on category: new-egres" in result.stderr
    assert ", ".join(CATEGORIES) in result.stderr


def test_no_changes_exit_0_even_with_fail_on_any(tmp_path: Path, monkeypatch) -> None:
    no_bytecode()
    made = ReviewRepo(tmp_path / "quiet")
    made.commit("base")
    made.git("checkout", "-q", "-b", "change")
    monkeypatch.chdir(made.root)
    result = _invoke("--fail-on", "any")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("app (stack app, output/app): no changes\n")


def test_a_stack_error_exits_2(repo: ReviewRepo) -> None:
    (repo.stack / "__init__.py").write_text("def build():\n    return 1\n")
    result = _invoke()
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")


def test_in_a_real_process(repo: ReviewRepo) -> None:
    done = run_cli("review", "stacks/app", "--format", "markdown", "--fail-on", "opt-out",
                   cwd=repo.root)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("## kubegen review\n")
    assert "review: changes in opt-out (--fail-on)" in done.stderr
    plain = run_cli("review", "stacks/app", cwd=repo.root)
    assert plain.returncode == 0
    assert plain.stdout == CliRunner().invoke(app, ["review", "stacks/app"]).stdout


def test_flows_of_host_network_pods_are_marked_not_enforced() -> None:
    from kubegen._analysis.flows import Node
    from kubegen._review.markdown import markdown_report
    from kubegen._review.model import Base, FlowChange, ObjectChange, Review, StackReview
    from kubegen._review.present import NOT_ENFORCED
    from kubegen._review.text import text_report

    exporter = Node("workload", "node-exporter", "monitoring", host_network=True)
    prometheus = Node("workload", "prometheus", "monitoring")
    stack = StackReview("prod", "monitoring", "output/prod")
    stack.flows = [
        FlowChange("added", prometheus, exporter, "metrics 9100/TCP"),
        FlowChange("added", prometheus, Node("workload", "api", "monitoring"), "http 80/TCP"),
    ]
    stack.objects = [ObjectChange("changed", "NetworkPolicy", "monitoring", "x", "monitoring/x")]
    assert [f.enforced for f in stack.flows] == [False, True]
    review_ = Review(Base("0" * 40, "main", "merge base of HEAD and main"), [stack])
    text = text_report(review_)
    assert f"monitoring/node-exporter  metrics 9100/TCP  ({NOT_ENFORCED})" in text
    assert text.count(NOT_ENFORCED) == 1
    assert "metrics 9100/TCP (hostNetwork: not enforced by most network plugins)" in (
        markdown_report(review_))
