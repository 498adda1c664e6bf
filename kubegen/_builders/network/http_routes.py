"""Traffic from outside the cluster: ``Ingress`` and Gateway API ``HTTPRoute``.

A route sends requests for some hosts and paths to Services of the stack::

    web_svc = web.expose()
    stack.add(Ingress("shop", hosts=["shop.example.com"], service=web_svc,
                      cert_manager="letsencrypt-prod"))
    stack.add(HTTPRoute("shop", hostnames=["shop.example.com"], paths=[
        RoutePath("/api", service=api_svc), RoutePath("/", service=web_svc)]))

The route also **derives the NetworkPolicy** its traffic needs: the pods of the ingress
controller (or of the Gateway's data plane) may connect to each backend Service's pods on the
Service's target port. Where those pods run is a fact of the cluster
(``Cluster(ingress=IngressController(…), gateways=[ClusterGateway(…)])``), or of the route
(``controller=``: an :class:`~kubegen.IngressController` / :class:`~kubegen.ClusterGateway`, or
the controller's workload when the stack deploys it, e.g. a vendored ingress-nginx). The rule
lands in the backend's ``<workload>-ingress`` policy, like ``allow_from``.

Secure defaults: an Ingress terminates TLS, from a Secret (``tls_secret=``) or a certificate
cert-manager issues (``cert_manager=``, the ``cert-manager.io/cluster-issuer`` annotation); plain
HTTP needs ``allow_plain_http='why'`` (annotation ``kubegen.dev/opt-out-plain-http``). An
HTTPRoute's TLS is its Gateway listener's, which the platform configures.

Backends are checked when the stack renders: a Service named by string must be in the stack,
in the route's namespace (routes cannot cross namespaces without a ReferenceGrant), select a
workload of the stack (``Service(target=…)``), and have the port named.

See https://kubernetes.io/docs/concepts/services-networking/ingress/,
https://gateway-api.sigs.k8s.io/api-types/httproute/ and https://cert-manager.io/docs/usage/ingress/;
*Kubernetes in Action* (2nd ed.), "Exposing Services with Ingress".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Required, TypedDict, Unpack
from urllib.parse import quote

from pydantic import Field, InstanceOf, field_validator, model_validator

from kubegen._builders.base import Builder, Resource, ResourceArgs, error_from
from kubegen._builders.network.edge import ClusterGateway, IngressController
from kubegen._builders.network.peers import ExternalPeer
from kubegen._builders.service import Service
from kubegen._builders.workloads.base import Workload
from kubegen._manifests import ManifestObject
from kubegen._relations import Connection
from kubegen._values import (
    DNS1035Label,
    DNSSubdomain,
    InvalidValue,
    PortName,
    PortNumber,
    Reason,
    check_dns_subdomain,
)

if TYPE_CHECKING:
    from kubegen._stack import Stack

GATEWAY_GROUP = "gateway.networking.k8s.io"
_WILDCARD = "*."


def check_hostname(host: str) -> str:
    """A DNS name, optionally with a leading ``*.`` label; no IP address, port or scheme."""
    name = host[len(_WILDCARD):] if host.startswith(_WILDCARD) else host
    if re.fullmatch(r"[0-9.]+|\[?[0-9a-fA-F:]+\]?", name) or ":" in name or "/" in name:
        raise InvalidValue(
            f"host {host!r} must be a DNS name (no IP address, port or scheme)",
            fix="write e.g. 'shop.example.com' or '*.example.com'",
        )
    try:
        check_dns_subdomain(name)
    except InvalidValue as exc:
        raise InvalidValue(f"host {host!r}: {exc.message}", fix="write e.g. 'shop.example.com'",
                           ) from None
    if "." not in name and not host.startswith(_WILDCARD):
        raise InvalidValue(f"host {host!r} is not a fully qualified domain name",
                           fix="write e.g. 'shop.example.com'")
    return host


class RoutePathArgs(TypedDict, total=False):
    service: Required[Service | str]
    port: str | int | None
    exact: bool


class RoutePath(Builder):
    """Requests whose path starts with ``path`` (or equals it, ``exact=True``) go to a Service.

    Args:
        path: an absolute URL path (``/``, ``/api``); defaults to ``/``.
        service: the backend: a :class:`~kubegen.Service` of the stack, or its name.
        port: the Service port, by name or number; defaults to its only port.
        exact: match the path exactly instead of as a prefix (defaults to False).
    """

    path: str = "/"
    service: InstanceOf[Service] | DNS1035Label
    port: PortName | PortNumber | None = None
    exact: bool = False

    def __init__(self, path: str = "/", /, **data: Unpack[RoutePathArgs]) -> None:
        super().__init__(path=path, **data)

    @classmethod
    def _validated(cls, fields: dict[str, Any]) -> RoutePath:
        rest = dict(fields)
        return cls(rest.pop("path", "/"), **rest)

    @field_validator("path")
    @classmethod
    def _absolute(cls, path: str) -> str:
        if not path.startswith("/"):
            raise InvalidValue(f"route path {path!r} must be an absolute URL path",
                               fix=f"write {clean_path('/' + path)!r}")
        problem = path_problem(path)
        if problem is not None:
            raise InvalidValue(f"route path {path!r} {problem}",
                               fix=f"write the path as clients send it, e.g. {clean_path(path)!r}")
        return path

    @property
    def service_name(self) -> str:
        return self.service if isinstance(self.service, str) else self.service.name


# What the API server refuses in an Ingress path of type Exact/Prefix (Kubernetes' networking
# validation) and in an HTTPRoute path match of type Exact/PathPrefix (the CEL rules of the
# Gateway API CRD, tests/data/gateway-api/): one rule set, as a RoutePath serves both.
_PATH_CHARACTERS = re.compile(r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+$")
_PATH_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F", "#")
_PATH_SUFFIXES = ("/..", "/.")
_PATH_MAX = 1024
_PATH_SAFE = "-._~!$&'()*+,;=:@%"
_STRAY_PERCENT = re.compile(r"%(?![0-9a-fA-F]{2})")


def path_problem(path: str) -> str | None:
    """Why the API server would refuse ``path`` (absolute already), or None."""
    if not _PATH_CHARACTERS.match(path):
        return ("may hold only letters, digits, -/._~!$&'()*+,;=:@ and %-escapes (an HTTPRoute's "
                "rule; encode other characters)")
    if len(path) > _PATH_MAX:
        return f"is longer than {_PATH_MAX} characters"
    for sequence in _PATH_SEQUENCES:
        if sequence in path:
            return f"must not contain {sequence!r}"
    for suffix in _PATH_SUFFIXES:
        if path.endswith(suffix):
            return f"must not end with {suffix!r}"
    return None


def clean_path(path: str) -> str:
    """``path`` as the API server takes it: fragment, empty and dot segments dropped, an
    escaped slash a slash, other characters %-escaped. Offered as the fix."""
    text = path.split("#", 1)[0].replace("%2f", "/").replace("%2F", "/")
    text = _STRAY_PERCENT.sub("%25", text)
    segments = [s for s in text.split("/") if s not in ("", ".", "..")]
    clean = "/" + "/".join(quote(s, safe=_PATH_SAFE) for s in segments)
    while clean != "/" and path_problem(clean) is not None:  # only if cut short
        clean = clean[:-1]
    return clean


class _Backend:
    """A RoutePath resolved against the stack: the Service, its port, the pods behind it."""

    __slots__ = ("number", "path", "service", "target_port", "workload")

    def __init__(self, path: RoutePath, service: Service, port: dict[str, Any]) -> None:
        self.path = path
        self.service = service
        self.number: int = port["port"]
        self.target_port: str = port["targetPort"]
        self.workload: Workload = service.target  # type: ignore[assignment]


class RouteArgs(ResourceArgs, total=False):
    service: Service | str | None
    port: str | int | None
    paths: Sequence[RoutePath]


class Route(Resource):
    """What Ingress and HTTPRoute share: backends, their resolution, the derived policy."""

    derives_connections: ClassVar[bool] = True

    service: InstanceOf[Service] | DNS1035Label | None = None
    port: PortName | PortNumber | None = None
    paths: tuple[RoutePath, ...] = ()

    # Its own __init__, so type checkers call the runtime one, not a synthesized one.
    def __init__(self, name: str, /, **data: Any) -> None:
        super().__init__(name, **data)

    @model_validator(mode="after")
    def _one_way_to_route(self) -> Route:
        if (self.service is None) == (not self.paths):
            raise InvalidValue(
                "a route needs exactly one of service= (everything to one Service) or "
                "paths=[RoutePath(...)]",
                fix="pass service=web (a Service of the stack)",
            )
        if self.port is not None and self.service is None:
            raise InvalidValue("port= goes with service=; a RoutePath has its own port=",
                               fix="drop port=", field="port", value=self.port)
        return self

    def route_paths(self) -> list[RoutePath]:
        """``paths``, or the one path ``service=`` stands for."""
        if self.service is None:
            return list(self.paths)
        return [RoutePath.trusted(self._origin, path="/", service=self.service, port=self.port)]

    def used_objects(self) -> list[Resource]:
        return [p.service for p in self.route_paths() if isinstance(p.service, Service)]

    def backends(self) -> list[_Backend]:
        """Each path's Service, port and workload; InvalidValue when one cannot be resolved."""
        return [self._backend(path) for path in self.route_paths()]

    def _backend(self, path: RoutePath) -> _Backend:
        service = self._service(path)
        ports = service.service_ports()
        if path.port is None:
            if len(ports) != 1:
                names = ", ".join(str(p["name"]) for p in ports) or "none"
                raise InvalidValue(
                    f"Service {service.name} has {len(ports)} ports ({names}); say which one",
                    fix=f"pass port='{ports[0]['name'] if ports else 'http'}'",
                    field="port",
                )
            return _Backend(path, service, ports[0])
        for port in ports:
            if path.port in (port["name"], port["port"]):
                return _Backend(path, service, port)
        listed = ", ".join(f"{p['name']}={p['port']}" for p in ports) or "none"
        raise InvalidValue(
            f"Service {service.name} has no port {path.port!r} (ports: {listed})",
            fix="use one of its port names", field="port", value=path.port,
        )

    def _service(self, path: RoutePath) -> Service:
        stack = self._stack
        found = path.service
        if isinstance(found, str):
            found = _find_service(stack, self.namespace, found)
        elif found.namespace != self.namespace:
            raise InvalidValue(
                f"Service {found.namespace}/{found.name} is in another namespace; a route "
                f"reaches only Services of its own ({self.namespace})",
                fix="put the route in the Service's namespace",
                field="service", value=found.name,
            )
        if found.target is None or found.target._stack is not stack:
            raise InvalidValue(
                f"Service {found.name} selects pods by labels, not a workload of the stack, so "
                "the policy letting the controller reach them cannot be derived",
                fix="build the Service with target=<workload>, or use allow_from() yourself",
                field="service", value=found.name,
            )
        return found

    # -- the derived policy -------------------------------------------------------------------

    def controller_peer(self, stack: Stack) -> ExternalPeer | Workload:
        """The pods that connect to the backends (from the route or the stack's cluster)."""
        raise NotImplementedError

    def connections(self, stack: Stack) -> list[Connection]:
        """One connection per backend: controller pods → backend pods, on the target port."""
        try:
            peer = self.controller_peer(stack)
            backends = self.backends()
        except InvalidValue as exc:
            raise error_from(exc).located(origin=self._origin, resource=self.display) from None
        return [
            Connection(source=peer, target=b.workload, port=b.target_port, origin=self._origin)
            for b in backends
        ]


def _find_service(stack: Stack | None, namespace: str | None, name: str) -> Service:
    for res in stack or ():
        if isinstance(res, Service) and res.name == name and res.namespace == namespace:
            return res
    raise InvalidValue(
        f"no Service {namespace}/{name} in this stack",
        fix="pass the Service object (web.expose() returns it), or add the Service",
        field="service", value=name,
    )


def _peer_of(controller: IngressController | ClusterGateway | Workload) -> ExternalPeer | Workload:
    if isinstance(controller, Workload):
        return controller
    namespace = (controller.proxy_namespace if isinstance(controller, ClusterGateway)
                 else controller.namespace)
    return ExternalPeer.of(namespace=namespace, pods=controller.pods)


class IngressArgs(RouteArgs, total=False):
    hosts: Required[list[str] | tuple[str, ...]]
    ingress_class: str | None
    tls_secret: str | None
    cert_manager: str | None
    cert_manager_kind: Literal["ClusterIssuer", "Issuer"]
    controller: IngressController | Workload | None
    allow_plain_http: str | None


class Ingress(Route):
    """An Ingress (``networking.k8s.io/v1``) for ``hosts``, with TLS.

    ``Ingress("shop", hosts=["shop.example.com"], service=web_svc, cert_manager="letsencrypt")``

    Args:
        hosts: DNS names it serves (``*.example.com`` allowed); at least one.
        service / port: everything to one Service (by object or name) and port; or
        paths: :class:`~kubegen.RoutePath` s, e.g. ``[RoutePath("/api", service=api_svc),
            RoutePath("/", service=web_svc)]`` (rendered ``Prefix``, or ``Exact``).
        ingress_class: ``ingressClassName``; defaults to the controller's ``class_name``
            (else the cluster's default class).
        tls_secret: the Secret holding the certificate (type ``kubernetes.io/tls``, in this
            namespace). With ``cert_manager`` it is where cert-manager writes it (defaults to
            ``<name>-tls``).
        cert_manager: the issuer cert-manager gets the certificate from; rendered as the
            ``cert-manager.io/cluster-issuer`` annotation (``cert-manager.io/issuer`` with
            ``cert_manager_kind="Issuer"``).
        controller: the controller's pods, instead of the cluster's ``ingress``: an
            :class:`~kubegen.IngressController`, or its workload in this stack.
        allow_plain_http: why this Ingress serves HTTP without TLS.
    """

    api_version: ClassVar[str] = "networking.k8s.io/v1"
    kind: ClassVar[str] = "Ingress"

    hosts: tuple[str, ...] = Field(min_length=1)
    ingress_class: DNSSubdomain | None = None
    tls_secret: DNSSubdomain | None = None
    cert_manager: DNSSubdomain | None = None
    cert_manager_kind: Literal["ClusterIssuer", "Issuer"] = "ClusterIssuer"
    controller: IngressController | InstanceOf[Workload] | None = None
    allow_plain_http: Reason | None = None

    def __init__(self, name: str, /, **data: Unpack[IngressArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(hosts)) != len(hosts):
            raise InvalidValue("a host is listed twice", fix="list each host once")
        return tuple(check_hostname(h) for h in hosts)

    @model_validator(mode="after")
    def _tls(self) -> Ingress:
        tls = self.tls_secret is not None or self.cert_manager is not None
        if not tls and self.allow_plain_http is None:
            raise InvalidValue(
                "serves plain HTTP: passwords and cookies would cross the internet unencrypted",
                fix="pass cert_manager='letsencrypt-prod' (cert-manager issues the certificate) "
                "or tls_secret='<a kubernetes.io/tls Secret>', or allow_plain_http='why'",
            )
        if tls and self.allow_plain_http is not None:
            raise InvalidValue("allow_plain_http is set but the Ingress has TLS",
                               fix="drop allow_plain_http", field="allow_plain_http",
                               value=self.allow_plain_http)
        if self.cert_manager is None and "cert_manager_kind" in self.model_fields_set:
            raise InvalidValue("cert_manager_kind goes with cert_manager=",
                               fix="pass cert_manager='<issuer>' or drop cert_manager_kind",
                               field="cert_manager_kind", value=self.cert_manager_kind)
        return self

    def controller_peer(self, stack: Stack) -> ExternalPeer | Workload:
        controller = self.controller or _cluster_ingress(stack)
        if controller is None:
            raise InvalidValue(
                "no ingress controller is known, so the policy letting it reach the backends "
                "cannot be derived",
                fix="declare it once: Stack(cluster=Cluster(..., ingress=IngressController("
                "namespace='ingress-nginx', pods={'app.kubernetes.io/name': 'ingress-nginx'})))"
                ", or pass controller= to the Ingress",
            )
        return _peer_of(controller)

    def manifests(self) -> list[ManifestObject]:
        try:
            backends = self.backends()
        except InvalidValue as exc:
            raise error_from(exc) from None
        if self.allow_plain_http is not None:
            self.opt_out("plain-http", self.allow_plain_http)
        meta = self.metadata()
        if self.cert_manager is not None:
            key = ("cert-manager.io/cluster-issuer" if self.cert_manager_kind == "ClusterIssuer"
                   else "cert-manager.io/issuer")
            meta["annotations"] = {**meta.get("annotations", {}), key: self.cert_manager}
        spec: dict[str, Any] = {}
        ingress_class = self.ingress_class or self._controller_class()
        if ingress_class is not None:
            spec["ingressClassName"] = ingress_class
        secret = self.tls_secret or (f"{self.name}-tls" if self.cert_manager else None)
        if secret is not None:
            spec["tls"] = [{"hosts": list(self.hosts), "secretName": secret}]
        http = {"paths": [_ingress_path(b) for b in backends]}
        spec["rules"] = [{"host": host, "http": http} for host in self.hosts]
        body = {"apiVersion": self.api_version, "kind": self.kind, "metadata": meta,
                "spec": spec}
        return [self.manifest(body)]

    def _controller_class(self) -> str | None:
        controller = self.controller
        if controller is None:
            controller = _cluster_ingress(self._stack)
        return controller.class_name if isinstance(controller, IngressController) else None


def _cluster_ingress(stack: Stack | None) -> IngressController | None:
    cluster = getattr(stack, "cluster", None)
    found = getattr(cluster, "ingress", None)
    return found if isinstance(found, IngressController) else None


def _ingress_path(backend: _Backend) -> dict[str, Any]:
    return {
        "path": backend.path.path,
        "pathType": "Exact" if backend.path.exact else "Prefix",
        "backend": {"service": {"name": backend.service.name,
                                "port": {"number": backend.number}}},
    }


class HTTPRouteArgs(RouteArgs, total=False):
    hostnames: list[str] | tuple[str, ...]
    gateway: ClusterGateway | str | None
    controller: Workload | None


class HTTPRoute(Route):
    """A Gateway API HTTPRoute (``gateway.networking.k8s.io/v1``) attached to a Gateway.

    ``HTTPRoute("shop", hostnames=["shop.example.com"], service=web_svc)``

    Args:
        hostnames: DNS names it serves (``*.example.com`` allowed); all the listener's when
            none.
        service / port: everything to one Service and port; or
        paths: :class:`~kubegen.RoutePath` s (``PathPrefix``, or ``Exact``).
        gateway: the :class:`~kubegen.ClusterGateway` it attaches to (``parentRefs``), or the
            name of one of the cluster's ``gateways``; defaults to the cluster's only gateway.
        controller: the Gateway's data-plane workload when the stack deploys it; otherwise
            the gateway's ``pods``.

    The schema of the rendered object is the upstream CRD's (Gateway API v1.6.1, standard
    channel): register the CRDs with ``kubegen.register_crd`` and KG001 checks it strictly.
    """

    api_version: ClassVar[str] = f"{GATEWAY_GROUP}/v1"
    kind: ClassVar[str] = "HTTPRoute"

    hostnames: tuple[str, ...] = ()
    gateway: ClusterGateway | DNSSubdomain | None = None
    controller: InstanceOf[Workload] | None = None

    def __init__(self, name: str, /, **data: Unpack[HTTPRouteArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("hostnames")
    @classmethod
    def _hostnames(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        if len(hosts) > 16:
            raise InvalidValue("an HTTPRoute lists at most 16 hostnames",
                               fix="split it into several routes")
        return tuple(check_hostname(h) for h in hosts)

    @model_validator(mode="after")
    def _rules(self) -> HTTPRoute:
        if len(self.route_paths()) > 16:
            raise InvalidValue("an HTTPRoute has at most 16 rules",
                               fix="split the paths over several routes", field="paths")
        return self

    def parent(self) -> ClusterGateway:
        """The Gateway this route attaches to."""
        gateway = self.gateway
        if isinstance(gateway, ClusterGateway):
            return gateway
        cluster = getattr(self._stack, "cluster", None)
        known: tuple[ClusterGateway, ...] = getattr(cluster, "gateways", ())
        if gateway is None and len(known) == 1:
            return known[0]
        matches = [g for g in known if g.name == gateway]
        if gateway is not None and len(matches) == 1:
            return matches[0]
        names = ", ".join(f"{g.namespace}/{g.name}" for g in known) or "none"
        raise InvalidValue(
            ("name the gateway to attach to" if gateway is None else
             f"the cluster has no single gateway named {gateway!r}") + f" (its gateways: {names})",
            fix="pass gateway=ClusterGateway('public', namespace=..., pods={...}), or list it "
            "in Cluster(gateways=[...])",
            field="gateway", value=gateway,
        )

    def controller_peer(self, stack: Stack) -> ExternalPeer | Workload:
        return _peer_of(self.controller or self.parent())

    def manifests(self) -> list[ManifestObject]:
        try:
            parent = self.parent()
            backends = self.backends()
        except InvalidValue as exc:
            raise error_from(exc) from None
        ref: dict[str, Any] = {"group": GATEWAY_GROUP, "kind": "Gateway", "name": parent.name}
        if parent.namespace != self.namespace:
            ref["namespace"] = parent.namespace
        if parent.section is not None:
            ref["sectionName"] = parent.section
        spec: dict[str, Any] = {"parentRefs": [ref]}
        if self.hostnames:
            spec["hostnames"] = list(self.hostnames)
        spec["rules"] = [_route_rule(b) for b in backends]
        body = {"apiVersion": self.api_version, "kind": self.kind,
                "metadata": self.metadata(), "spec": spec}
        return [self.manifest(body)]


def _route_rule(backend: _Backend) -> dict[str, Any]:
    match = {"type": "Exact" if backend.path.exact else "PathPrefix", "value": backend.path.path}
    return {
        "matches": [{"path": match}],
        "backendRefs": [{"name": backend.service.name, "port": backend.number}],
    }


def route_connections(stack: Stack) -> list[Connection]:
    """The connections every route of ``stack`` derives (controller → backends)."""
    return [conn for res in stack if isinstance(res, Route) for conn in res.connections(stack)]


__all__ = [
    "HTTPRoute",
    "Ingress",
    "Route",
    "RoutePath",
    "check_hostname",
    "route_connections",
]
