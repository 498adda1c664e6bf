"""A one-pass test for pods that every Pod Security level admits, so most pods skip the controls.

Almost every pod kubegen renders is hardened the same way, and evaluating its twenty controls one
by one is most of the cost of the admission check (and of the KG1xx lint rules) on a big stack.
:func:`restricted_clean` reads the pod once and answers True only when it can *see* that nothing
the Pod Security Standards restrict is set: a closed list of security fields with values every
control accepts, at every version. Anything else (an unknown field, a Windows pod, a user
namespace, a probe host…) answers False and the full evaluation decides. So it can only skip
work, never change a verdict: ``tests/test_coherence_pod_security.py`` checks that every pod it
calls clean, the upstream fixtures included, passes the full ``restricted`` evaluation.
"""

from __future__ import annotations

from typing import Any

from kubegen._coherence.pod_security import ALLOWED_VOLUMES
from kubegen._coherence.pods import PodView

__all__ = ["restricted_clean"]

_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})
_ANNOTATION_PREFIXES = (
    "container.apparmor.security.beta.kubernetes.io/",
    "seccomp.security.alpha.kubernetes.io/",
    "container.seccomp.security.alpha.kubernetes.io/",
)
_HANDLERS = ("livenessProbe", "readinessProbe", "startupProbe")
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
#: Pod-level securityContext fields no control restricts (besides the ones checked below).
_POD_FREE = frozenset({"runAsGroup", "fsGroup", "supplementalGroups", "fsGroupChangePolicy",
                       "supplementalGroupsPolicy"})
#: Container securityContext fields no control restricts.
_CONTAINER_FREE = frozenset({"readOnlyRootFilesystem", "runAsGroup"})


def _uid_ok(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value != 0


def _pod_context_clean(context: dict[str, Any]) -> bool:
    """runAsNonRoot true and a valid seccomp profile at pod level, nothing restricted else."""
    if context.get("runAsNonRoot") is not True:
        return False
    profile = context.get("seccompProfile")
    kind = profile.get("type") if isinstance(profile, dict) else None
    if not isinstance(kind, str) or kind not in _SECCOMP:  # a list is no type (nor hashable)
        return False
    for key, value in context.items():
        if key in ("runAsNonRoot", "seccompProfile") or key in _POD_FREE:
            continue
        if key != "runAsUser" or not _uid_ok(value):
            return False
    return True


def _capabilities_clean(caps: Any) -> bool:
    if not isinstance(caps, dict) or not set(caps) <= {"add", "drop"}:
        return False
    drop, add = caps.get("drop"), caps.get("add", [])
    return (isinstance(drop, list) and "ALL" in drop and isinstance(add, list)
            and all(cap == "NET_BIND_SERVICE" for cap in add))


def _container_context_clean(context: Any) -> bool:
    if not isinstance(context, dict) or context.get("allowPrivilegeEscalation") is not False:
        return False
    for key, value in context.items():
        if key in _CONTAINER_FREE or key == "allowPrivilegeEscalation":
            continue
        if key == "capabilities":
            ok = _capabilities_clean(value)
        elif key == "privileged":
            ok = value is False
        elif key == "runAsNonRoot":
            ok = value is True
        elif key == "runAsUser":
            ok = _uid_ok(value)
        else:
            ok = False
        if not ok:
            return False
    return "capabilities" in context


def _no_host(handler: Any) -> bool:
    if handler is None:
        return True
    if not isinstance(handler, dict):
        return False
    for action in ("httpGet", "tcpSocket"):
        target = handler.get(action)
        if target is not None and (not isinstance(target, dict) or target.get("host")):
            return False
    return True


def _container_clean(body: Any) -> bool:
    if not isinstance(body, dict) or not _container_context_clean(body.get("securityContext")):
        return False
    ports = body.get("ports") or []
    if not isinstance(ports, list):
        return False
    for port in ports:
        if not isinstance(port, dict) or port.get("hostPort") not in (None, 0):
            return False
    if not all(_no_host(body.get(probe)) for probe in _HANDLERS):
        return False
    lifecycle = body.get("lifecycle")
    if lifecycle is None:
        return True
    return isinstance(lifecycle, dict) and all(
        _no_host(lifecycle.get(hook)) for hook in ("postStart", "preStop"))


def _volumes_clean(volumes: Any) -> bool:
    for volume in volumes or ():
        if not isinstance(volume, dict):
            return False
        for key, value in volume.items():
            if key != "name" and value is not None and key not in ALLOWED_VOLUMES:
                return False
    return True


def restricted_clean(pod: PodView) -> bool:
    """True only if every Pod Security level, at every version, admits ``pod`` (see module).

    Computed once per pod view (``pod.memo``): the admission check and each KG1xx rule ask.
    """
    found = pod.memo.get("restricted_clean")
    if found is None:
        found = pod.memo["restricted_clean"] = _restricted_clean(pod)
    return bool(found)


def _restricted_clean(pod: PodView) -> bool:
    spec = pod.spec
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key) not in (None, False):
            return False
    if "hostUsers" in spec or "os" in spec:
        return False  # relaxations and Windows exemptions: let the controls decide
    if not _pod_context_clean(pod.security_context):
        return False
    annotations = pod.metadata.get("annotations")
    if annotations and any(str(key).startswith(_ANNOTATION_PREFIXES) for key in annotations):
        return False
    lists = ("volumes", *_CONTAINER_LISTS)
    if any(not isinstance(spec.get(key) or [], list) for key in lists):
        return False  # malformed (hostile YAML): let the controls decide
    if not _volumes_clean(spec.get("volumes")):
        return False
    return all(
        _container_clean(body)
        for list_name in _CONTAINER_LISTS
        for body in spec.get(list_name) or ()
    )
