"""Phrases the text and Markdown formats share: how a node, a grant or a fact reads."""

from __future__ import annotations

import re

from kubegen._analysis.flows import Node
from kubegen._analysis.workloads import image_parts
from kubegen._review.model import AdmissionChange, Base, FieldChange, PermissionChange

__all__ = [
    "NOT_ENFORCED",
    "admission_values",
    "base_line",
    "field_label",
    "field_values",
    "node_text",
    "permission_text",
    "visible",
]

# Control, invisible and bidirectional characters: a reason or a hand-written name holding one
# could hide text or reorder what a reviewer reads ("Trojan Source"); they are shown escaped.
_HIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb]"
)


def visible(text: str) -> str:
    """``text`` with every control, invisible or bidi character written as ``\\uXXXX``."""
    return _HIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


#: Said of a flow whose pods run with hostNetwork (see ``FlowChange.enforced``).
NOT_ENFORCED = "hostNetwork: not enforced by most network plugins"

_DIGEST_SHOWN = 12  # hex characters of a digest shown in text (JSON has all of them)


def base_line(base: Base) -> str:
    """``1a2b3c4d5e6f (merge base of HEAD and origin/main)`` or why there is none."""
    if base.commit is None:
        return f"none ({base.how})"
    return f"{base.commit[:12]} ({base.how})"


def node_text(node: Node) -> str:
    """``shop/api``; ``kube-system: k8s-app=kube-dns``; ``internet (IPv4)``."""
    if node.kind == "workload":
        return f"{node.namespace}/{node.label}" if node.namespace else node.label
    if node.namespace:
        return f"{node.namespace}: {node.label}"
    return node.label


def permission_text(change: PermissionChange) -> str:
    """``get, list, watch secrets (db) in shop`` or ``binds ClusterRole view … cluster-wide``."""
    where = "cluster-wide" if change.namespace == "*" else f"in {change.namespace}"
    names = f" ({', '.join(change.names)})" if change.names else ""
    if not change.verbs:
        return f"bound to {change.resource} {where}"
    return f"{', '.join(change.verbs)} {change.resource}{names} {where}"


def admission_values(change: AdmissionChange) -> tuple[str, str]:
    """Before and after of a Pod Security mode: ``restricted``, ``unset (cluster default)``,
    ``(new namespace)``."""
    def shown(value: str | None, absent: str) -> str:
        if value is None:
            return absent
        return "unset (cluster default)" if value == "unset" else value

    return shown(change.before, "(new namespace)"), shown(change.after, "(none)")


def field_label(change: FieldChange) -> str:
    """``image (container api)``, ``replicas``, ``volumeClaimTemplate data``."""
    if change.field == "container":
        return f"container {change.part}"
    if change.field == "volumeClaimTemplate":
        return f"volumeClaimTemplate {change.part}"
    return f"{change.field} (container {change.part})" if change.part else change.field


def field_values(change: FieldChange) -> tuple[str, str]:
    """Before and after as shown: images shortened to what differs, absent sides named."""
    before, after = change.before, change.after
    if change.field == "container":
        return (
            "absent" if before is None else f"image {before}",
            "removed" if after is None else f"image {after}",
        )
    if change.field == "image" and before is not None and after is not None:
        return _image_pair(before, after)
    return ("(none)" if before is None else before, "(none)" if after is None else after)


def _image_pair(before: str, after: str) -> tuple[str, str]:
    old, new = image_parts(before), image_parts(after)
    if old[0] != new[0]:
        return _short(before), _short(after)
    return _version(old), _version(new)


def _version(parts: tuple[str, str, str]) -> str:
    repository, tag, digest = parts
    text = f"{repository.rsplit('/', 1)[-1]}:{tag}" if tag else repository.rsplit("/", 1)[-1]
    return f"{text}@{_digest(digest)}" if digest else text


def _short(image: str) -> str:
    name, _, digest = image.partition("@")
    return f"{name}@{_digest(digest)}" if digest else name


def _digest(digest: str) -> str:
    algorithm, _, value = digest.partition(":")
    if len(value) <= _DIGEST_SHOWN:
        return digest
    return f"{algorithm}:{value[:_DIGEST_SHOWN]}…"
