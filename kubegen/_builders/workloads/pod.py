"""The hardened pod template every workload renders, and the objects each workload owns.

Defaults (Pod Security ``restricted`` plus *Kubernetes in Action*'s advice), each with its way out:

* ``securityContext``: ``runAsNonRoot: true``, ``runAsUser``/``runAsGroup``/``fsGroup`` from the
  workload or ``StackDefaults`` (10001), ``seccompProfile: RuntimeDefault``. A uid/gid of 0 or
  ``runAsNonRoot: false`` needs ``allow_run_as_root``; a Localhost profile is
  ``seccomp_profile=…``; Unconfined needs ``allow_unconfined_seccomp``.
* no host namespaces and no hostPath: ``allow_host_network`` / ``allow_host_pid`` /
  ``allow_host_ipc`` turn them on, each with its reason; each :class:`~kubegen.HostPath`
  carries its own reason (and ``allow_write`` to be writable).
* its own ServiceAccount, and ``automountServiceAccountToken: false``: the pod mounts a token
  only when the workload was granted API access (``grant``), as a projected, expiring volume
  (see ``tokens``), plus one token per audience asked for.
* ``enableServiceLinks: false`` (no Docker-link env vars that leak other Services).
* init containers and sidecars hardened exactly like main containers.
* a checksum annotation per kubegen ConfigMap/Secret the pod reads, so config changes roll pods.

The single-container shorthand: every :class:`~kubegen.Container` field (plus ``port=``) may be
given to the workload itself, e.g. ``Deployment("api", image=..., port=8080, readiness=...)``.
"""

from __future__ import annotations

import contextlib
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import Field, field_validator, model_validator

from kubegen._builders.base import Resource, assigning_namespace, empty_list, error_from
from kubegen._builders.state import state
from kubegen._builders.workloads import derived, podspec, tokens
from kubegen._builders.workloads.base import INSTANCE_LABEL, NAME_LABEL, Workload, WorkloadArgs
from kubegen._builders.workloads.container import (
    Container,
    ContainerContext,
    ContainerOptions,
    PlannedMount,
    Port,
)
from kubegen._builders.workloads.defaults import StackDefaults
from kubegen._builders.workloads.dns import DNSConfig, DNSPolicy
from kubegen._builders.workloads.host_paths import (
    check_host_paths,
    host_path_opt_outs,
    host_path_volumes,
)
from kubegen._builders.workloads.scheduling import NodeAffinity, PodAffinity, Toleration
from kubegen._errors import KubegenError, ValidationError
from kubegen._manifests import ManifestObject
from kubegen._origin import capture
from kubegen._values import (
    AnnotationMap,
    DNSSubdomain,
    Duration,
    DurationLike,
    InvalidValue,
    LabelMap,
    Reason,
    check_dns_label,
    check_label_value,
)

VERSION_LABEL = "app.kubernetes.io/version"
COMPONENT_LABEL = "app.kubernetes.io/component"
# A container's fields a workload takes for its one container; the ids are the pod's own.
SHORTHAND_FIELDS = frozenset(Container.model_fields) - {"name", "run_as_user", "run_as_group"} | {
    "port"}

Role = Literal["init", "sidecar", "main"]
_T = TypeVar("_T")


class ShorthandArgs(ContainerOptions, total=False):
    """The single-container shorthand: a Container's keywords (but ``name``) plus ``port``."""

    image: str
    port: Port | int


class PodWorkloadArgs(WorkloadArgs, ShorthandArgs, total=False):
    container: Container | None
    containers: Sequence[Container]
    init_containers: Sequence[Container]
    sidecars: Sequence[Container]
    run_as_user: int | None
    run_as_group: int | None
    fs_group: int | None
    seccomp_profile: str | None
    service_links: bool
    node_selector: Mapping[str, str]
    tolerations: Sequence[Toleration | Mapping[str, Any]]
    node_affinity: NodeAffinity | None
    near: Sequence[PodAffinity | Workload | Mapping[str, str] | Literal["self"]]
    avoid: Sequence[PodAffinity | Workload | Mapping[str, str] | Literal["self"]]
    priority_class: str | None
    termination_grace: DurationLike | None
    image_pull_secrets: list[str] | tuple[str, ...]
    supplemental_groups: Sequence[int]
    fs_group_change_policy: Literal["OnRootMismatch", "Always"] | None
    sysctls: Mapping[str, str | int]
    dns_policy: DNSPolicy | None
    dns_config: DNSConfig | None
    component: str | None
    pod_labels: Mapping[str, str]
    pod_annotations: Mapping[str, str]
    allow_run_as_root: str | None
    allow_host_network: str | None
    allow_host_pid: str | None
    allow_host_ipc: str | None
    allow_unconfined_seccomp: str | None
    allow_token_automount: str | None


class PodWorkload(Workload):
    """Pod-level settings shared by Deployment, StatefulSet, DaemonSet, Job and CronJob.

    Args:
        container: the one main container (or give its fields directly: the shorthand).
        containers: several main containers; the first may stay unnamed (it takes the
            workload's name), the others need names.
        init_containers: run to completion, in order, before the main containers.
        sidecars: native sidecars (init containers with ``restartPolicy: Always``, Kubernetes
            1.29+): started before and stopped after the main containers.
        run_as_user / run_as_group / fs_group: pod ids; default to ``StackDefaults`` (10001).
            0 needs ``allow_run_as_root``.
        seccomp_profile: a Localhost seccomp profile path instead of ``RuntimeDefault``.
        service_links: inject Service env vars (``enableServiceLinks``); defaults to False.
        node_selector: node labels the pod requires (``nodeSelector``); defaults to none.
        tolerations: :class:`~kubegen.Toleration` s (or mappings as Kubernetes writes them) of
            taints the pods may run on; defaults to none.
        node_affinity: required/preferred node terms (:class:`~kubegen.NodeAffinity`).
        near / avoid: pod affinity / anti-affinity (:class:`~kubegen.PodAffinity`); shorthand:
            a workload of the stack, ``"self"`` or pod labels (preferred, same node).
            ``avoid=["self"]`` spreads the replicas over nodes.
        priority_class: ``priorityClassName``; unset by default (the cluster's default class).
        termination_grace: ``terminationGracePeriodSeconds``; the Kubernetes default (30s) if unset.
        image_pull_secrets: names of Secrets to pull the images with (``imagePullSecrets``);
            defaults to none (a ServiceAccount's own are added by Kubernetes).
        supplemental_groups: extra group ids of every container's process; 0 needs
            ``allow_run_as_root``. Defaults to none.
        fs_group_change_policy: ``OnRootMismatch`` (skip the recursive chown of large volumes
            whose root already fits) or ``Always``; unset: Kubernetes' default (Always).
        sysctls: namespaced kernel settings of the pod (``securityContext.sysctls``), e.g.
            ``{"net.ipv4.ip_unprivileged_port_start": 0}`` so a non-root server binds port 80
            without capabilities. Only the safe set passes Pod Security (and the kubelet);
            the lint and the namespace's admission check name any other. Defaults to none.
            See https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/.
        dns_policy: ``ClusterFirst``, ``ClusterFirstWithHostNet``, ``Default`` or ``None``;
            unset: Kubernetes' ClusterFirst, or ClusterFirstWithHostNet for hostNetwork pods.
        dns_config: resolver settings (:class:`~kubegen.DNSConfig`); unset by default.
        component: the ``app.kubernetes.io/component`` label (``api``, ``database``…).
        pod_labels / pod_annotations: extra labels/annotations on the pod template only.
        allow_run_as_root, allow_host_network, allow_host_pid, allow_host_ipc,
        allow_unconfined_seccomp: reasons for weakening those defaults.
        allow_token_automount: reason to let Kubernetes automount the ServiceAccount's token
            into every container (``automountServiceAccountToken: true``), as operators and
            controllers that call the API server do upstream; a workload granted API access
            (``grant``) mounts projected tokens instead and needs none. Waives KG302.
    """

    container: Container | None = None
    containers: list[Container] = Field(default_factory=empty_list)
    init_containers: list[Container] = Field(default_factory=empty_list)
    sidecars: list[Container] = Field(default_factory=empty_list)
    run_as_user: int | None = Field(default=None, ge=0)
    run_as_group: int | None = Field(default=None, ge=0)
    fs_group: int | None = Field(default=None, ge=0)
    seccomp_profile: str | None = None
    service_links: bool = False
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: tuple[Toleration, ...] = ()
    node_affinity: NodeAffinity | None = None
    near: tuple[PodAffinity, ...] = ()
    avoid: tuple[PodAffinity, ...] = ()
    priority_class: DNSSubdomain | None = None
    termination_grace: Duration | None = None
    image_pull_secrets: tuple[DNSSubdomain, ...] = ()
    supplemental_groups: tuple[Annotated[int, Field(ge=0)], ...] = ()
    fs_group_change_policy: Literal["OnRootMismatch", "Always"] | None = None
    sysctls: dict[str, str | int] = Field(default_factory=dict)
    dns_policy: DNSPolicy | None = None
    dns_config: DNSConfig | None = None
    component: str | None = None
    pod_labels: LabelMap = Field(default_factory=dict)
    pod_annotations: AnnotationMap = Field(default_factory=dict)
    allow_run_as_root: Reason | None = None
    allow_host_network: Reason | None = None
    allow_host_pid: Reason | None = None
    allow_host_ipc: Reason | None = None
    allow_unconfined_seccomp: Reason | None = None
    allow_token_automount: Reason | None = None

    _derived_opt_outs: set[str] = state(factory=set)
    # While manifests() runs: values every part of the render asks for again (pod_containers,
    # recommended_labels), computed once. Nothing changes the workload during a render.
    _render_memo: dict[str, Any] | None = state(None)

    # Deployments, StatefulSets and DaemonSets run until stopped: the probe rule applies.
    long_running: ClassVar[bool] = True

    def __init__(self, name: str, /, **data: Any) -> None:
        if "allow_host_path" in data:
            raise ValidationError(
                "allow_host_path= is gone: one reason covered every hostPath mount, including "
                "ones added later",
                resource=f"{type(self).__name__} {name}",
                origin=capture(),
                field="allow_host_path",
                fix="give each HostPath its own reason: HostPath('/var/log', reason='why'), plus "
                "allow_write='why' for one a container writes to",
            )
        shorthand = {key: data.pop(key) for key in list(data) if key in SHORTHAND_FIELDS}
        if shorthand:
            try:
                data["container"] = self._shorthand_container(name, shorthand, data)
            except ValidationError as exc:
                raise self._with_workload_problems(exc, name, data) from None
        Resource.__init__(self, name, **data)

    def _with_workload_problems(
        self, exc: ValidationError, name: str, data: dict[str, Any]
    ) -> ValidationError:
        """The shorthand container's problems and the workload's own, in one error.

        The container is validated first; without this, a wrong workload field in the same
        call would only show up once the container is fixed.
        """
        try:
            Resource.__init__(self, name, **data)
        except ValidationError as other:
            found = [p for p in (other.problems or [other])
                     if p.field is not None and p.field not in ("container", "containers")]
        else:
            found = []
        if not found:
            return exc
        problems = sorted([*(exc.problems or [exc]), *found],
                          key=lambda p: p.origin.line if p.origin is not None else 0)
        first = problems[0]
        merged = ValidationError(first.message, fix=first.fix, origin=capture(),
                                 resource=exc.resource, field=first.field, value=first.value)
        merged.problems = problems
        return merged

    @classmethod
    def _extra_keywords(cls) -> frozenset[str]:
        """Keywords besides the fields: the single-container shorthand's (for error hints)."""
        return SHORTHAND_FIELDS

    @classmethod
    def _shorthand_container(
        cls, name: str, fields: dict[str, Any], data: dict[str, Any]
    ) -> Container:
        resource = f"{cls.__name__} {name}"
        if data.get("container") is not None or data.get("containers"):
            raise ValidationError(
                f"{', '.join(sorted(fields))} describe a container, but container/containers "
                "is given too",
                resource=resource,
                origin=capture(),
                fix="put those fields into the Container(...) or drop container=",
            )
        if "port" in fields:
            fields["ports"] = [fields.pop("port"), *fields.get("ports", [])]
        try:
            container = Container(**fields)
        except ValidationError as exc:
            for error in (exc, *exc.problems):
                error.resource = resource
            raise
        container._just_validated = True  # see Container._check
        return container

    @field_validator("tolerations", mode="before")
    @classmethod
    def _tolerations(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return _each(value, lambda t: Toleration.of(t) if isinstance(t, Mapping) else t)
        return value

    @field_validator("near", "avoid", mode="before")
    @classmethod
    def _affinity_shorthand(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return _each(value, PodAffinity.of)
        return value

    @field_validator("sysctls", mode="before")
    @classmethod
    def _sysctls(cls, value: Any) -> Any:
        return podspec.check_sysctls(value) if isinstance(value, Mapping) else value

    @field_validator("component")
    @classmethod
    def _component_label(cls, component: str | None) -> str | None:
        return None if component is None else check_label_value(component)

    @model_validator(mode="after")
    def _check_pod(self) -> PodWorkload:
        if assigning_namespace(self):  # nothing below reads it
            return self
        if (self.container is None) == (not self.containers):
            raise InvalidValue(
                "a workload needs exactly one of container= or containers= (or image=…)",
                fix="pass image='registry/app:1.2.3' or container=Container(...)",
            )
        containers = self.pod_containers()
        names = [name for _, name, _ in containers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InvalidValue(
                f"container name(s) {', '.join(duplicates)} used more than once",
                fix="give every container, init container and sidecar its own name",
            )
        if type(self).named_ports is PodWorkload.named_ports:
            self._ports_of(containers)  # what named_ports() checks, without listing them again
        else:
            self.named_ports()
        self._check_ids()
        self._check_host_paths(containers)
        podspec.check(self, containers)
        if self.seccomp_profile is not None and self.allow_unconfined_seccomp is not None:
            raise InvalidValue(
                "seccomp_profile and allow_unconfined_seccomp contradict each other",
                fix="set one of them",
            )
        return self

    def _check_ids(self) -> None:
        for field in ("run_as_user", "run_as_group", "fs_group"):
            if getattr(self, field) == 0 and self.allow_run_as_root is None:
                raise InvalidValue(
                    f"{field}=0 runs as root, which Pod Security 'restricted' forbids",
                    fix=f"use an id ≥ 10000, or pass allow_run_as_root='why' with {field}=0",
                    field=field,
                    value=0,
                )

    def _check_host_paths(self, containers: list[tuple[Role, str, Container]]) -> None:
        check_host_paths(host_path_volumes((name, c) for _, name, c in containers))

    def manifests(self) -> list[ManifestObject]:
        """The workload's objects; render-time value errors become located ValidationErrors."""
        if self._render_memo is not None:  # inside Stack.objects(): see stack_render
            return self._checked_manifests()
        self._render_memo = {}
        try:
            return self._checked_manifests()
        finally:
            self._render_memo = None

    def _checked_manifests(self) -> list[ManifestObject]:
        try:
            return self.build_manifests()
        except InvalidValue as exc:
            raise error_from(exc) from None

    @abstractmethod
    def build_manifests(self) -> list[ManifestObject]:
        """The workload, then the objects it owns (ServiceAccount, PDB, headless Service)."""

    # -- containers ---------------------------------------------------------------------------

    def main_containers(self) -> list[Container]:
        return [self.container] if self.container is not None else list(self.containers)

    def _once(self, key: str, compute: Callable[[], _T]) -> _T:
        """``compute()``, remembered for the rest of the current render (``_render_memo``)."""
        memo = self._render_memo
        if memo is None:
            return compute()
        if key not in memo:
            memo[key] = compute()
        return memo[key]  # type: ignore[no-any-return]

    def pod_containers(self) -> list[tuple[Role, str, Container]]:
        """(role, resolved name, container) for init containers, sidecars, main containers."""
        return list(self._containers())

    def _containers(self) -> list[tuple[Role, str, Container]]:
        """:meth:`pod_containers` for kubegen's own loops, which never change the list: the
        render memo's own list when one is open (a copy per call added up, a workload's render
        asks for it about ten times)."""
        memo = self._render_memo
        if memo is None:
            return self._pod_containers()
        found: list[tuple[Role, str, Container]] | None = memo.get("pod_containers")
        if found is None:
            found = memo["pod_containers"] = self._pod_containers()
        return found

    def _pod_containers(self) -> list[tuple[Role, str, Container]]:
        only = self.container  # the usual one-container pod, unless main_containers differs
        if (
            only is not None
            and not self.init_containers
            and not self.sidecars
            and type(self).main_containers is PodWorkload.main_containers
        ):
            return [("main", self._container_name("main", "containers", 0, only), only)]
        out: list[tuple[Role, str, Container]] = []
        groups: list[tuple[Role, str, list[Container]]] = [
            ("init", "init_containers", self.init_containers),
            ("sidecar", "sidecars", self.sidecars),
            ("main", "containers", self.main_containers()),
        ]
        for role, field, group in groups:
            for index, container in enumerate(group):
                out.append((role, self._container_name(role, field, index, container), container))
        return out

    def _planned_mounts(self, container: Container, name: str) -> list[PlannedMount]:
        """``container.planned_mounts(name)``, once per render."""
        key = f"mounts:{id(container)}:{name}"
        return list(self._once(key, lambda: container.planned_mounts(name)))

    def _container_name(self, role: Role, field: str, index: int, container: Container) -> str:
        if container.name is not None:
            return container.name
        if role == "main" and index == 0:
            try:
                return check_dns_label(self.name)
            except InvalidValue:
                pass
        raise InvalidValue(
            f"{field}[{index}] needs a name (only the first main container defaults to the "
            "workload's name, when that is a DNS-1123 label)",
            fix="pass Container(name='sidecar', ...)",
        )

    def named_ports(self) -> dict[str, tuple[int, str]]:
        """Port name → (container port, protocol) over main containers and sidecars."""
        memo = self._render_memo
        if memo is None:
            return self._ports_of(self._containers())
        found: dict[str, tuple[int, str]] | None = memo.get("named_ports")
        if found is None:
            found = memo["named_ports"] = self._ports_of(self._containers())
        return dict(found)

    @staticmethod
    def _ports_of(containers: list[tuple[Role, str, Container]]) -> dict[str, tuple[int, str]]:
        ports: dict[str, tuple[int, str]] = {}
        numbers: dict[tuple[int, str], str] = {}
        for role, _, container in containers:
            if role == "init":
                continue
            for port in container.ports:
                key = (port.number, port.protocol)
                named = not port.unnamed
                if (named and port.port_name in ports) or key in numbers:
                    raise InvalidValue(
                        f"port {port.reference}={port.number}/{port.protocol} is declared by two "
                        "containers of the pod (they share one network namespace)",
                        fix="give each container its own port names and numbers",
                    )
                numbers[key] = port.port_name
                if named:  # an unnamed port is no named port (Services, policies)
                    ports[port.port_name] = key
        return ports

    # -- rendering ----------------------------------------------------------------------------

    @property
    def defaults(self) -> StackDefaults:
        """The Stack's defaults, or the built-in ones when not in a Stack."""
        found = getattr(self._stack, "defaults", None)
        return found if isinstance(found, StackDefaults) else _BUILTIN_DEFAULTS

    def recommended_labels(self) -> dict[str, str]:
        """Selector labels plus ``app.kubernetes.io/version`` (image tag, unless the selector
        is the workload's own ``selector=``) and ``component``."""
        memo = self._render_memo
        if memo is None:
            return self._recommended_labels()
        found: dict[str, str] | None = memo.get("recommended_labels")
        if found is None:
            found = memo["recommended_labels"] = self._recommended_labels()
        return dict(found)

    def object_labels(self) -> dict[str, str]:
        """Labels of the workload object itself: :meth:`recommended_labels`, but only
        ``component`` with a ``selector=`` of the workload's own (its labels go on the pods,
        which they select; the object is labelled by ``labels=``, as upstream YAML is)."""
        if self.selector is None:
            return self.recommended_labels()
        return {COMPONENT_LABEL: self.component} if self.component is not None else {}

    def _recommended_labels(self) -> dict[str, str]:
        labels = dict(self.selector_labels())
        tag = self.main_containers()[0].image_ref.tag
        if tag is not None and self.selector is None:  # a kept selector keeps its labelling
            with contextlib.suppress(InvalidValue):
                labels[VERSION_LABEL] = check_label_value(tag)
        if self.component is not None:
            labels[COMPONENT_LABEL] = self.component
        return labels

    def prepare(self) -> StackDefaults:
        """Apply stack-level checks and record opt-outs before metadata is rendered.

        Opt-outs derived from fields are recomputed on every render, so a field changed after
        a render never leaves a stale annotation behind.
        """
        defaults = self.defaults
        self._check_probe_rule(defaults)
        derived = list(self._pod_opt_outs())
        for _, name, container in self._containers():
            derived.extend(container.opt_outs(name, defaults))
        if defaults.allow_no_probes and self._unprobed(defaults):
            derived.append(("no-probes", defaults.allow_no_probes))
        token_reason = tokens.token_opt_out(self.api_access)
        if token_reason is not None:
            derived.append(("service-account-token", token_reason))
        for what in self._derived_opt_outs:
            self._opt_outs.pop(what, None)
        for what, reason in derived:
            self.opt_out(what, reason)
        self._derived_opt_outs = {what for what, _ in derived}
        return defaults

    def _pod_opt_outs(self) -> list[tuple[str, str]]:
        pairs = [
            ("run-as-root", self.allow_run_as_root),
            ("host-network", self.allow_host_network),
            ("host-pid", self.allow_host_pid),
            ("host-ipc", self.allow_host_ipc),
            ("unconfined-seccomp", self.allow_unconfined_seccomp),
            ("token-automount", self.allow_token_automount),
            ("default-service-account", self.allow_default_service_account),
        ]
        found = [(what, reason) for what, reason in pairs if reason]
        volumes = host_path_volumes((name, c) for _, name, c in self._containers())
        return found + host_path_opt_outs(volumes)

    def _unprobed(self, defaults: StackDefaults) -> list[str]:
        if not self.long_running:
            return []
        return [
            name
            for role, name, c in self._containers()
            if role != "init"
            and (c.serving() or defaults.probes == "all")
            and not (c.readiness and c.liveness)
            and c.allow_no_probes is None
        ]

    def _check_probe_rule(self, defaults: StackDefaults) -> None:
        missing = self._unprobed(defaults)
        if not missing or defaults.allow_no_probes is not None:
            return
        serving = {name for _, name, c in self._containers() if c.serving()}
        if all(name in serving for name in missing):
            raise ValidationError(
                f"container(s) {', '.join(missing)} serve traffic but lack a readiness and/or "
                "liveness probe, so broken pods would get traffic and hung ones never restart",
                field="readiness/liveness",
                fix="pass readiness=HttpProbe('/ready') and liveness=HttpProbe('/healthz') (or "
                "TcpProbe/ExecProbe/GrpcProbe), or allow_no_probes='why'",
            )
        raise ValidationError(
            f"container(s) {', '.join(missing)} lack a readiness and/or liveness probe, which "
            "StackDefaults(probes='all') requires of every container (not only those with "
            "ports), so a hung process would never be restarted",
            field="readiness/liveness",
            fix="pass readiness= and liveness= probes, e.g. ExecProbe(['/bin/healthcheck']) "
            "for a container without ports (HttpProbe/TcpProbe/GrpcProbe need a declared "
            "port), or allow_no_probes='why'",
        )

    def pod_template(
        self, defaults: StackDefaults, *, spread: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """``spec.template``: labels, checksum annotations and the hardened pod spec."""
        labels = dict(self._stack.labels) if self._stack is not None else {}
        labels.update(self.recommended_labels())
        labels.update(self.pod_labels)
        annotations = dict(self.pod_annotations)
        annotations.update(derived.config_checksums(self.used_objects()))
        meta: dict[str, Any] = {"labels": dict(sorted(labels.items()))}
        if annotations:
            meta["annotations"] = dict(sorted(annotations.items()))
        return {"metadata": meta, "spec": self.pod_spec(defaults, spread=spread)}

    def pod_spec(self, defaults: StackDefaults, *, spread: list[dict[str, Any]]) -> dict[str, Any]:
        # Tokens are never automounted: a granted workload gets projected, expiring ones.
        automount = self.allow_token_automount is not None
        if automount and self.api_access is not None:
            raise InvalidValue(
                "allow_token_automount is set, but the workload was granted API access and "
                "mounts a projected token already",
                fix="drop allow_token_automount", field="allow_token_automount",
            )
        spec: dict[str, Any] = {"serviceAccountName": self.service_account_name,
                                "automountServiceAccountToken": automount}
        spec["enableServiceLinks"] = self.service_links
        podspec.identity(self, spec)
        for key, reason in (("hostNetwork", self.allow_host_network),
                            ("hostPID", self.allow_host_pid), ("hostIPC", self.allow_host_ipc)):
            if reason:
                spec[key] = True
        podspec.dns(self, spec)
        spec["securityContext"] = self.pod_security_context(defaults)
        podspec.scheduling(self, spec, spread)
        if self.pod_restart_policy() is not None:
            spec["restartPolicy"] = self.pod_restart_policy()
        token_volumes = tokens.token_volumes(self.api_access)
        token_mounts = tuple(mount for mount, _ in token_volumes)
        init, main, mounts = self._render_containers(defaults, token_mounts)
        if init:
            spec["initContainers"] = init
        spec["containers"] = main
        volumes = self._volumes(mounts, fs_group="fsGroup" in spec["securityContext"])
        volumes.extend(volume for _, volume in token_volumes)
        if volumes:
            spec["volumes"] = volumes
        return spec

    def pod_security_context(self, defaults: StackDefaults) -> dict[str, Any]:
        """Pod-level securityContext: non-root, ids, seccomp, supplemental groups."""
        return podspec.security_context(self, defaults)

    def _render_containers(
        self, defaults: StackDefaults, token_mounts: tuple[dict[str, Any], ...]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[PlannedMount]]:
        init: list[dict[str, Any]] = []
        main: list[dict[str, Any]] = []
        mounts: list[PlannedMount] = []
        non_root = self.allow_run_as_root is None
        for role, name, container in self._containers():
            planned = self._planned_mounts(container, name)
            ctx = ContainerContext(
                name=name,
                defaults=defaults,
                run_as_non_root=non_root,
                extra_mounts=self._extra_mounts(role, name, token_mounts),
                restart_always=role == "sidecar",
                mounts=planned,
            )
            (main if role == "main" else init).append(container.render(ctx))
            mounts.extend(planned)
        return init, main, mounts

    def pod_restart_policy(self) -> str | None:
        """``restartPolicy`` of the pod; unset (Always) for long-running workloads."""
        return None

    def _extra_mounts(
        self, role: Role, name: str, token_mounts: tuple[dict[str, Any], ...]
    ) -> tuple[dict[str, Any], ...]:
        """Mounts the pod adds to a container: the projected tokens for non-init ones."""
        return token_mounts if role != "init" else ()

    def _volumes(self, mounts: list[PlannedMount], *, fs_group: bool) -> list[dict[str, Any]]:
        volumes: dict[str, dict[str, Any]] = {}
        for mount in mounts:
            volume = mount.source.volume(fs_group=fs_group)
            if volume is None or self._provided_volume(mount):
                continue
            seen = volumes.setdefault(volume["name"], volume)
            if seen != volume:
                raise ValidationError(
                    f"two different volumes would both be named {volume['name']!r}",
                    field="mounts",
                    fix="give one of the sources another name=",
                )
        return list(volumes.values())

    def _provided_volume(self, mount: PlannedMount) -> bool:
        """True when the controller provides the volume (a StatefulSet's claim templates)."""
        return False

    def used_objects(self) -> list[Resource]:
        """The kubegen ConfigMaps and Secrets (of any kind) this pod reads, as builder objects,
        and the ServiceAccount object it runs as.

        The Stack renders each of them: a pod mounting a ConfigMap nobody renders would never
        start.
        """
        found: list[Resource] = []
        if isinstance(self.service_account, Resource):
            found.append(self.service_account)
        for _, name, container in self._containers():
            for mount in self._planned_mounts(container, name):
                source = getattr(mount.source, "config", None) or getattr(
                    mount.source, "secret", None)
                if isinstance(source, Resource):
                    found.append(source)
            for value in container.env.values():
                source = getattr(value, "config", None) or getattr(value, "secret", None)
                if isinstance(source, Resource):
                    found.append(source)
        return found


_BUILTIN_DEFAULTS = StackDefaults()


@contextlib.contextmanager
def stack_render(resources: Iterable[Resource]) -> Iterator[None]:
    """Keep each workload's render memo for the whole of ``Stack.objects()``.

    Besides the workload's own manifests, the stack asks it for the objects it uses, a Service
    for its named ports, the network derivation for its ports and labels: with the memo open
    they are computed once. Nothing changes a workload while its stack builds (a memo already
    open, from an outer call, is left to it).
    """
    opened = [res for res in resources
              if isinstance(res, PodWorkload) and res._render_memo is None]
    for workload in opened:
        workload._render_memo = {}
    try:
        yield
    finally:
        for workload in opened:
            workload._render_memo = None


def _each(values: Sequence[Any], build: Callable[[Any], Any]) -> tuple[Any, ...]:
    """``build`` applied to each item; an item's error as one of this field (so pydantic reports
    it among the workload's other problems, at ``<field>.<index>.<its field>``)."""
    out = []
    for index, item in enumerate(values):
        try:
            out.append(build(item))
        except KubegenError as exc:
            field = f"{index}.{exc.field}" if exc.field else str(index)
            shown = {"value": exc.value} if exc.has_value else {}
            raise InvalidValue(exc.message, fix=exc.fix, field=field, **shown) from None
    return tuple(out)

__all__ = ["INSTANCE_LABEL", "NAME_LABEL", "PodWorkload", "stack_render"]
