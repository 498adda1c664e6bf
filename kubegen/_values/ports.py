"""Port numbers and IANA service names, as the Kubernetes API validates container ports.

Rules from k8s.io/apimachinery/pkg/util/validation: a port number is 1-65535; a port name is an
IANA_SVC_NAME (RFC 6335): at most 15 lowercase letters, digits and '-', at least one letter, no
leading, trailing or doubled '-'.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator

from kubegen._values.invalid import InvalidValue

Protocol = Literal["TCP", "UDP", "SCTP"]

_PORT_NAME_RE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?\Z")
_HAS_LETTER_RE = re.compile(r"[a-z]")


def check_port_number(value: int) -> int:
    """A TCP/UDP/SCTP port: 1-65535."""
    if isinstance(value, bool) or not 1 <= value <= 65535:
        raise InvalidValue(
            f"port {value!r} is out of range: a port number is 1-65535",
            fix="use a port between 1 and 65535, e.g. 8080",
        )
    return value


# Port names that passed: a stack repeats a handful (``http``) on every workload, Service and
# policy. Only exact ``str`` objects are remembered; cleared when full.
_GOOD_NAMES: set[str] = set()
_GOOD_MAX = 1024


def check_port_name(value: str) -> str:
    """An IANA service name (``http``, ``metrics``, ``pg``): how Services and probes refer to it."""
    if type(value) is str and value in _GOOD_NAMES:
        return value
    if (
        len(value) > 15
        or not _PORT_NAME_RE.match(value)
        or not _HAS_LETTER_RE.search(value)
        or "--" in value
    ):
        slug = re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", value.lower()))[:15].strip("-")
        raise InvalidValue(
            f"port name {value!r} is not an IANA service name: at most 15 lowercase letters, "
            "digits and '-', with at least one letter and no leading, trailing or doubled '-'",
            fix=f"use a name such as '{slug if _HAS_LETTER_RE.search(slug) else 'http'}'",
        )
    if type(value) is str:
        if len(_GOOD_NAMES) >= _GOOD_MAX:
            _GOOD_NAMES.clear()
        _GOOD_NAMES.add(value)
    return value


PortNumber = Annotated[int, AfterValidator(check_port_number)]
PortName = Annotated[str, AfterValidator(check_port_name)]
