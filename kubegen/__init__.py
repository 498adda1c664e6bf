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
from kubegen._builders.gitops import (
    ArgoApplication,
    ArgoApplicationSet,
    FluxGitRepository,
    FluxHealthCheck,
    FluxKustomization,
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

__version__ = "0.1.0"

__all__ = [
    "ArgoApplication",
    "ArgoApplicationSet",
    "Builder",
    "ConfigMap",
    "ConflictError",
    "FluxGitRepository",
    "FluxHealthCheck",
    "FluxKustomization",
    "KubegenError",
    "Manifest",
    "ManifestObject",
    "Namespace",
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
