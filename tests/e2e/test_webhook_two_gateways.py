"""One signed webhook delivered to two gateway processes at once is accepted once.

The production shape, on real sockets: two ``clientgraph serve`` processes and one
``clientgraph worker`` share a PostgreSQL read model and a Redis queue (a private
``redis-server``); the Salesforce simulator runs as its own process. A user renames an account
in Salesforce; the same delivery naming it is POSTed to both gateways concurrently.

The guard it defends: deduplication by the unique ``(source_system, event_id)`` of
``webhook_event``, decided by the insert itself (``sync_jobs/webhooks/receive.py``), so a
sender's double delivery racing on two processes is accepted by exactly one of them (202) and
answered as a duplicate by the other (200). The re-read still happens once, through the
worker, and the read model ends at the source's latest state.

Two POSTs sent together rarely overlap inside one transaction, so the test holds the race
window open: it locks ``webhook_event`` against writes (reads still pass) until both gateways
wait at their insert. Verified: a dedupe that checks for the event id first and then inserts
(a race only two processes meet) makes both answer 202 and fails here, as does one that
counts every id as new; the sequential gateway tests pass the former.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import Account, table_of
from sync_jobs.webhooks.signature import HEADER, sign
from tests.conftest import migrated_engine
from tests.e2e import processes
from tests.e2e.test_webhooks import rename_in_salesforce
from tests.gateway.test_webhooks import (
    WAIT_SECONDS,
    WHSEC,
    account_event,
    checkpoint,
    database_url,
    event_ids,
    pull_all,
    until_named,
)
from tests.sync_jobs.commands.test_worker_crash import PrivateRedis, start_worker
from tests.systems.test_salesforce_simulator import SECRET

# Slow (processes: two gateways, a worker, Redis and the simulator): `make test-fast` leaves
# it out.
pytestmark = pytest.mark.slow

NEW_NAME = "Delivered Twice Holdings"


@pytest.fixture
async def pg(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """PostgreSQL only: the read model several processes share in production."""
    async with migrated_engine("postgresql", tmp_path) as engine:
        yield engine


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(tmp_path, persist=False)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def production_env(engine: AsyncEngine, redis: PrivateRedis, salesforce: str) -> dict[str, str]:
    """Gateways and worker alike: Salesforce with webhooks, jobs through Redis, no pull due."""
    return {
        **os.environ,
        "CLIENTGRAPH_DATABASE_URL": database_url(engine),
        "CLIENTGRAPH_REDIS_URL": redis.url,
        "CLIENTGRAPH_SALESFORCE__BASE_URL": salesforce,
        "CLIENTGRAPH_SALESFORCE__CLIENT_SECRET": SECRET,
        "CLIENTGRAPH_SALESFORCE__WEBHOOK_SECRET": WHSEC,
        "CLIENTGRAPH_SYNC__INTERVAL_SECONDS": "86400",
        "CLIENTGRAPH_SYNC__RECONCILE_INTERVAL_SECONDS": "86400",
    }


async def first_account(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        target = (await conn.execute(select(table_of(Account).c.source_id))).scalars().first()
    assert target is not None
    return target


async def both_at_the_insert(
    engine: AsyncEngine, posts: list[Coroutine[Any, Any, httpx.Response]]
) -> list[httpx.Response]:
    """Send ``posts`` while ``webhook_event`` is locked against writes (reads still pass), let
    go once every one of them waits at its insert: the race window, held open on purpose."""
    async with engine.begin() as lock:  # committed, so let go, when the block ends
        await lock.execute(text("LOCK TABLE webhook_event IN EXCLUSIVE MODE"))
        sent = asyncio.gather(*posts)
        deadline = time.monotonic() + WAIT_SECONDS
        while await waiting_inserts(engine) < len(posts):
            assert time.monotonic() < deadline, "the deliveries never reached the insert"
            await asyncio.sleep(0.02)
    return list(await sent)


async def waiting_inserts(engine: AsyncEngine) -> int:
    stmt = text(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'webhook_event'::regclass"
    )
    async with engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


async def test_one_delivery_to_two_gateways_at_once_is_accepted_once_and_re_read(
    pg: AsyncEngine, redis: PrivateRedis, tmp_path: Path
) -> None:
    args = ["--accounts", "6", "--today", "2026-06-30", "--client-secret", SECRET]
    with processes.simulator("salesforce", *args) as salesforce:
        await pull_all(pg, salesforce)
        target = await first_account(pg)
        before = await checkpoint(pg, "account")
        env, log = production_env(pg, redis, salesforce), tmp_path / "processes.log"
        worker = await start_worker(env, log)
        try:
            with processes.gateway(env, log) as one, processes.gateway(env, log) as two:
                # given an edit at the source, and one signed delivery naming the record
                await rename_in_salesforce(salesforce, target, NEW_NAME)
                body = json.dumps([account_event("evt-delivered-twice", target)]).encode()
                headers = {HEADER: sign(WHSEC, body, int(time.time()))}
                # when the sender delivers it to both gateways at once, and both reach the
                # insert before either commits
                async with httpx.AsyncClient(timeout=30) as client:
                    answers = await both_at_the_insert(
                        pg,
                        [
                            client.post(f"{url}/webhooks/salesforce", content=body, headers=headers)
                            for url in (one, two)
                        ],
                    )
                # then the record is re-read (by the worker) into the read model
                await until_named(pg, target, NEW_NAME)
        finally:
            worker.terminate()
            await worker.wait()

    assert sorted((a.status_code, a.json()) for a in answers) == [
        (200, {"accepted": 0, "duplicates": 1}),
        (202, {"accepted": 1, "duplicates": 0}),
    ], log.read_text()[-3000:]
    assert await event_ids(pg) == ["evt-delivered-twice"]  # one delivery recorded
    assert await checkpoint(pg, "account") == before  # it came by webhook, not by a pull
