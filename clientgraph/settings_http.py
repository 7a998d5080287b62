"""Settings of the HTTP edge: browsers (CORS), proxies, and how often each caller may ask.

Sections of ``Settings`` (``clientgraph/settings.py``) kept apart so that module stays small:
``CLIENTGRAPH_HTTP__*`` and ``CLIENTGRAPH_RATE_LIMIT__*``. docs/security.md ("Limits") says
why each default is what it is.
"""

from __future__ import annotations

import ipaddress

from pydantic import BaseModel, Field, field_validator


class HttpSettings(BaseModel):
    """What browsers and proxies in front of the gateway are trusted with."""

    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins whose pages may call the API from a browser (JSON list, exact "
        'matches such as "https://portal.example.com"); empty: no CORS headers at all.',
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For "
        "is believed; empty: a caller's address is the socket's peer.",
    )

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, origins: list[str]) -> list[str]:
        """An allow-list means named origins: ``*`` would let any page read answers."""
        if "*" in origins:
            raise ValueError('"*" is not an allow-list: name each origin')
        return origins

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            ipaddress.ip_network(proxy, strict=False)  # raises ValueError on a typo
        return proxies


class RateLimitSettings(BaseModel):
    """Requests per caller (API key, token subject, or address when anonymous) and role."""

    enabled: bool = Field(True, description="Count and limit requests per caller.")
    per_minute: dict[str, int] = Field(
        default_factory=lambda: {
            "partner": 300,
            "account_team": 1200,
            "delivery": 1200,
            "finance": 1200,
            "operator": 6000,
            "admin": 6000,
        },
        description="Requests (HTTP requests and WebSocket operations) a caller of each role "
        "may make in any 60 seconds, as JSON; a role left out or given 0 is not limited.",
    )
    burst: dict[str, int] = Field(
        default_factory=lambda: {
            "partner": 10,
            "account_team": 40,
            "delivery": 40,
            "finance": 40,
            "operator": 200,
            "admin": 200,
        },
        description="Most requests a caller of each role may make in any one second (so a "
        "minute's budget is not spent at once), as JSON; left out or 0: no per-second cap.",
    )
    key_prefix: str = Field(
        "clientgraph:ratelimit",
        description="Prefix of the counters in Redis (with redis_url set; else in memory).",
    )

    @field_validator("per_minute", "burst")
    @classmethod
    def _known_roles(cls, limits: dict[str, int]) -> dict[str, int]:
        from clientgraph.access.roles import ALL_ROLES

        unknown = sorted(set(limits) - set(ALL_ROLES))
        if unknown:
            raise ValueError(f"unknown roles {unknown}; known: {sorted(ALL_ROLES)}")
        if any(amount < 0 for amount in limits.values()):
            raise ValueError("a limit is a count of requests: 0 or more")
        return limits
