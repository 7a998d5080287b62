"""The queued path on real processes (``clientgraph worker``): a worker SIGKILLed mid-write,
Redis restarted or gone while workers run — the command ends SUCCEEDED, NetSuite holds exactly
one record for it, and the workers live on.

Redis here is a private ``redis-server`` on a free port (with or without an append-only file),
so stopping it disturbs nobody; NetSuite is the simulator on a real socket; the read model is
PostgreSQL. Leases are ``LEASE_SECONDS`` so a dead worker's command is taken over quickly.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq import create_pool
from arq.connections import RedisSettings
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from readmodel.command_log import source_key
from sync_jobs.commands.relay import ArqCommandDispatcher, relay_one
from sync_jobs.context import close_deps, open_deps
from sync_jobs.dispatch import COMMAND_QUEUE_NAME as QUEUE_NAME
from systems.netsuite import app as netsuite_app
from systems.netsuite import faults as netsuite_faults
from systems.netsuite import store as netsuite_store
from systems.salesforce import app as salesforce_app
from systems.salesforce import store as salesforce_store
from tests.conftest import migrated_engine, unreachable
from tests.e2e.test_cli import _free_port
from tests.sync_jobs.commands.conftest import (
    ACCOUNTS,
    Rows,
    add_command,
    at_source,
    command,
    first,
    pull_everything,
    read_model_row,
    settings_for,
)
from tests.sync_jobs.test_worker import serving
from tests.systems.test_netsuite_simulator import CERT, CERTIFICATES, SECRET, seeded_rows

# Slow (processes: workers killed, Redis restarted): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
SLOW_SECONDS = 0.5  # every NetSuite answer, while the first worker runs


class PrivateRedis:
    """A redis-server of this test's own; with ``persist`` it keeps its data across a restart
    (append-only file), without it a restart empties it, as the production default here."""

    def __init__(self, directory: Path, *, persist: bool = True) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._args = ["--port", str(self.port), "--dir", str(directory), "--save", ""]
        self._args += ["--bind", "127.0.0.1"]
        if persist:
            self._args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            self._args += ["--appendonly", "no"]
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


LEASE_SECONDS = 3


def worker_env(db_url: str, redis_url: str, ns_url: str) -> dict[str, str]:
    """``clientgraph worker`` on NetSuite, with short leases and no pull due during a test."""
    return {
        **os.environ,
        "CLIENTGRAPH_DATABASE_URL": db_url,
        "CLIENTGRAPH_REDIS_URL": redis_url,
        "CLIENTGRAPH_NETSUITE__BASE_URL": ns_url,
        "CLIENTGRAPH_NETSUITE__CERTIFICATE_ID": CERT.certificate_id,
        "CLIENTGRAPH_NETSUITE__PRIVATE_KEY": CERT.private_key_pem,
        "CLIENTGRAPH_WRITES__LEASE_SECONDS": str(LEASE_SECONDS),
        "CLIENTGRAPH_SYNC__INTERVAL_SECONDS": "86400",
        "CLIENTGRAPH_SYNC__RECONCILE_INTERVAL_SECONDS": "86400",
    }


async def start_worker(env: dict[str, str], log: Path, *args: str) -> asyncio.subprocess.Process:
    """The real ``clientgraph worker`` process (sync and command workers, relay cron)."""
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clientgraph", "worker", *args,
            cwd=REPO, env=env, stdout=out, stderr=out,
        )  # fmt: skip


async def readiness(port: int) -> int:
    """The status of the worker's ``/readyz`` (0 while nothing answers)."""
    async with httpx.AsyncClient() as client:
        try:
            return (await client.get(f"http://127.0.0.1:{port}/readyz", timeout=5)).status_code
        except httpx.HTTPError:
            return 0


async def test_a_killed_worker_and_a_redis_restart_lose_nothing_and_duplicate_nothing(
    pg: AsyncEngine, redis: PrivateRedis, tmp_path: Path
) -> None:
    rows, ns, faults, ns_app = netsuite_simulator()
    db_url = pg.url.render_as_string(hide_password=False)
    async with serving(ns_app) as ns_url:
        # given a read model pulled from both sources, and one accepted log_time, queued
        payload = await pulled(pg, rows, ns_url)
        command_id = await queued(pg, redis.url, payload | {"hours": "3.25"})
        job_id = f"command-{command_id}"  # the relay's job id

        env = worker_env(db_url, redis.url, ns_url)
        log = tmp_path / "workers.log"

        async def written() -> bool:
            return bool(at_source(ns, "timebill", await command(pg, command_id)))

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
    # the write had landed (the row says so only if the answer came back before the kill)
    assert done["status"] == "SUCCEEDED" and done["attempts"] in {1, 2}, log.read_text()
    records = at_source(ns, "timebill", await command(pg, command_id))
    assert len(records) == 1 and records[0]["externalId"] == source_key(
        await command(pg, command_id)
    )
    assert done["target_source_id"] == records[0]["id"]
    entry = await read_model_row(pg, "time_entry", records[0]["id"])
    assert entry["hours_x100"] == 325 and entry["status"] == "submitted"
    assert again is not None


def netsuite_simulator() -> tuple[Rows, netsuite_store.Store, netsuite_faults.Faults, Starlette]:
    """The test firm's rows, and a NetSuite simulator holding them, with its store and faults."""
    rows = seeded_rows(ACCOUNTS)
    ns, faults = netsuite_store.from_seed(rows), netsuite_faults.Faults()
    return rows, ns, faults, netsuite_app.create_simulator(
        ns, certificates=CERTIFICATES, faults=faults
    )


async def pulled(pg: AsyncEngine, rows: dict[str, Any], ns_url: str) -> dict[str, Any]:
    """Pull both sources into the read model; a log_time payload on an active project."""
    sf_app = salesforce_app.create_simulator(salesforce_store.from_seed(rows), client_secret=SECRET)
    db_url = pg.url.render_as_string(hide_password=False)
    settings = settings_for(db_url, sf_url="http://sf.test", ns_url=ns_url)
    sf_transport = {"salesforce": httpx.ASGITransport(app=sf_app)}
    deps = await open_deps(settings, engine=pg, transports=sf_transport)
    try:
        await pull_everything(deps)
    finally:
        await close_deps(deps)
    project = first(rows["project"], status="active")
    payload = {"project_id": project["source_id"], "person_id": rows["person"][0]["source_id"]}
    return payload | {"work_date": "2026-06-29", "hours": "1.50", "billable": True}


async def queued(pg: AsyncEngine, redis_url: str, payload: dict[str, Any]) -> int:
    """A log_time accepted and handed to the commands' queue, as the gateway's relay does."""
    command_id = await add_command(pg, "log_time", "netsuite", payload)
    dispatcher = ArqCommandDispatcher(redis_url)
    try:
        assert await relay_one(pg, dispatcher, command_id)
    finally:
        await dispatcher.close()
    return command_id


async def status_of(pg: AsyncEngine, command_id: int) -> str:
    return str((await command(pg, command_id))["status"])


async def test_workers_ride_out_a_redis_outage_and_finish_what_they_were_running(
    pg: AsyncEngine, tmp_path: Path
) -> None:
    redis = PrivateRedis(tmp_path, persist=False)  # a restart empties it, queue and locks
    await redis.start()
    rows, ns, faults, ns_app = netsuite_simulator()
    log = tmp_path / "workers.log"
    async with serving(ns_app) as ns_url:
        payload = await pulled(pg, rows, ns_url)
        env = worker_env(pg.url.render_as_string(hide_password=False), redis.url, ns_url)
        probe = _free_port()
        workers = [await start_worker(env, log, "--health-port", str(probe))]
        workers.append(await start_worker(env, log))
        try:
            await until(lambda: _answers(probe, 200), "the worker to be ready", 30)
            # given a command running at a slow source when Redis goes away for 3 s
            faults.delay = 1.5
            during = await queued(pg, redis.url, payload)
            await until(lambda: _is(pg, during, "RUNNING"), "the command to start", 30)
            await redis.stop()
            await asyncio.sleep(3)
            alive_during_outage = [w.returncode for w in workers]
            ready_during_outage = await readiness(probe)
            await redis.start()  # empty: the queue and arq's locks are gone
            await until(lambda: _answers(probe, 200), "the worker to be ready again", 30)
            faults.delay = 0.0
            await until(lambda: _is(pg, during, "SUCCEEDED"), "the running command", 60)
            # when a command is accepted after Redis came back
            after = await queued(pg, redis.url, payload | {"hours": "2.00"})
            await until(lambda: _is(pg, after, "SUCCEEDED"), "the next command", 60)
            alive_after = [w.returncode for w in workers]
        finally:
            for worker in workers:
                if worker.returncode is None:
                    worker.terminate()
                await worker.wait()
            await redis.stop()

    # then both workers lived through it, and each command wrote one record
    assert alive_during_outage == [None, None] and alive_after == [None, None], log.read_text()
    assert ready_during_outage == 503  # said not-ready while Redis was gone, then ready again
    assert "Redis unavailable" in log.read_text()
    for command_id in (during, after):
        assert len(at_source(ns, "timebill", await command(pg, command_id))) == 1


async def test_a_dead_workers_command_is_taken_over_within_the_lease_and_a_sweep(
    pg: AsyncEngine, redis: PrivateRedis, tmp_path: Path
) -> None:
    rows, ns, faults, ns_app = netsuite_simulator()
    log = tmp_path / "workers.log"
    async with serving(ns_app) as ns_url:
        payload = await pulled(pg, rows, ns_url)
        env = worker_env(pg.url.render_as_string(hide_password=False), redis.url, ns_url)
        doomed = await start_worker(env, log)
        survivor: asyncio.subprocess.Process | None = None
        try:
            # given a worker in the middle of a slow write, and a second worker beside it
            faults.delay = 2.0
            command_id = await queued(pg, redis.url, payload)
            await until(lambda: _is(pg, command_id, "RUNNING"), "the command to start", 30)
            survivor = await start_worker(env, log)
            await asyncio.sleep(1.0)  # the survivor is up and polling
            faults.delay = 0.0
            # when the first one is SIGKILLed
            doomed.send_signal(signal.SIGKILL)
            await doomed.wait()
            killed_at = asyncio.get_running_loop().time()
            await until(lambda: _is(pg, command_id, "SUCCEEDED"), "the takeover", 60)
            took_over = asyncio.get_running_loop().time() - killed_at
        finally:
            if survivor is not None:
                survivor.terminate()
                await survivor.wait()

    # then the survivor finished it within the lease plus one relay sweep (10 s), not arq's
    # lock of the job (100 s) or minutes; NetSuite holds one record
    bound = LEASE_SECONDS + 10 + 5  # + 5 s for a loaded machine's polls and start-up
    assert took_over < bound, f"took over after {took_over:.1f}s\n{log.read_text()}"
    done = await command(pg, command_id)
    assert len(at_source(ns, "timebill", done)) == 1 and done["attempts"] in {1, 2}


async def _answers(port: int, status: int) -> bool:
    return await readiness(port) == status


async def _is(pg: AsyncEngine, command_id: int, status: str) -> bool:
    return await status_of(pg, command_id) == status
