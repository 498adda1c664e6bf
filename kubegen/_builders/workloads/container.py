"""Containers, hardened by default: read-only root, no privilege, all capabilities dropped.

A :class:`Container` renders the ``restricted`` Pod Security securityContext
(``allowPrivilegeEscalation: false``, ``privileged: false``, ``capabilities.drop: [ALL]``,
``runAsNonRoot: true``) plus ``readOnlyRootFilesystem: true``. Every weakening is an
``allow_*`` field whose value is the reason, rendered as an annotation
``kubegen.dev/opt-out-<what>.<container>`` on the workload.

Probe rule (checked by the workload, see :class:`~kubegen.Deployment`): in a Deployment,
StatefulSet or DaemonSet, a *serving* container (a main container or sidecar that declares a
port) needs both ``readiness`` and ``liveness`` probes, unless ``allow_no_probes`` gives a reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, NamedTuple, Required, TypedDict, Unpack

from pydantic import Field, ValidationInfo, field_validator, model_validator

from kubegen._builders.base import Builder, empty_list
from kubegen._builders.state import state
from kubegen._builders.workloads.defaults import StackDefaults
from kubegen._builders.workloads.env import EnvValue, SecretKey, render_env
from kubegen._builders.workloads.lifecycle import Hook
from kubegen._builders.workloads.probes import AnyProbe
from kubegen._builders.workloads.resources import Resources
from kubegen._builders.workloads.volumes import (
    AnySource,
    EmptyDir,
    Mount,
    MountPropagation,
    volume_slug,
)
from kubegen._values import (
    DNSLabel,
    EnvName,
    Image,
    ImageRef,
    InvalidValue,
    PortName,
    PortNumber,
    Protocol,
    Reason,
)

# Linux capabilities (capabilities(7)), without the CAP_ prefix, as Kubernetes expects them.
CAPABILITIES = frozenset(
    (
        "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF",
        "CHECKPOINT_RESTORE", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID",
        "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN",
        "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW",
        "PERFMON", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYSLOG", "SYS_ADMIN", "SYS_BOOT",
        "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "WAKE_ALARM",
    )
)
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
PullPolicy = Literal["Always", "IfNotPresent", "Never"]


class PortArgs(TypedDict, total=False):
    name: str | None
    protocol: Protocol
    host_port: int | None
    unnamed: bool


class Port(Builder):
    """A port the container listens on.

    Args:
        number: the container port, 1-65535.
        name: IANA service name (``http``, ``pg``) that Services, probes and network policies
            use. Defaults to ``port-<number>`` for TCP and ``<protocol>-<number>`` otherwise
            (protocol-neutral, so a service mesh does not guess HTTP for a database).
        protocol: ``TCP`` (default), ``UDP`` or ``SCTP``.
        host_port: expose the port on the node; needs the container's ``allow_host_ports``.
        unnamed: render the port without a name, as upstream YAML that declares ports by
            number does (``kubegen import manifests`` writes it for those). Such a port is
            referred to by its number (probes, hooks) and is not among the workload's named
            ports: Services, ``connect_to`` and policies, which refer to ports by name, do not
            see it. Defaults to False.
    """

    number: PortNumber
    name: PortName | None = None
    protocol: Protocol = "TCP"
    host_port: PortNumber | None = None
    unnamed: bool = False

    def __init__(self, number: int, /, **data: Unpack[PortArgs]) -> None:
        super().__init__(number=number, **data)

    @field_validator("unnamed")  # runs only when given: the usual Port pays nothing
    @classmethod
    def _name_or_unnamed(cls, unnamed: bool, info: ValidationInfo) -> bool:
        name = info.data.get("name")
        if unnamed and name is not None:
            raise InvalidValue(
                f"port {info.data.get('number')} has name={name!r} and unnamed=True",
                fix="keep the name, or drop it for a port without one",
            )
        return unnamed

    @property
    def port_name(self) -> str:
        """The given name, or the derived ``port-<number>`` / ``udp-<number>``."""
        if self.name is not None:
            return self.name
        prefix = "port" if self.protocol == "TCP" else self.protocol.lower()
        return f"{prefix}-{self.number}"

    @property
    def reference(self) -> str | int:
        """How probes and hooks refer to the port: its name, or its number when unnamed."""
        return self.number if self.unnamed else self.port_name

    def render(self) -> dict[str, Any]:
        if self.unnamed:
            out: dict[str, Any] = {"containerPort": self.number}
            if self.host_port is not None:
                out["hostPort"] = self.host_port
            out["protocol"] = self.protocol
            return out
        out = {"name": self.port_name, "containerPort": self.number}
        if self.host_port is not None:
            out["hostPort"] = self.host_port
        out["protocol"] = self.protocol
        return out


class PlannedMount(NamedTuple):
    """One volume mount of a container, with the source it needs in the pod."""

    path: str
    source: AnySource
    sub_path: str | None
    read_only: bool
    propagation: MountPropagation | None = None


class ContainerContext(NamedTuple):
    """What a pod tells each container when rendering it."""

    name: str
    defaults: StackDefaults
    run_as_non_root: bool
    extra_mounts: tuple[dict[str, Any], ...] = ()
    restart_always: bool = False
    # The container's planned_mounts(name) when the pod has them already; None: compute them.
    mounts: list[PlannedMount] | None = None


class ContainerOptions(TypedDict, total=False):
    """The keywords of :class:`Container` but ``image`` and ``name``; workloads take them too."""

    command: list[str] | tuple[str, ...] | None
    args: list[str] | tuple[str, ...] | None
    working_dir: str | None
    ports: Sequence[Port | int]
    env: Mapping[str, EnvValue]
    resources: Resources | None
    readiness: AnyProbe | None
    liveness: AnyProbe | None
    startup: AnyProbe | None
    writable: list[str] | tuple[str, ...]
    mounts: Mapping[str, AnySource | Mount]
    pull_policy: PullPolicy | None
    capabilities: list[str] | tuple[str, ...]
    run_as_user: int | None
    run_as_group: int | None
    post_start: Hook | None
    pre_stop: Hook | None
    allow_privilege_escalation: str | None
    allow_privileged: str | None
    allow_writable_root: str | None
    allow_capabilities: str | None
    allow_host_ports: str | None
    allow_no_probes: str | None
    allow_secret_env: str | None
    allow_no_resources: str | None
    allow_cached_tag: str | None
    allow_default_capabilities: str | None


class ContainerArgs(ContainerOptions, total=False):
    image: Required[str]
    name: str | None


class Container(Builder):
    """One container of a pod.

    Args:
        image: ``registry/repo:tag`` and/or ``@sha256:<digest>``; ``latest`` and untagged refused.
        name: DNS-1123 label; defaults to the workload's name for its (first) main container.
        command: replaces the image's ENTRYPOINT (no shell).
        args: replaces the image's CMD.
        working_dir: the working directory; the image's by default.
        ports: :class:`Port` objects or bare numbers (named ``port-<number>``).
        env: name → value in author order: a string, :class:`~kubegen.ConfigMapKey`,
            :class:`~kubegen.SecretKey` (with ``allow_secret_env``) or a
            :class:`~kubegen.Downward` reference.
        resources: requests and limits; defaults to the Stack's ``StackDefaults.resources``.
        readiness: probe gating traffic; liveness: probe restarting a hung process; startup:
            probe holding the other two until the app started. See the module's probe rule.
        writable: absolute paths that get their own ``emptyDir`` (``["/tmp"]``), because the
            root filesystem is read-only.
        mounts: absolute path → source (:class:`~kubegen.ConfigFiles`,
            :class:`~kubegen.SecretFiles`, :class:`~kubegen.Claim`, …) or :class:`~kubegen.Mount`.
        pull_policy: ``imagePullPolicy``; by default per ``StackDefaults.pull_policy``
            (``IfNotPresent`` for digest-pinned images, else ``Always``). ``IfNotPresent`` and
            ``Never`` need a digest-pinned image.
        capabilities: Linux capabilities to add after dropping ALL; anything but
            ``NET_BIND_SERVICE`` needs ``allow_capabilities``.
        run_as_user / run_as_group: this container's uid/gid, overriding the pod's (a sidecar
            image built for another user); 0 needs the workload's ``allow_run_as_root``.
            Unset by default.
        post_start: a :class:`~kubegen.Hook` run right after the container starts.
        pre_stop: a :class:`~kubegen.Hook` run before the container is stopped, e.g.
            ``Hook(sleep="5s")`` so requests in flight finish while endpoints update.
        allow_privilege_escalation: reason to set ``allowPrivilegeEscalation: true``.
        allow_privileged: reason to run privileged: every capability, all host devices, no
            seccomp/AppArmor/SELinux confinement (implies privilege escalation; renders
            ``seccompProfile: Unconfined`` and no ``capabilities``, which the runtime would
            ignore; runAsUser and the read-only root still apply).
        allow_writable_root: reason for ``readOnlyRootFilesystem: false``.
        allow_capabilities: reason to add capabilities beyond ``NET_BIND_SERVICE``.
        allow_host_ports: reason for ports with ``host_port``.
        allow_no_probes: reason a serving container lacks readiness/liveness probes.
        allow_secret_env: reason to pass :class:`~kubegen.SecretKey` values as env vars.
        allow_no_resources: reason to render no ``resources`` at all (no requests, no
            limits: BestEffort QoS, first evicted), as upstream manifests that leave sizing
            to the installer do; ``resources=`` beside it is refused. Waives KG202-KG204.
        allow_cached_tag: reason for ``pull_policy='IfNotPresent'`` (or ``'Never'``) on an
            image pinned by tag only: nodes keep whatever bytes they pulled for the tag
            first. Waives KG209.
        allow_default_capabilities: reason to keep the runtime's default capabilities
            (renders no ``capabilities.drop: [ALL]``). Waives KG126.
    """

    image: Image
    name: DNSLabel | None = None
    command: list[str] | None = None
    args: list[str] | None = None
    working_dir: str | None = None
    ports: list[Port] = Field(default_factory=empty_list)
    env: dict[EnvName, EnvValue] = Field(default_factory=dict)
    resources: Resources | None = None
    readiness: AnyProbe | None = None
    liveness: AnyProbe | None = None
    startup: AnyProbe | None = None
    writable: list[str] = Field(default_factory=empty_list)
    mounts: dict[str, AnySource | Mount] = Field(default_factory=dict)
    pull_policy: PullPolicy | None = None
    capabilities: list[str] = Field(default_factory=empty_list)
    run_as_user: int | None = Field(default=None, ge=0)
    run_as_group: int | None = Field(default=None, ge=0)
    post_start: Hook | None = None
    pre_stop: Hook | None = None
    allow_privilege_escalation: Reason | None = None
    allow_privileged: Reason | None = None
    allow_writable_root: Reason | None = None
    allow_capabilities: Reason | None = None
    allow_host_ports: Reason | None = None
    allow_no_probes: Reason | None = None
    allow_secret_env: Reason | None = None
    allow_no_resources: Reason | None = None
    allow_cached_tag: Reason | None = None
    allow_default_capabilities: Reason | None = None

    _just_validated: bool = state(False)

    def __init__(self, /, **data: Unpack[ContainerArgs]) -> None:
        super().__init__(**data)

    @field_validator("ports", mode="before")
    @classmethod
    def _bare_numbers(cls, ports: Any) -> Any:
        if isinstance(ports, list):
            return [Port(p) if isinstance(p, int) and not isinstance(p, bool) else p for p in ports]
        return ports

    @field_validator("capabilities")
    @classmethod
    def _known_capabilities(cls, caps: list[str]) -> list[str]:
        for cap in caps:
            if cap not in CAPABILITIES:
                bare = cap.upper().removeprefix("CAP_")
                raise InvalidValue(
                    f"capability {cap!r} is not a Linux capability name as Kubernetes expects "
                    "it (upper case, no CAP_ prefix, e.g. 'NET_BIND_SERVICE')",
                    fix=f"use '{bare}'" if bare in CAPABILITIES else "see capabilities(7)",
                )
        return list(dict.fromkeys(caps))

    @field_validator("writable")
    @classmethod
    def _absolute_writable(cls, paths: list[str]) -> list[str]:
        for path in paths:
            _check_mount_path(path)
        return paths

    @field_validator("mounts")
    @classmethod
    def _absolute_mounts(cls, mounts: dict[str, Any]) -> dict[str, Any]:
        for path in mounts:
            _check_mount_path(path)
        return mounts

    @model_validator(mode="after")
    def _check(self) -> Container:
        # pydantic reruns a model's "after" validators whenever an instance is passed as a
        # field value. A workload's shorthand container was validated a moment before and
        # nothing else holds it, so that one rerun is skipped (the flag is used up).
        if self._just_validated:
            self._just_validated = False
            return self
        self._check_ports()
        self._check_paths()
        self._check_probes()
        self._check_pull_policy()
        self._check_opt_outs_used()
        return self

    def _check_ports(self) -> None:
        names: set[str] = set()
        numbers: set[tuple[int, str]] = set()
        for port in self.ports:
            named = not port.unnamed
            if (named and port.port_name in names) or (port.number, port.protocol) in numbers:
                raise InvalidValue(
                    f"port {port.reference}={port.number}/{port.protocol} is declared twice",
                    fix="give each port its own name and number",
                )
            if named:
                names.add(port.port_name)
            numbers.add((port.number, port.protocol))

    def _check_paths(self) -> None:
        for path, target in self.mounts.items():
            if (isinstance(target, Mount) and target.propagation == "Bidirectional"
                    and self.allow_privileged is None):
                raise InvalidValue(
                    f"mount {path!r}: Bidirectional propagation is only allowed in privileged "
                    "containers (the API server refuses it otherwise)",
                    fix="use propagation='HostToContainer' (see the host's new mounts), or pass "
                    "allow_privileged='why'",
                    field=f"mounts.{path}.propagation", value="Bidirectional",
                )
        seen = set(self.writable)
        if len(seen) != len(self.writable):
            raise InvalidValue("writable lists a path twice", fix="list each path once")
        for path in self.mounts:
            if path in seen:
                raise InvalidValue(
                    f"path {path!r} is both in writable and in mounts",
                    fix="mount one volume per path",
                )

    def _check_probes(self) -> None:
        for role in ("readiness", "liveness", "startup"):
            probe = getattr(self, role)
            if probe is not None:
                try:
                    probe.render(self.ports, role=role)
                except InvalidValue as exc:
                    raise exc.within(role) from None
        for hook in ("post_start", "pre_stop"):
            handler = getattr(self, hook)
            if handler is not None:
                try:
                    handler.render(self.ports)
                except InvalidValue as exc:
                    raise exc.within(hook) from None

    def _check_pull_policy(self) -> None:
        cached = self.pull_policy in ("IfNotPresent", "Never") and not self.image_ref.pinned
        if cached and self.allow_cached_tag is None:
            raise InvalidValue(
                f"pull_policy={self.pull_policy!r} needs a digest-pinned image: a tag can move, "
                "and nodes would keep running whatever they pulled first",
                fix=f"pin the image ('{self.image}@sha256:…'), use pull_policy='Always', or "
                "pass allow_cached_tag='why'",
                field="pull_policy", value=self.pull_policy,
            )
        if self.allow_cached_tag is not None and not cached:
            raise InvalidValue(
                "allow_cached_tag is set but the image is pulled Always or pinned by digest",
                fix="drop allow_cached_tag", field="allow_cached_tag",
                value=self.allow_cached_tag,
            )
        if self.allow_no_resources is not None and self.resources is not None:
            raise InvalidValue(
                "resources and allow_no_resources contradict each other",
                fix="set one of them", field="allow_no_resources", value=self.allow_no_resources,
            )

    def _check_opt_outs_used(self) -> None:
        extra_caps = [c for c in self.capabilities if c not in RESTRICTED_CAPABILITIES]
        host_ports = [p for p in self.ports if p.host_port is not None]
        secret_env = [k for k, v in self.env.items() if isinstance(v, SecretKey)]
        _needs_reason(extra_caps, self.allow_capabilities, "capabilities", "allow_capabilities",
                      "only NET_BIND_SERVICE may be added without a reason")
        _needs_reason(host_ports, self.allow_host_ports, "ports", "allow_host_ports",
                      "a hostPort ties the pod to a node port and bypasses network policies")
        _needs_reason(secret_env, self.allow_secret_env, "env", "allow_secret_env",
                      "secrets in env vars leak into logs and child processes; mount them with "
                      "SecretFiles instead")
        if self.allow_no_probes and self.readiness and self.liveness:
            raise InvalidValue(
                "allow_no_probes is set but readiness and liveness probes are both present",
                fix="drop allow_no_probes",
            )
        if self.allow_privileged is not None:
            self._check_privileged()

    def _check_privileged(self) -> None:
        """A privileged container already has what these would grant: refuse the noise."""
        if self.capabilities or self.allow_capabilities:
            raise InvalidValue(
                "a privileged container has every capability: capabilities/allow_capabilities "
                "add nothing (and the runtime ignores them)",
                fix="drop capabilities and allow_capabilities, or drop allow_privileged and "
                "keep only the capabilities it needs",
                field="capabilities",
            )
        if self.allow_default_capabilities is not None:
            raise InvalidValue(
                "a privileged container has every capability: allow_default_capabilities "
                "adds nothing",
                fix="drop allow_default_capabilities",
                field="allow_default_capabilities",
            )
        if self.allow_privilege_escalation is not None:
            raise InvalidValue(
                "allow_privileged already allows privilege escalation",
                fix="drop allow_privilege_escalation",
                field="allow_privilege_escalation",
            )

    @property
    def image_ref(self) -> ImageRef:
        """The parsed image reference."""
        return ImageRef.parse(self.image)

    def serving(self) -> bool:
        """A container that declares a port is serving: it needs readiness and liveness."""
        return bool(self.ports)

    def planned_mounts(self, name: str) -> list[PlannedMount]:
        """Volume mounts in order: writable paths first, then ``mounts`` in author order."""
        plan = [
            PlannedMount(path, EmptyDir(name=volume_slug(f"{name}-{path}")), None, False)
            for path in self.writable
        ]
        for path, target in self.mounts.items():
            # A bare source is a Mount with no options; no Mount built (render calls this often).
            if isinstance(target, Mount):
                source, sub_path, read_only = target.source, target.sub_path, target.read_only
                read_only = source.read_only() if read_only is None else read_only
                plan.append(PlannedMount(path, source, sub_path, read_only, target.propagation))
            else:
                plan.append(PlannedMount(path, target, None, target.read_only()))
        return plan

    def opt_outs(self, name: str, defaults: StackDefaults) -> Iterator[tuple[str, str]]:
        """(what, reason) for every weakened default of this container."""
        for what, reason in (
            ("privileged", self.allow_privileged),
            ("privilege-escalation", self.allow_privilege_escalation),
            ("writable-root", self.allow_writable_root),
            ("capabilities", self.allow_capabilities),
            ("host-ports", self.allow_host_ports),
            ("no-probes", self.allow_no_probes),
            ("secret-env", self.allow_secret_env),
            ("no-resources", self.allow_no_resources),
            ("cached-tag", self.allow_cached_tag),
            ("default-capabilities", self.allow_default_capabilities),
        ):
            if reason:
                yield f"{what}.{name}", reason
        if self.allow_no_resources is not None:
            return
        resources = self.resources or defaults.resources
        if resources.cpu_limit is None:
            reason = resources.allow_no_cpu_limit or defaults.allow_no_cpu_limit
            if reason:
                yield f"no-cpu-limit.{name}", reason
        if resources.allow_no_memory_limit:
            yield f"no-memory-limit.{name}", resources.allow_no_memory_limit

    def pull_policy_for(self, defaults: StackDefaults) -> PullPolicy:
        if self.pull_policy is not None:
            return self.pull_policy
        if defaults.pull_policy == "auto" and self.image_ref.pinned:
            return "IfNotPresent"
        return "Always"

    def render(self, ctx: ContainerContext) -> dict[str, Any]:
        """The container entry of a pod spec."""
        out: dict[str, Any] = {"name": ctx.name, "image": self.image}
        out["imagePullPolicy"] = self.pull_policy_for(ctx.defaults)
        for key, value in (("command", self.command), ("args", self.args)):
            if value is not None:
                out[key] = list(value)
        if self.working_dir is not None:
            out["workingDir"] = self.working_dir
        if self.ports:
            out["ports"] = [port.render() for port in self.ports]
        if self.env:
            out["env"] = [render_env(k, v) for k, v in self.env.items()]
        if self.allow_no_resources is None:
            resources = self.resources or ctx.defaults.resources
            out["resources"] = resources.render(
                omit_cpu_limit=ctx.defaults.allow_no_cpu_limit is not None
            )
        for role, key in (("startup", "startupProbe"), ("readiness", "readinessProbe"),
                          ("liveness", "livenessProbe")):
            probe = getattr(self, role)
            if probe is not None:
                out[key] = probe.render(self.ports, role=role)
        if self.post_start is not None or self.pre_stop is not None:
            out["lifecycle"] = self._lifecycle()
        out["securityContext"] = self.security_context(ctx.run_as_non_root)
        planned = ctx.mounts if ctx.mounts is not None else self.planned_mounts(ctx.name)
        mounts = [_render_mount(m) for m in planned]
        mounts.extend(ctx.extra_mounts)
        if mounts:
            out["volumeMounts"] = mounts
        if ctx.restart_always:
            out["restartPolicy"] = "Always"
        return out

    def _lifecycle(self) -> dict[str, Any]:
        hooks: dict[str, Any] = {}
        if self.post_start is not None:
            hooks["postStart"] = self.post_start.render(self.ports)
        if self.pre_stop is not None:
            hooks["preStop"] = self.pre_stop.render(self.ports)
        return hooks

    def security_context(self, run_as_non_root: bool) -> dict[str, Any]:
        """The hardened container securityContext, weakened only where ``allow_*`` says.

        A privileged container renders what the runtime really applies to it: every capability
        (so no ``capabilities``) and no seccomp filter (``seccompProfile: Unconfined`` instead of
        inheriting the pod's profile, which containerd and CRI-O skip for privileged
        containers). Its user, group and read-only root still apply and stay.
        """
        privileged = self.allow_privileged is not None
        context: dict[str, Any] = {
            "allowPrivilegeEscalation": privileged or self.allow_privilege_escalation is not None,
        }
        if not privileged:
            caps: dict[str, list[str]] = {}
            if self.capabilities:
                caps["add"] = list(self.capabilities)
            if self.allow_default_capabilities is None:
                caps["drop"] = ["ALL"]
            if caps:
                context["capabilities"] = caps
        context["privileged"] = privileged
        context["readOnlyRootFilesystem"] = not self.allow_writable_root
        if self.run_as_group is not None:
            context["runAsGroup"] = self.run_as_group
        context["runAsNonRoot"] = run_as_non_root
        if self.run_as_user is not None:
            context["runAsUser"] = self.run_as_user
        if privileged:
            context["seccompProfile"] = {"type": "Unconfined"}
        return context


def _render_mount(mount: PlannedMount) -> dict[str, Any]:
    out: dict[str, Any] = {"name": mount.source.volume_name(), "mountPath": mount.path}
    if mount.sub_path is not None:
        out["subPath"] = mount.sub_path
    if mount.read_only:
        out["readOnly"] = True
    if mount.propagation is not None:
        out["mountPropagation"] = mount.propagation
    return out


def _check_mount_path(path: str) -> None:
    if not path.startswith("/") or path.rstrip("/") == "" or "/../" in f"{path}/":
        raise InvalidValue(
            f"mount path {path!r} must be an absolute path below '/' without '..'",
            fix="use a path such as '/tmp' or '/etc/app'",
        )


def _needs_reason(used: list[Any], reason: str | None, field: str, allow: str, why: str) -> None:
    if used and reason is None:
        shown = ", ".join(str(getattr(u, "port_name", u)) for u in used)
        raise InvalidValue(
            f"{field} {shown} weaken(s) a secure default: {why}",
            fix=f"remove it, or pass {allow}='why this container needs it'",
        )
    if reason is not None and not used:
        raise InvalidValue(
            f"{allow} is set but nothing in {field} needs it",
            fix=f"drop {allow}",
        )
