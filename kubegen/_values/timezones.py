"""IANA time zone names as the cluster knows them, the same on every machine and Python.

``zoneinfo.ZoneInfo(name)`` reads the machine's time zone files first: on a Debian host it accepts
``localtime``, ``posixrules`` or ``right/UTC`` (files, not zones), and where the system has no
database (Windows, slim images) it refuses everything. The API server checks a CronJob's
``timeZone`` against the IANA database compiled into it, so kubegen checks names against one
database too: the list shipped by the ``tzdata`` package (maintained by CPython's core team from
the IANA releases), whatever the host has.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

__all__ = ["is_time_zone"]


@cache
def _zones() -> frozenset[str]:
    text = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(text.split())


def is_time_zone(name: str) -> bool:
    """Whether ``name`` is a zone of the IANA database (``Etc/UTC``, ``Europe/Berlin``)."""
    return name in _zones()
