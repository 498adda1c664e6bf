"""``ServiceAccount``: the identity pods run as, with no API token mounted unless asked for.

*Kubernetes in Action*, "Securing the Kubernetes API server": every workload runs as its own
ServiceAccount and gets a token only when it talks to the API. A ServiceAccount therefore renders
``automountServiceAccountToken: false``; a workload that is granted access mounts its token
through its own pod spec (see ``Workload.grant``), never through the account.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Unpack

from pydantic import Field, field_validator

from kubegen._builders.base import Resource, ResourceArgs
from kubegen._manifests import ManifestObject
from kubegen._values import DNSSubdomain, InvalidValue

TOKEN_AUTOMOUNT = "token-automount"


class ServiceAccountArgs(ResourceArgs, total=False):
    image_pull_secrets: list[str] | tuple[str, ...]
    allow: Mapping[Literal["token-automount"], str]


class ServiceAccount(Resource):
    """A ServiceAccount with token automounting off.

    Args:
        name: DNS-1123 subdomain.
        image_pull_secrets: names of ``kubernetes.io/dockerconfigjson`` Secrets in the same
            namespace that pods of this account use to pull images. Defaults to none.
        allow: weakenings with their reasons. ``{"token-automount": "<why>"}`` renders
            ``automountServiceAccountToken: true`` (for pods kubegen does not build) and the
            annotation ``kubegen.dev/opt-out-token-automount``. Defaults to none.

    See https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/.
    """

    api_version: ClassVar[str] = "v1"
    kind: ClassVar[str] = "ServiceAccount"

    image_pull_secrets: tuple[DNSSubdomain, ...] = ()
    allow: dict[Literal["token-automount"], str] = Field(default_factory=dict)

    def __init__(self, name: str, /, **data: Unpack[ServiceAccountArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("allow")
    @classmethod
    def _reasons(cls, allow: dict[str, str]) -> dict[str, str]:
        for what, reason in allow.items():
            if not reason.strip():
                raise InvalidValue(
                    f"allowing {what!r} needs a reason", fix=f"allow={{{what!r}: 'why'}}"
                )
        return {what: reason.strip() for what, reason in allow.items()}

    @property
    def automount_token(self) -> bool:
        """Whether pods of this account mount its token by default (False unless allowed)."""
        return TOKEN_AUTOMOUNT in self.allow

    def manifests(self) -> list[ManifestObject]:
        """One ServiceAccount object."""
        for what, reason in self.allow.items():
            self.opt_out(what, reason)
        body: dict[str, Any] = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(),
            "automountServiceAccountToken": self.automount_token,
        }
        if self.image_pull_secrets:
            body["imagePullSecrets"] = [{"name": name} for name in self.image_pull_secrets]
        return [self.manifest(body)]
