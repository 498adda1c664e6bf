"""Lint in a forked child beside rendering: same results, same errors, no stray processes."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from kubegen import _pipeline
from kubegen._background import ENV_SWITCH, Background, can_fork
from kubegen._errors import CoherenceError, PolicyError, ValidationError
from kubegen._pipeline import plan
from tests.helpers import REPO, write_stack

needs_fork = pytest.mark.skipif(not can_fork(), reason="forking is off on this platform")

POD_WITHOUT_HARDENING = """
from kubegen import Cluster, Manifest, Stack

def build() -> Stack:
    # A namespace that admits any pod: lint, not Pod Security Admission, refuses this one.
    stack = Stack("raw", namespace="raw", create_namespace=False,
                  cluster=Cluster("lab", namespaces={"raw": "privileged"}))
    stack.add(Manifest({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "loose", "namespace": "raw"},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
    }))
    return stack
"""


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@needs_fork
def test_the_value_is_computed_in_a_child_and_returned() -> None:
    parent = os.getpid()
    with Background(os.getpid) as job:
        assert job.forked
        child = job.result()
    assert child != parent
    assert not job.forked


@needs_fork
def test_a_failing_child_is_computed_again_here() -> None:
    parent = os.getpid()

    def compute() -> str:
        if os.getpid() != parent:
            raise RuntimeError("only in the child")
        return "here"

    with Background(compute) as job:
        assert job.forked
        assert job.result() == "here"


@needs_fork
def test_a_result_that_does_not_pickle_is_computed_again_here() -> None:
    parent = os.getpid()
    with Background(lambda: (os.getpid(), lambda: None)) as job:
        pid, _ = job.result()
    assert pid == parent


@needs_fork
def test_an_unwanted_child_is_stopped_and_reaped() -> None:
    with Background(lambda: [0] * 10_000_000) as job:  # a large result: the child blocks
        pid = job._pid
        assert pid is not None
    assert _reaped(pid)
    assert not job.forked


def test_no_fork_while_another_thread_runs() -> None:
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        with Background(os.getpid) as job:
            assert not job.forked
            assert job.result() == os.getpid()
    finally:
        release.set()
        thread.join()


def test_the_switch_keeps_everything_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_SWITCH, "0")
    assert not can_fork()
    with Background(os.getpid) as job:
        assert not job.forked
        assert job.result() == os.getpid()


def _plans(monkeypatch: pytest.MonkeyPatch, path: Path) -> tuple[_pipeline.Plan, _pipeline.Plan]:
    monkeypatch.setattr(_pipeline, "PARALLEL_FROM", 0)
    monkeypatch.setenv(ENV_SWITCH, "0")
    serial = plan(path)
    monkeypatch.setenv(ENV_SWITCH, "1")
    return serial, plan(path)


@needs_fork
@pytest.mark.parametrize("env", ["dev", "prod", "gitops"])
def test_example_stacks_render_and_lint_the_same_either_way(
    monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    monkeypatch.chdir(REPO)
    serial, parallel = _plans(monkeypatch, REPO / "stacks" / env)
    assert parallel.files == serial.files
    assert parallel.report == serial.report
    assert [o.body for o in parallel.objects] == [o.body for o in serial.objects]


@needs_fork
def test_a_policy_error_still_comes_before_a_render_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = write_stack(tmp_path, "raw", POD_WITHOUT_HARDENING)
    monkeypatch.chdir(tmp_path)

    def broken(*planned: object) -> None:
        raise ValidationError("cannot be rendered", fix="none")

    monkeypatch.setattr(_pipeline, "_emit", broken)
    monkeypatch.setattr(_pipeline, "PARALLEL_FROM", 0)
    for switch in ("0", "1"):
        monkeypatch.setenv(ENV_SWITCH, switch)
        with pytest.raises(PolicyError) as caught:
            plan(path)
        assert "KG" in str(caught.value)


@needs_fork
def test_a_render_error_is_raised_when_lint_passes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(REPO)

    def broken(*planned: object) -> None:
        raise ValidationError("cannot be rendered", fix="none")

    monkeypatch.setattr(_pipeline, "_emit", broken)
    monkeypatch.setattr(_pipeline, "PARALLEL_FROM", 0)
    with pytest.raises(ValidationError, match="cannot be rendered"):
        plan(REPO / "stacks" / "dev")


@needs_fork
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_over_the_files_of_an_earlier_render_the_split_lint_finds_the_same(
    monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    """With the files on disk, a child runs the rules across objects while this process
    runs the per-object ones on what changed: the same findings and files as a full lint."""
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(_pipeline, "PARALLEL_FROM", 0)
    path = REPO / "stacks" / env
    cold = plan(path)
    monkeypatch.setenv(ENV_SWITCH, "1")
    warm = plan(path, previous=cold.files)
    monkeypatch.setenv(ENV_SWITCH, "0")
    serial = plan(path, previous=cold.files)
    assert cold.report.findings  # the examples have notes and waived findings to find
    assert warm.report == serial.report == cold.report
    assert warm.files == serial.files == cold.files


@needs_fork
def test_what_the_cluster_refuses_is_reported_first_though_the_child_checks_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The lint child also runs the coherence checks; they are still raised before a policy
    or render error, as when everything runs here."""
    restricted = POD_WITHOUT_HARDENING.replace('{"raw": "privileged"}', '{"raw": "restricted"}')
    path = write_stack(tmp_path, "raw", restricted)
    monkeypatch.chdir(tmp_path)

    def broken(*planned: object) -> None:
        raise ValidationError("cannot be rendered", fix="none")

    monkeypatch.setattr(_pipeline, "_emit", broken)
    monkeypatch.setattr(_pipeline, "PARALLEL_FROM", 0)
    errors = []
    for switch in ("0", "1"):
        monkeypatch.setenv(ENV_SWITCH, switch)
        with pytest.raises(CoherenceError) as caught:
            plan(path)
        errors.append(str(caught.value))
    assert errors[0] == errors[1] and "restricted" in errors[0]
