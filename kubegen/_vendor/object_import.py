"""The builder calls of objects that are not workloads: ServiceAccounts, ConfigMaps,
Services, NetworkPolicies and RBAC, as text for the module ``kubegen import manifests`` writes.

Each call is only a candidate: :mod:`kubegen._vendor.manifest_import` builds and renders it and
keeps it only when the result is the input object.
"""

from __future__ import annotations

from typing import Any

from kubegen._vendor.import_base import Unmapped, only
from kubegen._vendor.service_import import service_call

__all__ = ["REASON", "network_policy_defaults", "typed_call"]

REASON = "imported as is by `kubegen import manifests`; review"


def _meta_args(body: dict[str, Any], namespace: str | None) -> str:
    meta = body["metadata"]
    args = []
    if meta.get("namespace") and meta.get("namespace") != namespace:
        args.append(f"namespace={meta['namespace']!r}")
    for key in ("labels", "annotations"):
        if meta.get(key):
            args.append(f"{key}={meta[key]!r}")
    return "".join(f", {a}" for a in args)


def _rules(rules: Any) -> str:
    out = []
    for rule in rules or []:
        args = []
        for key, name in (("apiGroups", "api_groups"), ("resources", "resources"),
                          ("resourceNames", "resource_names"),
                          ("nonResourceURLs", "non_resource_urls"), ("verbs", "verbs")):
            if key in rule:
                args.append(f"{name}={list(rule[key])!r}")
        out.append(f"Rule({', '.join(args)})")
    return "[" + ", ".join(out) + "]"


_FIELDS = {  # (kind, apiVersion) -> the top-level fields its typed builder takes
    ("ServiceAccount", "v1"): {"automountServiceAccountToken", "imagePullSecrets"},
    ("ConfigMap", "v1"): {"data", "immutable"},
    ("Service", "v1"): {"spec"},
    ("NetworkPolicy", "networking.k8s.io/v1"): {"spec"},
    **{(kind, "rbac.authorization.k8s.io/v1"): {"rules"} for kind in ("Role", "ClusterRole")},
    **{(kind, "rbac.authorization.k8s.io/v1"): {"roleRef", "subjects"}
       for kind in ("RoleBinding", "ClusterRoleBinding")},
}


def typed_call(body: dict[str, Any], namespace: str | None, defined: set[tuple[str, str, str]]) -> (
        str | None):
    """A builder call for ``body``; None when the importer maps no object of its kind and
    version, :class:`Unmapped` (the field) when no typed call could render this one."""
    kind, meta = body["kind"], body["metadata"]
    name = meta["name"]
    fields = _FIELDS.get((kind, body["apiVersion"]))
    if fields is None:
        return None
    extra = sorted(set(body) - {"apiVersion", "kind", "metadata"} - fields)
    if extra:
        raise Unmapped(extra[0])
    if kind == "Service" and "spec" not in body:
        raise Unmapped("spec")
    rest = _meta_args(body, namespace)
    if kind == "ServiceAccount":
        pulls = [s.get("name") for s in body.get("imagePullSecrets") or []]
        more = f", image_pull_secrets={pulls!r}" if pulls else ""
        if body.get("automountServiceAccountToken", True):
            more += f", allow={{'token-automount': {REASON!r}}}"
        return f"ServiceAccount({name!r}{rest}{more})"
    if kind == "ConfigMap":
        more = f", data={body['data']!r}" if body.get("data") else ""
        if "immutable" in body:
            more += f", immutable={body['immutable']!r}"
        return f"ConfigMap({name!r}{rest}{more})"
    if kind == "Service":
        return service_call(body, name, rest)
    if kind == "NetworkPolicy":
        return _network_policy(body.get("spec") or {}, name, rest)
    if kind in ("Role", "ClusterRole"):
        return f"{kind}({name!r}{rest}, rules={_rules(body.get('rules'))})"
    return _binding(body, namespace, defined, rest)


def _binding(
    body: dict[str, Any], namespace: str | None, defined: set[tuple[str, str, str]], rest: str
) -> str:
    """A RoleBinding's or ClusterRoleBinding's call: ServiceAccount subjects only."""
    kind, meta, name = body["kind"], body["metadata"], body["metadata"]["name"]
    ref = body.get("roleRef") or {}
    role_ns = meta.get("namespace") or namespace or ""
    key = (ref.get("kind"), role_ns if ref.get("kind") == "Role" else "", ref.get("name"))
    external = ", external=True" if key not in defined else ""
    role = f"RoleRef({ref.get('name')!r}, kind={ref.get('kind')!r}{external})"
    subjects = []
    for index, subject in enumerate(body.get("subjects") or []):
        if subject.get("kind") != "ServiceAccount":
            raise Unmapped(f"subjects[{index}] (a {subject.get('kind')}: a typed binding "
                           "binds ServiceAccounts)")
        sns = subject.get("namespace")
        ext = "" if ("ServiceAccount", sns or role_ns, subject.get("name")) in defined else (
            ", external=True")
        subjects.append(f"ServiceAccountRef({subject.get('name')!r}, namespace={sns!r}{ext})")
    return f"{kind}({name!r}{rest}, role={role}, subjects=[{', '.join(subjects)}])"


def _call(cls: str, args: list[str]) -> str:
    return f"{cls}({', '.join(args)})"


def _selector(sel: Any, where: str) -> str:
    if not isinstance(sel, dict):
        raise Unmapped(where)
    args = []
    if sel.get("matchLabels"):
        args.append(f"match_labels={sel['matchLabels']!r}")
    reqs = [
        _call("LabelSelectorRequirement", _requirement(r))
        for r in sel.get("matchExpressions") or []
    ]
    if reqs:
        args.append(f"match_expressions=[{', '.join(reqs)}]")
    only(sel, {"matchLabels", "matchExpressions"}, where)
    return _call("LabelSelector", args)


def _requirement(req: dict[str, Any]) -> list[str]:
    args = [f"key={req.get('key')!r}", f"operator={req.get('operator')!r}"]
    if req.get("values"):
        args.append(f"values={list(req['values'])!r}")
    return args


def _peer(peer: Any, where: str) -> str:
    args = []
    for key, name in (("podSelector", "pod_selector"), ("namespaceSelector", "namespace_selector")):
        if key in peer:
            args.append(f"{name}={_selector(peer[key], f'{where}.{key}')}")
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        block_args = [f"cidr={block.get('cidr')!r}"]
        if block.get("except"):
            block_args.append(f"except_={list(block['except'])!r}")
        args.append(f"ip_block={_call('IPBlock', block_args)}")
    only(peer, {"podSelector", "namespaceSelector", "ipBlock"}, where)
    return _call("NetworkPolicyPeer", args)


def _ports(ports: Any) -> str:
    out = []
    for port in ports or []:
        args = [f"{name}={port[key]!r}" for key, name in (
            ("port", "port"), ("endPort", "end_port"), ("protocol", "protocol")) if key in port]
        out.append(_call("NetworkPolicyPort", args))
    return "[" + ", ".join(out) + "]"


def network_policy_defaults(spec: dict[str, Any]) -> dict[str, Any]:
    """A NetworkPolicy spec with the API server's default protocol (``SetDefaults_NetworkPolicy``:
    TCP) written into each rule's ports, so a typed call, which writes it, compares equal."""
    out = dict(spec)
    for key in ("ingress", "egress"):
        rules = out.get(key)
        if not isinstance(rules, list):
            continue
        out[key] = [{**rule, "ports": [
            {"protocol": "TCP", **port} if isinstance(port, dict) else port
            for port in rule["ports"]]} if isinstance(rule, dict) and isinstance(
                rule.get("ports"), list) else rule for rule in rules]
    return out


def _network_policy(spec: dict[str, Any], name: str, rest: str) -> str:
    """The ``NetworkPolicy(...)`` call, or :class:`Unmapped` naming the field it cannot take."""
    only(spec, {"podSelector", "policyTypes", "ingress", "egress"}, "spec")
    args = [repr(name) + rest]
    args.append(f"pod_selector={_selector(spec.get('podSelector') or {}, 'spec.podSelector')}")
    args.append(f"policy_types={list(spec.get('policyTypes') or [])!r}")
    for key, field_, cls in (("ingress", "from", "IngressRule"), ("egress", "to",
                                                                  "EgressRule")):
        rules = []
        for index, rule in enumerate(spec.get(key) or []):
            where = f"spec.{key}[{index}]"
            only(rule, {field_, "ports"}, where)
            peers = ", ".join(_peer(p, f"{where}.{field_}[{i}]")
                              for i, p in enumerate(rule.get(field_) or []))
            arg = "from_" if field_ == "from" else "to"
            rules.append(_call(cls, [f"{arg}=[{peers}]", f"ports={_ports(rule.get('ports'))}"]))
        if key in spec:
            args.append(f"{key}=[{', '.join(rules)}]")
    return _call("NetworkPolicy", args)
