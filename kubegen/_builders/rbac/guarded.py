"""What every guarded RBAC object shares: ``allow`` opt-outs, guard checks, error placing."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from kubegen._builders.base import Resource
from kubegen._builders.rbac.catalog import RBAC_API_VERSION
from kubegen._builders.rbac.guards import Guard, Place, check_allow
from kubegen._builders.state import state


class Guarded(Resource):
    """Base of Role, ClusterRole and the bindings: guards run when the object is built.

    ``allow`` maps a guard id to the reason it is opted out (``kubegen.dev/opt-out-rbac-<id>``).
    """

    api_version: ClassVar[str] = RBAC_API_VERSION
    # Guards whose verdict needs the whole stack; checked by the stack pass, not here.
    _stack_guards: ClassVar[tuple[Guard, ...]] = ()

    allow: dict[str, str] = Field(default_factory=dict)

    # How to opt out, when the object is derived from a grant rather than built by the user.
    _hint: str | None = state(None)

    def __init__(self, name: str, /, **data: Any) -> None:
        super().__init__(name, **data)
        self.check_guards()

    @field_validator("allow")
    @classmethod
    def _check_allow(cls, allow: dict[str, str]) -> dict[str, str]:
        return check_allow(allow)

    def place(self) -> Place:
        """How errors name this object and tell its author to opt out."""
        return Place(
            resource=self.display,
            origin=self._origin,
            how=self._hint or f"pass allow={{{{'{{guard}}': '<why>'}}}} to {self.kind}(…)",
        )

    def check_guards(self) -> None:
        """Raise for a guarded value not allowed, or an ``allow`` entry nothing needs."""
        raise NotImplementedError
