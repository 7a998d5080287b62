"""Per-source limits: a real Starlette app behind httpx.ASGITransport, waits counted not slept."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sync_jobs.connectors.salesforce.client import SalesforceClient
from sync_jobs.errors import TransientSourceError
from sync_jobs.limits import SAFE_TO_REPEAT, LimitedTransport, retry_after_seconds
from systems.salesforce.app import Faults, create_simulator
from tests.systems.test_salesforce_simulator import SECRET, seeded_store


@dataclass
class FakeTime:
    """A clock that only moves when someone sleeps; every sleep is recorded."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if round(seconds, 6):  # waits under a microsecond (a 1e9/s rate cap) are not counted
            self.sleeps.append(round(seconds, 6))
        self.now += seconds
        await asyncio.sleep(0)


@dataclass
class Upstream:
    """A source that answers from a script of (status, headers), then 200 with the body."""

    script: Iterator[tuple[int, dict[str, str]]]
    calls: int = 0
    bodies: list[bytes] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        self.calls += 1
        self.bodies.append(await request.body())
        status, headers = next(self.script, (200, {}))
        return JSONResponse({"call": self.calls}, status, headers=headers)


def upstream(*script: tuple[int, dict[str, str]]) -> tuple[Upstream, httpx.AsyncBaseTransport]:
    source = Upstream(iter(script))
    app = Starlette(routes=[Route("/api", source.handle, methods=["GET", "POST", "PUT", "PATCH"])])
    return source, httpx.ASGITransport(app=app)


def limited(
    inner: httpx.AsyncBaseTransport,
    fake: FakeTime,
    *,
    retries: int = 5,
    rate: float = 1e9,
    jitter: Callable[[], float] = lambda: 0.0,
) -> httpx.AsyncClient:
    transport = LimitedTransport(
        inner,
        max_concurrency=4,
        requests_per_second=rate,
        max_retries=retries,
        sleep=fake.sleep,
        clock=fake.clock,
        jitter=jitter,
    )
    return httpx.AsyncClient(transport=transport, base_url="http://source")


async def test_a_429_storm_honours_retry_after_and_ends_in_success() -> None:
    source, inner = upstream(*[(429, {"Retry-After": "2"})] * 3)
    fake = FakeTime()
    async with limited(inner, fake) as client:
        response = await client.post("/api", json={"q": "SELECT Id FROM Account"})

    assert response.status_code == 200 and response.json() == {"call": 4}
    assert source.calls == 4
    assert fake.sleeps == [2.0, 2.0, 2.0]
    assert len(set(source.bodies)) == 1 and source.bodies[0]  # the body was sent every time


async def test_jitter_is_added_to_retry_after_never_taken_from_it() -> None:
    _, inner = upstream((429, {"Retry-After": "1"}))
    fake = FakeTime()
    async with limited(inner, fake, jitter=lambda: 0.999) as client:
        assert (await client.get("/api")).status_code == 200
    assert fake.sleeps == [pytest.approx(1.0 + 0.25 * 0.999)]


async def test_503_without_retry_after_backs_off_exponentially() -> None:
    source, inner = upstream(*[(503, {})] * 3)
    fake = FakeTime()
    async with limited(inner, fake, jitter=lambda: 1.0) as client:
        assert (await client.get("/api")).status_code == 200
    assert fake.sleeps == [0.5, 1.0, 2.0] and source.calls == 4


async def test_a_post_after_a_503_is_resent_only_when_marked_safe() -> None:
    """A 503 may come after the source did the work: a create must not be sent twice."""
    source, inner = upstream((503, {}), (503, {}))
    fake = FakeTime()
    async with limited(inner, fake) as client:
        create = await client.post("/api", json={"create": "timesheet.line"})
        read = await client.post(
            "/api", json={"search_read": []}, extensions={SAFE_TO_REPEAT: True}
        )
    assert (create.status_code, read.status_code) == (503, 200)
    assert source.calls == 3  # the create once; the marked read twice


async def test_when_retries_run_out_the_last_response_is_handed_through() -> None:
    source, inner = upstream(*[(429, {"Retry-After": "1"})] * 10)
    fake = FakeTime()
    async with limited(inner, fake, retries=2) as client:
        response = await client.get("/api")
    assert response.status_code == 429
    assert source.calls == 3 and fake.sleeps == [1.0, 1.0]


async def test_a_retry_after_beyond_the_cap_is_left_to_the_scheduler() -> None:
    source, inner = upstream((429, {"Retry-After": "3600"}))
    fake = FakeTime()
    async with limited(inner, fake) as client:
        response = await client.get("/api")
    assert response.status_code == 429 and source.calls == 1 and fake.sleeps == []


async def test_other_errors_are_not_retried() -> None:
    source, inner = upstream((403, {"Retry-After": "1"}), (500, {}), (502, {}), (502, {}))
    fake = FakeTime()
    async with limited(inner, fake) as client:
        assert (await client.get("/api")).status_code == 403  # a refusal
        assert (await client.post("/api", content=b"write")).status_code == 500  # a write
        assert (await client.post("/api", content=b"write")).status_code == 502
        assert (await client.patch("/api", content=b"write")).status_code == 502
    assert source.calls == 4 and fake.sleeps == []


async def test_a_read_is_retried_after_a_server_error() -> None:
    script = [(500, {}), (502, {}), (503, {}), (504, {})]
    source, inner = upstream(*script)
    fake = FakeTime()
    async with limited(inner, fake) as client:
        read = await client.get("/api")
        marked = await client.post("/api", content=b"q", extensions={SAFE_TO_REPEAT: True})
    assert (read.status_code, read.json()) == (200, {"call": 5})
    assert (marked.status_code, source.calls) == (200, 6)
    assert len(fake.sleeps) == 4 and all(0 < s <= 30 for s in fake.sleeps)


async def test_an_idempotent_write_is_retried_after_a_server_error() -> None:
    source, inner = upstream((502, {}), (500, {}))
    fake = FakeTime()
    async with limited(inner, fake) as client:  # NetSuite's PUT eid:<key> upsert
        upsert = await client.put("/api", content=b"record")
    assert (upsert.status_code, source.calls, len(fake.sleeps)) == (200, 3, 2)
    assert source.bodies == [b"record"] * 3  # the same body each time


class FlakyTransport(httpx.AsyncBaseTransport):
    """Fails the first ``failures`` requests the way a network does, then delegates."""

    def __init__(self, inner: httpx.AsyncBaseTransport, failures: list[Exception]) -> None:
        self.inner = inner
        self.failures = failures
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        if self.failures:
            raise self.failures.pop(0)
        return await self.inner.handle_async_request(request)


async def test_a_read_survives_timeouts_and_broken_connections_but_a_write_does_not() -> None:
    source, inner = upstream()
    fake = FakeTime()
    broken: list[Exception] = [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("reset")]
    broken.append(httpx.ConnectError("refused"))
    flaky = FlakyTransport(inner, broken)
    async with limited(flaky, fake) as client:
        read = await client.get("/api")
        flaky.failures = [httpx.ReadTimeout("slow")]
        with pytest.raises(httpx.ReadTimeout):
            await client.post("/api", content=b"write")
    assert read.status_code == 200 and flaky.sent == 5 and source.calls == 1
    assert len(fake.sleeps) == 3


async def test_the_request_rate_is_capped() -> None:
    _, inner = upstream()
    fake = FakeTime()
    async with limited(inner, fake, rate=10.0) as client:
        for _ in range(5):
            await client.get("/api")
    assert fake.sleeps == [0.1, 0.1, 0.1, 0.1]  # the first is free, then one per 1/rate


async def test_concurrent_callers_are_spaced_by_the_rate_in_real_time() -> None:
    _, inner = upstream()
    transport = LimitedTransport(inner, max_concurrency=8, requests_per_second=40, max_retries=0)
    async with httpx.AsyncClient(transport=transport, base_url="http://source") as client:
        started = time.monotonic()
        await asyncio.gather(*(client.get("/api") for _ in range(6)))
        elapsed = time.monotonic() - started
    # The floor is the guard (six calls at 40/s need five gaps); the ceiling only shows the
    # gaps are the rate's, not seconds each, with room for a loaded machine.
    assert 5 / 40 <= elapsed < 3.0, f"{elapsed:.2f} s"


async def test_no_more_than_max_concurrency_requests_are_in_flight() -> None:
    in_flight, peak = 0, 0

    async def slow(_request: Request) -> Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return Response("ok")

    app = Starlette(routes=[Route("/api", slow)])
    transport = LimitedTransport(
        httpx.ASGITransport(app=app), max_concurrency=3, requests_per_second=1000, max_retries=0
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://source") as client:
        responses = await asyncio.gather(*(client.get("/api") for _ in range(12)))
    assert all(r.status_code == 200 for r in responses)
    assert peak == 3


async def test_the_salesforce_client_raises_its_typed_error_after_the_retries() -> None:
    faults = Faults()
    faults.fail_next(429, "REQUEST_LIMIT_EXCEEDED_PER_SECOND", times=10, retry_after=1)
    app = create_simulator(seeded_store(), client_secret=SECRET, faults=faults)
    fake = FakeTime()
    async with limited(httpx.ASGITransport(app=app), fake, retries=3) as http:
        client = SalesforceClient("http://sf.test", "clientgraph", SECRET, http)
        with pytest.raises(TransientSourceError) as raised:
            async for _ in client.query("SELECT Id FROM Account"):
                pass
    assert raised.value.retry_after == 1.0
    assert fake.sleeps == [1.0, 1.0, 1.0] and len(faults.queue) == 6


def test_retry_after_may_be_an_http_date() -> None:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    date = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds(date, now) == 30.0
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None
