"""Rate limits per caller, through the real app: budgets by role, shared through Redis by every
gateway process, in memory when embedded, by address for anonymous callers, per WebSocket
operation too.

Redis is the real server (a key prefix of each test's own, deleted afterwards); the read model
is PostgreSQL (API keys are real keys).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect

from clientgraph.settings import AuthSettings
from clientgraph.settings_http import HttpSettings, RateLimitSettings
from readmodel import api_keys
from tests.conftest import FIRM_NOW, REDIS_URL, http_client, unreachable
from tests.gateway.edge import edge_app, on_a_socket

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])
QUERY = {"query": "{ __typename }"}
ONE, OTHER = "203.0.113.5", "203.0.113.6"  # documentation addresses (RFC 5737)


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    """A Redis key prefix of this test's own; its counters are deleted afterwards."""
    name = f"clientgraph:test:ratelimit:{uuid.uuid4().hex[:10]}"
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.ping()
    except (RedisError, OSError) as error:
        await redis.aclose()
        unreachable(f"Redis at {REDIS_URL}", error)
    try:
        yield name
    finally:
        keys = [key async for key in redis.scan_iter(f"{name}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


def limits(per_minute: dict[str, int], burst: dict[str, int] | None = None, **more: Any) -> Any:
    """Rate limits on, with these budgets only (every other role unlimited)."""
    return RateLimitSettings(enabled=True, per_minute=per_minute, burst=burst or {}, **more)


async def key(engine: AsyncEngine, role: str) -> dict[str, str]:
    secret, _ = await api_keys.create(engine, name=f"rl-{role}", role=role, now=FIRM_NOW)
    return {"Authorization": f"Bearer {secret}"}


def remaining(response: httpx.Response) -> int:
    return int(response.headers["ratelimit-remaining"])


def rate_limited(response: httpx.Response) -> dict[str, Any]:
    """The refusal's error, after checking its status, headers and shape."""
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["ratelimit-remaining"] == "0"
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] == int(response.headers["retry-after"])
    return dict(error)


async def test_two_gateways_draw_on_one_budget_in_redis(engine: AsyncEngine, prefix: str) -> None:
    partner = await key(engine, "partner")
    settings = {
        "redis_url": REDIS_URL,
        "auth": AuthSettings(anonymous_role=None),
        "rate_limit": limits({"partner": 5}, key_prefix=prefix),
    }
    async with (
        edge_app(engine, **settings) as one,
        edge_app(engine, **settings) as two,
        http_client(one) as first,
        http_client(two) as second,
    ):
        answers = [
            await (first if i % 2 else second).post("/graphql", json=QUERY, headers=partner)
            for i in range(5)
        ]
        over = await first.post("/graphql", json=QUERY, headers=partner)
        over_too = await second.post("/graphql", json=QUERY, headers=partner)
    assert [a.status_code for a in answers] == [200] * 5
    assert [remaining(a) for a in answers] == [4, 3, 2, 1, 0]
    assert all(a.headers["ratelimit-limit"] == "5" for a in answers)
    assert answers[0].headers["ratelimit-policy"] == "5;w=60"
    assert 0 < int(answers[-1].headers["ratelimit-reset"]) <= 60
    error = rate_limited(over)
    assert "at most 5 requests per minute" in error["message"]
    assert 0 < int(over.headers["retry-after"]) <= 60
    rate_limited(over_too)
    assert over.json().get("data") is None  # nothing ran


async def test_the_budget_comes_back_when_its_window_has_passed(
    engine: AsyncEngine, prefix: str
) -> None:
    """The per-second window (``burst``): two requests, a refusal, and after a second, more."""
    settings = limits({}, {"admin": 2}, key_prefix=prefix)
    async with (
        edge_app(engine, redis_url=REDIS_URL, rate_limit=settings) as app,
        http_client(app) as client,
    ):
        first = [await client.post("/graphql", json=QUERY) for _ in range(2)]
        refused = await client.post("/graphql", json=QUERY)
        await asyncio.sleep(1.2)
        again = await client.post("/graphql", json=QUERY)
    assert [remaining(r) for r in first] == [1, 0]
    assert first[0].headers["ratelimit-policy"] == "2;w=1"
    error = rate_limited(refused)
    assert refused.headers["retry-after"] == "1"
    assert "in one second" in error["message"]
    assert again.status_code == 200 and remaining(again) == 1


async def test_a_partner_has_a_smaller_budget_than_an_admin(engine: AsyncEngine) -> None:
    partner, admin = await key(engine, "partner"), await key(engine, "admin")
    settings = limits({"partner": 2, "admin": 50})
    async with (
        edge_app(engine, auth=AuthSettings(anonymous_role=None), rate_limit=settings) as app,
        http_client(app) as client,
    ):
        partners = [await client.post("/graphql", json=QUERY, headers=partner) for _ in range(3)]
        admins = [await client.post("/graphql", json=QUERY, headers=admin) for _ in range(3)]
    assert [r.status_code for r in partners] == [200, 200, 429]
    assert [r.status_code for r in admins] == [200, 200, 200]
    assert partners[0].headers["ratelimit-limit"] == "2"
    assert admins[0].headers["ratelimit-limit"] == "50"
    assert [remaining(r) for r in admins] == [49, 48, 47]


async def test_embedded_counters_live_in_the_process(engine: AsyncEngine) -> None:
    """No Redis: each process counts alone (one budget per caller per process)."""
    settings = limits({"admin": 3})
    async with (
        edge_app(engine, rate_limit=settings) as one,
        edge_app(engine, rate_limit=settings) as two,
        http_client(one) as first,
        http_client(two) as second,
    ):
        ones = [await first.post("/graphql", json=QUERY) for _ in range(4)]
        other = await second.post("/graphql", json=QUERY)
    assert [r.status_code for r in ones] == [200, 200, 200, 429]
    assert other.status_code == 200 and remaining(other) == 2


async def test_anonymous_callers_are_counted_by_address(engine: AsyncEngine) -> None:
    """X-Forwarded-For counts only from a listed proxy (httpx's ASGI client is 127.0.0.1)."""
    behind = HttpSettings(trusted_proxies=["127.0.0.0/8"])
    anonymous = AuthSettings(anonymous_role="partner")
    settings = {"auth": anonymous, "rate_limit": limits({"partner": 2})}
    async with (
        edge_app(engine, http=behind, **settings) as proxied,
        edge_app(engine, **settings) as direct,
        http_client(proxied) as via_proxy,
        http_client(direct) as no_proxy,
    ):
        a = [await via_proxy.post("/graphql", json=QUERY, headers=_from(ONE)) for _ in range(3)]
        b = await via_proxy.post("/graphql", json=QUERY, headers=_from(OTHER))
        spoofed = await via_proxy.post(  # the client wrote the left entry: it is not believed
            "/graphql", json=QUERY, headers=_from(f"{OTHER}, {ONE}")
        )
        lies = [
            await no_proxy.post("/graphql", json=QUERY, headers=_from(f"198.51.100.{i}"))
            for i in range(3)
        ]
    assert [r.status_code for r in a] == [200, 200, 429]
    assert b.status_code == 200 and remaining(b) == 1
    assert spoofed.status_code == 429
    assert [r.status_code for r in lies] == [200, 200, 429]  # one budget: the socket's address


async def test_limits_off_or_unlimited_roles_send_no_headers(engine: AsyncEngine) -> None:
    async with (
        edge_app(engine, rate_limit=limits({"partner": 5})) as unlimited_admin,
        edge_app(engine, rate_limit=RateLimitSettings(enabled=False)) as off,
        http_client(unlimited_admin) as first,
        http_client(off) as second,
    ):
        answers = [await client.post("/graphql", json=QUERY) for client in (first, second)]
    for answer in answers:
        assert answer.status_code == 200
        assert not any(name.startswith("ratelimit") for name in answer.headers)


async def test_unreachable_counters_let_requests_through(engine: AsyncEngine) -> None:
    """Redis down: the API stays up, uncounted (and logged)."""
    dead = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings = limits({"admin": 1})
    async with edge_app(engine, redis_url=dead, rate_limit=settings) as app, http_client(app) as c:
        answers = [await c.post("/graphql", json=QUERY) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert not any(name.startswith("ratelimit") for name in answers[0].headers)


async def test_each_websocket_operation_is_counted_and_the_socket_stays_open(
    engine: AsyncEngine,
) -> None:
    partner = await key(engine, "partner")
    settings = limits({"partner": 3})
    async with (
        edge_app(engine, auth=AuthSettings(anonymous_role=None), rate_limit=settings) as app,
        on_a_socket(app) as (host, port),
    ):
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as client:
            http = await client.post("/graphql", json=QUERY, headers=partner)
        url, protocols = f"ws://{host}:{port}/graphql", ["graphql-transport-ws"]
        async with connect(url, subprotocols=protocols) as ws:  # type: ignore[arg-type]
            await ws.send(json.dumps({"type": "connection_init", "payload": partner}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            answers = [await _operation(ws, str(i)) for i in range(3)]
            await ws.send(json.dumps({"type": "ping"}))
            pong = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
    assert http.status_code == 200 and remaining(http) == 2  # one budget for HTTP and WS
    assert answers[0][0]["type"] == "next" and answers[0][-1]["type"] == "complete"
    assert answers[1][0]["type"] == "next"
    (refusal,) = answers[2]
    assert refusal["type"] == "error" and refusal["id"] == "2"
    (error,) = refusal["payload"]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["retryAfter"] >= 1
    assert pong == {"type": "pong"}


async def _operation(ws: Any, operation_id: str) -> list[dict[str, Any]]:
    await ws.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": QUERY}))
    messages: list[dict[str, Any]] = []
    while not messages or messages[-1]["type"] not in ("complete", "error"):
        messages.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=5)))
    return messages


def _from(forwarded_for: str) -> dict[str, str]:
    return {"X-Forwarded-For": forwarded_for}


async def test_a_hung_redis_lets_requests_through_without_holding_them(
    engine: AsyncEngine,
) -> None:
    """A "Redis" that takes the connection and never answers: the first request waits out
    the counters' timeout and is let through; the next ones do not ask it for a while. Before,
    every request waited for an answer that never came."""
    held: list[asyncio.StreamWriter] = []

    async def _hang(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(_hang, "127.0.0.1", 0)
    hung = f"redis://127.0.0.1:{server.sockets[0].getsockname()[1]}/0"
    settings = limits({"admin": 1})
    try:
        app_at = edge_app(engine, redis_url=hung, rate_limit=settings)
        async with app_at as app, http_client(app) as c:
            answers = await asyncio.wait_for(
                asyncio.gather(*(c.post("/graphql", json=QUERY) for _ in range(3))), 10
            )
        assert held, "the limiter asked the hung Redis"
    finally:
        for writer in held:
            writer.close()
        server.close()
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert not any(name.startswith("ratelimit") for name in answers[0].headers)
