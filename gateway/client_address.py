"""The caller's network address: the socket's peer, or what a trusted proxy says it is.

``X-Forwarded-For`` is believed only from a peer listed in ``http.trusted_proxies``; then its
entries are read right to left, past the trusted proxies, and the first other address is the
caller (the entries left of it were written by the caller and prove nothing).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(connection: HTTPConnection, trusted_proxies: Sequence[str]) -> str:
    """The caller's address, as text (``unknown`` when the server gives none)."""
    peer = connection.client.host if connection.client else "unknown"
    if not trusted_proxies or not _trusted(peer, tuple(trusted_proxies)):
        return peer
    forwarded = ",".join(connection.headers.getlist("x-forwarded-for"))
    for hop in reversed([entry.strip() for entry in forwarded.split(",") if entry.strip()]):
        if not _trusted(hop, tuple(trusted_proxies)):
            return hop
    return peer


def _trusted(address: str, proxies: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # not an address (a name, garbage): never a proxy of ours
    return any(ip in network for network in _networks(proxies))


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)
