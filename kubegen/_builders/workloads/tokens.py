"""The service account tokens a granted pod mounts: projected, expiring, one per audience.

Kubernetes would automount a token when ``automountServiceAccountToken`` is true; kubegen never
asks for that (scanners such as Checkov CKV_K8S_38 flag it, and the token would be mounted into
pods that do not need it). A workload that was granted API access instead mounts the same
``kube-api-access`` projected volume the kubelet would build (token, cluster CA, namespace) at
the path client libraries read, and each further audience (``grant(audience=…)``,
``mount_token``) gets a token file of its own under ``/var/run/secrets/tokens``, beside the API
token, never instead of it.

See https://kubernetes.io/docs/concepts/security/service-accounts/#get-a-token and
https://kubernetes.io/docs/concepts/storage/projected-volumes/#serviceaccounttoken.
"""

from __future__ import annotations

from typing import Any

from kubegen._builders.rbac.intents import token_file
from kubegen._relations import ApiAccess

TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_VOLUME = "kube-api-access"
AUDIENCE_PATH = "/var/run/secrets/tokens"
AUDIENCE_VOLUME = "audience-tokens"
DEFAULT_TOKEN_SECONDS = 3607  # what the kubelet uses for the tokens it projects itself

Mounted = tuple[dict[str, Any], dict[str, Any]]  # (volumeMount, volume)


def token_volumes(access: ApiAccess | None) -> list[Mounted]:
    """The (mount, volume) pairs for ``access``: the API token, then the audience tokens."""
    if access is None:
        return []
    seconds = access.expiration_seconds or DEFAULT_TOKEN_SECONDS
    out: list[Mounted] = []
    if access.api:
        sources: list[dict[str, Any]] = [
            {"serviceAccountToken": {"expirationSeconds": seconds, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt",
                           "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [
                {"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}
            ]}},
        ]
        out.append((_mount(TOKEN_VOLUME, TOKEN_PATH), _volume(TOKEN_VOLUME, sources)))
    if access.audiences:
        sources = [
            {"serviceAccountToken": {"audience": audience, "expirationSeconds": seconds,
                                     "path": token_file(audience)}}
            for audience in access.audiences
        ]
        out.append((_mount(AUDIENCE_VOLUME, AUDIENCE_PATH), _volume(AUDIENCE_VOLUME, sources)))
    return out


def _mount(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "mountPath": path, "readOnly": True}


def _volume(name: str, sources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "projected": {"sources": sources}}


def token_opt_out(access: ApiAccess | None) -> str | None:
    """The reason text of ``service-account-token`` (tokens mounted without RBAC), if any."""
    if access is None or not access.reasons:
        return None
    return "\n".join(f"{audience}: {reason}" for audience, reason in access.reasons)


__all__ = ["AUDIENCE_PATH", "TOKEN_PATH", "token_opt_out", "token_volumes"]
