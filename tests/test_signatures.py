"""Every public builder's ``__init__`` tells type checkers exactly what the runtime accepts.

The rules and the comparison live in ``tests/signature_rules.py``; a failure names the TypedDict
entry to add or change, e.g. ``DeploymentArgs lacks `paused: bool```.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, Required, TypedDict, Unpack

import pytest
import signature_rules as rules
from pydantic import Field

import kubegen
from kubegen._builders.base import Resource, ResourceArgs
from kubegen._values import (
    DNSSubdomain,
    Duration,
    DurationLike,
    LabelMap,
    Quantity,
    QuantityLike,
    Reason,
)

BUILDERS = rules.public_builders()


def test_every_public_class_is_checked_or_no_builder():
    classes = {getattr(kubegen, name) for name in kubegen.__all__}
    classes = {obj for obj in classes if inspect.isclass(obj)}
    not_built_from_fields = {
        kubegen.Builder, kubegen.Resource, kubegen.Stack, kubegen.StackWaiver, kubegen.Downward,
        kubegen.ImageRef, kubegen.ManifestObject, kubegen.Origin, kubegen.Report, kubegen.Finding,
        kubegen.Severity, kubegen.CheckResult, kubegen.WriteResult,
    }
    errors = {cls for cls in classes if issubclass(cls, kubegen.KubegenError)}
    assert classes - set(BUILDERS) == not_built_from_fields | errors
    assert {"Deployment", "CronJob", "Container", "Rule", "Manifest", "Port"} <= {
        cls.__name__ for cls in BUILDERS
    }


@pytest.mark.parametrize("cls", BUILDERS, ids=lambda cls: cls.__name__)
def test_signature_matches_fields(cls):
    assert rules.signature_problems(cls) == []


@pytest.mark.parametrize(
    ("annotation", "accepted"),
    [
        (DNSSubdomain, str),
        (DNSSubdomain | None, str | None),
        (Duration, DurationLike),
        (Duration | None, DurationLike | None),
        (Quantity | None, QuantityLike | None),
        (Reason | None, str | None),
        (LabelMap, Mapping[str, str]),
        (dict[str, list[int]], Mapping[str, Sequence[int]]),
        (list[kubegen.Container], Sequence[kubegen.Container]),
        (tuple[kubegen.Rule, ...], Sequence[kubegen.Rule]),
        (list[str], list[str] | tuple[str, ...]),
        (list[str] | None, list[str] | tuple[str, ...] | None),
        (tuple[Literal["a", "b"], ...], list[Literal["a", "b"]] | tuple[Literal["a", "b"], ...]),
        (list[str | kubegen.ServicePort], list[str | kubegen.ServicePort]
         | tuple[str | kubegen.ServicePort, ...]),
        (tuple[LabelMap, ...], Sequence[Mapping[str, str]]),
        (timedelta, timedelta),
        (Path, Path),
    ],
    ids=repr,
)
def test_accepted_types(annotation, accepted):
    assert rules.accepted(annotation) == accepted


def test_shorthand_keywords_are_those_of_a_container_plus_port():
    keywords = rules.expected_keywords(kubegen.Deployment)
    for name in ("image", "args", "readiness", "writable", "allow_no_probes"):
        assert keywords[name] == (
            rules.accepted(kubegen.Container.model_fields[name].annotation,
                           kubegen.Container.model_fields[name].metadata),
            False,
        )
    assert keywords["port"] == (kubegen.Port | int, False)
    assert "name" not in keywords


def test_render_writes_source_text():
    assert rules.render(DurationLike | None) == "DurationLike | None"
    assert rules.render(Sequence[kubegen.Port | int]) == "Sequence[Port | int]"
    assert rules.render(list[Literal["a"]] | None) == 'list[Literal["a"]] | None'


# A builder whose signature drifted from its fields, to show each kind of problem is caught.
class _DriftedArgs(ResourceArgs, total=False):
    size: str  # a Quantity: should be QuantityLike
    retries: int  # not a field
    every: Required[DurationLike]  # optional field


class _Drifted(Resource):
    api_version: typing.ClassVar[str] = "v1"
    kind: typing.ClassVar[str] = "Drifted"

    size: Quantity = "1"
    every: Duration = timedelta(seconds=1)
    owner: DNSSubdomain  # required; missing from _DriftedArgs
    tags: list[str] = Field(default_factory=list)  # missing too

    def __init__(self, name: int, /, **data: Unpack[_DriftedArgs]) -> None:
        super().__init__(str(name), **data)

    def manifests(self) -> list[Any]:
        return []


class _Untyped(Resource):
    api_version: typing.ClassVar[str] = "v1"
    kind: typing.ClassVar[str] = "Untyped"

    def __init__(self, name: str, /, **data: Any) -> None:
        super().__init__(name, **data)

    def manifests(self) -> list[Any]:
        return []


class _Inherited(_Untyped):
    pass


def test_drift_is_reported_with_what_to_write():
    assert rules.signature_problems(_Drifted) == [
        "positional name: declared int, accepts str",
        "_DriftedArgs.retries is no keyword of _Drifted",
        "_DriftedArgs lacks `owner: Required[str]`",
        "_DriftedArgs lacks `tags: list[str] | tuple[str, ...]`",
        "_DriftedArgs has `every: Required[DurationLike]`, want `every: DurationLike`",
        "_DriftedArgs has `size: str`, want `size: QuantityLike`",
    ]


def test_untyped_keywords_and_inherited_init_are_reported():
    assert rules.signature_problems(_Untyped) == [
        "_Untyped.__init__ must take **data: Unpack[<TypedDict>]"
    ]
    assert rules.signature_problems(_Inherited) == [
        "_Inherited needs its own __init__, or type checkers synthesize one"
    ]


def test_required_keys_are_read_from_string_annotations():
    class Args(TypedDict, total=False):
        a: Required[int]
        b: str

    assert rules.declared_keywords(Args) == {"a": (int, True), "b": (str, False)}
