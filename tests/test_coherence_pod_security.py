"""The Pod Security evaluator decides like Pod Security Admission, control by control.

Two tables: every upstream fixture of ``k8s.io/pod-security-admission`` (tests/data/README.md)
at every version it is a fixture of, and hand-written cases at the version boundaries of each
control. A ``pass`` fixture must be admitted; a ``fail`` fixture must be refused, at least by
the control it was written for (or the restricted control that replaces it at that version): a
few break others too (a privileged container that does not set allowPrivilegeEscalation false).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubegen._coherence import pod_security as pss
from kubegen._coherence.pods import PodView, pod_view
from kubegen._manifests import ManifestObject

DATA = Path(__file__).parent / "data" / "pod-security-admission"
_HEAD = re.compile(r"^--- # (pass|fail) (\S+) (\S+)$", re.M)


@dataclass(frozen=True)
class Fixture:
    level: pss.Level
    expect: str
    version: pss.Version
    name: str
    pod: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.level}/v{self.version[0]}.{self.version[1]}/{self.expect}/{self.name}"


def _versions(spec: str) -> list[pss.Version]:
    found: list[pss.Version] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        low, high = int(first.split(".")[1]), int((last or first).split(".")[1])
        found += [(1, minor) for minor in range(low, high + 1)]
    return found


def fixtures() -> list[Fixture]:
    found: list[Fixture] = []
    for level in ("baseline", "restricted"):
        text = (DATA / f"{level}.yaml").read_text(encoding="utf-8")
        heads = list(_HEAD.finditer(text))
        for head, following in zip(heads, [*heads[1:], None], strict=True):
            body = text[head.end() : following.start() if following else len(text)]
            pod = yaml.safe_load(body)
            for version in _versions(head.group(2)):
                found.append(Fixture(level, head.group(1), version, head.group(3), pod))  # type: ignore[arg-type]
    return found


FIXTURES = fixtures()


def view(pod: dict[str, Any], kind: str = "Pod") -> PodView:
    if kind != "Pod":
        pod = {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "x"},
               "spec": {"template": {"metadata": pod.get("metadata", {}), "spec": pod["spec"]}}}
    found = pod_view(ManifestObject(pod))
    assert found is not None
    return found


def _control_of(fixture: Fixture) -> str:
    """The control a fixture targets (its name without the index), as evaluated at its level."""
    stem = re.sub(r"\d+$", "", fixture.name)
    target = next(c for c in pss.CONTROLS if c.id.lower() == stem)
    active = pss.compiled(fixture.level, fixture.version)
    if any(c.id == target.id for c, _ in active):
        return target.id
    replacing = [c.id for c, _ in active if target.id in (c.at(fixture.version) or _NONE).overrides]
    assert len(replacing) == 1, fixture.id
    return replacing[0]


_NONE = pss.Versioned((0, 0), lambda pod: iter(()))


def test_the_fixtures_cover_both_levels_every_version_and_every_control():
    assert len(FIXTURES) > 4000
    assert {f.version for f in FIXTURES} == {(1, m) for m in range(38)}
    stems = {re.sub(r"\d+$", "", f.name) for f in FIXTURES if f.expect == "fail"}
    assert stems == {c.id.lower() for c in pss.CONTROLS}


def _verdict(fixture: Fixture) -> str | None:
    """Why the evaluator disagrees with the fixture, or None."""
    pod = view(fixture.pod)
    violations = pss.evaluate(pod, fixture.level, fixture.version)
    if fixture.expect == "pass":
        if violations or not pss.admits(pod, fixture.level, fixture.version):
            return f"{fixture.id}: refused by {violations}"
    elif _control_of(fixture) not in {v.control for v in violations}:
        return f"{fixture.id}: not refused by {_control_of(fixture)}: {violations}"
    elif pss.admits(pod, fixture.level, fixture.version):
        return f"{fixture.id}: admitted"
    return None


GROUPS = sorted({(f.level, f.version) for f in FIXTURES})


@pytest.mark.parametrize(("level", "version"), GROUPS,
                         ids=[f"{lv}/v{v[0]}.{v[1]}" for lv, v in GROUPS])
def test_upstream_fixtures(level: pss.Level, version: pss.Version):
    mine = [f for f in FIXTURES if (f.level, f.version) == (level, version)]
    assert mine and any(f.expect == "fail" for f in mine)
    assert [why for why in map(_verdict, mine) if why] == []


def test_a_template_is_evaluated_like_the_pod_it_creates():
    bad = next(f for f in FIXTURES if f.expect == "fail" and f.name == "hostports0")
    (violation,) = pss.evaluate(view(bad.pod, "Deployment"), "baseline", (1, 33))
    assert violation.path == "spec.template.spec.containers[0].ports[0].hostPort"


# -- hand-written cases at each control's edges -----------------------------------------------

RESTRICTED_POD: dict[str, Any] = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [{"name": "app", "image": "app:1", "securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}],
}


def pod(spec: dict[str, Any] | None = None, container: dict[str, Any] | None = None,
        annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """The restricted pod above with ``spec`` merged into its spec, ``container`` into its
    container's securityContext (a ``None`` value deletes the key)."""
    body = yaml.safe_load(yaml.safe_dump(RESTRICTED_POD))
    for key, value in (spec or {}).items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    context = body["containers"][0]["securityContext"]
    for key, value in (container or {}).items():
        if value is None:
            context.pop(key, None)
        else:
            context[key] = value
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "annotations": annotations or {}}, "spec": body}


@dataclass(frozen=True)
class Case:
    name: str
    pod: dict[str, Any]
    version: pss.Version
    baseline: set[str]  # controls that refuse it at baseline
    restricted: set[str]  # … and at restricted


C = "restricted"
PSP = "capabilities_restricted"
CASES = [
    Case("compliant", pod(), (1, 33), set(), set()),
    Case("host-network", pod({"hostNetwork": True}), (1, 33), {"hostNamespaces"},
         {"hostNamespaces"}),
    Case("host-pid-false", pod({"hostPID": False}), (1, 33), set(), set()),
    Case("privileged", pod(container={"privileged": True}), (1, 33), {"privileged"},
         {"privileged"}),
    Case("net-raw", pod(container={"capabilities": {"drop": ["ALL"], "add": ["NET_RAW"]}}),
         (1, 33), {"capabilities_baseline"}, {PSP}),
    Case("chown-before-1.22", pod(container={"capabilities": {"add": ["CHOWN"]}}), (1, 21),
         set(), set()),
    Case("chown-from-1.22", pod(container={"capabilities": {"drop": ["ALL"], "add": ["CHOWN"]}}),
         (1, 22), set(), {PSP}),
    Case("no-drop-windows-1.24", pod({"os": {"name": "windows"}}, {"capabilities": None}),
         (1, 24), set(), {PSP}),
    Case("no-drop-windows-1.25", pod({"os": {"name": "windows"}}, {"capabilities": None}),
         (1, 25), set(), set()),
    Case("host-path", pod({"volumes": [{"name": "h", "hostPath": {"path": "/"}}]}), (1, 33),
         {"hostPathVolumes"}, {"restrictedVolumes"}),
    Case("nfs", pod({"volumes": [{"name": "n", "nfs": {"server": "s", "path": "/"}}]}), (1, 33),
         set(), {"restrictedVolumes"}),
    Case("image-volume", pod({"volumes": [{"name": "i", "image": {"reference": "x:1"}}]}),
         (1, 33), set(), set()),
    Case("host-port", pod({"containers": [{**RESTRICTED_POD["containers"][0],
                                           "ports": [{"containerPort": 80, "hostPort": 80}]}]}),
         (1, 33), {"hostPorts"}, {"hostPorts"}),
    Case("probe-host-1.33", pod({"containers": [{**RESTRICTED_POD["containers"][0],
         "livenessProbe": {"httpGet": {"port": 80, "host": "10.0.0.1"}}}]}), (1, 33), set(), set()),
    Case("probe-host-1.34", pod({"containers": [{**RESTRICTED_POD["containers"][0],
         "livenessProbe": {"httpGet": {"port": 80, "host": "10.0.0.1"}}}]}), (1, 34),
         {"hostProbesAndHostLifecycle"}, {"hostProbesAndHostLifecycle"}),
    Case("apparmor-unconfined", pod(container={"appArmorProfile": {"type": "Unconfined"}}),
         (1, 33), {"appArmorProfile"}, {"appArmorProfile"}),
    Case("apparmor-annotation", pod(annotations={
        "container.apparmor.security.beta.kubernetes.io/app": "unconfined"}), (1, 33),
         {"appArmorProfile"}, {"appArmorProfile"}),
    Case("apparmor-localhost-annotation", pod(annotations={
        "container.apparmor.security.beta.kubernetes.io/app": "localhost/x"}), (1, 33),
         set(), set()),
    Case("selinux-engine-1.30", pod(container={"seLinuxOptions": {"type": "container_engine_t"}}),
         (1, 30), {"seLinuxOptions"}, {"seLinuxOptions"}),
    Case("selinux-engine-1.31", pod(container={"seLinuxOptions": {"type": "container_engine_t"}}),
         (1, 31), set(), set()),
    Case("selinux-user", pod({"securityContext": {**RESTRICTED_POD["securityContext"],
                                                  "seLinuxOptions": {"user": "root"}}}),
         (1, 33), {"seLinuxOptions"}, {"seLinuxOptions"}),
    Case("unmasked-userns-1.34", pod({"hostUsers": False}, {"procMount": "Unmasked"}), (1, 34),
         {"procMount"}, {"procMount"}),
    Case("unmasked-userns-1.35", pod({"hostUsers": False}, {"procMount": "Unmasked"}), (1, 35),
         set(), {"procMount_restricted"}),
    Case("seccomp-unconfined", pod(container={"seccompProfile": {"type": "Unconfined"}}),
         (1, 33), {"seccompProfile_baseline"}, {"seccompProfile_restricted"}),
    Case("seccomp-annotation-1.18", pod(annotations={
        "seccomp.security.alpha.kubernetes.io/pod": "unconfined"}), (1, 18),
         {"seccompProfile_baseline"}, {"seccompProfile_baseline"}),
    Case("seccomp-annotation-1.19", pod(annotations={
        "seccomp.security.alpha.kubernetes.io/pod": "unconfined"}), (1, 19), set(), set()),
    Case("seccomp-unset", pod({"securityContext": {"runAsNonRoot": True}}), (1, 33), set(),
         {"seccompProfile_restricted"}),
    Case("seccomp-unset-1.18", pod({"securityContext": {"runAsNonRoot": True}}), (1, 18), set(),
         set()),
    Case("sysctl-rmem-1.31", pod({"securityContext": {**RESTRICTED_POD["securityContext"],
         "sysctls": [{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}]}}), (1, 31),
         {"sysctls"}, {"sysctls"}),
    Case("sysctl-rmem-1.32", pod({"securityContext": {**RESTRICTED_POD["securityContext"],
         "sysctls": [{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}]}}), (1, 32),
         set(), set()),
    Case("sysctl-lowat-1.36", pod({"securityContext": {**RESTRICTED_POD["securityContext"],
         "sysctls": [{"name": "net.ipv4.tcp_notsent_lowat", "value": "16384"}]}}), (1, 36),
         {"sysctls"}, {"sysctls"}),
    Case("sysctl-lowat-1.37", pod({"securityContext": {**RESTRICTED_POD["securityContext"],
         "sysctls": [{"name": "net.ipv4.tcp_notsent_lowat", "value": "16384"}]}}), (1, 37),
         set(), set()),
    Case("host-process", pod(container={"windowsOptions": {"hostProcess": True}}), (1, 33),
         {"windowsHostProcess"}, {"windowsHostProcess"}),
    Case("escalation-unset", pod(container={"allowPrivilegeEscalation": None}), (1, 33), set(),
         {"allowPrivilegeEscalation"}),
    Case("escalation-unset-1.7", pod(container={"allowPrivilegeEscalation": None}), (1, 7),
         set(), set()),
    Case("non-root-false", pod(container={"runAsNonRoot": False}), (1, 33), set(),
         {"runAsNonRoot"}),
    Case("non-root-unset", pod({"securityContext": {"seccompProfile": {"type": "Localhost",
         "localhostProfile": "p.json"}}}), (1, 33), set(), {"runAsNonRoot"}),
    Case("non-root-unset-userns-1.34", pod({"hostUsers": False, "securityContext": {
        "seccompProfile": {"type": "RuntimeDefault"}}}), (1, 34), set(), {"runAsNonRoot"}),
    Case("non-root-unset-userns-1.35", pod({"hostUsers": False, "securityContext": {
        "seccompProfile": {"type": "RuntimeDefault"}}}), (1, 35), set(), set()),
    Case("root-uid-1.22", pod(container={"runAsUser": 0}), (1, 22), set(), set()),
    Case("root-uid-1.23", pod(container={"runAsUser": 0}), (1, 23), set(), {"runAsUser"}),
    Case("root-uid-userns-1.35", pod({"hostUsers": False}, {"runAsUser": 0}), (1, 35), set(),
         set()),
    Case("newer-than-known", pod({"securityContext": {**RESTRICTED_POD["securityContext"],
         "sysctls": [{"name": "net.ipv4.tcp_notsent_lowat", "value": "1"}]}}), (1, 40),
         set(), set()),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("level", ["baseline", "restricted"])
def test_control_table(case: Case, level: pss.Level):
    expected = case.baseline if level == "baseline" else case.restricted
    found = {v.control for v in pss.evaluate(view(case.pod), level, case.version)}
    assert found == expected
    assert pss.evaluate(view(case.pod), "privileged", case.version) == []


def test_lowest_admitting_level():
    assert pss.lowest_admitting_level(view(pod()), (1, 33)) == "restricted"
    assert pss.lowest_admitting_level(view(pod(container={"runAsNonRoot": False})), (1, 33)) == (
        "baseline")
    assert pss.lowest_admitting_level(view(pod({"hostNetwork": True})), (1, 33)) == "privileged"


def test_violations_name_the_field_and_value():
    (violation,) = pss.evaluate(view(pod({"hostIPC": True}), "DaemonSet"), "baseline", (1, 33))
    assert violation == pss.Violation(
        "hostNamespaces", "spec.template.spec.hostIPC", "hostIPC is true")
    annotated = pod(annotations={"container.apparmor.security.beta.kubernetes.io/app": "x"})
    (violation,) = pss.evaluate(view(annotated, "Deployment"), "baseline", (1, 33))
    assert violation.path == (
        "spec.template.metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]")


def test_each_level_and_version_is_compiled_once():
    pss.compiled.cache_clear()
    for _ in range(3):
        pss.evaluate(view(pod()), "restricted", (1, 33))
    info = pss.compiled.cache_info()
    assert (info.misses, info.hits) == (1, 2)


# -- the one-pass shortcut never changes a verdict -----------------------------------------------

def _clean(pod: dict[str, Any]) -> bool:
    from kubegen._coherence.clean import restricted_clean

    return restricted_clean(view(pod))


def test_a_clean_pod_passes_every_level_at_every_version():
    clean = [f for f in FIXTURES if _clean(f.pod)]
    assert clean, "the shortcut recognises no fixture at all"
    assert any(f.name == "base" and f.level == "restricted" for f in clean)
    for fixture in clean:
        for version in {(1, m) for m in range(38)}:
            assert pss.evaluate(view(fixture.pod), "restricted", version) == [], fixture.id


MUTATIONS: list[dict[str, Any]] = [
    {"spec": {"hostNetwork": True}}, {"spec": {"hostUsers": False}},
    {"spec": {"os": {"name": "windows"}}},
    {"spec": {"securityContext": {"runAsNonRoot": True, "runAsUser": 0,
                                  "seccompProfile": {"type": "RuntimeDefault"}}}},
    {"spec": {"securityContext": {"runAsNonRoot": True,
                                  "seccompProfile": {"type": "Unconfined"}}}},
    {"spec": {"securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "Localhost"},
                                  "sysctls": [{"name": "kernel.msgmax", "value": "1"}]}}},
    {"spec": {"securityContext": {"runAsNonRoot": True,  # malformed: left to the controls
                                  "seccompProfile": {"type": ["RuntimeDefault"]}}}},
    {"spec": {"volumes": 1}}, {"spec": {"initContainers": {"name": "i"}}},
    {"spec": {"containers": [{**RESTRICTED_POD["containers"][0], "ports": -1}]}},
    {"spec": {"volumes": [{"name": "h", "hostPath": {"path": "/"}}]}},
    {"spec": {"volumes": [{"name": "n", "nfs": {"server": "s", "path": "/"}}]}},
    {"container": {"privileged": True}}, {"container": {"allowPrivilegeEscalation": None}},
    {"container": {"capabilities": {"drop": ["ALL"], "add": ["CHOWN"]}}},
    {"container": {"capabilities": {"drop": ["NET_RAW"]}}}, {"container": {"runAsUser": 0}},
    {"container": {"runAsNonRoot": False}}, {"container": {"procMount": "Unmasked"}},
    {"container": {"seLinuxOptions": {"type": "spc_t"}}},
    {"container": {"appArmorProfile": {"type": "Unconfined"}}},
    {"container": {"windowsOptions": {"hostProcess": True}}},
    {"container": {"seccompProfile": {"type": "Unconfined"}}},
    {"annotations": {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}},
    {"annotations": {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}},
    {"spec": {"containers": [{**RESTRICTED_POD["containers"][0],
                              "ports": [{"containerPort": 80, "hostPort": 80}]}]}},
    {"spec": {"containers": [{**RESTRICTED_POD["containers"][0],
                              "readinessProbe": {"tcpSocket": {"port": 80, "host": "1.2.3.4"}}}]}},
    {"spec": {"initContainers": [{"name": "i", "image": "i:1"}]}},
    {"spec": {"ephemeralContainers": [{"name": "e", "image": "e:1"}]}},
]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[str(i) for i in range(len(MUTATIONS))])
def test_the_shortcut_defers_every_restricted_field_to_the_controls(mutation: dict[str, Any]):
    """Each mutation sets a field some control reads (to refuse, or to relax a check): the
    shortcut must leave the pod to the full evaluation."""
    mutated = pod(mutation.get("spec"), mutation.get("container"), mutation.get("annotations"))
    assert _clean(pod())  # the hardened pod this starts from is clean
    assert not _clean(mutated)


@pytest.mark.parametrize("value", [["RuntimeDefault"], {"type": "RuntimeDefault"}])
def test_a_malformed_profile_or_sysctl_is_a_violation_never_a_crash(value: Any):
    """Hostile YAML (a list or a map where the API takes a string) is refused by the controls
    like any other value outside the allowed ones; it never raises out of the evaluation."""
    cases = [
        ({"securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": value}}}, None,
         "seccompProfile"),
        (None, {"appArmorProfile": {"type": value}}, "appArmorProfile"),
        ({"securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"},
                              "sysctls": [{"name": value, "value": "1"}]}}, None, "sysctls"),
    ]
    for spec, container, control in cases:
        found = pss.evaluate(view(pod(spec, container)), "restricted", (1, 33))
        assert any(v.control.startswith(control) for v in found), (control, found)
