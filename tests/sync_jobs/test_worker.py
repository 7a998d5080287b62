"""The queued path on real Redis: ArqDispatcher → arq Worker → Salesforce simulator on a socket."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from arq import Worker
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from clientgraph.cli import build_parser
from clientgraph.settings import SalesforceSettings, Settings, SyncSettings
from readmodel.tables import Account, Contact, Opportunity
from sync_jobs.dispatch import ArqDispatcher, QueueUnavailable
from sync_jobs.worker import cron_jobs, schedule, worker_settings
from systems.salesforce.app import create_simulator
from tests.conftest import REDIS_URL, migrated_engine, unreachable
from tests.e2e.test_cli import _free_port
from tests.sync_jobs.connectors.salesforce.test_connector import count
from tests.systems.test_salesforce_simulator import SECRET, seeded_store


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """Serve ``app`` on a real socket of 127.0.0.1 for the duration; yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def sync_settings(db_url: str, sf_url: str, **sync: Any) -> Settings:
    return Settings(
        database_url=db_url,
        redis_url=REDIS_URL,
        salesforce=SalesforceSettings(
            base_url=sf_url, client_secret=SECRET, requests_per_second=1000
        ),
        sync=SyncSettings(**sync),
    )


@pytest.fixture
async def queue() -> AsyncIterator[str]:
    """A queue name of this test's own; every arq key it left behind is deleted afterwards."""
    name = f"clientgraph:test:{uuid.uuid4().hex[:10]}"
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.ping()
    except (RedisError, OSError) as error:
        unreachable(f"Redis at {REDIS_URL}", error)
    started_ms = int(time.time() * 1000) - 1000
    try:
        yield name
    finally:
        keys = [k async for k in redis.scan_iter(f"{name}*")]
        crons = [k async for k in redis.scan_iter("arq:*:cron:*:salesforce:*")]
        keys += [k for k in crons if int(k.rsplit(b":", 1)[1]) >= started_ms]  # this test's slots
        await redis.delete(name, *keys)
        await redis.aclose()


async def forget_jobs(job_ids: list[str]) -> None:
    redis = Redis.from_url(REDIS_URL)
    for job_id in job_ids:
        await redis.delete(*[f"arq:{kind}:{job_id}" for kind in ("job", "result", "retry")])
    await redis.aclose()


async def test_a_queued_pull_fills_the_read_model(engine: AsyncEngine, queue: str) -> None:
    store = seeded_store()
    async with serving(create_simulator(store, client_secret=SECRET, batch_size=25)) as sf:
        settings = sync_settings(engine.url.render_as_string(hide_password=False), sf)
        gateway_side = ArqDispatcher(REDIS_URL, queue_name=queue)
        job_id = await gateway_side.enqueue("pull_source", "salesforce")
        await gateway_side.close()
        worker = Worker(
            **worker_settings(settings, queue_name=queue, crons=False),
            burst=True,
            handle_signals=False,
            poll_delay=0.05,
        )
        try:
            await worker.async_run()
        finally:
            await worker.close()
            await forget_jobs([job_id or ""])

    assert job_id is not None
    assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)
    assert await count(engine, Account) == len(store.records["Account"])
    assert await count(engine, Contact) == len(store.records["Contact"])
    assert await count(engine, Opportunity) == len(store.records["Opportunity"])


async def test_the_cron_pulls_each_source_on_schedule(tmp_path: Path, queue: str) -> None:
    store = seeded_store()
    async with (
        migrated_engine("sqlite", tmp_path) as engine,
        serving(create_simulator(store, client_secret=SECRET, batch_size=25)) as sf,
    ):
        url = engine.url.render_as_string(hide_password=False)
        settings = sync_settings(url, sf, interval_seconds=1)
        worker = Worker(
            **worker_settings(settings, queue_name=queue), handle_signals=False, poll_delay=0.05
        )
        running = asyncio.create_task(worker.async_run())
        try:
            for _ in range(60):  # the first slot is at most a second away
                if await count(engine, Account):
                    break
                await asyncio.sleep(0.05)
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            await worker.close()
        assert await count(engine, Account) == len(store.records["Account"])


def test_crons_are_unique_per_source_and_follow_the_interval() -> None:
    settings = Settings(
        salesforce=SalesforceSettings(base_url="http://sf.test"),
        sync=SyncSettings(interval_seconds=15, reconcile_interval_seconds=7200),
    )
    jobs = {job.name: job for job in cron_jobs(settings)}

    assert set(jobs) == {
        "cron:relay_commands",
        "cron:snapshot_forecast",
        "cron:refresh_figures",
        "cron:pull_source:salesforce",
        "cron:reconcile_source:salesforce",
    }
    assert jobs["cron:relay_commands"].second == {0, 10, 20, 30, 40, 50}
    daily = jobs["cron:snapshot_forecast"]  # once a day, at 02:17:00 UTC
    assert (daily.hour, daily.minute, daily.second) == ({2}, {17}, {0})
    daily = jobs["cron:refresh_figures"]  # the stored figures' new day, and on start
    assert (daily.hour, daily.minute, daily.second, daily.run_at_startup) == ({0}, {0}, {5}, True)
    assert all(job.unique for job in jobs.values())
    assert jobs["cron:pull_source:salesforce"].second == {0, 15, 30, 45}
    assert jobs["cron:reconcile_source:salesforce"].hour == set(range(0, 24, 2))
    assert schedule(300).minute == set(range(0, 60, 5)) and schedule(300).second == {0}
    assert schedule(0.5).second == set(range(60))  # arq's finest grain is a second


async def test_a_dead_redis_is_a_typed_error_for_the_caller() -> None:
    dispatcher = ArqDispatcher(f"redis://127.0.0.1:{_free_port()}/0", queue_name="nowhere")
    with pytest.raises(QueueUnavailable):
        await dispatcher.enqueue("pull_source", "salesforce")
    await dispatcher.close()


async def test_the_gateway_queues_to_arq_when_redis_is_configured(tmp_path: Path) -> None:
    from gateway.app import create_app
    from sync_jobs.dispatch import InProcessDispatcher

    url = f"sqlite+aiosqlite:///{tmp_path / 'cg.db'}"
    queued = create_app(Settings(database_url=url, redis_url=REDIS_URL))
    embedded = create_app(Settings(database_url=url))
    async with queued.router.lifespan_context(queued):
        assert isinstance(queued.state.jobs, ArqDispatcher)
    async with embedded.router.lifespan_context(embedded):
        assert isinstance(embedded.state.jobs, InProcessDispatcher)


def test_the_worker_command_explains_what_it_needs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["worker", "--help"])
    helped = capsys.readouterr().out
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIENTGRAPH_")}
    cli = [sys.executable, "-m", "clientgraph", "worker"]
    refused = subprocess.run(cli, env=env, capture_output=True, text=True, check=False)

    assert "--burst" in helped and "CLIENTGRAPH_REDIS_URL" in helped
    assert refused.returncode == 1 and "CLIENTGRAPH_REDIS_URL" in refused.stderr
    assert "Traceback" not in refused.stderr
