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
from kubegen._builders.config import ConfigMap
from kubegen._builders.core import Manifest, Namespace
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

__version__ = "0.1.0"

__all__ = [
    "Builder",
    "ClusterDNS",
    "ConfigMap",
    "ConflictError",
    "EgressRule",
    "IPBlock",
    "IngressRule",
    "KubegenError",
    "LabelSelector",
    "LabelSelectorRequirement",
    "Manifest",
    "ManifestObject",
    "Namespace",
    "NetworkDefaults",
    "NetworkPolicy",
    "NetworkPolicyPeer",
    "NetworkPolicyPort",
    "Origin",
    "OutputError",
    "PolicyError",
    "Resource",
    "Stack",
    "StackLoadError",
    "StackWaiver",
    "ValidationError",
    "__version__",
]
