"""The builder calls of objects that are not workloads: ServiceAccounts, ConfigMaps,
Services, NetworkPolicies and RBAC, as text for the module ``kubegen import manifests`` writes.

Each call is only a candidate: :mod:`kubegen._vendor.manifest_import` builds and renders it and
keeps it only when the result is the input object.
"""

from __future__ import annotations

from typing import Any

from kubegen._vendor.import_base import Unmapped
from kubegen._vendor.service_import import service_call

__all__ = ["REASON", "typed_call"]

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


def typed_call(body: dict[str, Any], namespace: str | None, defined: set[tuple[str, str, str]]) -> (
        str | None):
    """A builder call for ``body``, or None when kubegen has no builder that could match."""
    kind, meta = body["kind"], body["metadata"]
    name = meta["name"]
    extra = set(body) - {"apiVersion", "kind", "metadata"}
    rest = _meta_args(body, namespace)
    if kind == "ServiceAccount" and body["apiVersion"] == "v1" and extra <= {
            "automountServiceAccountToken", "imagePullSecrets"}:
        pulls = [s.get("name") for s in body.get("imagePullSecrets") or []]
        more = f", image_pull_secrets={pulls!r}" if pulls else ""
        if body.get("automountServiceAccountToken", True):
            more += f", allow={{'token-automount': {REASON!r}}}"
        return f"ServiceAccount({name!r}{rest}{more})"
    if kind == "ConfigMap" and body["apiVersion"] == "v1" and extra <= {"data", "immutable"}:
        more = f", data={body['data']!r}" if body.get("data") else ""
        if "immutable" in body:
            more += f", immutable={body['immutable']!r}"
        return f"ConfigMap({name!r}{rest}{more})"
    if kind == "Service" and body["apiVersion"] == "v1" and extra == {"spec"}:
        return service_call(body, name, rest)
    if kind == "NetworkPolicy" and extra == {"spec"}:
        return _network_policy(body["spec"], name, rest)
    if kind in ("Role", "ClusterRole") and extra <= {"rules"}:
        return f"{kind}({name!r}{rest}, rules={_rules(body.get('rules'))})"
    if kind in ("RoleBinding", "ClusterRoleBinding") and extra <= {"roleRef", "subjects"}:
        ref = body.get("roleRef") or {}
        role_ns = meta.get("namespace") or namespace or ""
        key = (ref.get("kind"), role_ns if ref.get("kind") == "Role" else "", ref.get("name"))
        external = ", external=True" if key not in defined else ""
        role = f"RoleRef({ref.get('name')!r}, kind={ref.get('kind')!r}{external})"
        subjects = []
        for subject in body.get("subjects") or []:
            if subject.get("kind") != "ServiceAccount":
                return None
            sns = subject.get("namespace")
            ext = "" if ("ServiceAccount", sns or role_ns, subject.get("name")) in defined else (
                ", external=True")
            subjects.append(f"ServiceAccountRef({subject.get('name')!r}, namespace={sns!r}{ext})")
        return f"{kind}({name!r}{rest}, role={role}, subjects=[{', '.join(subjects)}])"
    return None


def _call(cls: str, args: list[str]) -> str:
    return f"{cls}({', '.join(args)})"


def _selector(sel: Any) -> str:
    if not isinstance(sel, dict):
        raise Unmapped
    args = []
    if sel.get("matchLabels"):
        args.append(f"match_labels={sel['matchLabels']!r}")
    reqs = [
        _call("LabelSelectorRequirement", _requirement(r))
        for r in sel.get("matchExpressions") or []
    ]
    if reqs:
        args.append(f"match_expressions=[{', '.join(reqs)}]")
    if set(sel) - {"matchLabels", "matchExpressions"}:
        raise Unmapped
    return _call("LabelSelector", args)


def _requirement(req: dict[str, Any]) -> list[str]:
    args = [f"key={req.get('key')!r}", f"operator={req.get('operator')!r}"]
    if req.get("values"):
        args.append(f"values={list(req['values'])!r}")
    return args


def _peer(peer: Any) -> str:
    args = []
    for key, name in (("podSelector", "pod_selector"), ("namespaceSelector", "namespace_selector")):
        if key in peer:
            args.append(f"{name}={_selector(peer[key])}")
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        block_args = [f"cidr={block.get('cidr')!r}"]
        if block.get("except"):
            block_args.append(f"except_={list(block['except'])!r}")
        args.append(f"ip_block={_call('IPBlock', block_args)}")
    if set(peer) - {"podSelector", "namespaceSelector", "ipBlock"}:
        raise Unmapped
    return _call("NetworkPolicyPeer", args)


def _ports(ports: Any) -> str:
    out = []
    for port in ports or []:
        args = [f"{name}={port[key]!r}" for key, name in (
            ("port", "port"), ("endPort", "end_port"), ("protocol", "protocol")) if key in port]
        out.append(_call("NetworkPolicyPort", args))
    return "[" + ", ".join(out) + "]"


def _network_policy(spec: dict[str, Any], name: str, rest: str) -> str | None:
    try:
        args = [repr(name) + rest]
        args.append(f"pod_selector={_selector(spec.get('podSelector') or {})}")
        args.append(f"policy_types={list(spec.get('policyTypes') or [])!r}")
        for key, field_, cls in (("ingress", "from", "IngressRule"), ("egress", "to",
                                                                      "EgressRule")):
            rules = []
            for rule in spec.get(key) or []:
                peers = ", ".join(_peer(p) for p in rule.get(field_) or [])
                arg = "from_" if field_ == "from" else "to"
                rules.append(_call(cls, [f"{arg}=[{peers}]", f"ports={_ports(rule.get('ports'))}"]))
            if key in spec:
                args.append(f"{key}=[{', '.join(rules)}]")
    except (Unmapped, AttributeError, TypeError):
        return None
    return _call("NetworkPolicy", args)
