"""The stack-building fast paths build exactly what the validating code builds.

Guards: ``Builder.trusted`` (derived network objects made without pydantic validation, compared
with ``TRUST_DERIVED`` off), the selector/port fallbacks that keep the constructors' errors, the
builder state kept outside pydantic's model, the shared Origin cache, and the image and quantity
caches.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import PrivateAttr

from kubegen import (
    ClusterDNS,
    Container,
    Deployment,
    HttpProbe,
    Namespace,
    NetworkDefaults,
    Port,
    Stack,
    ValidationError,
)
from kubegen import _origin as origin_module
from kubegen._builders import base
from kubegen._builders.network.derive import derive_network
from kubegen._builders.network.policy import (
    EgressRule,
    IngressRule,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
)
from kubegen._builders.network.selectors import LabelSelector, labels_selector
from kubegen._loader import load_stack
from kubegen._origin import Origin, capture, set_base_dir
from kubegen._values import InvalidValue, check_label_key, check_label_value, names
from kubegen._values import image as image_module
from kubegen._values import quantity as quantity_module
from kubegen._values.image import ImageRef
from kubegen._values.quantity import normalize_quantity, parse_quantity
from tests.helpers import REPO

IMAGE = "ghcr.io/acme/api:1.2.3"


@pytest.fixture
def validating(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run with every ``Builder.trusted`` call going through the validating constructor."""
    monkeypatch.setattr(base, "TRUST_DERIVED", False)
    yield


def _rendered(stack: Stack) -> list[tuple[Any, ...]]:
    return [(obj.body, obj.origin, obj.waivers) for obj in stack.objects()]


def _both_ways(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    fast = _rendered(stack)
    monkeypatch.setattr(base, "TRUST_DERIVED", False)
    slow = _rendered(stack)
    assert fast == slow
    return fast


@pytest.mark.parametrize("env", ["dev", "prod", "gitops"])
def test_example_stacks_render_the_same_with_validated_derived_objects(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered = _both_ways(load_stack(REPO / "stacks" / env).stack, monkeypatch)
    policies = [body for body, _, _ in rendered if body["kind"] == "NetworkPolicy"]
    assert len(policies) > 2 or env == "gitops"  # gitops renders Flux objects only


def _web(name: str, port: int = 8080, **extra: Any) -> Deployment:
    return Deployment(
        name,
        image=IMAGE,
        port=Port(port, name="http"),
        readiness=HttpProbe("/ready"),
        liveness=HttpProbe("/healthz"),
        **extra,
    )


def _every_kind_of_flow() -> Stack:
    stack = Stack("flows", namespace="shop")
    stack.add(Namespace("batch"))
    stack.add(NetworkDefaults(dns=ClusterDNS(pods={"k8s-app": "coredns"})))
    api = stack.add(_web("api"))
    db = stack.add(_web("db", 5432))
    worker = stack.add(_web("worker", namespace="batch"))
    outside = stack.add(_web("outside", namespace="elsewhere"))
    api.connect_to(db, port="http")
    api.connect_to(db, port=5432)  # the same flow twice renders once
    worker.connect_to(api)
    outside.connect_to(db, port="http")
    api.allow_from(namespace="ingress", pods={"app": "nginx"}, port="http")
    api.allow_from(namespace="monitoring", port="http", reason="scraped by every prometheus")
    api.allow_to(cidr="10.0.0.0/8", port=443, reason="the office network")
    api.allow_to(cidr="192.0.2.0/24", except_=["192.0.2.8/29"], port=8000, end_port=8100)
    worker.allow_to_internet(port=443, reason="calls the payment provider")
    return stack


def test_every_kind_of_flow_renders_the_same_with_validated_derived_objects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rendered = _both_ways(_every_kind_of_flow(), monkeypatch)
    names = {body["metadata"]["name"] for body, _, _ in rendered if body["kind"] == "NetworkPolicy"}
    assert {"api-ingress", "api-egress", "db-ingress", "worker-egress"} <= names


def test_derived_policies_keep_the_workload_origin() -> None:
    stack = _every_kind_of_flow()
    api = next(res for res in stack if res.name == "api")
    policies = {
        obj.name: obj.origin for obj in stack.objects() if obj.body["kind"] == "NetworkPolicy"
    }
    assert policies["api-ingress"] == api.origin == policies["api-egress"]
    assert api.origin is not None and api.origin.file.endswith("test_perf_build.py")


# -- Builder.trusted -------------------------------------------------------------------------

_labels = st.dictionaries(
    st.sampled_from(["app", "app.kubernetes.io/name", "tier", "example.com/team"]),
    st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,10}[a-z0-9])?", fullmatch=True),
    max_size=3,
)
_port_names = st.from_regex(r"[a-z]{1,6}(-[a-z0-9]{1,4})?", fullmatch=True)


@settings(max_examples=20, deadline=None)
@given(pods=_labels, namespaces=_labels, port=_port_names, protocol=st.sampled_from(
    ["TCP", "UDP", "SCTP"]))
def test_trusted_builders_equal_validated_ones(
    pods: dict[str, str], namespaces: dict[str, str], port: str, protocol: str
) -> None:
    where = Origin("stack.py", 3)

    def made(cls: Any, **fields: Any) -> tuple[Any, Any]:
        rest = {key: value for key, value in fields.items() if key != "name"}
        slow = cls(fields["name"], **rest) if "name" in fields else cls(**fields)
        slow._origin = where
        fast = cls.trusted(where, **fields)
        assert fast == slow
        assert fast.model_fields_set == slow.model_fields_set
        assert repr(fast) == repr(slow)
        return fast, slow

    selector, _ = made(LabelSelector, match_labels=pods)
    other, _ = made(LabelSelector, match_labels=namespaces)
    peer, _ = made(NetworkPolicyPeer, pod_selector=selector, namespace_selector=other)
    policy_port, _ = made(NetworkPolicyPort, port=port, protocol=protocol)
    ingress, _ = made(IngressRule, from_=[peer], ports=[policy_port])
    egress, _ = made(EgressRule, to=[peer])
    fast, slow = made(NetworkPolicy, name="api-ingress", namespace="shop", pod_selector=selector,
                      policy_types=["Ingress", "Egress"], ingress=[ingress], egress=[egress])
    assert fast.manifests()[0].body == slow.manifests()[0].body


def test_trusted_builders_get_fresh_defaults_and_private_state() -> None:
    one = NetworkPolicy.trusted(None, name="a", policy_types=["Ingress"])
    two = NetworkPolicy.trusted(None, name="b", policy_types=["Ingress"])
    assert one.labels is not two.labels and one.ingress is not two.ingress
    assert one._waivers is not two._waivers and one._opt_outs is not two._opt_outs
    one.waive("KG204", reason="tested")
    assert two._waivers == {}


def test_trusted_refuses_unknown_and_missing_fields() -> None:
    with pytest.raises(TypeError, match="unknown fields"):
        NetworkPolicyPort.trusted(None, port="http", colour="red")
    with pytest.raises(TypeError, match="missing field policy_types"):
        NetworkPolicy.trusted(None, name="a")  # policy_types is required


def test_trusted_builders_still_validate_assignments() -> None:
    policy = NetworkPolicy.trusted(None, name="a", policy_types=["Ingress"])
    with pytest.raises(ValidationError, match="DNS-1123"):
        policy.namespace = "Not_A_Namespace"


@pytest.mark.parametrize(
    "labels", [{"app": "x" * 64}, {"bad key!": "x"}, {"app": "-leading"}]
)
def test_invalid_derived_labels_raise_the_constructors_error(labels: dict[str, str]) -> None:
    messages = []
    for fast in (False, True):  # one line for both, so the origins can be compared too
        with pytest.raises(ValidationError) as caught:
            labels_selector(labels, None) if fast else LabelSelector(match_labels=labels)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith("tests/test_perf_build.py:")


def test_a_long_workload_name_fails_in_derivation_like_the_validating_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``<name>-ingress`` outgrows a label value / object name: same error both ways."""

    def failure() -> str:
        stack = Stack("long", namespace="shop")
        container = Container(
            name="app",
            image=IMAGE,
            ports=[Port(8080, name="http")],
            readiness=HttpProbe("/ready"),
            liveness=HttpProbe("/healthz"),
        )
        first = stack.add(Deployment("a" * 250, container=container))
        second = stack.add(_web("b"))
        second.connect_to(first, port="http")
        with pytest.raises(ValidationError) as caught:
            derive_network(stack)
        return str(caught.value)

    fast = failure()
    assert "label value" in fast
    monkeypatch.setattr(base, "TRUST_DERIVED", False)
    assert failure() == fast


def test_oversized_reason_annotations_fail_like_the_validating_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def failure() -> str:
        stack = Stack("big", namespace="shop")
        api = stack.add(_web("api"))
        api.allow_from(namespace="monitoring", port="http", reason="x" * 300_000)
        with pytest.raises(ValidationError) as caught:
            derive_network(stack)
        return str(caught.value)

    fast = failure()
    assert "256 KiB" in fast
    monkeypatch.setattr(base, "TRUST_DERIVED", False)
    assert failure() == fast


# -- builder state, origins -----------------------------------------------------------------------


def test_state_assignment_is_a_plain_attribute_outside_the_model() -> None:
    stack = Stack("s", namespace="shop")
    api = _web("api")
    api._stack = stack
    assert vars(api)["_stack"] is stack and api.stack is stack
    assert "_stack" not in api.model_dump() and "_stack" not in api.model_fields_set
    assert "_stack" not in type(api).model_fields and type(api).__private_attributes__ == {}


def test_origins_are_shared_per_line_and_dropped_with_the_base_folder(tmp_path: Path) -> None:
    before = origin_module._base_dir

    def here() -> Origin | None:
        return capture()

    try:
        first, second = [here() for _ in range(2)]
        assert first is second and first is not None
        set_base_dir(tmp_path)
        moved = here()
        assert moved is not None and moved.line == first.line and moved.file != first.file
    finally:
        set_base_dir(before)


# -- value caches ----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(text=st.sampled_from([
    IMAGE, "postgres:16", "ghcr.io/acme/api@sha256:" + "a" * 64, "nginx", "nginx:latest",
    "Bad/Image:1", "ghcr.io/acme/api:1@sha256:bad",
]))
def test_image_cache_returns_what_parsing_returns(text: str) -> None:
    image_module._PARSED.clear()
    try:
        expected: ImageRef | str = ImageRef._parse(text)
    except InvalidValue as exc:
        expected = exc.message
    for _ in range(2):
        try:
            got: ImageRef | str = ImageRef.parse(text)
        except InvalidValue as exc:
            got = exc.message
        assert got == expected


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(
    st.sampled_from(["500m", "0.5", "1024Mi", "1Gi", "2000", "1e3", "0.0001", "x", "-1"]),
    st.integers(min_value=-2, max_value=5000),
    st.sampled_from([0.0, -0.0, 0.5, 1.0, 1e-4]),
))
def test_quantity_caches_return_what_parsing_returns(value: str | int | float) -> None:
    def outcome(call: Any) -> Any:
        try:
            return call(value)
        except InvalidValue as exc:
            return exc.message

    expected = (outcome(quantity_module._parse_quantity),
                outcome(quantity_module._normalize_quantity))
    for _ in range(2):
        assert (outcome(parse_quantity), outcome(normalize_quantity)) == expected


def test_quantity_cache_keeps_types_apart() -> None:
    assert normalize_quantity("1") == normalize_quantity(1) == "1"
    assert normalize_quantity(0.0) == "0"
    with pytest.raises(InvalidValue):
        normalize_quantity(-0.0)
    with pytest.raises(InvalidValue):
        normalize_quantity(True)


# -- user private attributes, render memo, label caches --------------------------------------


def test_a_users_builder_keeps_pydantics_private_attributes() -> None:
    class Tagged(base.Builder):
        """A user's own builder with a private attribute of its own."""

        colour: str = "red"
        _count: int = PrivateAttr(default=5)

    tagged = Tagged()
    assert tagged._count == 5 and tagged._origin is not None
    tagged._count = 6
    assert tagged.__pydantic_private__ == {"_count": 6}  # pydantic's, untouched by kubegen
    assert tagged._origin.file.endswith("test_perf_build.py")
    assert Tagged.trusted(None)._count == 5
    with pytest.raises(AttributeError):
        _ = tagged._nope


def test_render_memo_lives_only_during_a_render() -> None:
    stack = Stack("memo", namespace="shop")
    api = stack.add(_web("api"))
    first = api.manifests()[0].body
    assert api._render_memo is None
    api.container.image = "ghcr.io/acme/api:2.0.0"  # type: ignore[union-attr]
    second = api.manifests()[0].body
    assert first["metadata"]["labels"]["app.kubernetes.io/version"] == "1.2.3"
    assert second["metadata"]["labels"]["app.kubernetes.io/version"] == "2.0.0"
    assert second["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2.0.0")


_label_text = st.one_of(
    st.from_regex(r"[A-Za-z0-9][-A-Za-z0-9_.]{0,70}", fullmatch=True),
    st.text(max_size=5),
    st.sampled_from(["", "-x", "x-", "a" * 63, "a" * 64, "example.com/app", "/app", "a/b/c"]),
)


@settings(max_examples=80, deadline=None)
@given(text=_label_text)
def test_label_caches_accept_and_refuse_like_the_checks(text: str) -> None:
    def outcome(check: Any) -> str | None:
        try:
            check(text)
        except InvalidValue as exc:
            return exc.message
        return None

    names._GOOD_LABEL_KEYS.clear()
    names._GOOD_LABEL_VALUES.clear()
    key = outcome(lambda t: names._check_qualified_key(t, "label"))
    value = outcome(names._check_label_value)
    for _ in range(2):
        assert outcome(check_label_key) == key
        assert outcome(check_label_value) == value



@settings(max_examples=80, deadline=None)
@given(text=st.one_of(_label_text, st.from_regex(r"[a-z0-9-]{1,16}", fullmatch=True)))
def test_dns_label_and_port_name_caches_answer_like_the_checks(text: str) -> None:
    from kubegen._values import ports
    from kubegen._values.names import check_dns_label
    from kubegen._values.ports import check_port_name

    for check, seen in ((check_dns_label, names._GOOD_DNS_LABELS),
                        (check_port_name, ports._GOOD_NAMES)):
        seen.clear()
        outcomes = []
        for _ in range(2):  # checked, then (when it passed) answered by the cache
            try:
                outcomes.append(check(text))
            except InvalidValue as exc:
                outcomes.append(exc.message)
        assert outcomes[0] == outcomes[1]
        assert (text in seen) == (outcomes[0] == text)


def test_dns_label_and_port_name_caches_stay_bounded() -> None:
    from kubegen._values import ports
    from kubegen._values.names import check_dns_label
    from kubegen._values.ports import check_port_name

    for i in range(names._GOOD_MAX + 5):
        check_dns_label(f"ns-{i}")
    for i in range(ports._GOOD_MAX + 5):
        check_port_name(f"p-{i}")
    assert 0 < len(names._GOOD_DNS_LABELS) <= names._GOOD_MAX
    assert 0 < len(ports._GOOD_NAMES) <= ports._GOOD_MAX


# -- Deployment.expose() -> Service.exposing -------------------------------------------------


def _expose_both_ways(dep: Deployment, *ports: str, **options: Any) -> list[Any]:
    """The Service expose() builds, and the validating constructor's, from one line each."""
    from kubegen._builders.service import Service

    out: list[Any] = []
    for fast in (True, False):  # one line for both, so the origins can be compared too
        wanted = list(ports) or list(dep.named_ports())
        opts: dict[str, Any] = {"namespace": dep.namespace, **options}
        try:
            made = Service.exposing(dep, dep.name, wanted, opts) if fast else Service(dep.name, target=dep, ports=wanted, **opts)  # noqa: E501
            out.append(made)
        except ValidationError as exc:
            out.append(str(exc))
    return out


@pytest.mark.parametrize("ports", [(), ("http",), ("http", "metrics")])
def test_exposing_builds_what_the_constructor_builds(ports: tuple[str, ...]) -> None:
    stack = Stack("s", namespace="shop")
    dep = stack.add(_web("api"))
    dep.container.ports.append(Port(9090, name="metrics"))  # type: ignore[union-attr]
    fast, slow = _expose_both_ways(dep, *ports)
    assert fast == slow and fast.model_fields_set == slow.model_fields_set
    assert fast.origin == slow.origin and fast.origin.file.endswith("test_perf_build.py")
    stack.add(fast)
    slow.attach(stack)
    assert fast.manifests()[0].body == slow.manifests()[0].body


@pytest.mark.parametrize(
    ("name", "ports", "options"),
    [
        ("api.v1", (), {}),  # a subdomain, not a DNS-1035 label
        ("1api", (), {}),
        ("api", ("nope",), {}),  # not a port of the workload
        ("api", ("Bad_Port",), {}),
        ("api", (), {"type": "NodePort"}),  # external without a reason
        ("api", (), {"type": "NodePort", "allow_external": "the load balancer"}),
    ],
)
def test_exposing_fails_and_falls_back_like_the_constructor(
    name: str, ports: tuple[str, ...], options: dict[str, Any]
) -> None:
    stack = Stack("s", namespace="shop")
    container = Container(
        name="app",
        image=IMAGE,
        ports=[Port(8080, name="http")],
        readiness=HttpProbe("/ready"),
        liveness=HttpProbe("/healthz"),
    )
    dep = stack.add(Deployment(name, container=container))
    fast, slow = _expose_both_ways(dep, *ports, **options)
    assert fast == slow
    assert isinstance(fast, str) == ("allow_external" not in options)


@pytest.mark.parametrize(
    ("ports", "options"),
    [
        ((), {}),
        (("http",), {}),
        (("metrics", "http"), {}),
        (("nope",), {}),  # not a port of the target
        (("http", "Bad_Port"), {}),  # refused by ServicePort's own check
        (("http",), {"type": "NodePort", "allow_external": "the load balancer"}),
    ],
)
def test_port_names_render_as_their_service_ports(
    ports: tuple[str, ...], options: dict[str, Any]
) -> None:
    """A port name renders (or fails) as ``ServicePort(name)`` does, with or without a target:
    named ports are rendered without building one."""
    from kubegen import Service, ServicePort

    def rendered(entries: list[Any], **fields: Any) -> Any:
        try:
            return Service("api", ports=entries, **fields).service_ports()
        except (ValidationError, InvalidValue) as exc:
            return type(exc).__name__, str(exc).split("\n")[0].split(": ", 1)[-1]

    def as_port(name: str) -> Any:
        try:
            return ServicePort(name)
        except ValidationError:
            return name  # the Service refuses it as it would refuse the ServicePort

    stack = Stack("s", namespace="shop")
    dep = stack.add(_web("api"))
    dep.container.ports.append(Port(9090, name="metrics"))  # type: ignore[union-attr]
    names = list(ports)
    for fields in ({"target": dep, **options}, {"selector": {"app": "api"}, **options}):
        by_name = rendered(names, **fields)
        assert by_name == rendered([as_port(n) for n in names], **fields)
    if names == ["http"]:
        assert rendered(names, target=dep, **options) == [
            {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}
        ]
    assert rendered([ServicePort("web", port=80, name="www")], selector={"a": "b"}) == [
        {"name": "www", "port": 80, "targetPort": "web", "protocol": "TCP"}
    ]


def test_expose_of_a_workload_without_ports_fails_like_before() -> None:
    stack = Stack("s", namespace="shop")
    dep = stack.add(Deployment("worker", image=IMAGE))
    fast, slow = _expose_both_ways(dep)
    assert isinstance(fast, str) and fast == slow and "needs at least one port" in fast


# -- the shorthand container's one skipped recheck ------------------------------------------


def test_shorthand_container_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubegen._builders.workloads import container as container_module

    calls: list[str] = []
    original = container_module.Container._check_ports
    monkeypatch.setattr(
        container_module.Container, "_check_ports",
        lambda self: (calls.append(self.image), original(self))[1],
    )
    dep = _web("api")
    assert calls == [IMAGE]
    assert dep.container is not None and dep.container._just_validated is False
    Deployment("again", container=dep.container)  # a container passed in is rechecked
    assert calls == [IMAGE, IMAGE]


def test_a_container_changed_in_place_is_still_rechecked_when_passed() -> None:
    container = Container(name="app", image=IMAGE, ports=[Port(8080, name="http")],
                          readiness=HttpProbe("/ready"), liveness=HttpProbe("/healthz"))
    container.ports.append(Port(8080, name="web"))  # in place: no assignment validation
    with pytest.raises(ValidationError, match="declared twice"):
        Deployment("api", container=container)


def test_host_path_volumes_skip_only_containers_without_a_host_path() -> None:
    """Planning only the containers that mount a HostPath finds what planning every one finds."""
    from kubegen import ConfigFiles, ConfigMap, EmptyDir, HostPath, Mount
    from kubegen._builders.workloads.container import Container as ContainerModel
    from kubegen._builders.workloads.container import PlannedMount
    from kubegen._builders.workloads.host_paths import HostPathVolume, host_path_volumes

    def every_mount(pairs: list[tuple[str, Container]]) -> dict[str, HostPathVolume]:
        found: dict[str, HostPathVolume] = {}
        for name, container in pairs:
            for mount in container.planned_mounts(name):
                if isinstance(mount.source, HostPath):
                    volume = found.setdefault(
                        mount.source.volume_name(), HostPathVolume(mount.source)
                    )
                    volume.mounts.append((name, mount))
        return found

    logs = HostPath("/var/log", reason="ships the node's logs")
    sock = HostPath("/run/x.sock", reason="talks to the runtime", allow_write="it writes")

    class Planned(ContainerModel):  # a subclass planning its own mounts is always planned
        def planned_mounts(self, name: str) -> Any:
            return [*super().planned_mounts(name), PlannedMount("/node", logs, None, True)]

    pairs: list[tuple[str, Container]] = [
        ("plain", Container(image=IMAGE, writable=["/tmp"])),
        ("config", Container(image=IMAGE, mounts={"/c": ConfigFiles(ConfigMap("c", data={}))})),
        ("logs", Container(image=IMAGE, mounts={"/logs": logs, "/scratch": EmptyDir()})),
        ("sock", Container(image=IMAGE, mounts={"/s": Mount(sock, read_only=False)})),
        ("both", Container(image=IMAGE, mounts={"/l": Mount(logs), "/s": sock})),
        ("own", Planned(image=IMAGE)),
    ]
    found = host_path_volumes(pairs)
    assert found == every_mount(pairs)
    assert [(name, len(volume.mounts)) for name, volume in found.items()] == [
        ("host-var-log", 3), ("host-run-x-sock", 2)
    ]


def test_connections_share_policy_ports_only_of_one_name_and_protocol() -> None:
    """A derivation builds one policy port per (name, protocol): two targets naming a port
    ``dns`` over UDP and over TCP keep their own protocols."""
    stack = Stack("s", namespace="shop")
    client = stack.add(_web("client"))

    def server(name: str, protocol: str) -> Deployment:
        return stack.add(Deployment(name, container=Container(
            name="app", image=IMAGE, ports=[Port(53, name="dns", protocol=protocol)],
            readiness=HttpProbe("/ready", port="dns") if protocol == "TCP" else None,
            liveness=HttpProbe("/healthz", port="dns") if protocol == "TCP" else None,
            allow_no_probes=None if protocol == "TCP" else "a UDP resolver",
        )))

    for name, protocol in (("udp-dns", "UDP"), ("tcp-dns", "TCP"), ("udp-two", "UDP")):
        client.connect_to(server(name, protocol), port="dns")
    egress = next(obj.body for obj in derive_network(stack)
                  if obj.body["metadata"]["name"] == "client-egress")
    protocols = sorted(
        (peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"], port["protocol"])
        for rule in egress["spec"]["egress"] for peer in rule["to"] for port in rule["ports"]
        if "podSelector" in peer and "namespaceSelector" not in peer
    )
    assert protocols == [("tcp-dns", "TCP"), ("udp-dns", "UDP"), ("udp-two", "UDP")]


# -- Stack.add's namespace assignment skips only the checks that do not read it ---------------


def test_adopting_the_namespace_skips_only_the_workload_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kubegen._builders.workloads.pod import PodWorkload

    calls: list[str] = []
    original = PodWorkload._pod_containers
    monkeypatch.setattr(PodWorkload, "_pod_containers",
                        lambda self: (calls.append(self.name), original(self))[1])
    dep = _web("api")
    assert calls == ["api"]
    Stack("shop", namespace="shop").add(dep)
    assert dep.namespace == "shop" and calls == ["api"]  # validated, the pod checks skipped
    assert dep._assigning_namespace is False
    dep.replicas = 3  # any other assignment reruns them
    assert calls == ["api", "api"]
    with pytest.raises(ValidationError, match="max_disruptions=0"):
        dep.max_disruptions = 0
    with pytest.raises(ValidationError) as caught:
        dep.namespace = "Not_A_Label"  # the value itself is still validated
    assert caught.value.field == "namespace" and dep.namespace == "shop"
    assert dep._assigning_namespace is False


def test_adopting_the_namespace_still_runs_checks_that_read_it() -> None:
    from kubegen import Group, Role, RoleBinding, Rule

    role = Role("reader", namespace="other", rules=[Rule.read("configmaps")])
    binding = RoleBinding("read", role=role, subjects=[Group("g")])
    with pytest.raises(ValidationError, match="namespace"):
        Stack("shop", namespace="shop").add(binding)


def test_stack_objects_compute_a_workloads_containers_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kubegen._builders.workloads.pod import PodWorkload

    stack = Stack("memo", namespace="shop")
    api, web = stack.add(_web("api")), stack.add(_web("web"))
    api.expose()
    web.connect_to(api, port="http")
    before = [obj.body for obj in stack.objects()]
    calls: list[str] = []
    original = PodWorkload._pod_containers
    monkeypatch.setattr(PodWorkload, "_pod_containers",
                        lambda self: (calls.append(self.name), original(self))[1])
    assert [obj.body for obj in stack.objects()] == before
    assert sorted(calls) == ["api", "web"]  # its Service, policies and pods share one
    assert api._render_memo is None and web._render_memo is None
    api.container.image = "ghcr.io/acme/api:2.0.0"  # type: ignore[union-attr]
    deployment = next(obj for obj in stack.objects() if obj.display == "Deployment shop/api")
    assert deployment.body["spec"]["template"]["spec"]["containers"][0]["image"].endswith(
        ":2.0.0")  # the next build sees the change
