"""Wrong calls of ``Vendored``'s methods are one located error, never Python's ``TypeError``.

Every public method of :class:`Vendored` and :class:`VendoredWorkload` is walked (the walk
fails when a method is added without a valid call here): a misspelled keyword, a value of the
wrong type, a missing argument. Each error names this file and line, the source, the method,
the argument, the value and a fix listing what the method takes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubegen import KubegenError, Resources, Stack, ValidationError, Vendored, render
from kubegen._builders.calls import CallError
from kubegen._vendor.source import VendoredWorkload

PODINFO = Path(__file__).parent / "data" / "vendor" / "podinfo-6.14.1"
HERE = Path(__file__).name
DIGEST = "sha256:" + "d" * 64
OWNER = "Vendored web/podinfo-6.14.1"


class Wrong:
    """A value no annotation accepts."""

    def __repr__(self) -> str:
        return "Wrong()"


def _source() -> tuple[Stack, Vendored]:
    stack = Stack("shop", namespace="shop")
    return stack, stack.add(
        Vendored(PODINFO, source="https://github.com/stefanprodan/podinfo", version="6.14.1",
                 namespace="web")  # upstream's pods are not `restricted`: not in "shop"
    )


# method → (positional arguments, keywords) of a valid call on the podinfo source.
VALID: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "set_image": (("podinfo", "ghcr.io/stefanprodan/podinfo:6.14.2"), {"container": "podinfod"}),
    "pin_digest": (("ghcr.io/stefanprodan/podinfo", DIGEST), {}),
    "set_resources": (("podinfo", Resources(cpu="100m", memory="64Mi")),
                      {"container": "podinfod"}),
    "set_replicas": (("podinfo", 3), {}),
    "set_labels": (({"acme.dev/team": "web"},), {"kind": "Service", "name": "podinfo"}),
    "set_annotations": (({"acme.dev/owner": "web"},), {"kind": "Deployment", "name": "podinfo"}),
    "patch": (("Deployment", "podinfo", {"spec": {"minReadySeconds": 5}}),
              {"namespace": "web"}),
    "json_patch": (("Service", "podinfo",
                    [{"op": "replace", "path": "/spec/type", "value": "ClusterIP"}]),
                   {"namespace": "web"}),
    "drop": (("HorizontalPodAutoscaler", "podinfo"), {"namespace": "web"}),
    "workload": (("podinfo",), {"kind": "Deployment"}),
    "waive": (("KG202", "sized in PLAT-42"), {}),
}
# VendoredWorkload's own methods (its network verbs are the workloads', walked elsewhere).
PEER_VALID: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "disruption_budget": ((), {"max_unavailable": 1}),
}


def _public(cls: type, *, own_only: bool = False) -> set[str]:
    names = set()
    for name, _ in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_") or (own_only and name not in vars(cls)):
            continue
        names.add(name)
    return names


def test_every_public_method_is_walked_and_checked() -> None:
    plumbing = {"manifests", "bodies", "attach", "of", "trusted", "named_ports",
                "selector_labels", "model_dump", "model_copy", "model_post_init"}
    methods = {n for n in _public(Vendored) if n not in plumbing}
    base = {n for n in _public(Vendored.__mro__[1]) if n not in {"waive"}}
    assert methods - base == set(VALID)  # waive() is Resource's, checked there
    assert _public(VendoredWorkload, own_only=True) - plumbing == set(PEER_VALID)
    for name in [*VALID, *PEER_VALID]:
        target = VendoredWorkload if name in PEER_VALID else Vendored
        assert getattr(getattr(target, name), "__wrapped__", None) is not None, name
    for name in VALID:  # each baseline call is valid
        stack, source = _source()
        args, keywords = VALID[name]
        getattr(source, name)(*args, **keywords)
        render(stack)
    stack, source = _source()
    source.workload("podinfo").disruption_budget(max_unavailable=1)
    render(stack)


def _parameters(func: Callable[..., Any]) -> list[inspect.Parameter]:
    return [p for name, p in inspect.signature(func).parameters.items() if name != "self"
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


CASES = [(name, p.name) for name in VALID for p in _parameters(getattr(Vendored, name))] + [
    (name, p.name) for name in PEER_VALID for p in _parameters(getattr(VendoredWorkload, name))]


def _call(method: str, **replace: Any) -> None:
    """The valid call of ``method`` with ``replace``'s arguments replaced or added."""
    _, source = _source()
    table = PEER_VALID if method in PEER_VALID else VALID
    target: Any = source.workload("podinfo") if method in PEER_VALID else source
    args, keywords = table[method]
    func = getattr(type(target), method)
    names = [p.name for p in _parameters(func) if p.kind is p.POSITIONAL_OR_KEYWORD]
    positional = list(args)
    keywords = dict(keywords)
    for name, value in replace.items():
        index = names.index(name) if name in names else len(names)
        if index < len(positional):
            positional[index] = value
        else:
            keywords[name] = value
    getattr(target, method)(*positional, **keywords)


def _misspelled(keyword: str) -> str:
    middle = len(keyword) // 2
    return keyword[:middle] + keyword[middle] + keyword[middle:]


@pytest.mark.parametrize(("method", "keyword"), CASES, ids=[f"{m}.{k}" for m, k in CASES])
def test_a_misspelled_keyword_names_the_method_and_the_right_one(method: str, keyword: str):
    wrong = _misspelled(keyword)
    with pytest.raises(CallError) as caught:
        _call(method, **{wrong: "x"})
    error = caught.value
    assert isinstance(error, TypeError) and isinstance(error, KubegenError)
    assert (error.field, error.value) == (wrong, "x")
    assert error.origin is not None and error.origin.file.endswith(HERE)
    assert error.message == f"{method}() has no argument {wrong!r}"
    assert error.fix is not None and error.fix.startswith(f"did you mean {keyword}=?"), error.fix
    assert f"it takes {method}(" in error.fix  # every argument it takes, to copy
    assert error.resource in (OWNER, "Deployment web/podinfo")


@pytest.mark.parametrize(("method", "keyword"), CASES, ids=[f"{m}.{k}" for m, k in CASES])
def test_a_value_of_the_wrong_type_names_method_argument_value_and_fix(method, keyword):
    with pytest.raises(ValidationError) as caught:
        _call(method, **{keyword: Wrong()})
    error = caught.value
    text = str(error)
    assert f"{HERE}:" in text and "\n  Fix: " in text, text
    assert error.field == keyword and isinstance(error.value, Wrong) and "Wrong()" in text, text
    assert error.message.startswith(f"{method}() expects "), text
    assert error.message.endswith(f" for {keyword}="), text


@pytest.mark.parametrize(("call", "field", "fix"), [
    (lambda s: s.set_replicas("podinfo"), "replicas", "pass replicas=1"),
    (lambda s: s.pin_digest("ghcr.io/stefanprodan/podinfo"), "digest", None),
    (lambda s: s.patch("Deployment", patch={}), "name", "pass name='api'"),
    (lambda s: s.workload(), "name", "pass name='api'"),
])
def test_a_missing_argument_says_which(call, field, fix) -> None:
    _, source = _source()
    with pytest.raises(CallError) as caught:
        call(source)
    error = caught.value
    assert error.field == field and error.message.endswith(f"needs {field}=")
    assert error.origin is not None and error.origin.file.endswith(HERE)
    if fix is not None:
        assert error.fix == fix


@pytest.mark.parametrize(("call", "message", "fix"), [
    (lambda s: s.set_resources("podinfo", {"cpu": "1", "memory": "1Gi"}),
     "set_resources() expects Resources for resources=",
     "write e.g. resources=Resources(cpu='100m', memory='128Mi')"),
    (lambda s: s.json_patch("Service", "podinfo", {"op": "remove", "path": "/spec/type"}),
     "json_patch() expects a list of mapping of string to any value for operations=", None),
    (lambda s: s.set_labels("team=web"),
     "set_labels() expects a mapping of string to string for labels=", None),
    (lambda s: s.drop("Deploymnt", "podinfo"),
     "drop('Deploymnt', 'podinfo') matches nothing: podinfo-6.14.1 6.14.1 has no Deploymnt",
     "did you mean 'Deployment'? the source's kinds: Deployment, HorizontalPodAutoscaler, "
     "Service"),
    (lambda s: s.set_replicas("podinfo", -1), "must be a whole number ≥ 0", None),
])
def test_values_users_get_wrong_are_explained(call, message, fix) -> None:
    stack, source = _source()
    before = render(stack)
    with pytest.raises(ValidationError) as caught:
        call(source)
    assert caught.value.message == message
    assert caught.value.resource == OWNER
    assert caught.value.origin is not None and caught.value.origin.file.endswith(HERE)
    if fix is not None:
        assert caught.value.fix == fix
    assert render(stack) == before  # a refused call changed nothing


def test_too_many_positional_arguments_are_one_located_error() -> None:
    _, source = _source()
    with pytest.raises(CallError, match=r"set_replicas\(\) takes 2 positional argument\(s\)"):
        source.set_replicas("podinfo", 2, "podinfod")  # type: ignore[call-arg]
