"""Shared source budgets against the real Redis: one concurrency and rate for many clients.

The process test runs three client processes against a NetSuite simulator process that
enforces an account-wide concurrency limit (``AccountConcurrency``), as NetSuite does.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from sync_jobs.errors import TransientSourceError
from sync_jobs.shared_limits import SharedBudget, SharedLimits, rate_item
from systems.netsuite.concurrency import REPORT_PATH
from systems.netsuite.m2m import new_certificate
from tests.conftest import REDIS_URL, unreachable
from tests.e2e import processes

ACCOUNT_LIMIT = 2  # the simulated account's concurrency
PER_PROCESS = 2  # each process's own max_concurrency
PROCESSES = 3
REQUESTS = 12  # per process, all at once


@pytest.fixture
async def shared() -> AsyncIterator[list[SharedLimits]]:
    """Three independent connections to Redis, as three processes would have."""
    try:
        probe = Redis.from_url(REDIS_URL)
        await probe.ping()
        await probe.aclose()
    except (OSError, RedisError) as error:
        unreachable(f"Redis at {REDIS_URL}", error)
    connections = [SharedLimits(REDIS_URL) for _ in range(3)]
    yield connections
    for connection in connections:
        await connection.aclose()


def budgets(connections: list[SharedLimits], **limits: float) -> list[SharedBudget]:
    base = f"http://account-{uuid.uuid4().hex[:8]}.test"  # a budget of this test's own
    options = {"max_concurrency": 2, "requests_per_second": 1000.0, "lease_seconds": 15.0}
    options.update(limits)
    return [c.budget("netsuite", base, **options) for c in connections]  # type: ignore[arg-type]


async def test_clients_on_separate_connections_share_one_concurrency(
    shared: list[SharedLimits],
) -> None:
    in_flight, peak = 0, 0

    async def request(budget: SharedBudget) -> None:
        nonlocal in_flight, peak
        async with budget.slot():
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.02)
            in_flight -= 1

    every = budgets(shared, max_concurrency=2)
    await asyncio.gather(*(request(every[i % 3]) for i in range(18)))
    assert peak == 2  # each connection alone would allow 2, together 6


async def test_a_slot_whose_holder_died_frees_itself_when_its_lease_runs_out(
    shared: list[SharedLimits],
) -> None:
    dead, alive = budgets(shared[:2], max_concurrency=1, lease_seconds=1.0)
    # The holder takes the slot and dies: it never releases it and never renews it.
    assert await dead._call(dead.limits.acquire, 1, dead.lease_ms, "killed-worker")

    started = time.monotonic()
    async with alive.slot():
        waited = time.monotonic() - started
    assert 0.8 <= waited < 5.0, f"{waited:.2f} s"


async def test_a_lease_is_renewed_while_its_request_runs(shared: list[SharedLimits]) -> None:
    holder, other = budgets(shared[:2], max_concurrency=1, lease_seconds=1.0)
    async with holder.slot():
        await asyncio.sleep(2.0)  # twice the lease: only renewal keeps the slot
        got = await other._call(other.limits.acquire, 1, other.lease_ms, "intruder")
    assert not got


async def test_the_request_rate_is_shared(shared: list[SharedLimits]) -> None:
    every = budgets(shared, requests_per_second=5.0)
    started = time.monotonic()
    await asyncio.gather(*(every[i % 3].pace() for i in range(10)))
    elapsed = time.monotonic() - started
    # 5 starts in any one-second window: the second five wait for the first to age out.
    assert 0.9 <= elapsed < 5.0, f"{elapsed:.2f} s"


def test_rates_below_one_a_second_become_one_per_n_seconds() -> None:
    assert (rate_item(25.0).amount, rate_item(25.0).get_expiry()) == (25, 1)
    assert (rate_item(0.25).amount, rate_item(0.25).get_expiry()) == (1, 4)


CERT = new_certificate()


@pytest.fixture
def governed_netsuite(tmp_path: Path) -> Iterator[str]:
    pem = tmp_path / "certificate.pem"
    pem.write_text(CERT.certificate_pem)
    certificate = f"{CERT.certificate_id}={pem}"
    args = ["--accounts", "3", "--today", "2026-06-30", "--certificate", certificate]
    concurrency = ["--account-concurrency", str(ACCOUNT_LIMIT), "--delay", "0.1"]
    with processes.simulator("netsuite", *args, *concurrency) as base:
        yield base


def run_clients(base: str, *, sharing: bool) -> dict[str, int]:
    env = {
        **os.environ,
        "CLIENTGRAPH_NETSUITE__BASE_URL": base,
        "CLIENTGRAPH_NETSUITE__CERTIFICATE_ID": CERT.certificate_id,
        "CLIENTGRAPH_NETSUITE__PRIVATE_KEY": CERT.private_key_pem,
        "CLIENTGRAPH_NETSUITE__MAX_CONCURRENCY": str(PER_PROCESS),
        "CLIENTGRAPH_NETSUITE__REQUESTS_PER_SECOND": "1000",
        "CLIENTGRAPH_REDIS_URL": REDIS_URL,
        "CLIENTGRAPH_SYNC__SHARED_LIMITS": "true" if sharing else "false",
    }
    command = [sys.executable, "-m", "tests.sync_jobs.limits_client", str(REQUESTS)]
    pipe = subprocess.PIPE
    procs = [
        subprocess.Popen(command, env=env, text=True, stdin=pipe, stdout=pipe, stderr=pipe)
        for _ in range(PROCESSES)
    ]
    for proc in procs:  # every one started and logged in, however loaded the machine
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n", proc.wait()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        assert out.strip() == str(REQUESTS)
    report: dict[str, int] = httpx.get(base + REPORT_PATH).json()
    return report


@pytest.mark.slow
@pytest.mark.redis
def test_three_processes_sharing_the_budget_never_exceed_the_account_limit(
    governed_netsuite: str, shared: list[SharedLimits]
) -> None:
    report = run_clients(governed_netsuite, sharing=True)
    assert report["refused"] == 0, report
    assert report["peak"] <= ACCOUNT_LIMIT
    assert report["served"] >= PROCESSES * (REQUESTS + 1)


@pytest.mark.slow
@pytest.mark.redis
def test_three_processes_each_keeping_its_own_budget_meet_429s(
    governed_netsuite: str, shared: list[SharedLimits]
) -> None:
    """The same run with sharing off: 3 × 2 requests in flight against an account of 2."""
    report = run_clients(governed_netsuite, sharing=False)
    assert report["refused"] > 0, report


async def test_without_redis_a_call_fails_as_a_transient_source_error() -> None:
    down = SharedLimits(f"redis://127.0.0.1:{processes.free_port()}/0")
    budget = down.budget(
        "netsuite", "http://x.test", max_concurrency=1, requests_per_second=10.0, lease_seconds=5.0
    )
    try:
        with pytest.raises(TransientSourceError, match="shared rate limits unavailable"):
            async with budget.slot():
                pass
        with pytest.raises(TransientSourceError):
            await budget.pace()
    finally:
        await down.aclose()
