"""Rate limits per caller: a budget per minute and a cap per second, by role.

A caller is its principal (``key:<id>``, ``jwt:<subject>``) or, when it is anonymous (only
with ``auth.anonymous_role``), its address (``gateway.client_address``). Each HTTP request to
/graphql and each WebSocket operation (a ``subscribe`` message) costs one request.

Counting is the ``limits`` library's moving window: exact (no doubled burst at a window's
edge, as fixed windows allow). Two windows per role: ``rate_limit.per_minute`` is the budget,
``rate_limit.burst`` the most requests in any one second, so a budget cannot be spent at once.
With ``redis_url`` set the counters live in Redis (atomic Lua scripts), so every gateway
process draws on one budget per caller; embedded, they live in the process.

Answers carry the IETF draft's (draft-ietf-httpapi-ratelimit-headers-07) fields, for the
minute window, or the window that refused: ``RateLimit-Limit``, ``RateLimit-Remaining``,
``RateLimit-Reset`` (seconds until the window frees a request) and ``RateLimit-Policy``
(``300;w=60, 10;w=1``). Over a limit: HTTP 429, ``Retry-After`` in seconds, and a GraphQL
error with ``extensions.code`` RATE_LIMITED and ``extensions.retryAfter``.

When Redis cannot be reached, or does not answer within ``REDIS_TIMEOUT_SECONDS``, the request
is let through (logged), and so is every request of the next ``RESTING_SECONDS`` without
asking Redis: an outage of the counters should not become an outage of the API.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import Message, Send
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage,
    SubscribeMessage,
)

from clientgraph.access.principal import Principal
from clientgraph.access.roles import Role
from clientgraph.metrics import RATE_LIMIT_REFUSALS
from clientgraph.settings import Settings
from gateway.client_address import client_address
from gateway.http_input import error_response
from resolvers.context import Context

log = logging.getLogger("clientgraph.ratelimit")

RATE_LIMITED = "RATE_LIMITED"
NAMESPACE = "graphql"
ANONYMOUS = "anonymous"  # the principal id of a caller without credentials
REDIS_TIMEOUT_SECONDS = 0.5
"""How long the counters' Redis may take to connect or answer before a request is let through."""
RESTING_SECONDS = 5.0
"""After the counters failed, how long requests are let through without asking Redis (so a
hung or dead Redis costs one request the wait, not every one)."""


@dataclass(frozen=True)
class Quota:
    """A role's two windows; ``None`` where that window is off."""

    minute: RateLimitItem | None
    second: RateLimitItem | None

    @property
    def policy(self) -> str:
        windows = [(w.amount, w.get_expiry()) for w in (self.minute, self.second) if w]
        return ", ".join(f"{amount};w={seconds}" for amount, seconds in windows)


@dataclass(frozen=True)
class Admission:
    """A request let through (with the headers to answer with) or refused."""

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: int = 0
    message: str = ""

    def refusal(self) -> Response:
        """HTTP 429 with ``Retry-After`` and a RATE_LIMITED error."""
        headers = self.headers | {"Retry-After": str(self.retry_after)}
        return error_response(
            429, self.message, RATE_LIMITED, headers=headers, retryAfter=self.retry_after
        )

    def error(self) -> dict[str, Any]:
        """The same refusal as a GraphQL error (a WebSocket ``error`` message's payload)."""
        extensions = {"code": RATE_LIMITED, "retryAfter": self.retry_after}
        return {"message": self.message, "extensions": extensions}

    def with_headers(self, send: Send) -> Send:
        """``send``, adding this admission's headers to the answer."""
        if not self.headers:
            return send
        raw = [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *raw]
            await send(message)

        return send_with_headers


ADMITTED = Admission(allowed=True)


class RateLimiter:
    """One per process: the quotas by role and the counters (Redis or memory)."""

    def __init__(
        self, settings: Settings, storage: Storage, pool: ConnectionPool | None = None
    ) -> None:
        self._trusted_proxies = tuple(settings.http.trusted_proxies)
        self._pool = pool  # Redis connections, closed with the limiter
        self._resting_until = 0.0  # monotonic time until which Redis is not asked (it failed)
        self._limiter = MovingWindowRateLimiter(storage)
        limits = settings.rate_limit
        self._quotas = {
            role: Quota(
                _item(RateLimitItemPerMinute, limits.per_minute.get(role)),
                _item(RateLimitItemPerSecond, limits.burst.get(role)),
            )
            for role in Role
        }

    async def admit(self, connection: HTTPConnection, principal: Principal) -> Admission:
        """Count one request of ``principal`` (``connection`` gives an anonymous one's address)."""
        if time.monotonic() < self._resting_until:
            return ADMITTED
        quota = self._quotas[principal.role]
        caller = self.caller(connection, principal)
        try:
            return await self._count(quota, caller, principal.role.value)
        except StorageError as error:
            self._resting_until = time.monotonic() + RESTING_SECONDS
            log.warning(
                "rate limit counters unreachable, requests let through for %s s: %r",
                RESTING_SECONDS,
                error,
            )
            return ADMITTED

    def caller(self, connection: HTTPConnection, principal: Principal) -> str:
        """What the budget is kept by: the principal, or the address of an anonymous one."""
        if principal.id != ANONYMOUS:
            return principal.id
        return "ip:" + client_address(connection, self._trusted_proxies)

    async def _count(self, quota: Quota, caller: str, role: str) -> Admission:
        for window, what in ((quota.second, "in one second"), (quota.minute, "per minute")):
            if window is not None and not await self._limiter.hit(window, caller):
                span = "second" if window is quota.second else "minute"
                RATE_LIMIT_REFUSALS.labels(role, span).inc()
                return await self._refused(quota, window, caller, what)
        shown = quota.minute or quota.second
        if shown is None:
            return ADMITTED
        return Admission(True, await self._headers(quota, shown, caller))

    async def _refused(
        self, quota: Quota, window: RateLimitItem, caller: str, what: str
    ) -> Admission:
        headers = await self._headers(quota, window, caller)
        retry_after = max(1, int(headers["RateLimit-Reset"]))
        message = (
            f"rate limit reached: at most {window.amount} requests {what}; "
            f"retry in {retry_after} s"
        )
        return Admission(False, headers, retry_after, message)

    async def _headers(self, quota: Quota, window: RateLimitItem, caller: str) -> dict[str, str]:
        stats = await self._limiter.get_window_stats(window, caller)
        return {
            "RateLimit-Limit": str(window.amount),
            "RateLimit-Remaining": str(max(0, stats.remaining)),
            "RateLimit-Reset": str(max(0, math.ceil(stats.reset_time - time.time()))),
            "RateLimit-Policy": quota.policy,
        }

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()


def _item(kind: type[RateLimitItem], amount: int | None) -> RateLimitItem | None:
    return kind(amount, namespace=NAMESPACE) if amount else None


def rate_limiter(settings: Settings) -> RateLimiter | None:
    """The process's limiter (counters in Redis when ``redis_url`` is set), or ``None`` if off."""
    if not settings.rate_limit.enabled:
        return None
    if settings.redis_url is None:
        return RateLimiter(settings, MemoryStorage())
    pool = ConnectionPool.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=REDIS_TIMEOUT_SECONDS,  # a hung Redis must not hold requests
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    storage = RedisStorage(
        "async+redis://",  # where to: the pool's URL
        implementation="redispy",
        key_prefix=settings.rate_limit.key_prefix,
        wrap_exceptions=True,
        connection_pool=pool,  # type: ignore[arg-type]  # limits types options as scalars
    )
    return RateLimiter(settings, storage, pool)


async def admit(connection: HTTPConnection, principal: Principal) -> Admission:
    """Count a request against its caller's budget (``app.state.rate_limiter``; none: free)."""
    limiter: RateLimiter | None = connection.app.state.rate_limiter
    return ADMITTED if limiter is None else await limiter.admit(connection, principal)


class RateLimitedTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, each ``subscribe`` counted against its caller's budget.

    An operation over the limit gets an ``error`` message for its id (the protocol's answer to
    an operation that will not run); the socket stays open for later ones.
    """

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and message["id"] not in self.operations:
            admission = await admit(self.context.request, self.context.principal)
            if not admission.allowed:
                refusal: ErrorMessage = {
                    "id": message["id"],
                    "type": "error",
                    "payload": [admission.error()],  # type: ignore[list-item]
                }
                await self.send_message(refusal)
                return
        await super().handle_subscribe(message)
