"""kubegen: typed Python instead of templated YAML for Kubernetes.

Write a stack::

    from kubegen import ConfigMap, Stack

    def build() -> Stack:
        stack = Stack("shop", namespace="shop")
        stack.add(ConfigMap("settings", data={"LOG_LEVEL": "info"}))
        return stack

then ``kubegen render stacks/prod`` writes deterministic YAML to ``output/prod/``.
Everything importable from here is public API; modules starting with ``_`` are internal.
"""

from kubegen._builders.base import Builder, Resource
from kubegen._builders.config import ConfigMap, Template
from kubegen._builders.core import Manifest, Namespace
from kubegen._builders.gitops import (
    ArgoApplication,
    ArgoApplicationSet,
    FluxGitRepository,
    FluxHealthCheck,
    FluxKustomization,
)
from kubegen._builders.network.defaults import ClusterDNS, NetworkDefaults
from kubegen._builders.network.policy import (
    EgressRule,
    IngressRule,
    IPBlock,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
)
from kubegen._builders.network.selectors import LabelSelector, LabelSelectorRequirement
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
from kubegen._builders.workloads.container import Container, Port
from kubegen._builders.workloads.daemonset import DaemonSet
from kubegen._builders.workloads.defaults import StackDefaults
from kubegen._builders.workloads.deployment import Deployment
from kubegen._builders.workloads.env import (
    ConfigMapKey,
    Downward,
    FieldRef,
    ResourceRef,
    SecretKey,
)
from kubegen._builders.workloads.jobs import CronJob, Job
from kubegen._builders.workloads.probes import ExecProbe, GrpcProbe, HttpProbe, TcpProbe
from kubegen._builders.workloads.resources import Resources
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
    ConflictError,
    KubegenError,
    OutputError,
    PolicyError,
    StackLoadError,
    ValidationError,
)
from kubegen._manifests import ManifestObject
from kubegen._origin import Origin
from kubegen._stack import Stack, StackWaiver
from kubegen._values import ImageRef

__version__ = "0.1.0"

__all__ = [
    "ArgoApplication",
    "ArgoApplicationSet",
    "Builder",
    "Claim",
    "ClusterDNS",
    "ClusterRole",
    "ClusterRoleBinding",
    "ConfigFiles",
    "ConfigMap",
    "ConfigMapKey",
    "ConflictError",
    "Container",
    "CronJob",
    "DaemonSet",
    "Deployment",
    "Downward",
    "DownwardFiles",
    "EgressRule",
    "EmptyDir",
    "ExecProbe",
    "ExternalSecret",
    "FieldRef",
    "FluxGitRepository",
    "FluxHealthCheck",
    "FluxKustomization",
    "Group",
    "GrpcProbe",
    "HostPath",
    "HttpProbe",
    "IPBlock",
    "ImageRef",
    "IngressRule",
    "Job",
    "KubegenError",
    "LabelSelector",
    "LabelSelectorRequirement",
    "Manifest",
    "ManifestObject",
    "Mount",
    "Namespace",
    "NetworkDefaults",
    "NetworkPolicy",
    "NetworkPolicyPeer",
    "NetworkPolicyPort",
    "Origin",
    "OutputError",
    "PolicyError",
    "Port",
    "RemoteKey",
    "Resource",
    "ResourceRef",
    "Resources",
    "Role",
    "RoleBinding",
    "RoleRef",
    "Rule",
    "SealedSecret",
    "Secret",
    "SecretFiles",
    "SecretKey",
    "SecretRef",
    "Service",
    "ServiceAccount",
    "ServiceAccountRef",
    "ServicePort",
    "Stack",
    "StackDefaults",
    "StackLoadError",
    "StackWaiver",
    "StatefulSet",
    "TcpProbe",
    "Template",
    "User",
    "ValidationError",
    "VolumeClaim",
    "__version__",
]
