"""The cluster's edge: where traffic from outside the cluster enters it.

Routes (:class:`~kubegen.Ingress`, :class:`~kubegen.HTTPRoute`) hand requests to the pods of an
ingress controller or of a Gateway's data plane, which then connect to the backend pods. Under
kubegen's default-deny, the backend must admit those pods: the route derives that ingress rule,
from the facts declared here, once per cluster (``Cluster(ingress=…, gateways=[…])``) or per
route (``controller=``).

* :class:`IngressController` — the namespace and pod labels of an ingress controller
  (ingress-nginx: ``IngressController(namespace="ingress-nginx", pods={
  "app.kubernetes.io/name": "ingress-nginx"}, class_name="nginx")``).
* :class:`ClusterGateway` — a Gateway API ``Gateway`` the platform runs, and where its data
  plane's pods are (Envoy Gateway runs them in ``envoy-gateway-system`` with the label
  ``gateway.envoyproxy.io/owning-gateway-name: <gateway>``; Istio and NGINX Gateway Fabric in the
  Gateway's namespace with ``gateway.networking.k8s.io/gateway-name: <gateway>``).

See https://kubernetes.io/docs/concepts/services-networking/ingress-controllers/ and
https://gateway-api.sigs.k8s.io/concepts/api-overview/.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Required, TypedDict, Unpack

from pydantic import Field

from kubegen._builders.base import Builder
from kubegen._values import DNSLabel, DNSSubdomain, LabelMap


class IngressControllerArgs(TypedDict, total=False):
    namespace: Required[str]
    pods: Required[Mapping[str, str]]
    class_name: str | None


class IngressController(Builder):
    """An ingress controller: the pods that carry Ingress traffic into the cluster.

    Args:
        namespace: where its pods run (``ingress-nginx``).
        pods: labels selecting its pods (``{"app.kubernetes.io/name": "ingress-nginx"}``).
        class_name: its IngressClass; rendered as ``ingressClassName`` of every Ingress that
            names none. None: the cluster's default IngressClass.
    """

    namespace: DNSLabel
    pods: LabelMap = Field(min_length=1)
    class_name: DNSSubdomain | None = None

    def __init__(self, /, **data: Unpack[IngressControllerArgs]) -> None:
        super().__init__(**data)


class ClusterGatewayArgs(TypedDict, total=False):
    namespace: Required[str]
    pods: Required[Mapping[str, str]]
    pods_namespace: str | None
    section: str | None


class ClusterGateway(Builder):
    """A Gateway API ``Gateway`` of the cluster that HTTPRoutes attach to.

    Args:
        name: the Gateway's name (``parentRefs[].name`` of the routes).
        namespace: the Gateway's namespace.
        pods: labels selecting its data-plane pods (the proxies that connect to backends).
        pods_namespace: where those pods run; defaults to the Gateway's namespace.
        section: a listener of the Gateway routes attach to (``sectionName``); all when unset.
    """

    name: DNSSubdomain
    namespace: DNSLabel
    pods: LabelMap = Field(min_length=1)
    pods_namespace: DNSLabel | None = None
    section: DNSSubdomain | None = None

    def __init__(self, name: str, /, **data: Unpack[ClusterGatewayArgs]) -> None:
        super().__init__(name=name, **data)

    @property
    def proxy_namespace(self) -> str:
        """Where the data-plane pods run."""
        return self.pods_namespace or self.namespace


__all__ = ["ClusterGateway", "IngressController"]
