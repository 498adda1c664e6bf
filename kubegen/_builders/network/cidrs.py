"""CIDRs as the Kubernetes API validates them, and the ranges that are not "the internet".

The API server rejects a CIDR with host bits set (``10.0.0.1/8``) or leading zeros, and an
``except`` entry that is not a strict subset of its ``cidr``; :func:`check_cidr` and
:func:`check_except` refuse the same values at build time with the corrected form as the fix.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from kubegen._values import InvalidValue

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# A rule whose CIDR is this wide (or wider) is "broad": it needs a reason.
BROAD_PREFIX = 8

# Never "the internet": RFC 1918, CGNAT (RFC 6598), link-local and loopback.
PRIVATE_V4: tuple[str, ...] = (
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
)
# Loopback, IPv4-mapped (would reach the private v4 ranges), unique-local and link-local.
PRIVATE_V6: tuple[str, ...] = ("::1/128", "::ffff:0:0/96", "fc00::/7", "fe80::/10")

ANY_V4 = "0.0.0.0/0"
ANY_V6 = "::/0"


def parse_cidr(text: str) -> Network:
    """Parse ``text`` as a network address with prefix length, as the API server does.

    Raises:
        InvalidValue: not ``address/prefix``, a bad address, or host bits set.
    """
    if not isinstance(text, str) or "/" not in text:
        single = _loose(f"{text}/128" if ":" in str(text) else f"{text}/32")
        raise InvalidValue(
            f"{text!r} is not a CIDR: write an address and a prefix length",
            fix=f"for this one address write '{single}'"
            if single
            else "use a CIDR such as '10.0.0.0/16' or '2001:db8::/64'",
        )
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        loose = _loose(text)
        fix = (
            f"use the network address: '{loose}'"
            if loose
            else "use a CIDR such as '10.0.0.0/16' or '2001:db8::/64'"
        )
        raise InvalidValue(f"{text!r} is not a valid CIDR: {exc}", fix=fix) from None


def _loose(text: str) -> str | None:
    try:
        return spell(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return None


def spell(net: Network) -> str:
    """The canonical text of ``net``, the same on every Python version.

    Python 3.13 started printing IPv4-mapped IPv6 addresses in mixed notation
    (``::ffff:10.0.0.0``) where 3.11 and 3.12 print hex (``::ffff:a00:0``); rendered output must
    not depend on the interpreter, so kubegen always writes the hex form.
    """
    address = net.network_address
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    if mapped is None:
        return str(net)
    v4 = int(mapped)
    return f"::ffff:{v4 >> 16:x}:{v4 & 0xFFFF:x}/{net.prefixlen}"


def check_cidr(text: str) -> str:
    """Validate a CIDR; return its normalized spelling (``2001:DB8::/32`` → ``2001:db8::/32``)."""
    return spell(parse_cidr(text))


def check_except(cidr: str, excluded: Iterable[str]) -> list[str]:
    """Validate ``except`` entries against ``cidr``: each a strict subset of the same family."""
    outer = parse_cidr(cidr)
    out: list[str] = []
    for text in excluded:
        inner = parse_cidr(text)
        if (
            inner.version != outer.version
            or not inner.subnet_of(outer)  # type: ignore[arg-type]
            or inner.prefixlen <= outer.prefixlen
        ):
            raise InvalidValue(
                f"except entry {text!r} must be a strict subset of cidr {cidr!r}",
                fix=f"exclude only ranges inside {outer} with a prefix longer than "
                f"/{outer.prefixlen}, or drop the entry",
            )
        out.append(spell(inner))
    return out


def is_broad(cidr: str) -> bool:
    """True for ``/0`` to ``/8`` networks: wide enough that a rule needs a reason."""
    return parse_cidr(cidr).prefixlen <= BROAD_PREFIX


def sort_key(cidr: str) -> tuple[int, int, int]:
    """Order CIDRs by family, then address, then prefix length (numeric, not textual)."""
    net = parse_cidr(cidr)
    return (net.version, int(net.network_address), net.prefixlen)


def contains(cidr: str, excluded: Iterable[str], address: str) -> bool:
    """True when ``address`` is inside ``cidr`` and outside every ``excluded`` range."""
    ip = ipaddress.ip_address(address)
    outer = parse_cidr(cidr)
    if ip.version != outer.version or ip not in outer:
        return False
    return not any(ip in parse_cidr(text) for text in excluded)
