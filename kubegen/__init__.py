"""kubegen: typed Python instead of templated YAML for Kubernetes.

Write a stack::

    from kubegen import ConfigMap, Stack

    def build() -> Stack:
        stack = Stack("shop", namespace="shop")
        stack.add(ConfigMap("settings", data={"LOG_LEVEL": "info"}))
        return stack

then ``kubegen render stacks/prod`` writes deterministic YAML to ``output/prod/``.
Everything importable from here is public API; modules starting with ``_`` are internal.

Names are loaded on first use (PEP 562), so ``import kubegen`` stays cheap (CLI start-up, stacks
that need a few builders); ``dir()``, ``__all__`` and type checkers (the ``TYPE_CHECKING`` block)
see every name.
"""

# Underscored imports only: everything else in this namespace is public API (a test checks).
import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from kubegen._api import (
        CheckResult,
        WriteResult,
        check,
        lint,
        load_stack,
        load_stacks,
        render,
        write,
    )
    from kubegen._builders.argocd import ArgoApplication, ArgoApplicationSet, ArgoAppProject
    from kubegen._builders.base import Builder, Resource
    from kubegen._builders.cluster import ApiServer, Cluster, FluxKubeConfig
    from kubegen._builders.config import ConfigMap, Template
    from kubegen._builders.core import Manifest, Namespace
    from kubegen._builders.fleet import Environment, Fleet
    from kubegen._builders.flux import FluxGitRepository, FluxHealthCheck, FluxKustomization
    from kubegen._builders.network.defaults import ClusterDNS, NetworkDefaults
    from kubegen._builders.network.edge import ClusterGateway, IngressController
    from kubegen._builders.network.http_routes import HTTPRoute, Ingress, RoutePath
    from kubegen._builders.network.policy import (
        EgressRule,
        IngressRule,
        IPBlock,
        NetworkPolicy,
        NetworkPolicyPeer,
        NetworkPolicyPort,
    )
    from kubegen._builders.network.selectors import LabelSelector, LabelSelectorRequirement
    from kubegen._builders.ordering import Layer, SyncHook
    from kubegen._builders.rbac.accounts import ServiceAccount
    from kubegen._builders.rbac.bindings import ClusterRoleBinding, RoleBinding
    from kubegen._builders.rbac.refs import Group, RoleRef, ServiceAccountRef, User
    from kubegen._builders.rbac.roles import ClusterRole, Role
    from kubegen._builders.rbac.rules import Rule
    from kubegen._builders.secrets import (
        ExternalSecret,
        RemoteKey,
        SealedSecret,
        Secret,
        SecretRef,
    )
    from kubegen._builders.service import Service, ServicePort
    from kubegen._builders.workloads.autoscaling import (
        HorizontalPodAutoscaler,
        ScalingPolicy,
        ScalingRules,
    )
    from kubegen._builders.workloads.container import Container, Port
    from kubegen._builders.workloads.daemonset import DaemonSet
    from kubegen._builders.workloads.defaults import StackDefaults
    from kubegen._builders.workloads.deployment import Deployment
    from kubegen._builders.workloads.dns import DNSConfig
    from kubegen._builders.workloads.env import (
        ConfigMapKey,
        Downward,
        FieldRef,
        ResourceRef,
        SecretKey,
    )
    from kubegen._builders.workloads.jobs import CronJob, Job
    from kubegen._builders.workloads.lifecycle import Hook
    from kubegen._builders.workloads.probes import ExecProbe, GrpcProbe, HttpProbe, TcpProbe
    from kubegen._builders.workloads.resources import Resources
    from kubegen._builders.workloads.scheduling import (
        NodeAffinity,
        NodeRequirement,
        NodeTerm,
        PodAffinity,
        Toleration,
    )
    from kubegen._builders.workloads.standalone import Pod
    from kubegen._builders.workloads.statefulset import StatefulSet, VolumeClaim
    from kubegen._builders.workloads.volumes import (
        Claim,
        ConfigFiles,
        DownwardFiles,
        EmptyDir,
        HostPath,
        Mount,
        SecretFiles,
    )
    from kubegen._errors import (
        CoherenceError,
        ConflictError,
        KubegenError,
        OutputError,
        PolicyError,
        StackLoadError,
        ValidationError,
    )
    from kubegen._manifests import ManifestObject
    from kubegen._origin import Origin
    from kubegen._policy import Finding, Report, Severity
    from kubegen._stack import Stack, StackWaiver
    from kubegen._values import ImageRef
    from kubegen._vendor.crds import register_crd
    from kubegen._vendor.source import Vendored

# Public name -> the module defining it; kept equal to the TYPE_CHECKING imports by a test.
_LAZY: dict[str, str] = {
    "ApiServer": "kubegen._builders.cluster",
    "ArgoAppProject": "kubegen._builders.argocd",
    "ArgoApplication": "kubegen._builders.argocd",
    "ArgoApplicationSet": "kubegen._builders.argocd",
    "Builder": "kubegen._builders.base",
    "CheckResult": "kubegen._api",
    "Claim": "kubegen._builders.workloads.volumes",
    "Cluster": "kubegen._builders.cluster",
    "ClusterDNS": "kubegen._builders.network.defaults",
    "ClusterGateway": "kubegen._builders.network.edge",
    "ClusterRole": "kubegen._builders.rbac.roles",
    "ClusterRoleBinding": "kubegen._builders.rbac.bindings",
    "ConfigFiles": "kubegen._builders.workloads.volumes",
    "ConfigMap": "kubegen._builders.config",
    "ConfigMapKey": "kubegen._builders.workloads.env",
    "CoherenceError": "kubegen._errors",
    "ConflictError": "kubegen._errors",
    "Container": "kubegen._builders.workloads.container",
    "CronJob": "kubegen._builders.workloads.jobs",
    "DNSConfig": "kubegen._builders.workloads.dns",
    "DaemonSet": "kubegen._builders.workloads.daemonset",
    "Deployment": "kubegen._builders.workloads.deployment",
    "Downward": "kubegen._builders.workloads.env",
    "DownwardFiles": "kubegen._builders.workloads.volumes",
    "EgressRule": "kubegen._builders.network.policy",
    "EmptyDir": "kubegen._builders.workloads.volumes",
    "Environment": "kubegen._builders.fleet",
    "ExecProbe": "kubegen._builders.workloads.probes",
    "ExternalSecret": "kubegen._builders.secrets",
    "FieldRef": "kubegen._builders.workloads.env",
    "Finding": "kubegen._policy",
    "Fleet": "kubegen._builders.fleet",
    "FluxGitRepository": "kubegen._builders.flux",
    "FluxHealthCheck": "kubegen._builders.flux",
    "FluxKubeConfig": "kubegen._builders.cluster",
    "FluxKustomization": "kubegen._builders.flux",
    "Group": "kubegen._builders.rbac.refs",
    "GrpcProbe": "kubegen._builders.workloads.probes",
    "HTTPRoute": "kubegen._builders.network.http_routes",
    "Hook": "kubegen._builders.workloads.lifecycle",
    "HorizontalPodAutoscaler": "kubegen._builders.workloads.autoscaling",
    "HostPath": "kubegen._builders.workloads.volumes",
    "HttpProbe": "kubegen._builders.workloads.probes",
    "IPBlock": "kubegen._builders.network.policy",
    "ImageRef": "kubegen._values",
    "Ingress": "kubegen._builders.network.http_routes",
    "IngressController": "kubegen._builders.network.edge",
    "IngressRule": "kubegen._builders.network.policy",
    "Job": "kubegen._builders.workloads.jobs",
    "KubegenError": "kubegen._errors",
    "LabelSelector": "kubegen._builders.network.selectors",
    "LabelSelectorRequirement": "kubegen._builders.network.selectors",
    "Layer": "kubegen._builders.ordering",
    "Manifest": "kubegen._builders.core",
    "ManifestObject": "kubegen._manifests",
    "Mount": "kubegen._builders.workloads.volumes",
    "Namespace": "kubegen._builders.core",
    "NetworkDefaults": "kubegen._builders.network.defaults",
    "NetworkPolicy": "kubegen._builders.network.policy",
    "NetworkPolicyPeer": "kubegen._builders.network.policy",
    "NetworkPolicyPort": "kubegen._builders.network.policy",
    "NodeAffinity": "kubegen._builders.workloads.scheduling",
    "NodeRequirement": "kubegen._builders.workloads.scheduling",
    "NodeTerm": "kubegen._builders.workloads.scheduling",
    "Origin": "kubegen._origin",
    "OutputError": "kubegen._errors",
    "Pod": "kubegen._builders.workloads.standalone",
    "PodAffinity": "kubegen._builders.workloads.scheduling",
    "PolicyError": "kubegen._errors",
    "Port": "kubegen._builders.workloads.container",
    "RemoteKey": "kubegen._builders.secrets",
    "Report": "kubegen._policy",
    "Resource": "kubegen._builders.base",
    "ResourceRef": "kubegen._builders.workloads.env",
    "Resources": "kubegen._builders.workloads.resources",
    "Role": "kubegen._builders.rbac.roles",
    "RoleBinding": "kubegen._builders.rbac.bindings",
    "RoleRef": "kubegen._builders.rbac.refs",
    "RoutePath": "kubegen._builders.network.http_routes",
    "Rule": "kubegen._builders.rbac.rules",
    "ScalingPolicy": "kubegen._builders.workloads.autoscaling",
    "ScalingRules": "kubegen._builders.workloads.autoscaling",
    "SealedSecret": "kubegen._builders.secrets",
    "Secret": "kubegen._builders.secrets",
    "SecretFiles": "kubegen._builders.workloads.volumes",
    "SecretKey": "kubegen._builders.workloads.env",
    "SecretRef": "kubegen._builders.secrets",
    "Service": "kubegen._builders.service",
    "ServiceAccount": "kubegen._builders.rbac.accounts",
    "ServiceAccountRef": "kubegen._builders.rbac.refs",
    "ServicePort": "kubegen._builders.service",
    "Severity": "kubegen._policy",
    "Stack": "kubegen._stack",
    "StackDefaults": "kubegen._builders.workloads.defaults",
    "StackLoadError": "kubegen._errors",
    "StackWaiver": "kubegen._stack",
    "StatefulSet": "kubegen._builders.workloads.statefulset",
    "SyncHook": "kubegen._builders.ordering",
    "TcpProbe": "kubegen._builders.workloads.probes",
    "Template": "kubegen._builders.config",
    "Toleration": "kubegen._builders.workloads.scheduling",
    "User": "kubegen._builders.rbac.refs",
    "ValidationError": "kubegen._errors",
    "Vendored": "kubegen._vendor.source",
    "VolumeClaim": "kubegen._builders.workloads.statefulset",
    "WriteResult": "kubegen._api",
    "check": "kubegen._api",
    "lint": "kubegen._api",
    "load_stack": "kubegen._api",
    "load_stacks": "kubegen._api",
    "register_crd": "kubegen._vendor.crds",
    "render": "kubegen._api",
    "write": "kubegen._api",
}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kubegen' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__version__ = "0.1.0"

__all__ = [
    "ApiServer",
    "ArgoAppProject",
    "ArgoApplication",
    "ArgoApplicationSet",
    "Builder",
    "CheckResult",
    "Claim",
    "Cluster",
    "ClusterDNS",
    "ClusterGateway",
    "ClusterRole",
    "ClusterRoleBinding",
    "CoherenceError",
    "ConfigFiles",
    "ConfigMap",
    "ConfigMapKey",
    "ConflictError",
    "Container",
    "CronJob",
    "DNSConfig",
    "DaemonSet",
    "Deployment",
    "Downward",
    "DownwardFiles",
    "EgressRule",
    "EmptyDir",
    "Environment",
    "ExecProbe",
    "ExternalSecret",
    "FieldRef",
    "Finding",
    "Fleet",
    "FluxGitRepository",
    "FluxHealthCheck",
    "FluxKubeConfig",
    "FluxKustomization",
    "Group",
    "GrpcProbe",
    "HTTPRoute",
    "Hook",
    "HorizontalPodAutoscaler",
    "HostPath",
    "HttpProbe",
    "IPBlock",
    "ImageRef",
    "Ingress",
    "IngressController",
    "IngressRule",
    "Job",
    "KubegenError",
    "LabelSelector",
    "LabelSelectorRequirement",
    "Layer",
    "Manifest",
    "ManifestObject",
    "Mount",
    "Namespace",
    "NetworkDefaults",
    "NetworkPolicy",
    "NetworkPolicyPeer",
    "NetworkPolicyPort",
    "NodeAffinity",
    "NodeRequirement",
    "NodeTerm",
    "Origin",
    "OutputError",
    "Pod",
    "PodAffinity",
    "PolicyError",
    "Port",
    "RemoteKey",
    "Report",
    "Resource",
    "ResourceRef",
    "Resources",
    "Role",
    "RoleBinding",
    "RoleRef",
    "RoutePath",
    "Rule",
    "ScalingPolicy",
    "ScalingRules",
    "SealedSecret",
    "Secret",
    "SecretFiles",
    "SecretKey",
    "SecretRef",
    "Service",
    "ServiceAccount",
    "ServiceAccountRef",
    "ServicePort",
    "Severity",
    "Stack",
    "StackDefaults",
    "StackLoadError",
    "StackWaiver",
    "StatefulSet",
    "SyncHook",
    "TcpProbe",
    "Template",
    "Toleration",
    "User",
    "ValidationError",
    "Vendored",
    "VolumeClaim",
    "WriteResult",
    "__version__",
    "check",
    "lint",
    "load_stack",
    "load_stacks",
    "register_crd",
    "render",
    "write",
]
