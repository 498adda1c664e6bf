"""Every mistake in a builder call is one located kubegen error (kubegen/_builders/errors.py).

The walk at the top calls every public builder (``kubegen.__all__``) once per keyword with a
value of the wrong type, and once per keyword with the keyword misspelled, and checks that each
message names the parts a user needs: the stack file and line, the object, the field, the value
and a fix (for a misspelling: the keyword meant).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import signature_rules
from hypothesis import given, settings
from hypothesis import strategies as st

import kubegen
from kubegen import (
    ConfigMap,
    Container,
    DaemonSet,
    Deployment,
    EmptyDir,
    HostPath,
    HttpProbe,
    IPBlock,
    KubegenError,
    NodeTerm,
    Port,
    Resources,
    RoleRef,
    Rule,
    ServiceAccountRef,
    ServicePort,
    Stack,
    StatefulSet,
    ValidationError,
)
from kubegen._builders.errors import MissingAttributeError, closest, describe, example
from kubegen._builders.workloads.resources import in_mebibytes
from kubegen._values import (
    DNSLabel,
    Duration,
    InvalidValue,
    normalize_quantity,
    parse_quantity,
)

TEMPLATE = Path(__file__).parent / "data" / "workload_examples" / "api-config.yaml.j2"
VENDORED = Path(__file__).parent / "data" / "vendor" / (
    "ingress-nginx-controller-v1.15.1-deploy.yaml")
SA = ServiceAccountRef("robot", namespace="tools", external=True)

# Per public builder: its positional parameters (with a valid value) and the keywords it
# requires. A new public builder must be added here (test_every_builder_is_walked).
POSITIONAL: dict[str, dict[str, Any]] = {
    "ArgoApplication": {"name": "dev"}, "ArgoApplicationSet": {"name": "envs"},
    "ArgoAppProject": {"name": "dev"}, "Environment": {"name": "dev"}, "Layer": {"name": "data"},
    "SyncHook": {"phase": "Sync"},
    "Claim": {"claim": "data"}, "Cluster": {"name": "prod"}, "ClusterRole": {"name": "r"},
    "ClusterRoleBinding": {"name": "b"}, "ConfigFiles": {"config": "settings"},
    "ConfigMap": {"name": "settings"}, "ConfigMapKey": {"config": "settings", "key": "K"},
    "CronJob": {"name": "backup"}, "DaemonSet": {"name": "agent"}, "Deployment": {"name": "api"},
    "ExecProbe": {"command": ["true"]}, "ExternalSecret": {"name": "db"},
    "FieldRef": {"path": "metadata.name"}, "FluxGitRepository": {"name": "repo"},
    "FluxKustomization": {"name": "dev"}, "Group": {"name": "ops"},
    "HostPath": {"path": "/var/log"}, "HttpProbe": {"path": "/ready"}, "Job": {"name": "migrate"},
    "HorizontalPodAutoscaler": {"name": "api"}, "Ingress": {"name": "shop"},
    "HTTPRoute": {"name": "shop"}, "RoutePath": {"path": "/"},
    "ClusterGateway": {"name": "public"},
    "Manifest": {"body": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}},
    "Mount": {"source": EmptyDir(name="scratch")}, "Namespace": {"name": "shop"},
    "NetworkPolicy": {"name": "p"}, "Port": {"number": 8080}, "RemoteKey": {"key": "shop/db"},
    "NodeRequirement": {"key": "kubernetes.io/arch", "operator": "Exists"},
    "Pod": {"name": "debug"}, "PodAffinity": {"pods": "self"},
    "Toleration": {"key": "dedicated"},
    "ResourceRef": {"resource": "limits.cpu"}, "Role": {"name": "r"}, "RoleBinding": {"name": "b"},
    "RoleRef": {"name": "view"}, "SealedSecret": {"name": "s"}, "Secret": {"name": "s"},
    "SecretFiles": {"secret": "db"}, "SecretKey": {"secret": "db", "key": "password"},
    "SecretRef": {"name": "db"}, "Service": {"name": "api"}, "ServiceAccount": {"name": "sa"},
    "ServiceAccountRef": {"name": "sa"}, "ServicePort": {"target": "http"},
    "StatefulSet": {"name": "db"}, "Template": {"path": TEMPLATE}, "User": {"name": "jane"},
    "Vendored": {"path": VENDORED},
    "VolumeClaim": {"name": "data"},
}
REQUIRED: dict[str, dict[str, Any]] = {
    "ApiServer": {"addresses": ["10.0.0.10/32"]},
    "ArgoAppProject": {"source_repos": ["https://github.com/acme/deploy.git"],
                       "clusters": [kubegen.Cluster("prod")]},
    "Environment": {"clusters": [kubegen.Cluster("prod")]},
    "Fleet": {"environments": [kubegen.Environment("dev", clusters=[kubegen.Cluster("prod")])]},
    "FluxKubeConfig": {"secret": "prod-kubeconfig"},
    "ArgoApplication": {"repo_url": "https://github.com/acme/deploy.git", "path": "output/dev"},
    "ArgoApplicationSet": {"repo_url": "https://github.com/acme/deploy.git"},
    "ClusterRole": {"rules": [Rule.read("nodes")]},
    "ClusterRoleBinding": {"role": RoleRef("view", kind="ClusterRole", external=True),
                           "subjects": [SA]},
    "Container": {"image": "ghcr.io/acme/api:1.2.3"},
    "CronJob": {"schedule": "@daily", "image": "ghcr.io/acme/api:1.2.3"},
    "DaemonSet": {"image": "ghcr.io/acme/agent:1.0"},
    "Deployment": {"image": "ghcr.io/acme/api:1.2.3"},
    "Pod": {"image": "ghcr.io/acme/api:1.2.3"},
    "DNSConfig": {"options": {"ndots": "2"}},
    "ExternalSecret": {"store": "vault", "extract": ["shop/db"]},
    "FluxGitRepository": {"url": "https://github.com/acme/deploy.git"},
    "FluxHealthCheck": {"api_version": "apps/v1", "kind": "Deployment", "name": "api"},
    "FluxKustomization": {"source": "repo", "path": "./output/dev"},
    "Hook": {"sleep": "5s"},
    "HorizontalPodAutoscaler": {"target": Deployment("api", image="ghcr.io/acme/api:1.2.3"),
                                "max": 4, "cpu": 70},
    "HostPath": {"reason": "ships the node's logs"},
    "IPBlock": {"cidr": "10.0.0.0/8"},
    "Ingress": {"hosts": ["shop.example.com"], "service": "web", "tls_secret": "shop-tls"},
    "IngressController": {"namespace": "ingress-nginx", "pods": {"app": "ingress-nginx"}},
    "HTTPRoute": {"service": "web"},
    "RoutePath": {"service": "web"},
    "ClusterGateway": {"namespace": "gateway", "pods": {"app": "envoy"}},
    "Job": {"image": "ghcr.io/acme/api:1.2.3"},
    "LabelSelectorRequirement": {"key": "team", "operator": "Exists"},
    "NetworkPolicy": {"policy_types": ["Ingress"]},
    "NodeAffinity": {"prefer": [NodeTerm(labels={"kubernetes.io/arch": ["amd64"]})]},
    "NodeTerm": {"labels": {"kubernetes.io/arch": ["amd64"]}},
    "NetworkPolicyPeer": {"ip_block": IPBlock(cidr="10.0.0.0/8")},
    "Resources": {"cpu": "100m", "memory": "128Mi"},
    "Role": {"rules": [Rule.read("configmaps")]},
    "RoleBinding": {"role": RoleRef("view", external=True), "subjects": [SA]},
    "ScalingPolicy": {"pods": 4},
    "ScalingRules": {"stabilization": "5m"},
    "Rule": {"resources": ["pods"], "verbs": ["get"]},
    "SealedSecret": {"encrypted_data": {"k": "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq" + "Qx7m" * 180}},
    "Service": {"selector": {"app": "api"}, "ports": [ServicePort("http", port=80)]},
    "StatefulSet": {"image": "postgres:16.4"},
    "Vendored": {"source": "https://github.com/kubernetes/ingress-nginx",
                 "version": "controller-v1.15.1"},
    "VolumeClaim": {"size": "1Gi"},
}


class Wrong:
    """A value no typed field accepts, with a recognisable repr."""

    def __repr__(self) -> str:
        return "Wrong()"


BUILDERS = {cls.__name__: cls for cls in signature_rules.public_builders()}


def call(builder: str, /, **given: Any) -> Any:
    """Build public builder ``builder`` validly, with ``given`` replacing or adding keywords."""
    cls = BUILDERS[builder]
    args = [given.pop(param, value) for param, value in POSITIONAL.get(builder, {}).items()]
    required = dict(REQUIRED.get(builder, {}))
    if given.keys() & {"container", "containers"}:
        required.pop("image", None)  # the shorthand's container would be a second one
    return cls(*args, **{**required, **given})


def keywords(name: str) -> list[str]:
    return sorted(signature_rules.expected_keywords(BUILDERS[name]))


# (builder, keyword) for every keyword; TYPE_CASES adds the positional parameters.
CASES = [(name, kw) for name in sorted(BUILDERS) for kw in keywords(name)]
TYPE_CASES = CASES + [(name, param) for name in sorted(BUILDERS) for param in POSITIONAL.get(
    name, {}) if param in BUILDERS[name].model_fields]
# Fields whose type admits any value, so no value is of the wrong type.
ANY_TYPED: set[tuple[str, str]] = set()


def test_every_builder_is_walked() -> None:
    assert {name for name, _ in TYPE_CASES} == set(BUILDERS)
    for name in BUILDERS:
        call(name)  # the baseline call is valid


def _assert_parts(text: str, name: str, field: str) -> None:
    assert f"{Path(__file__).name}:" in text, text
    assert name in text, text
    assert f"field '{field}" in text, text
    assert "\n  Fix: " in text, text


@pytest.mark.parametrize(("name", "keyword"), TYPE_CASES,
                         ids=[f"{n}.{k}" for n, k in TYPE_CASES])
def test_wrong_type_names_file_object_field_value_and_fix(name: str, keyword: str) -> None:
    if (name, keyword) in ANY_TYPED:
        pytest.skip("any value is valid")
    with pytest.raises(KubegenError) as caught:
        call(name, **{keyword: Wrong()})
    text = str(caught.value)
    _assert_parts(text, name, keyword)
    secret = keyword in BUILDERS[name]._secret_fields
    assert ("<redacted>" if secret else "Wrong()") in text, text


def _misspelled(keyword: str) -> str:
    middle = len(keyword) // 2
    return keyword[:middle] + keyword[middle] + keyword[middle:]


@pytest.mark.parametrize(("name", "keyword"), CASES, ids=[f"{n}.{k}" for n, k in CASES])
def test_misspelled_keyword_suggests_the_field(name: str, keyword: str) -> None:
    wrong = _misspelled(keyword)
    given = {wrong: call(name).model_dump().get(keyword, "x")}
    with pytest.raises(KubegenError) as caught:
        call(name, **given)
    text = str(caught.value)
    _assert_parts(text, name, wrong)
    assert f"did you mean {keyword}=?" in text, text


# -- several errors at once ---------------------------------------------------------------


def test_every_wrong_argument_is_listed_each_on_its_own_line() -> None:
    with pytest.raises(ValidationError) as caught:
        Deployment(
            "api",
            image="ghcr.io/acme/api:1.2.3",
            replicas="three",
            readyness=HttpProbe("/ready"),
            topology_spread="zone",
        )
    error = caught.value
    lines = str(error).splitlines()
    here, start = lines[0].split(":")[:2]
    assert lines[0].endswith("Deployment api: 3 problems, each below")
    assert [p.field for p in error.problems] == ["replicas", "readyness", "topology_spread"]
    rows = [line.strip() for line in lines[1:]]
    assert rows == [
        f"{here}:{int(start) + 3}: Deployment api: field 'replicas' = 'three': expected an "
        "integer",
        "Fix: write e.g. replicas=1",
        f"{here}:{int(start) + 4}: Deployment api: field 'readyness' = HttpProbe(path='/ready'): "
        "is not a field of Deployment",
        "Fix: did you mean readiness=? (help(Deployment) lists every field)",
        f"{here}:{int(start) + 5}: Deployment api: field 'topology_spread' = 'zone': expected "
        "one of 'nodes', 'zones', 'none'",
        "Fix: write e.g. topology_spread='zones'",
    ]
    assert error.field == "replicas" and error.value == "three"  # the first, for code


def test_container_and_workload_problems_of_one_call_are_listed_together() -> None:
    with pytest.raises(ValidationError) as caught:
        Deployment(
            "api",
            image="ghcr.io/acme/api:1.2.3",
            replicas="two",
            ports="8080",
            tolerations=[{"key": "a", "effect": "NoSchedule", "tolerationSeconds": 5}],
        )
    problems = caught.value.problems
    assert [p.field for p in problems] == ["replicas", "ports", "tolerations.0.seconds"]
    assert all(p.resource == "Deployment api" for p in problems)
    lines = [p.origin.line for p in problems if p.origin is not None]
    assert lines == sorted(lines) and len(set(lines)) == 3


def test_union_errors_are_one_problem_with_every_accepted_type() -> None:
    with pytest.raises(ValidationError) as caught:
        Deployment("api", image="ghcr.io/acme/api:1.2.3", readiness="/ready")
    assert caught.value.problems == []
    assert caught.value.message == (
        "expected HttpProbe, TcpProbe, ExecProbe or GrpcProbe (or None)"
    )
    assert caught.value.fix == "write e.g. readiness=HttpProbe('/ready')"


def test_list_and_mapping_items_say_what_one_item_is() -> None:
    with pytest.raises(ValidationError) as caught:
        Container(image="ghcr.io/acme/api:1.2.3", ports=[Wrong()])
    assert caught.value.field == "ports[0]"
    assert "each item of ports is Port" in str(caught.value.fix)
    with pytest.raises(ValidationError) as caught:
        Container(image="ghcr.io/acme/api:1.2.3", env={"LEVEL": 3})
    assert caught.value.field == "env.LEVEL"
    assert caught.value.fix == (
        "each value of env is a string, ConfigMapKey, SecretKey, FieldRef or ResourceRef, "
        "e.g. env={'key': 'text'}"
    )


def test_kubernetes_spelling_of_a_field_suggests_kubegens() -> None:
    with pytest.raises(ValidationError, match=r"did you mean termination_grace=\?"):
        Deployment("api", image="ghcr.io/acme/api:1.2.3", terminationGracePeriodSeconds=30)
    with pytest.raises(ValidationError, match=r"did you mean readiness=\?"):
        Deployment("api", image="ghcr.io/acme/api:1.2.3", readinessProbe=HttpProbe("/"))


def test_a_field_of_another_builder_says_which() -> None:
    with pytest.raises(ValidationError) as caught:
        Deployment("api", image="ghcr.io/acme/api:1.2.3", storage="1Gi")
    assert caught.value.message == (
        "is not a field of Deployment (storage is a field of StatefulSet)"
    )


def test_assigning_an_unknown_attribute_points_at_the_assignment() -> None:
    api = Deployment("api", image="ghcr.io/acme/api:1.2.3")
    with pytest.raises(ValidationError) as caught:
        api.replica = 3  # type: ignore[attr-defined]
    assert caught.value.fix == "did you mean replicas=? (help(Deployment) lists every field)"
    assert caught.value.origin is not None
    assert caught.value.origin.line == caught.tb.tb_lineno  # type: ignore[union-attr]


# -- verbs a builder lacks ----------------------------------------------------------------


def test_a_verb_of_other_builders_says_who_has_it_and_the_alternative() -> None:
    stack = Stack("s", namespace="s")
    agent = stack.add(DaemonSet("agent", image="ghcr.io/acme/agent:1.0"))
    with pytest.raises(MissingAttributeError) as caught:
        agent.expose()  # type: ignore[attr-defined]
    error = caught.value
    assert isinstance(error, AttributeError) and isinstance(error, KubegenError)
    assert error.message == "DaemonSet has no expose(): only Deployment has it"
    assert error.fix == (
        "add the Service yourself: stack.add(Service('agent', target=<this workload>))"
    )
    assert f"{Path(__file__).name}:" in str(error).splitlines()[0]
    assert "DaemonSet s/agent" in str(error)


def test_a_misspelled_verb_suggests_the_right_one() -> None:
    api = Deployment("api", image="ghcr.io/acme/api:1.2.3")
    with pytest.raises(MissingAttributeError, match="did you mean connect_to"):
        api.conect_to(api)  # type: ignore[attr-defined]


def test_probing_attributes_stays_an_attribute_error() -> None:
    agent = DaemonSet("agent", image="ghcr.io/acme/agent:1.0")
    assert not hasattr(agent, "expose")
    assert getattr(agent, "no_such_thing", None) is None
    assert getattr(StatefulSet("db", image="postgres:16.4"), "expose", "absent") == "absent"


# -- values ---------------------------------------------------------------------------------


def test_relative_host_path_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        HostPath("proc", reason="r")
    assert caught.value.field == "path" and caught.value.value == "proc"
    assert caught.value.fix == "use the absolute path on the node, e.g. '/proc'"
    with pytest.raises(ValidationError, match=r"contains '\.\.'"):
        HostPath("/var/../etc", reason="r")
    assert HostPath("/", reason="r").path == "/"  # node-exporter mounts the root filesystem


@pytest.mark.parametrize(
    ("memory", "suggested"),
    [("100Ki", "100Mi"), ("512", "512Mi"), ("64k", "64Mi"), ("0.5", "500Mi"), ("1e3", "1Mi"),
     ("1023Ki", "1023Mi"), (".5Ki", "512Mi"), ("100m", "100Mi")],
)
def test_memory_fix_is_a_valid_quantity_of_at_least_1mi(memory: str, suggested: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Resources(cpu="100m", memory=memory)
    # "100Ki" has a unit already: the fix names the floor, not just "a unit"
    assert caught.value.fix == f"request at least 1Mi, with a unit: e.g. memory='{suggested}'"
    Resources(cpu="100m", memory=suggested)  # the suggestion is valid


@settings(max_examples=200, deadline=None)
@given(number=st.decimals(min_value=0, max_value=10**7, places=3, allow_nan=False),
       suffix=st.sampled_from(["", "m", "k", "Ki", "M", "e2", "e5"]))
def test_memory_suggestion_is_valid_for_any_small_value(number: Decimal, suffix: str) -> None:
    try:  # the memory field normalises first, so that is what the check sees
        memory = normalize_quantity(f"{number.normalize():f}{suffix}")
    except InvalidValue:
        return
    if parse_quantity(memory) >= 2**20:
        return
    suggestion = in_mebibytes(memory)
    assert parse_quantity(suggestion) >= 2**20, (memory, suggestion)
    assert normalize_quantity(suggestion) == suggestion  # written as kubegen would render it


# -- the words ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "words", "sample"),
    [
        (list[Port], "a list of Port", "[Port(8080, name='http')]"),
        (dict[str, str], "a mapping of string to string", "{'text': 'text'}"),
        (DNSLabel | None, "a DNS-1123 label (lower case, digits, '-')", "'api'"),
        (Duration, "a duration (timedelta, seconds, or text like '30s')", "'30s'"),
        (int | str, "an integer or a string", "1"),
        (Resources, "Resources", "Resources(cpu='100m', memory='128Mi')"),
        (ConfigMap | None, "ConfigMap", "ConfigMap('settings', data={'LOG_LEVEL': 'info'})"),
    ],
)
def test_expected_types_are_worded_with_an_example(annotation: Any, words: str, sample: str):
    assert describe(annotation) == words
    assert example(annotation) == sample


def test_closest_keyword() -> None:
    names = ["readiness", "liveness", "replicas", "image_pull_secrets"]
    assert closest("readyness", names) == "readiness"
    assert closest("imagePullSecrets", names) == "image_pull_secrets"
    assert closest("zzz", names) is None


def test_every_error_is_a_kubegen_error_not_pydantics() -> None:
    for bad in ({"ports": "8080"}, {"env": ["A=1"]}, {"mounts": {"/x": "y"}}):
        with pytest.raises(KubegenError):
            Deployment("api", image="ghcr.io/acme/api:1.2.3", **bad)  # type: ignore[arg-type]
    assert kubegen.ValidationError is ValidationError


# -- keywords of verbs and of Stack, in a stack module ----------------------------------------


@pytest.mark.parametrize(
    ("line", "fix"),
    [
        ('    web.connect_to(api, prot=8080)',
         "did you mean port=? (it takes connect_to(target, port=))"),
        ('    Stack("other", namspace="shop")',
         "did you mean namespace=? (it takes Stack(name, namespace=, labels=, create_namespace=, "
         "profile=, kubernetes_version=, defaults=, cluster=, layers=))"),
    ],
)
def test_a_misspelled_keyword_of_a_verb_or_stack_suggests_the_right_one(
    tmp_path: Path, line: str, fix: str
) -> None:
    from kubegen._loader import load_stack

    module = tmp_path / "typo.py"
    module.write_text(
        "from kubegen import Deployment, Stack, TcpProbe\n\n"
        "def build():\n"
        "    stack = Stack('shop', namespace='shop')\n"
        "    api = stack.add(Deployment('api', image='ghcr.io/acme/api:1.0', port=8080,\n"
        "                               readiness=TcpProbe(), liveness=TcpProbe()))\n"
        "    web = stack.add(Deployment('web', image='ghcr.io/acme/web:1.0'))\n"
        f"{line}\n"
        "    return stack\n",
        encoding="utf-8",
    )
    with pytest.raises(KubegenError) as caught:
        load_stack(module)
    assert caught.value.origin is not None and caught.value.origin.line == 8
    assert caught.value.resource in ("Deployment shop/web", "Stack other")
    assert caught.value.fix == fix


def _scalar(name: str, keyword: str) -> type | None:
    """``int`` or ``str`` when the field is one of them (or ``None``), else ``None``."""
    field = BUILDERS[name].model_fields.get(keyword)
    annotation = None if field is None else field.annotation
    for scalar in (int, str):
        if annotation in (scalar, scalar | None):
            return scalar
    return None


SCALAR_CASES = [
    (name, keyword, value)
    for name, keyword in TYPE_CASES
    for value in {int: [True, False, "3", 3.0], str: [b"x"], None: []}[_scalar(name, keyword)]
]


def test_scalar_cases_cover_the_counts_and_names():
    covered = {(name, keyword) for name, keyword, _ in SCALAR_CASES}
    assert {("Deployment", "replicas"), ("Port", "number"), ("Deployment", "name")} <= covered


@pytest.mark.parametrize(("name", "keyword", "value"), SCALAR_CASES,
                         ids=[f"{n}.{k}={v!r}" for n, k, v in SCALAR_CASES])
def test_a_value_of_another_type_is_never_converted(name: str, keyword: str, value: Any) -> None:
    """``replicas=True`` is not 1, ``port="8080"`` not 8080, ``name=b"api"`` not "api": a value
    of the wrong type is the user's mistake, refused with its field, as Kubernetes would."""
    with pytest.raises(KubegenError) as caught:
        call(name, **{keyword: value})
    _assert_parts(str(caught.value), name, keyword)
    assert repr(value) in str(caught.value)
