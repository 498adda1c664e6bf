"""Services as typed ``Service(...)`` calls, for ``kubegen import manifests``, and what the API
server defaults in a Service spec (so the importer's proof compares what the cluster reads).

ClusterIP, headless, NodePort and LoadBalancer Services selecting pods, with ``ClientIP``
session affinity (at the API's default timeout: the builder has no argument for another), and
ExternalName Services (a DNS alias, no selector; their ports by number too) map; anything else
raises :class:`~kubegen._vendor.import_base.Unmapped` with the field, and the Service stays a
``Manifest`` with that reason. The call is kept only when it renders the input back.
"""

from __future__ import annotations

from typing import Any

from kubegen._vendor.import_base import Unmapped, only

_FIELDS = {"externalTrafficPolicy": "external_traffic_policy",
           "ipFamilies": "ip_families", "ipFamilyPolicy": "ip_family_policy"}
_TYPES = {None: "", "ClusterIP": "", "Headless": "Headless", "NodePort": "NodePort",
          "LoadBalancer": "LoadBalancer"}
# SetDefaults_Service: ClientIP affinity lasts 3 hours unless the Service says otherwise.
_AFFINITY_DEFAULT = {"clientIP": {"timeoutSeconds": 10800}}


def service_defaults(spec: dict[str, Any]) -> dict[str, Any]:
    """A Service spec without the API server's defaults: ``type: ClusterIP``, ``protocol: TCP``,
    a ``targetPort`` equal to ``port``, ``sessionAffinity: None`` and ClientIP affinity's
    default timeout."""
    out = {k: v for k, v in spec.items() if not (k == "type" and v == "ClusterIP") and not (
        k == "sessionAffinity" and v == "None")}
    if out.get("sessionAffinity") == "ClientIP" and out.get(
            "sessionAffinityConfig") == _AFFINITY_DEFAULT:
        del out["sessionAffinityConfig"]
    if not isinstance(spec.get("ports") or [], list):
        return out  # malformed: compared as it is
    ports = []
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port = {k: v for k, v in port.items() if not (k == "protocol" and v == "TCP")}
            if port.get("targetPort") == port.get("port"):
                port.pop("targetPort", None)
        ports.append(port)
    if ports:
        out["ports"] = ports
    return out


def service_call(body: dict[str, Any], name: str, rest: str) -> str:
    """The ``Service(...)`` call for ``body`` (``rest``: its metadata arguments), or
    :class:`Unmapped` naming the field no ``Service`` argument takes."""
    spec = service_defaults(dict(body["spec"]))
    if spec.get("type") == "ExternalName":
        return _external_name(spec, name, rest)
    headless = spec.pop("clusterIP", None) == "None"
    if headless and spec.get("type", "ClusterIP") == "ClusterIP":
        spec["type"] = "Headless"
    elif "clusterIP" in body["spec"]:
        raise Unmapped("spec.clusterIP (a fixed cluster IP)")
    only(spec, {"selector", "ports", "type", "sessionAffinity", *_FIELDS}, "spec")
    if spec.get("type") not in _TYPES:
        raise Unmapped(f"spec.type ({spec.get('type')!r})")
    if spec.get("sessionAffinity", "ClientIP") != "ClientIP":
        raise Unmapped("spec.sessionAffinity")
    ports = _ports(spec, numbered=False)
    kind = _TYPES[spec.get("type")]
    more = f", type={kind!r}" if kind else ""
    for key, arg in _FIELDS.items():
        if key in spec:
            more += f", {arg}={spec[key]!r}"
    if "sessionAffinity" in spec:
        more += ", session_affinity='ClientIP'"
    if kind in ("NodePort", "LoadBalancer"):
        more += ", allow_external=REASON"
    return (f"Service({name!r}{rest}, selector={spec.get('selector') or {}!r}, "
            f"ports=[{', '.join(ports)}]{more})")


def _external_name(spec: dict[str, Any], name: str, rest: str) -> str:
    """An ExternalName Service: its host, and the ports it documents (no selector)."""
    only(spec, {"type", "externalName", "ports"}, "spec")
    if not isinstance(spec.get("externalName"), str):
        raise Unmapped("spec.externalName")
    ports = _ports(spec, numbered=True)
    more = f", ports=[{', '.join(ports)}]" if ports else ""
    return f"Service({name!r}{rest}, type='ExternalName', external_name={spec['externalName']!r}" \
        f"{more})"


def _ports(spec: dict[str, Any], *, numbered: bool) -> list[str]:
    """``ServicePort(...)`` calls; :class:`Unmapped` for a port the builder cannot write: a
    protocol other than TCP, or a numeric ``targetPort`` unless ``numbered`` (an ExternalName
    Service's, which forwards nothing: ``ServicePort(5432)``)."""
    ports = []
    for index, port in enumerate(spec.get("ports") or []):
        where = f"spec.ports[{index}]"
        only(port, {"name", "port", "targetPort", "protocol", "nodePort", "appProtocol"}, where)
        target = port.get("targetPort", port.get("port"))  # unset: the port's own number
        if port.get("protocol", "TCP") != "TCP":
            raise Unmapped(f"{where}.protocol ({port['protocol']}: a typed ServicePort is TCP)")
        if not isinstance(target, str) and not numbered:
            raise Unmapped(f"{where}.targetPort ({target!r}: a typed ServicePort forwards to a "
                           "named container port)")
        args = [repr(target)]
        if isinstance(target, str) or port.get("port") != target:
            args.append(f"port={port.get('port')!r}")
        if port.get("name"):
            args.append(f"name={port['name']!r}")
        if port.get("nodePort"):
            args.append(f"node_port={port['nodePort']!r}")
        if port.get("appProtocol"):
            args.append(f"app_protocol={port['appProtocol']!r}")
        ports.append(f"ServicePort({', '.join(args)})")
    return ports
