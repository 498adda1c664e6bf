"""Compute resources of a container: requests and limits for CPU, memory, ephemeral storage.

Defaults (when a container gives no ``resources``) come from the Stack's
:class:`~kubegen.StackDefaults`. Limits default to the requests, which gives pods the
``Guaranteed`` QoS class for memory and keeps the scanners' "limits set" checks green. A CPU
limit can be left out only explicitly, with a reason (CFS throttling is a real cost), either
per container (``allow_no_cpu_limit=…``) or for the whole stack.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Required, TypedDict, Unpack

from pydantic import model_validator

from kubegen._builders.base import Builder
from kubegen._values import (
    InvalidValue,
    Quantity,
    QuantityLike,
    Reason,
    normalize_quantity,
    parse_quantity,
)

_MIN_MEMORY = Decimal(2**20)
_NUMBER_RE = re.compile(r"[0-9]+(\.[0-9]+)?")


class ResourcesArgs(TypedDict, total=False):
    cpu: Required[QuantityLike]
    memory: Required[QuantityLike]
    cpu_limit: QuantityLike | None
    memory_limit: QuantityLike | None
    ephemeral_storage: QuantityLike | None
    ephemeral_storage_limit: QuantityLike | None
    allow_no_cpu_limit: str | None
    allow_no_memory_limit: str | None


class Resources(Builder):
    """Requests and limits of one container.

    Args:
        cpu: CPU request (``'250m'``, ``0.5``, ``2``), normalised.
        memory: memory request (``'256Mi'``, ``'1Gi'``); at least 1Mi.
        cpu_limit: CPU limit; defaults to ``cpu``.
        memory_limit: memory limit; defaults to ``memory``.
        ephemeral_storage: ephemeral-storage request; unset by default.
        ephemeral_storage_limit: defaults to ``ephemeral_storage``.
        allow_no_cpu_limit: leave the CPU limit out; the reason is rendered as an annotation.
        allow_no_memory_limit: leave the memory limit out (upstream charts that set requests
            only): a leaking container can then push its node into OOM. The reason is
            rendered as ``kubegen.dev/opt-out-no-memory-limit.<container>`` (waives KG203).

    Every limit must be ≥ its request.
    """

    cpu: Quantity
    memory: Quantity
    cpu_limit: Quantity | None = None
    memory_limit: Quantity | None = None
    ephemeral_storage: Quantity | None = None
    ephemeral_storage_limit: Quantity | None = None
    allow_no_cpu_limit: Reason | None = None
    allow_no_memory_limit: Reason | None = None

    def __init__(self, /, **data: Unpack[ResourcesArgs]) -> None:
        super().__init__(**data)

    @model_validator(mode="after")
    def _check(self) -> Resources:
        if parse_quantity(self.cpu) <= 0:
            raise InvalidValue("cpu request must be more than 0", fix="request e.g. cpu='100m'")
        if parse_quantity(self.memory) < _MIN_MEMORY:
            raise InvalidValue(
                f"memory request {self.memory!r} is less than 1Mi"
                + (" (a bare number means bytes)" if self.memory.isdigit() else ""),
                fix=f"request at least 1Mi, with a unit: e.g. memory='{in_mebibytes(self.memory)}'",
                field="memory",
                value=self.memory,
            )
        if self.cpu_limit is not None and self.allow_no_cpu_limit is not None:
            raise InvalidValue(
                "cpu_limit and allow_no_cpu_limit contradict each other",
                fix="set one of them",
            )
        if self.memory_limit is not None and self.allow_no_memory_limit is not None:
            raise InvalidValue(
                "memory_limit and allow_no_memory_limit contradict each other",
                fix="set one of them",
                field="allow_no_memory_limit",
            )
        if self.ephemeral_storage_limit is not None and self.ephemeral_storage is None:
            raise InvalidValue(
                "ephemeral_storage_limit needs an ephemeral_storage request",
                fix="set ephemeral_storage too",
            )
        _at_most("cpu", self.cpu, self.cpu_limit)
        _at_most("memory", self.memory, self.memory_limit)
        _at_most("ephemeral_storage", self.ephemeral_storage, self.ephemeral_storage_limit)
        return self

    def render(self, *, omit_cpu_limit: bool) -> dict[str, Any]:
        """The container's ``resources`` block; ``omit_cpu_limit`` applies the CPU-limit policy."""
        requests: dict[str, str] = {"cpu": self.cpu, "memory": self.memory}
        limits: dict[str, str] = {}
        if self.cpu_limit is not None or not (omit_cpu_limit or self.allow_no_cpu_limit):
            limits["cpu"] = self.cpu_limit or self.cpu
        if self.allow_no_memory_limit is None:
            limits["memory"] = self.memory_limit or self.memory
        if self.ephemeral_storage is not None:
            requests["ephemeral-storage"] = self.ephemeral_storage
            limits["ephemeral-storage"] = self.ephemeral_storage_limit or self.ephemeral_storage
        return {"limits": limits, "requests": requests} if limits else {"requests": requests}


def in_mebibytes(memory: str) -> str:
    """What a too-small memory value most likely meant, in Mi: ``'512'`` / ``'100Ki'`` /
    ``'64k'`` → ``'512Mi'`` / ``'100Mi'`` / ``'64Mi'``; never below 1Mi and always valid."""
    number = _NUMBER_RE.match(memory)
    guess = f"{number.group(0)}Mi" if number else "1Mi"
    try:
        if parse_quantity(guess) >= _MIN_MEMORY:
            return normalize_quantity(guess)
    except InvalidValue:
        pass
    return "1Mi"


def _at_most(what: str, request: str | None, limit: str | None) -> None:
    if request is None or limit is None:
        return
    if parse_quantity(request) > parse_quantity(limit):
        raise InvalidValue(
            f"{what} request {request!r} is more than its limit {limit!r}; "
            "a request must be ≤ its limit",
            fix=f"raise {what}_limit to at least {request!r} or lower the request",
        )
