"""Connections: a request reads on one pooled connection at a time, and the pool keeps its
sessions (the engine's, and the compiled statements' own: readmodel/raw_reads.py).

16 requests in flight used to hold several connections each (one per DataLoader batch), more
than the pool keeps, so SQLAlchemy closed the overflow on release and opened new PostgreSQL
sessions all the time (0.6 per request in docs/benchmarks.md). Here, through HTTP on the real
app and a PostgreSQL firm: once a first wave of requests has warmed the pool, a second wave at
the same concurrency opens no session at all, and at no moment are more connections checked
out than requests in flight (plus the odd resolver that still reads on the engine).

Verified: with a connection per DataLoader batch again (``Loaders(state.engine, …)`` in
gateway/context.py) the unified view's peak exceeds the bound and the second wave opens
sessions.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text

from resolvers.ids import to_global_id
from tests.conftest import Firm, running_app

QUERIES = Path(__file__).parents[2] / "bench" / "queries"
CONCURRENCY = 16
WAVE = 32


@dataclass
class Pool:
    opened: int = 0
    out: int = 0
    most: int = 0

    def watch(self, engine: Any) -> None:
        event.listen(engine.sync_engine, "connect", self._connect)
        event.listen(engine.sync_engine, "checkout", self._checkout)
        event.listen(engine.sync_engine, "checkin", self._checkin)

    def _connect(self, *_: object) -> None:
        self.opened += 1

    def _checkout(self, *_: object) -> None:
        self.out += 1
        self.most = max(self.most, self.out)

    def _checkin(self, *_: object) -> None:
        self.out -= 1


async def wave(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> None:
    """``WAVE`` requests, ``CONCURRENCY`` in flight at every moment."""
    left = list(range(WAVE))

    async def one_client() -> None:
        while left:
            left.pop()
            r = await client.post("/graphql", json={"query": query, "variables": variables})
            assert r.status_code == 200 and "errors" not in r.json(), r.text[:500]

    await asyncio.gather(*(one_client() for _ in range(CONCURRENCY)))


@pytest.mark.parametrize("firm", ["postgresql"], indirect=True)  # a PostgreSQL pool's sessions
@pytest.mark.parametrize("name", ["unified_client_view", "overdue_invoices"])
async def test_a_warm_pool_opens_no_session_at_sixteen_in_flight(firm: Firm, name: str) -> None:
    query = (QUERIES / f"{name}.graphql").read_text()
    variables = {"id": to_global_id("Account", 1)} if "$id" in query else {}
    async with running_app(firm.url, request_timeout_seconds=120) as app:
        pool, raw = Pool(), app.state.raw_reads  # the engine's, and the compiled statements'
        pool.watch(app.state.engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=120) as c:
            await wave(c, query, variables)
            warmed = pool.opened, raw.opened
            await wave(c, query, variables)
            opened = pool.opened, raw.opened
        async with app.state.engine.connect() as conn:  # and TLS is off on loopback, for all
            ssl = (await conn.execute(text(TLS_SESSIONS))).scalar()

    assert opened == warmed, f"the second wave opened sessions: {warmed} then {opened}"
    assert pool.most <= CONCURRENCY + 2, pool.most
    size = app.state.settings.database_pool_size
    assert warmed[0] <= size and warmed[1] <= min(size, CONCURRENCY), warmed
    assert raw.opened > 0  # the compiled statements ran on the bare driver's connections
    assert ssl is False


TLS_SESSIONS = """
SELECT bool_or(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid
WHERE a.datname = current_database()
"""
