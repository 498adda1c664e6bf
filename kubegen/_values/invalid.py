"""The error a value validator raises; builders turn it into a located ValidationError."""

from __future__ import annotations


class InvalidValue(ValueError):
    """A value is not of the valid form. ``fix`` says what would be valid.

    It subclasses ``ValueError`` so pydantic validators can raise it; the builder layer reads
    ``fix`` back from pydantic's error context.
    """

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
