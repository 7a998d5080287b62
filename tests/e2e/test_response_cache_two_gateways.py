"""The exact response cache across processes: a sync change applied through one gateway is in
the very next answer of another gateway that had the old answer cached.

The production shape on real sockets: two ``clientgraph serve`` processes and a worker on one
PostgreSQL read model and a Redis queue; the Salesforce simulator as its own process. Gateway B
answers a compiled query (twice: the second is a cache hit, /metrics says so); the account is
renamed in Salesforce and the signed webhook is delivered to gateway A, whose job the worker
applies. As soon as the read model holds the new name, B's very next answer has it — no
notification to wait for: B reads the tables' change counters for every request
(resolvers/response_cache.py).

Gateway B holds the change counters' lease (resolvers/planner/lease.py): its hits read no
counter at all (/metrics: no check statement), and the worker's commit waits for B to let go.
The second test stops B (SIGSTOP) under its lease before the change is applied: the worker's
commit is not held up for good (it ends B's lease session after the eviction time), and once
B runs again its very next answer has the new name. (Which mend that rests on is shown in
process, where the timing is the test's: tests/resolvers/planner/test_lease.py.)

Verified: serving a kept answer without comparing the counters fails here (B answers the old
name, from its cache, for as long as the process lives).
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from sync_jobs.webhooks.signature import HEADER, sign
from tests.e2e import processes
from tests.e2e.test_webhook_two_gateways import first_account, pg, production_env, redis
from tests.e2e.test_webhooks import rename_in_salesforce
from tests.gateway.test_webhooks import WHSEC, account_event, pull_all, until_named
from tests.sync_jobs.commands.test_worker_crash import PrivateRedis, start_worker
from tests.systems.test_salesforce_simulator import SECRET

pytestmark = pytest.mark.slow  # processes: two gateways, a worker, Redis and the simulator

__all__ = ["pg", "redis"]  # fixtures

NEW_NAME = "Counted Change Holdings"
QUERY = "query Names { accounts(first: 100) { nodes { id name } } }"
HIT = re.compile(r'clientgraph_cache_lookups_total\{cache="response",result="hit"\} (\S+)')
CHECKS = re.compile(r"^clientgraph_response_cache_checks_total (\S+)", re.MULTILINE)
TAKEN = re.compile(r'clientgraph_response_cache_leases_total\{outcome="taken"\} (\S+)')


async def names(client: httpx.AsyncClient, base: str) -> list[Any]:
    response = await client.post(f"{base}/graphql", json={"query": QUERY})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return [n["name"] for n in body["data"]["accounts"]["nodes"]]


async def hits(client: httpx.AsyncClient, base: str) -> float:
    return await sample(client, base, HIT)


async def sample(client: httpx.AsyncClient, base: str, pattern: re.Pattern[str]) -> float:
    found = pattern.search((await client.get(f"{base}/metrics")).text)
    return float(found.group(1)) if found else 0.0


async def lease_taken(client: httpx.AsyncClient, base: str) -> None:
    for _ in range(100):
        if await sample(client, base, TAKEN) >= 1:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the gateway took no counter lease in 5 s")


async def deliver_rename(client: httpx.AsyncClient, salesforce: str, one: str, target: str) -> None:
    """Rename the account in Salesforce and deliver its signed webhook to gateway ``one``."""
    await rename_in_salesforce(salesforce, target, NEW_NAME)
    body = json.dumps([account_event("evt-counted", target)]).encode()
    headers = {HEADER: sign(WHSEC, body, int(time.time()))}
    delivered = await client.post(f"{one}/webhooks/salesforce", content=body, headers=headers)
    assert delivered.status_code == 202, delivered.text


@dataclass(frozen=True)
class Production:
    """A Salesforce simulator pulled into the read model, a worker, and the gateways' env."""

    salesforce: str
    target: str
    env: dict[str, str]
    log: Path


@asynccontextmanager
async def production(
    pg: AsyncEngine, redis: PrivateRedis, tmp_path: Path
) -> AsyncIterator[Production]:
    args = ["--accounts", "6", "--today", "2026-06-30", "--client-secret", SECRET]
    with processes.simulator("salesforce", *args) as salesforce:
        await pull_all(pg, salesforce)
        target = await first_account(pg)
        env = {**production_env(pg, redis, salesforce), "CLIENTGRAPH_AUTH__ANONYMOUS_ROLE": "admin"}
        log = tmp_path / "processes.log"
        worker = await start_worker(env, log)
        try:
            yield Production(salesforce, target, env, log)
        finally:
            worker.terminate()
            await worker.wait()


async def test_a_change_applied_through_one_gateway_is_in_the_next_answer_of_another(
    pg: AsyncEngine, redis: PrivateRedis, tmp_path: Path
) -> None:
    async with production(pg, redis, tmp_path) as p:
        with processes.gateway(p.env, p.log) as one, processes.gateway(p.env, p.log) as two:
            async with httpx.AsyncClient(timeout=30) as client:
                # given gateway two answering from its cache, under its counter lease
                before = await names(client, two)
                await lease_taken(client, two)
                kept, checks = await hits(client, two), await sample(client, two, CHECKS)
                assert await names(client, two) == before
                assert await hits(client, two) == kept + 1, p.log.read_text()[-3000:]
                assert await sample(client, two, CHECKS) == checks  # no statement
                assert NEW_NAME not in before
                # when a rename is delivered to gateway one and applied by sync
                await deliver_rename(client, p.salesforce, one, p.target)
                await until_named(pg, p.target, NEW_NAME)
                # then the very next answer of gateway two has it, and every one after
                answers = [await names(client, two) for _ in range(5)]

    for answer in answers:
        assert NEW_NAME in answer, p.log.read_text()[-3000:]


async def test_a_stopped_gateway_answers_the_change_once_it_runs_again(
    pg: AsyncEngine, redis: PrivateRedis, tmp_path: Path
) -> None:
    async with production(pg, redis, tmp_path) as p:
        with (
            processes.gateway(p.env, p.log) as one,
            processes.gateway_process(p.env, p.log) as (two, stopped),
        ):
            async with httpx.AsyncClient(timeout=30) as client:
                before = await names(client, two)
                await lease_taken(client, two)
                assert await names(client, two) == before  # kept, under the lease
                stopped.send_signal(signal.SIGSTOP)  # its event loop runs nothing now
                try:
                    await deliver_rename(client, p.salesforce, one, p.target)
                    # the worker's commit waits for two's lease, then ends its session
                    await until_named(pg, p.target, NEW_NAME)
                finally:
                    stopped.send_signal(signal.SIGCONT)
                after = await names(client, two)

    assert NEW_NAME not in before
    assert NEW_NAME in after, p.log.read_text()[-3000:]
