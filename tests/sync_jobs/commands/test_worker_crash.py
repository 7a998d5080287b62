"""The queued path on real processes: a worker SIGKILLed mid-write, a Redis restart, a new
worker — the command ends SUCCEEDED and NetSuite holds exactly one record for it.

Redis here is a private ``redis-server`` (append-only file, fsync always) on a free port, so
restarting it disturbs nobody; NetSuite is the simulator on a real socket; the read model is
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from arq import create_pool
from arq.connections import RedisSettings
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.command_log import CommandStatus
from sync_jobs.commands.execute import external_key
from sync_jobs.context import close_deps, open_deps
from sync_jobs.dispatch import QUEUE_NAME
from systems.netsuite import app as netsuite_app
from systems.netsuite import faults as netsuite_faults
from systems.netsuite import store as netsuite_store
from systems.salesforce import app as salesforce_app
from systems.salesforce import store as salesforce_store
from tests.conftest import migrated_engine, unreachable
from tests.e2e.test_cli import _free_port
from tests.sync_jobs.commands.conftest import (
    ACCOUNTS,
    add_command,
    at_source,
    command,
    first,
    pull_everything,
    read_model_row,
    set_command,
    settings_for,
)
from tests.sync_jobs.test_worker import serving
from tests.systems.test_netsuite_simulator import SECRET, seeded_rows

REPO = Path(__file__).resolve().parents[3]
SLOW_SECONDS = 0.5  # every NetSuite answer, while the first worker runs


class PrivateRedis:
    """A redis-server of this test's own that keeps its data across a restart."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._args = ["--port", str(self.port), "--dir", str(directory), "--save", ""]
        self._args += ["--appendonly", "yes", "--appendfsync", "always", "--bind", "127.0.0.1"]
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unreachable("redis-server", FileNotFoundError("redis-server"))
        self._process = await asyncio.create_subprocess_exec(
            str(binary), *self._args, stdout=asyncio.subprocess.DEVNULL
        )
        await until(self._answers, "redis-server to answer")

    async def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()  # SIGTERM: redis flushes the append-only file and exits
            await self._process.wait()

    async def _answers(self) -> bool:
        redis = Redis.from_url(self.url)
        try:
            return bool(await redis.ping())
        except (RedisError, OSError):
            return False
        finally:
            await redis.aclose()


async def until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 20) -> None:
    for _ in range(int(seconds / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def pg(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with migrated_engine("postgresql", tmp_path) as engine:
        yield engine


async def start_worker(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.sync_jobs.commands.worker_process",
            QUEUE_NAME,
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=out,
        )


async def test_a_killed_worker_and_a_redis_restart_lose_nothing_and_duplicate_nothing(
    pg: AsyncEngine, redis: PrivateRedis, tmp_path: Path
) -> None:
    rows = seeded_rows(ACCOUNTS)
    ns, faults = netsuite_store.from_seed(rows), netsuite_faults.Faults()
    ns_app = netsuite_app.create_simulator(ns, client_secret=SECRET, faults=faults)
    sf_app = salesforce_app.create_simulator(salesforce_store.from_seed(rows), client_secret=SECRET)
    db_url = pg.url.render_as_string(hide_password=False)
    async with serving(ns_app) as ns_url:
        # given a read model pulled from both sources, and one accepted log_time, queued
        settings = settings_for(db_url, sf_url="http://sf.test", ns_url=ns_url)
        sf_transport = {"salesforce": httpx.ASGITransport(app=sf_app)}
        deps = await open_deps(settings, engine=pg, transports=sf_transport)
        try:
            await pull_everything(deps)
        finally:
            await close_deps(deps)
        project = first(rows["project"], status="active")
        payload = {"project_id": project["source_id"], "person_id": rows["person"][0]["source_id"]}
        payload |= {"work_date": "2026-06-29", "hours": "3.25", "billable": True}
        command_id = await add_command(pg, "log_time", "netsuite", payload)
        await set_command(pg, command_id, CommandStatus.DISPATCHED)  # what the relay does
        pool = await create_pool(RedisSettings.from_dsn(redis.url))
        job_id = f"command-{command_id}"  # the relay's job id
        await pool.enqueue_job("apply_command", command_id, _job_id=job_id, _queue_name=QUEUE_NAME)
        await pool.aclose()

        env = {
            **os.environ,
            "CLIENTGRAPH_DATABASE_URL": db_url,
            "CLIENTGRAPH_REDIS_URL": redis.url,
            "CLIENTGRAPH_NETSUITE__BASE_URL": ns_url,
            "CLIENTGRAPH_NETSUITE__CLIENT_SECRET": SECRET,
        }
        log = tmp_path / "workers.log"

        async def written() -> bool:
            return bool(at_source(ns, "timebill", command_id))

        async def succeeded() -> bool:
            return (await command(pg, command_id))["status"] == "SUCCEEDED"

        # when the worker is killed right after NetSuite created the record, before it read
        # it back and recorded success; and Redis restarts before another worker comes
        faults.delay = SLOW_SECONDS
        first_worker = await start_worker(env, log)
        try:
            await until(written, "the first worker's write")
        finally:
            first_worker.send_signal(signal.SIGKILL)
            await first_worker.wait()
        crashed = await command(pg, command_id)
        await redis.stop()
        await redis.start()
        faults.delay = 0.0
        second_worker = await start_worker(env, log)
        try:
            await until(succeeded, "the command to succeed", seconds=30)
            pool = await create_pool(RedisSettings.from_dsn(redis.url))
            again = await pool.enqueue_job(  # arq kept no result: a replay can be queued
                "apply_command", command_id, _job_id=job_id, _queue_name=QUEUE_NAME
            )
            await pool.aclose()
        finally:
            second_worker.terminate()
            await second_worker.wait()

    # then: it was mid-job, it ran again, and NetSuite holds one time entry for it
    assert (crashed["status"], crashed["attempts"]) == ("RUNNING", 1), log.read_text()
    done = await command(pg, command_id)
    assert (done["status"], done["attempts"]) == ("SUCCEEDED", 2)
    records = at_source(ns, "timebill", command_id)
    assert len(records) == 1 and records[0]["externalId"] == external_key(command_id)
    assert done["target_source_id"] == records[0]["id"]
    entry = await read_model_row(pg, "time_entry", records[0]["id"])
    assert entry["hours_x100"] == 325 and entry["status"] == "submitted"
    assert again is not None
