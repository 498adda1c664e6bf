"""Service: a stable name and virtual IP (or, headless, per-pod DNS) for a workload's pods.

Ports are referred to by the workload's port *names*: the Service's ``targetPort`` is the name,
so renumbering a container port never breaks the Service. ``ClusterIP`` and headless Services
are the default; ``NodePort`` and ``LoadBalancer`` reach outside the cluster and need
``allow_external='why'``, rendered as an annotation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, TypedDict, Unpack

from pydantic import Field, field_validator, model_validator

from kubegen._builders.base import Builder, Resource, ResourceArgs, empty_list
from kubegen._builders.workloads.base import Workload
from kubegen._manifests import ManifestObject
from kubegen._origin import capture
from kubegen._values import (
    InvalidValue,
    LabelMap,
    PortName,
    PortNumber,
    Reason,
    check_dns1035_label,
    check_dns_label,
    check_dns_subdomain,
    check_port_name,
)

ServiceType = Literal["ClusterIP", "Headless", "NodePort", "LoadBalancer", "ExternalName"]
IPFamily = Literal["IPv4", "IPv6"]
IPFamilyPolicy = Literal["SingleStack", "PreferDualStack", "RequireDualStack"]
# A port's appProtocol: an IANA service name, or a domain-prefixed name (as a label key is).
_APP_PROTOCOL = re.compile(
    r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_EXTERNAL = ("NodePort", "LoadBalancer")
_IPV4 = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){3}")


class ServicePortArgs(TypedDict, total=False):
    port: int | None
    name: str | None
    node_port: int | None
    app_protocol: str | None


class ServicePort(Builder):
    """A Service port that forwards to a named container port.

    Args:
        target: the container port's name (``targetPort``). An ``ExternalName`` Service, which
            forwards nothing (DNS answers its clients with the external host), may give the
            port by number instead, as upstream YAML does (``ServicePort(5432)``: ``port:
            5432``, unnamed, ``targetPort`` Kubernetes' default, the same number).
        port: the Service's port number; defaults to the container port's number (to
            ``target`` when that is a number).
        name: the Service port's name; defaults to ``target`` (none for a number: a Service
            with more than one port must name each).
        node_port: a fixed nodePort (NodePort/LoadBalancer only); chosen by the cluster if unset.
        app_protocol: the application protocol (``appProtocol``): an IANA service name
            (``http``, ``https``) or a prefixed one (``kubernetes.io/h2c``), which proxies
            and service meshes read; unset by default.
    """

    target: PortName | PortNumber
    port: PortNumber | None = None
    name: PortName | None = None
    node_port: PortNumber | None = None
    app_protocol: str | None = None

    @field_validator("app_protocol")
    @classmethod
    def _protocol_name(cls, value: str | None) -> str | None:
        if value is not None and not _APP_PROTOCOL.fullmatch(value):
            raise InvalidValue(
                f"appProtocol {value!r} is neither an IANA service name nor a prefixed name",
                fix="use e.g. app_protocol='http', 'https' or 'kubernetes.io/h2c'",
            )
        return value

    def __init__(self, target: str | int, /, **data: Unpack[ServicePortArgs]) -> None:
        super().__init__(target=target, **data)

    @classmethod
    def _validated(cls, fields: dict[str, Any]) -> ServicePort:
        rest = dict(fields)
        return cls(rest.pop("target"), **rest)


class ServiceArgs(ResourceArgs, total=False):
    target: Workload | None
    selector: Mapping[str, str]
    ports: list[str | ServicePort] | tuple[str | ServicePort, ...]
    type: ServiceType
    external_name: str | None
    publish_not_ready: bool
    external_traffic_policy: Literal["Cluster", "Local"] | None
    session_affinity: Literal["None", "ClientIP"] | None
    ip_families: list[IPFamily] | tuple[IPFamily, ...]
    ip_family_policy: IPFamilyPolicy | None
    allow_external: str | None


class Service(Resource):
    """A Service selecting a workload's pods (or pods with given labels).

    Args:
        name: DNS-1035 label (Service names become DNS names, so they start with a letter).
        target: the workload whose pods it selects (by their selector labels).
        selector: pod labels to select instead of ``target``.
        ports: port names of ``target`` (``"http"``) or :class:`ServicePort`; all of the
            target's ports when empty. Without a target each ServicePort needs ``port=``.
        type: ``ClusterIP`` (default), ``Headless`` (``clusterIP: None``: DNS returns pod
            IPs), ``NodePort`` or ``LoadBalancer`` (both need ``allow_external``), or
            ``ExternalName``: a DNS alias (CNAME) for a host outside the cluster, with neither
            target nor selector (*Kubernetes in Action*, "Services": external-service).
        external_name: the host an ``ExternalName`` Service aliases
            (``api.somecompany.com``); its clients still need egress to it
            (``allow_to(cidr=…)`` or ``allow_to_internet``).
        publish_not_ready: list pods in DNS before they are ready (defaults to False; peers of a
            clustered database use it to find each other).
        external_traffic_policy: ``Local`` keeps outside traffic on the node it reached (the
            client's source IP preserved, no second hop) or ``Cluster``; NodePort and
            LoadBalancer only. Unset: Kubernetes' default (Cluster).
        session_affinity: ``ClientIP`` sends each client's connections to the same pod (for
            3 hours of inactivity, Kubernetes' default), as *Kubernetes in Action*'s "Services"
            shows; not for headless Services, which have no virtual IP to apply it. Unset:
            Kubernetes' default (``None``).
        ip_families: ``["IPv4"]``, ``["IPv6"]`` or both, in order of preference; unset: the
            cluster's default, chosen by the API server.
        ip_family_policy: ``SingleStack``, ``PreferDualStack`` or ``RequireDualStack``; unset:
            the API server's default (SingleStack).
        See https://kubernetes.io/docs/concepts/services-networking/service/ and
        https://kubernetes.io/docs/concepts/services-networking/dual-stack/.
        allow_external: why this Service is reachable from outside the cluster.
    """

    api_version: ClassVar[str] = "v1"
    kind: ClassVar[str] = "Service"

    target: Workload | None = None
    selector: LabelMap = Field(default_factory=dict)
    ports: list[PortName | ServicePort] = Field(default_factory=empty_list)
    type: ServiceType = "ClusterIP"
    external_name: str | None = None
    publish_not_ready: bool = False
    external_traffic_policy: Literal["Cluster", "Local"] | None = None
    session_affinity: Literal["None", "ClientIP"] | None = None
    ip_families: tuple[IPFamily, ...] = ()
    ip_family_policy: IPFamilyPolicy | None = None
    allow_external: Reason | None = None

    def __init__(self, name: str, /, **data: Unpack[ServiceArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("name")
    @classmethod
    def _dns1035(cls, name: str) -> str:
        return check_dns1035_label(name)

    @classmethod
    def exposing(
        cls, target: Workload, name: str, ports: list[str | ServicePort], options: dict[str, Any]
    ) -> Service:
        """``Service(name, target=target, ports=ports, **options)``, as ``expose()`` builds it.

        When only port names and a namespace are given (the usual ``expose()``), the fields
        are checked with the validators pydantic would run and the Service is built from them
        directly (:meth:`Builder.trusted`); anything else, or any value those checks or the
        Service's own check refuse, goes through the validating constructor, which raises the
        error it always did.
        """
        if options.keys() <= {"namespace"} and all(type(port) is str for port in ports):
            try:
                check_dns1035_label(check_dns_subdomain(name))
                if options.get("namespace") is not None:
                    check_dns_label(options["namespace"])
                for port in ports:
                    check_port_name(port)  # type: ignore[arg-type]
            except InvalidValue:
                pass
            else:
                service = cls.trusted(
                    capture(), name=name, target=target, ports=list(ports), **options
                )
                try:
                    service._check_service()
                except Exception:
                    pass
                else:
                    return service
        build: Any = cls  # positional name: see Resource.__init__
        return build(name, target=target, ports=ports, **options)  # type: ignore[no-any-return]

    @model_validator(mode="after")
    def _check(self) -> Service:
        self._check_service()
        return self

    def _check_service(self) -> None:
        if self.type == "ExternalName" or self.external_name is not None:
            self._check_external_name()
            return
        if (self.target is None) == (not self.selector):
            raise InvalidValue(
                "a Service needs exactly one of target= (a workload) or selector= (pod labels)",
                fix="pass target=api",
            )
        if self.type in _EXTERNAL and self.allow_external is None:
            raise InvalidValue(
                f"type={self.type!r} exposes the pods outside the cluster",
                fix="use ClusterIP behind an Ingress/Gateway, or pass allow_external='why'",
            )
        if self.allow_external is not None and self.type not in _EXTERNAL:
            raise InvalidValue(
                f"allow_external is set but type={self.type!r} is not external",
                fix="drop allow_external",
            )
        if self.external_traffic_policy is not None and self.type not in _EXTERNAL:
            raise InvalidValue(
                f"external_traffic_policy applies to NodePort and LoadBalancer Services, not "
                f"{self.type}",
                fix="drop external_traffic_policy", field="external_traffic_policy",
                value=self.external_traffic_policy,
            )
        if self.session_affinity == "ClientIP" and self.type == "Headless":
            raise InvalidValue(
                "session_affinity='ClientIP' needs a virtual IP, and a headless Service has "
                "none (DNS hands clients the pods' own addresses)",
                fix="use type='ClusterIP' for affinity, or drop session_affinity",
                field="session_affinity", value=self.session_affinity,
            )
        if len(set(self.ip_families)) != len(self.ip_families) or (
                self.ip_family_policy == "SingleStack" and len(self.ip_families) > 1):
            raise InvalidValue(
                f"ip_families {list(self.ip_families)} lists a family twice, or two for a "
                "SingleStack Service",
                fix="list each family once; two need ip_family_policy='PreferDualStack' or "
                "'RequireDualStack'", field="ip_families", value=list(self.ip_families),
            )
        if not self.service_ports() and self.type != "Headless":
            raise InvalidValue(
                f"a {self.type} Service needs at least one port, and the target declares none",
                fix="declare a port on the workload, or use type='Headless'",
            )

    def _check_external_name(self) -> None:
        if self.type != "ExternalName":
            raise InvalidValue(
                f"external_name is set but type={self.type!r}",
                fix="pass type='ExternalName', or drop external_name", field="external_name",
                value=self.external_name,
            )
        if self.external_name is None:
            raise InvalidValue("an ExternalName Service needs the host it aliases",
                               fix="pass external_name='api.example.com'", field="external_name")
        try:
            check_dns_subdomain(self.external_name)
            if _IPV4.fullmatch(self.external_name):
                raise InvalidValue("an IPv4 address")
        except InvalidValue:
            raise InvalidValue(
                f"external_name {self.external_name!r} is not a lowercase DNS name (cluster DNS "
                "never resolves one that looks like an IPv4 address, and the API server refuses "
                "other values)",
                fix="write a host name such as 'api.example.com' (for a fixed address, add a "
                "Service without selector and its EndpointSlice as Manifests)",
                field="external_name",
                value=self.external_name,
            ) from None
        given = [name for name in ("target", "selector", "publish_not_ready",
                                   "external_traffic_policy", "session_affinity",
                                   "allow_external") if getattr(self, name)]
        if given:
            raise InvalidValue(
                f"an ExternalName Service selects no pods and has no virtual IP, so "
                f"{', '.join(given)} mean(s) nothing",
                fix=f"drop {', '.join(given)}", field=given[0],
            )
        ports = self.service_ports()
        unnamed = [port["port"] for port in ports if "name" not in port]
        if len(ports) > 1 and unnamed:
            raise InvalidValue(
                f"port {unnamed[0]} has no name, and the API server requires one on each port "
                "of a Service with more than one",
                fix=f"pass ServicePort({unnamed[0]}, name='<its name>')", field="ports",
                value=unnamed[0],
            )

    def service_ports(self) -> list[dict[str, Any]]:
        """The rendered ``spec.ports``, resolved against the target's named ports."""
        named = self.target.named_ports() if self.target is not None else {}
        out: list[dict[str, Any]] = []
        for entry in self.ports or list(named):
            if isinstance(entry, ServicePort):
                target = entry.target
                out.append(self._numbered_port(target, entry) if isinstance(target, int)
                           else self._render_port(target, entry, named))
            elif self._valid_name(entry):
                # what ServicePort(entry) renders (no port, name or node_port of its own),
                # without building one: this runs on every validation and render
                out.append(self._render_port(entry, None, named))
            else:
                out.append(self._render_port(entry, ServicePort(entry), named))
        return out

    def _numbered_port(self, target: int, port: ServicePort) -> dict[str, Any]:
        """An ``ExternalName`` Service's port given by number: no name unless given."""
        if self.type != "ExternalName":
            raise InvalidValue(
                f"ServicePort({target}) targets a port by number: a {self.type} Service "
                "forwards to a named container port, so renumbering it never breaks the Service",
                fix=f"name the container port and pass ServicePort('<its name>', port={target})",
                field="ports", value=target,
            )
        out: dict[str, Any] = {"name": port.name} if port.name is not None else {}
        out.update({"port": port.port or target, "targetPort": target, "protocol": "TCP"})
        return out

    @staticmethod
    def _valid_name(name: object) -> bool:
        """Whether ``ServicePort(name)`` would take ``name`` (a valid port name)."""
        if type(name) is not str:
            return False
        try:
            check_port_name(name)
        except InvalidValue:
            return False
        return True

    def _render_port(
        self, target: str, port: ServicePort | None, named: dict[str, tuple[int, str]]
    ) -> dict[str, Any]:
        """``port`` rendered, or ``ServicePort(target)``'s rendering when it is None."""
        if self.target is not None and target not in named:
            raise InvalidValue(
                f"port {target!r} is not a named port of {self.target.display} "
                f"(named ports: {', '.join(named) or 'none'})",
                fix="use one of its port names",
            )
        own = port.port if port is not None else None
        node_port = port.node_port if port is not None else None
        number, protocol = named.get(target, (own, "TCP"))
        if own is None and number is None:
            raise InvalidValue(
                f"port {target!r} needs a number when the Service has no target",
                fix=f"pass ServicePort({target!r}, port=80)",
            )
        if node_port is not None and self.type not in _EXTERNAL:
            raise InvalidValue(
                f"node_port is only valid for NodePort/LoadBalancer, not {self.type}",
                fix="drop node_port",
            )
        out: dict[str, Any] = {
            "name": (port.name if port is not None else None) or target,
            "port": own or number,
            "targetPort": target,
            "protocol": protocol,
        }
        if node_port is not None:
            out["nodePort"] = node_port
        if port is not None and port.app_protocol is not None:
            out["appProtocol"] = port.app_protocol
        return out

    def pod_selector(self) -> dict[str, str]:
        """The labels this Service selects."""
        if self.target is not None:
            return self.target.selector_labels()
        return dict(self.selector)

    def manifests(self) -> list[ManifestObject]:
        if self.allow_external is not None:
            self.opt_out("external-service", self.allow_external)
        spec: dict[str, Any] = {}
        if self.type == "ExternalName":
            spec = {"type": "ExternalName", "externalName": self.external_name}
            ports = self.service_ports()
            if ports:
                spec["ports"] = ports
            body = {"apiVersion": self.api_version, "kind": self.kind,
                    "metadata": self.metadata(), "spec": spec}
            return [self.manifest(body)]
        if self.type == "Headless":
            spec["type"] = "ClusterIP"
            spec["clusterIP"] = "None"
        else:
            spec["type"] = self.type
        spec["selector"] = dict(sorted(self.pod_selector().items()))
        ports = self.service_ports()
        if ports:
            spec["ports"] = ports
        if self.publish_not_ready:
            spec["publishNotReadyAddresses"] = True
        if self.external_traffic_policy is not None:
            spec["externalTrafficPolicy"] = self.external_traffic_policy
        if self.session_affinity is not None:
            spec["sessionAffinity"] = self.session_affinity
        if self.ip_families:
            spec["ipFamilies"] = list(self.ip_families)
        if self.ip_family_policy is not None:
            spec["ipFamilyPolicy"] = self.ip_family_policy
        labels = self.target.selector_labels() if self.target is not None else {}
        body = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(labels=labels),
            "spec": spec,
        }
        return [self.manifest(body)]
