"""Wrong calls of the verbs and of Stack are located KubegenErrors (kubegen/_builders/calls.py).

The walk in test_builders_errors.py covers every builder's fields; this one covers every
keyword of every public verb (and of ``Stack``): a misspelled keyword, a value of the wrong
type, a missing required argument. Each error must name this file and line, the object, the
argument, the value, and a fix.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kubegen import (
    ApiServer,
    Cluster,
    Deployment,
    KubegenError,
    Port,
    Rule,
    ServicePort,
    Stack,
    StackDefaults,
    TcpProbe,
    ValidationError,
    render,
)
from kubegen._builders.calls import CallError, checked

IMAGE = "ghcr.io/acme/api:1.2.3"
HERE = Path(__file__).name


class Wrong:
    """A value no annotation accepts."""

    def __repr__(self) -> str:
        return "Wrong()"


def _stack() -> tuple[Stack, Deployment, Deployment]:
    cluster = Cluster("prod", api_server=ApiServer(addresses=["10.0.0.1/32"], port=443))
    stack = Stack("shop", namespace="shop", cluster=cluster)
    serving: dict[str, Any] = {"image": IMAGE, "port": Port(8080, name="http"),
                               "readiness": TcpProbe(), "liveness": TcpProbe()}
    api = stack.add(Deployment("api", **serving))
    web = stack.add(Deployment("web", **serving))
    return stack, api, web


PROMETHEUS = {"app.kubernetes.io/name": "prometheus"}
# verb → (positional arguments, keywords) of a valid call on api (web is the other workload).
VALID: dict[str, Callable[[Deployment], tuple[tuple[Any, ...], dict[str, Any]]]] = {
    "connect_to": lambda web: ((web,), {"port": "http"}),
    "allow_from": lambda web: ((), {"namespace": "monitoring", "pods": PROMETHEUS, "port": "http"}),
    "allow_to": lambda web: ((), {"namespace": "monitoring", "pods": PROMETHEUS, "port": 9090}),
    "allow_to_internet": lambda web: ((), {"port": 443, "reason": "calls the payment API"}),
    "grant": lambda web: ((Rule.read("configmaps"),), {}),
    "mount_token": lambda web: (("vault",), {"reason": "logs in to Vault"}),
    "expose": lambda web: (("http",), {}),
    "autoscale": lambda web: ((), {"min": 2, "max": 5, "cpu": 70}),
    "waive": lambda web: (("KG104", "reviewed by the platform team"), {}),
}

# Verbs whose other keywords are the fields of the object they build.
FORWARDING = {"expose": "Service", "autoscale": "HorizontalPodAutoscaler"}

# Arguments whose wrong value is reported without the value or the argument's name, and why.
WORDED_OTHERWISE = {
    # any non-string is no reason: "needs a reason"
    ("allow_to_internet", "reason"),
    # a cidr together with the valid call's namespace: "either a CIDR or pods/namespace"
    ("allow_from", "cidr"), ("allow_to", "cidr"),
    ("allow_from", "except_"), ("allow_to", "except_"),
}


def _parameters(verb: str) -> list[inspect.Parameter]:
    signature = inspect.signature(getattr(Deployment, verb))
    return [p for name, p in signature.parameters.items() if name != "self"
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY, p.POSITIONAL_ONLY)]


KEYWORD_CASES = [(verb, p.name) for verb in VALID for p in _parameters(verb)
                 if p.kind is not p.POSITIONAL_ONLY]


def test_every_public_verb_is_walked() -> None:
    verbs = {name for cls in (Deployment,) for name in dir(cls) if getattr(
        getattr(cls, name, None), "__wrapped__", None) is not None and not name.startswith("_")}
    assert verbs == set(VALID)
    for verb, valid in VALID.items():
        stack, api, web = _stack()
        args, keywords = valid(web)
        getattr(api, verb)(*args, **keywords)
        render(stack)  # the baseline call is valid


def _call(verb: str, **replace: Any) -> None:
    """The valid call of ``verb`` with ``replace``'s arguments replaced or added."""
    stack, api, web = _stack()
    args, keywords = VALID[verb](web)
    positional = list(args)
    parameters = {p.name: p for p in _parameters(verb)}
    by_position = [name for name, p in parameters.items() if p.kind is not p.KEYWORD_ONLY]
    for name, value in replace.items():
        index = by_position.index(name) if name in by_position else len(positional)
        if index < len(positional) and name not in keywords:
            positional[index] = value
        else:
            keywords = {**keywords, name: value}
    getattr(api, verb)(*positional, **keywords)
    render(stack)


def _misspelled(keyword: str) -> str:
    middle = len(keyword) // 2
    return keyword[:middle] + keyword[middle] + keyword[middle:]


@pytest.mark.parametrize(("verb", "keyword"), KEYWORD_CASES,
                         ids=[f"{v}.{k}" for v, k in KEYWORD_CASES])
def test_a_misspelled_keyword_of_a_verb_suggests_the_right_one(verb: str, keyword: str) -> None:
    wrong = _misspelled(keyword)
    with pytest.raises(ValidationError) as caught:
        _call(verb, **{wrong: "x"})
    error = caught.value
    assert (error.field, error.value) == (wrong, "x")
    assert error.origin is not None and error.origin.file.endswith(HERE)
    assert error.fix is not None and error.fix.startswith(f"did you mean {keyword}=?"), error.fix
    if verb in FORWARDING:  # the keyword goes on to the object the verb builds
        assert error.resource == f"{FORWARDING[verb]} api"
    else:
        assert isinstance(error, CallError) and error.resource == "Deployment shop/api"
        assert f"{verb}(" in error.fix  # the call's shape, to copy


@pytest.mark.parametrize(("verb", "keyword"), KEYWORD_CASES,
                         ids=[f"{v}.{k}" for v, k in KEYWORD_CASES])
def test_a_wrong_type_names_file_object_argument_value_and_fix(verb: str, keyword: str) -> None:
    with pytest.raises(KubegenError) as caught:
        _call(verb, **{keyword: Wrong()})
    text = str(caught.value)
    assert f"{HERE}:" in text and "\n  Fix: " in text, text
    if (verb, keyword) in WORDED_OTHERWISE:
        return
    assert "Wrong()" in text and f"field '{keyword}'" in text, text
    assert "shop/api" in text or "HorizontalPodAutoscaler" in text, text


@pytest.mark.parametrize(
    ("call", "field", "fix"),
    [
        (lambda api: api.allow_to_internet(port=443), "reason", "reason='why it is needed'"),
        (lambda api: api.mount_token(reason="logs in to Vault"), "audience", "audience='vault'"),
        (lambda api: api.allow_to(pods=PROMETHEUS), "port", "port='http'"),
    ],
)
def test_a_missing_argument_says_which_with_an_example(
    call: Callable[[Deployment], Any], field: str, fix: str
) -> None:
    _, api, _ = _stack()
    with pytest.raises(CallError) as caught:
        call(api)
    assert caught.value.field == field
    assert caught.value.fix == f"pass {fix}"
    assert caught.value.origin is not None and caught.value.origin.file.endswith(HERE)


def test_too_many_positional_arguments_are_one_located_error() -> None:
    _, api, web = _stack()
    wanted = r"connect_to\(\) takes 1 positional argument\(s\), not 2"
    with pytest.raises(CallError, match=wanted) as caught:
        api.connect_to(web, "http")  # type: ignore[call-arg]
    assert caught.value.fix is not None and "connect_to(target, port=)" in caught.value.fix


@pytest.mark.parametrize(
    ("keyword", "value", "expects"),
    [
        ("cluster", "prod", "Cluster"),
        ("defaults", {"replicas": 2}, "StackDefaults"),
        ("labels", "team=a", "a mapping of string to string"),
        ("kubernetes_version", 1.33, "a string"),
        ("create_namespace", "no", "True or False"),
        ("namespace", 5, None),
    ],
)
def test_stack_arguments_of_the_wrong_type_are_refused_at_the_call(
    keyword: str, value: Any, expects: str | None
) -> None:
    with pytest.raises(ValidationError) as caught:
        Stack("shop", **{keyword: value})
    error = caught.value
    assert (error.field, error.value, error.resource) == (keyword, value, "Stack shop")
    assert error.origin is not None and error.origin.file.endswith(HERE)
    assert error.fix
    if expects is not None:
        assert error.message == f"Stack() expects {expects} for {keyword}="


def test_a_misspelled_keyword_of_stack_suggests_the_right_one() -> None:
    with pytest.raises(CallError) as caught:
        Stack("shop", namspace="shop")  # type: ignore[call-arg]
    assert caught.value.fix is not None
    assert caught.value.fix.startswith("did you mean namespace=? (it takes Stack(name, ")


def test_a_call_error_is_a_type_error_too() -> None:
    _, api, _ = _stack()
    with pytest.raises(TypeError):
        api.grant(Rule.read("pods"), nme="x")  # type: ignore[call-arg]


def test_kubegens_own_bugs_are_not_blamed_on_right_arguments() -> None:
    def broken(count: int) -> None:
        raise TypeError("a bug inside kubegen")

    with pytest.raises(TypeError, match="a bug inside kubegen") as caught:
        checked(broken)(3)
    assert not isinstance(caught.value, KubegenError)
    with pytest.raises(CallError, match="expects an integer for count="):
        checked(broken)("three")  # type: ignore[arg-type]


def test_expose_refuses_what_it_sets_itself() -> None:
    _, api, _ = _stack()
    with pytest.raises(CallError, match=r"expose\(\) sets the Service's ports= itself") as caught:
        api.expose(ports=[ServicePort("http", port=80)])
    assert caught.value.fix is not None and "expose('http', ServicePort(" in caught.value.fix


def test_near_with_a_bare_name_says_what_an_item_is() -> None:
    with pytest.raises(ValidationError) as caught:
        Deployment("api", image=IMAGE, near=["redis"])  # type: ignore[list-item]
    assert "'redis' names no pods" in caught.value.message
    assert caught.value.fix is not None and "near=[redis]" in caught.value.fix


def test_a_quantity_fix_fits_storage_too() -> None:
    from kubegen import StatefulSet

    with pytest.raises(ValidationError) as caught:
        StatefulSet("db", image=IMAGE, storage={"size": "1Gi"})  # type: ignore[arg-type]
    assert caught.value.field == "storage"
    assert caught.value.fix is not None and "'10Gi' (storage)" in caught.value.fix


STACK_MODULE = """\
from kubegen import Deployment, Rule, Stack, TcpProbe


def build():
    stack = Stack("shop", namespace="shop")
    api = stack.add(Deployment("api", image="ghcr.io/acme/api:1.2.3", port=8080,
                               readiness=TcpProbe(), liveness=TcpProbe()))
    api.grant(Rule.read("configmaps"),
              nme="reader")
    return stack
"""


def _module(tmp_path: Path) -> Path:
    folder = tmp_path / "stacks" / "dev"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(STACK_MODULE, encoding="utf-8")
    return folder


def test_the_cli_prints_one_located_message(tmp_path: Path, monkeypatch: Any) -> None:
    from kubegen._cli.app import app

    folder = _module(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["render", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    output = result.output
    assert "stacks/dev/__init__.py:9: Deployment shop/api: field 'nme' = 'reader': " in output
    assert "Fix: did you mean name=? (it takes grant(*access, namespace=" in output
    assert "Traceback" not in output


def test_the_cli_in_a_real_process(tmp_path: Path) -> None:
    folder = _module(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "kubegen", "render", str(folder), "--out", str(tmp_path / "o")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "__init__.py:9: Deployment shop/api: field 'nme'" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_stack_defaults_are_still_accepted() -> None:
    stack = Stack("shop", namespace="shop", defaults=StackDefaults(replicas=2),
                  kubernetes_version="1.33", create_namespace=False, labels={"team": "a"})
    assert stack.defaults.replicas == 2
