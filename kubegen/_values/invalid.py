"""The error a value validator raises; builders turn it into a located ValidationError."""

from __future__ import annotations

from typing import Any

#: ``InvalidValue.value`` when the validator did not say which value was wrong.
UNSET: Any = object()


class InvalidValue(ValueError):
    """A value is not of the valid form. ``fix`` says what would be valid.

    It subclasses ``ValueError`` so pydantic validators can raise it; the builder layer reads
    ``fix`` back from pydantic's error context.

    Args:
        message: what is wrong.
        fix: what would be valid.
        field: where inside the object being validated, when a model-level check knows better
            than pydantic's location (``"run_as_user"``, ``"readiness.port"``); dotted, relative
            to the builder. Defaults to pydantic's location.
        value: the offending value at ``field`` (shown in the message); unset by default.
    """

    def __init__(
        self, message: str, *, fix: str | None = None, field: str | None = None, value: Any = UNSET
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.field = field
        self.value = value

    def within(self, prefix: str) -> InvalidValue:
        """The same error one level down (``port`` within ``readiness`` → ``readiness.port``)."""
        self.field = f"{prefix}.{self.field}" if self.field else prefix
        return self
