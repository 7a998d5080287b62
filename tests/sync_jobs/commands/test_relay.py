"""The relay against a real Redis: job id ``command-<id>``, nothing lost while Redis is down."""

from __future__ import annotations

import asyncio
import random
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix
from arq.jobs import Job, JobStatus
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import Settings
from clientgraph.settings_http import RateLimitSettings
from gateway.app import create_app
from readmodel import command_intake, command_log
from readmodel.command_log import CommandStatus, NewCommand
from readmodel.db import autocommit, on_statement
from readmodel.raw_reads import RawReads
from readmodel.types import utcnow
from sync_jobs.commands import enqueue, hand_off
from sync_jobs.commands.relay import (
    ArqCommandDispatcher,
    CommandRelay,
    relay_accepted,
    relay_commands,
    relay_one,
)
from sync_jobs.context import DEPS_KEY
from sync_jobs.dispatch import COMMAND_QUEUE_NAME
from tests.conftest import FIRM_NOW, REDIS_URL, graphql, http_client, unreachable
from tests.resolvers.commands.world import command_id as id_of_command
from tests.resolvers.commands.world import gid, mutation, small_firm, url_of


@pytest.fixture
async def redis() -> AsyncIterator[ArqRedis]:
    try:
        pool = await create_pool(RedisSettings.from_dsn(REDIS_URL))
        await pool.ping()
    except (OSError, RedisError) as error:
        unreachable(f"Redis at {REDIS_URL}", error)
    yield pool
    await pool.aclose()


@pytest.fixture
async def queue(redis: ArqRedis) -> AsyncIterator[str]:
    """A queue of this test's own; its jobs are deleted afterwards."""
    name = f"clientgraph:test:{uuid.uuid4().hex[:10]}"
    yield name
    job_ids = await redis.zrange(name, 0, -1)
    await redis.delete(name, *[f"arq:job:{j.decode()}" for j in job_ids])


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _accepted(engine: AsyncEngine, key: str) -> int:
    new = NewCommand(
        kind="complete_milestone",
        target_system="netsuite",
        target_object="milestone",
        target_source_id="task-3",
        idempotency_key=key,
        input_hash=command_log.input_hash("complete_milestone", {"key": key}),
        payload={"milestone_source_id": "task-3", "completed_on": "2026-06-30"},
        correlation_id="test",
    )
    command_id = int((await command_intake.accept(engine, new, now=utcnow())).row.id)
    if command_id < ID_FLOOR:  # this database's first: move its ids out of other tests' way
        command_id = await _renumber(engine, command_id)
    return command_id


# arq's job ids (``command-<id>``) and locks are global in Redis, and every test database
# numbers its commands from 1: tests running at once (xdist, mutmut's children) would meet
# on ``command-1``. Each test's commands are numbered from a random floor instead.
ID_FLOOR = 1_000_000


async def _renumber(engine: AsyncEngine, command_id: int) -> int:
    new_id = random.randrange(ID_FLOOR, 2**31 - 1_000_000)
    c = command_log.COMMANDS.c
    async with engine.begin() as conn:
        await conn.execute(
            command_log.COMMANDS.update().where(c.id == command_id).values(id=new_id)
        )
        if conn.dialect.name == "postgresql":  # SQLite takes the largest id + 1 by itself
            await conn.execute(
                text("SELECT setval(pg_get_serial_sequence('command', 'id'), :n)"), {"n": new_id}
            )
    return new_id


async def _status(engine: AsyncEngine, command_id: int) -> str:
    async with engine.connect() as conn:
        row = await command_log.get(conn, command_id)
    assert row is not None
    return str(row.status)


async def test_commands_wait_out_a_redis_outage(
    engine: AsyncEngine, redis: ArqRedis, queue: str
) -> None:
    first = await _accepted(engine, "a")
    down = ArqCommandDispatcher(f"redis://127.0.0.1:{_closed_port()}/0", queue_name=queue)
    up = ArqCommandDispatcher(REDIS_URL, queue_name=queue)
    try:
        outage = await relay_accepted(engine, down)
        assert (outage.dispatched, outage.pending) == (0, True)
        assert await _status(engine, first) == CommandStatus.ACCEPTED

        second = await _accepted(engine, "b")
        back = await relay_accepted(engine, up)
        again = await relay_accepted(engine, up)
        duplicate = await relay_one(engine, up, first)  # a racing relay: arq keeps one job
    finally:
        await down.close()
        await up.close()

    assert (back.dispatched, back.pending, again.dispatched) == (2, False, 0)
    assert duplicate is True
    assert await redis.zcard(queue) == 2
    for command_id in (first, second):
        assert await _status(engine, command_id) == CommandStatus.DISPATCHED
        job = Job(f"command-{command_id}", redis, _queue_name=queue)
        assert await job.status() == JobStatus.queued
        info = await job.info()
        assert info is not None
        assert (info.function, info.args) == ("apply_command", (command_id,))


async def test_a_retry_scheduled_for_later_waits(
    engine: AsyncEngine, redis: ArqRedis, queue: str
) -> None:
    later = await _accepted(engine, "later")
    async with engine.begin() as conn:
        moved = await command_log.transition(
            conn,
            later,
            {CommandStatus.ACCEPTED},
            CommandStatus.ACCEPTED,
            now=utcnow(),
            next_attempt_at=utcnow() + timedelta(minutes=5),
        )
    assert moved
    up = ArqCommandDispatcher(REDIS_URL, queue_name=queue)
    try:
        report = await relay_accepted(engine, up)
        at = utcnow() + timedelta(minutes=6)
        due = await relay_accepted(engine, up, now=lambda: at)
    finally:
        await up.close()
    assert (report.dispatched, due.dispatched) == (0, 1)
    assert await _status(engine, later) == CommandStatus.DISPATCHED
    async with engine.connect() as conn:
        row = await command_log.get(conn, later)
    assert row is not None and row.dispatched_at == at  # the sweep's clock, not another


async def test_a_job_lost_from_the_queue_is_queued_again(
    engine: AsyncEngine, redis: ArqRedis, queue: str
) -> None:
    command_id = await _accepted(engine, "lost")
    up = ArqCommandDispatcher(REDIS_URL, queue_name=queue)
    try:
        await relay_accepted(engine, up)
        await redis.delete(queue, f"arq:job:command-{command_id}")  # e.g. a Redis flush
        soon = await relay_accepted(engine, up)
        queued_soon = await redis.zcard(queue)
        late = await relay_accepted(engine, up, now=lambda: utcnow() + timedelta(minutes=3))
    finally:
        await up.close()

    assert (soon.dispatched, queued_soon) == (0, 0)  # within the grace: not presumed lost
    assert (late.dispatched, late.pending) == (0, False)
    assert await redis.zcard(queue) == 1  # queued again, under the same job id
    job = Job(f"command-{command_id}", redis, _queue_name=queue)
    assert await job.status() == JobStatus.queued
    assert await _status(engine, command_id) == CommandStatus.DISPATCHED


@pytest.mark.parametrize("stuck", ["lapsed", "unleased", "lost"])
async def test_a_sweep_takes_a_batch_of_stuck_commands_oldest_first(
    engine: AsyncEngine, redis: ArqRedis, queue: str, stuck: str
) -> None:
    """RUNNING under a lapsed lease (a dead worker) or none (a row from before leases), or
    DISPATCHED long ago with no job left (a flushed queue): a sweep queues at most ``limit``
    of them, the oldest first (the rest wait for a later sweep, once those jobs have run and
    claimed theirs); a RUNNING command whose lease holds is never one of them."""
    alive = await _accepted(engine, f"{stuck}-alive")  # the oldest, its worker at work
    ids = [await _accepted(engine, f"{stuck}-{n}") for n in range(3)]
    long_ago = utcnow() - timedelta(hours=1)
    async with engine.begin() as conn:
        live = {"lease_token": "alive", "lease_expires_at": utcnow() + timedelta(hours=1)}
        assert await command_log.transition(
            conn, alive, {CommandStatus.ACCEPTED}, CommandStatus.RUNNING, now=long_ago, **live
        )
        for command_id in reversed(ids):  # the newest row updated first (PostgreSQL's heap)
            fields = {
                "lapsed": {"lease_token": "dead", "lease_expires_at": long_ago},
                "unleased": {},  # RUNNING from before leases: its worker is long gone
                "lost": {"dispatched_at": long_ago},
            }[stuck]
            status = CommandStatus.DISPATCHED if stuck == "lost" else CommandStatus.RUNNING
            moved = await command_log.transition(
                conn, command_id, {CommandStatus.ACCEPTED}, status, now=long_ago, **fields
            )
            assert moved
    up = ArqCommandDispatcher(REDIS_URL, queue_name=queue)

    async def queued() -> list[int]:
        every = [alive, *ids]
        jobs = [Job(f"command-{i}", redis, _queue_name=queue) for i in every]
        statuses = [await job.status() for job in jobs]
        return [i for i, status in zip(every, statuses, strict=True) if status == JobStatus.queued]

    # a dead worker's arq lock on its job: the sweep releases it for the commands it takes
    locks = {i: in_progress_key_prefix + f"command-{i}" for i in (alive, *ids)}
    for command_id, key in locks.items():
        if command_id == alive or stuck != "lost":  # a lost job's worker holds no lock
            await redis.set(key, b"1", px=60_000)
    try:
        await relay_accepted(engine, up, limit=2)
        swept = await queued()
        locked = [i for i, key in locks.items() if await redis.exists(key)]
    finally:
        await up.close()
        await redis.delete(*locks.values())

    assert swept == ids[:2]
    for command_id in swept:
        info = await Job(f"command-{command_id}", redis, _queue_name=queue).info()
        assert info is not None and (info.function, info.args) == ("apply_command", (command_id,))
    assert locked == ([alive] if stuck == "lost" else [alive, ids[2]])


async def test_a_queued_command_is_presumed_lost_15_seconds_after_it_was_due(
    engine: AsyncEngine, redis: ArqRedis, queue: str
) -> None:
    """The grace docs/writes.md names: 14.5 s after its dispatch a job is left to the queue,
    15.5 s after it is queued again (moments taken from the row's own ``dispatched_at``)."""
    command_id = await _accepted(engine, "grace")
    up = ArqCommandDispatcher(REDIS_URL, queue_name=queue)
    try:
        await relay_accepted(engine, up)
        await redis.delete(queue, f"arq:job:command-{command_id}")  # the queue lost it
        async with engine.connect() as conn:
            row = await command_log.get(conn, command_id)
        assert row is not None and row.dispatched_at is not None
        dispatched = row.dispatched_at
        await relay_accepted(engine, up, now=lambda: dispatched + timedelta(seconds=14.5))
        within = await redis.zcard(queue)
        await relay_accepted(engine, up, now=lambda: dispatched + timedelta(seconds=15.5))
        after = await redis.zcard(queue)
    finally:
        await up.close()
    assert (within, after) == (0, 1)


async def test_a_sweep_while_redis_is_down_leaves_stuck_commands_for_the_next_one(
    engine: AsyncEngine, redis: ArqRedis, queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    """No ACCEPTED command, one whose worker died and one the queue lost: with Redis down the
    sweep says so (``pending``), changes nothing, and the next sweep with Redis queues both."""
    lapsed, lost = await _accepted(engine, "down-lapsed"), await _accepted(engine, "down-lost")
    long_ago = utcnow() - timedelta(hours=1)
    async with engine.begin() as conn:
        dead = {"lease_token": "dead", "lease_expires_at": long_ago}
        for command_id, status, fields in (
            (lapsed, CommandStatus.RUNNING, dead),
            (lost, CommandStatus.DISPATCHED, {"dispatched_at": long_ago}),
        ):
            assert await command_log.transition(
                conn, command_id, {CommandStatus.ACCEPTED}, status, now=long_ago, **fields
            )
    down = ArqCommandDispatcher(f"redis://127.0.0.1:{_closed_port()}/0", queue_name=queue)
    up = ArqCommandDispatcher(REDIS_URL, queue_name=queue)
    try:
        outage = await relay_accepted(engine, down)
        back = await relay_accepted(engine, up)
    finally:
        await down.close()
        await up.close()

    assert (outage.dispatched, outage.pending) == (0, True)
    said = "waiting commands not queued again yet: the job queue (Redis) is unavailable"
    assert said in [r.getMessage() for r in caplog.records]
    assert (back.dispatched, back.pending) == (0, False)
    assert await redis.zcard(queue) == 2
    assert (await _status(engine, lapsed), await _status(engine, lost)) == ("RUNNING", "DISPATCHED")


async def test_the_gateways_background_sweep_queues_what_the_first_relay_could_not(
    engine: AsyncEngine, redis: ArqRedis, queue: str
) -> None:
    """``CommandRelay``: a command whose relay after acceptance never happened (the queue was
    down, the gateway stopped) is queued by the sweep that runs every interval by itself."""
    command_id = await _accepted(engine, "background")  # its relay_one never ran
    up = ArqCommandDispatcher(REDIS_URL, queue_name=queue)
    relay = CommandRelay(engine, up, interval=0.05)
    await relay.stop()  # before its start (a lifespan that failed early): nothing to stop
    relay.start()
    try:
        for _ in range(600):  # 30 s at most
            if await _status(engine, command_id) == CommandStatus.DISPATCHED:
                break
            await asyncio.sleep(0.05)
        await relay.stop()
        later = await _accepted(engine, "after-stop")
        await asyncio.sleep(0.5)  # ten intervals: a sweep still running would queue it
        assert await _status(engine, later) == CommandStatus.ACCEPTED
    finally:
        await relay.stop()
        await up.close()
    assert await _status(engine, command_id) == CommandStatus.DISPATCHED
    assert await redis.zcard(queue) == 1


async def test_a_dead_redis_is_given_up_on_at_once(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/writes.md: while Redis is down a mutation waits about 1 s at most for it. A refused
    connection is not retried (arq would retry after 1 s each time): the relay gives up at
    once and the command stays ACCEPTED for the sweep."""
    command_id = await _accepted(engine, "dead-redis")
    down = ArqCommandDispatcher(f"redis://127.0.0.1:{_closed_port()}/0")
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        queued = await relay_one(engine, down, command_id)
        waited = loop.time() - started
    finally:
        await down.close()
    assert queued is False and await _status(engine, command_id) == CommandStatus.ACCEPTED
    assert waited < 1.0  # arq's first retry alone would take 1 s
    said = f"command {command_id} stays ACCEPTED: the job queue (Redis) is unavailable"
    assert said in [r.getMessage() for r in caplog.records]


async def test_a_just_accepted_command_is_queued_by_the_gateways_relay(
    engine: AsyncEngine, redis: ArqRedis, queue: str
) -> None:
    """``relay_one``, the relay's step for one command: queued, then marked DISPATCHED."""
    command_id = await _accepted(engine, "dispatch")
    up = ArqCommandDispatcher(REDIS_URL, queue_name=queue)
    try:
        queued = await relay_one(engine, up, command_id)
    finally:
        await up.close()
    assert queued is True and await _status(engine, command_id) == CommandStatus.DISPATCHED
    job = Job(f"command-{command_id}", redis, _queue_name=queue)
    assert await job.status() == JobStatus.queued


async def test_the_workers_cron_sweep_queues_accepted_commands_on_the_commands_queue(
    engine: AsyncEngine,
) -> None:
    """``relay_commands``, the worker's cron job, with the worker's own pool: the command is
    queued on the commands' queue (``clientgraph:commands``) and marked DISPATCHED. Redis
    database 9, so that no worker of another test's picks the job up."""
    command_id = await _accepted(engine, "cron")
    settings = RedisSettings.from_dsn(REDIS_URL)
    settings.database = 9
    try:
        pool = await create_pool(settings)
    except (OSError, RedisError) as error:
        unreachable(f"Redis at {REDIS_URL}", error)
    ctx: dict[str, Any] = {"redis": pool, DEPS_KEY: SimpleNamespace(engine=engine)}
    job = Job(f"command-{command_id}", pool, _queue_name=COMMAND_QUEUE_NAME)
    try:
        report = await relay_commands(ctx)
        status = await job.status()
    finally:
        await pool.zrem(COMMAND_QUEUE_NAME, f"command-{command_id}")
        await pool.delete(f"arq:job:command-{command_id}")
        await pool.aclose()
    assert report == {"dispatched": 1, "pending": False}
    assert status == JobStatus.queued
    assert await _status(engine, command_id) == CommandStatus.DISPATCHED


class _Recording:
    """A dispatcher with ``enqueue`` only, as embedded mode's (no arq lock to release); its
    first ``enqueue`` can be made to break as a bug or a database blip would."""

    def __init__(self, *, break_first: bool = False) -> None:
        self.queued: list[tuple[str, int]] = []
        self._break = break_first

    async def enqueue(self, function_name: str, *args: Any) -> str | None:
        if self._break:
            self._break = False
            raise RuntimeError("the sweep broke")
        self.queued.append((function_name, args[0]))
        return f"command-{args[0]}"


async def test_accepted_commands_are_queued_a_batch_per_sweep_and_embedded_mode_takes_over(
    engine: AsyncEngine,
) -> None:
    """At most ``limit`` ACCEPTED commands per sweep, the oldest first; a lapsed command is
    taken over by a dispatcher that has no lock to release (embedded mode)."""
    accepted = [await _accepted(engine, f"batch-{n}") for n in range(3)]
    lapsed = await _accepted(engine, "batch-lapsed")
    dead = {"lease_token": "dead", "lease_expires_at": utcnow() - timedelta(hours=1)}
    async with engine.begin() as conn:
        assert await command_log.transition(
            conn, lapsed, {CommandStatus.ACCEPTED}, CommandStatus.RUNNING, now=utcnow(), **dead
        )
    embedded = _Recording()

    report = await relay_accepted(engine, embedded, limit=2)

    assert (report.dispatched, report.pending) == (2, False)
    assert embedded.queued == [("apply_command", i) for i in (*accepted[:2], lapsed)]
    assert await _status(engine, accepted[2]) == CommandStatus.ACCEPTED


async def test_the_background_sweep_goes_on_after_a_sweep_broke(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """A sweep that breaks (a bug, a database blip) is logged with its traceback and the loop
    carries on: the next sweep queues the command."""
    command_id = await _accepted(engine, "broke")
    flaky = _Recording(break_first=True)
    relay = CommandRelay(engine, flaky, interval=0.05)
    relay.start()
    try:
        for _ in range(600):  # 30 s at most
            if flaky.queued:
                break
            await asyncio.sleep(0.05)
    finally:
        await relay.stop()
    assert flaky.queued == [("apply_command", command_id)]
    broke = [r for r in caplog.records if r.getMessage() == "command relay sweep failed"]
    assert broke and broke[0].exc_info is not None


async def _handed_off(engine: AsyncEngine, queue: str, ids: list[int]) -> list[str]:
    """Hand ``ids`` off to a running relay (one after another, no await between: one round
    unless a round takes fewer), wait until all are DISPATCHED; the UPDATEs it ran. On
    PostgreSQL the relay marks them on bare connections, as the gateway's does."""
    marks: list[str] = []

    def _record(statement: str) -> None:
        if statement.lstrip().startswith("UPDATE command"):
            marks.append(statement)

    up = ArqCommandDispatcher(REDIS_URL, queue_name=queue)
    raw = RawReads(engine, 2, None) if engine.dialect.name == "postgresql" else None
    relay = CommandRelay(engine, up, interval=3600, raw=raw)
    on_statement(engine, _record)  # the engine's statements and the bare connections'
    relay.start()
    try:
        for command_id in ids:
            relay.hand_off(command_id)
        for _ in range(100):
            if {await _status(engine, c) for c in ids} == {CommandStatus.DISPATCHED}:
                break
            await asyncio.sleep(0.05)
    finally:
        await relay.stop()
        await up.close()
        if raw is not None:
            await raw.aclose()
    assert [await _status(engine, c) for c in ids] == [CommandStatus.DISPATCHED] * len(ids)
    if raw is not None:
        assert raw.opened == 1  # the marks ran there
    return marks


@pytest.mark.parametrize("bare", [False, True], ids=["engine", "bare-driver"])
async def test_a_mark_moves_only_the_commands_still_accepted(
    engine: AsyncEngine, bare: bool
) -> None:
    """``mark_dispatched``, one statement for any number of commands, on the engine or on a
    bare connection (PostgreSQL): a command whose job already started or that an operator
    cancelled is left as it is, and the count says how many moved."""
    ids = [await _accepted(engine, f"mark-{n}") for n in range(4)]
    async with engine.begin() as conn:
        for command_id, status in zip(ids[2:], ("RUNNING", "CANCELLED"), strict=True):
            await command_log.transition(
                conn, command_id, {CommandStatus.ACCEPTED}, status, now=utcnow()
            )
    moment = utcnow()
    raw = RawReads(engine, 1, None) if bare and engine.dialect.name == "postgresql" else None
    try:
        if raw is not None:
            async with raw.connect() as conn:
                moved = await command_log.mark_dispatched(conn, ids, now=moment)
        else:
            async with autocommit(engine) as conn:
                moved = await command_log.mark_dispatched(conn, ids, now=moment)
    finally:
        if raw is not None:
            await raw.aclose()
    assert moved == 2
    statuses = [await _status(engine, c) for c in ids]
    assert statuses == ["DISPATCHED", "DISPATCHED", "RUNNING", "CANCELLED"]
    async with engine.connect() as conn:
        rows = [await command_log.get(conn, c) for c in ids]
    assert [r.dispatched_at for r in rows if r is not None] == [moment, moment, None, None]


async def test_commands_handed_off_together_are_queued_together(
    engine: AsyncEngine, redis: ArqRedis, queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``CommandRelay.hand_off``: returns at once; the relay's task queues every command
    handed off since its last round — their jobs in one Redis round trip — and marks them
    DISPATCHED in one statement."""
    ids = [await _accepted(engine, f"together-{n}") for n in range(3)]
    calls: list[int] = []
    send = enqueue.Enqueue._queue

    async def counted(self: enqueue.Enqueue, jobs: list[Any]) -> None:
        calls.append(len(jobs))
        await send(self, jobs)

    monkeypatch.setattr(enqueue.Enqueue, "_queue", counted)
    marks = await _handed_off(engine, queue, ids)
    assert len(marks) == 1, marks  # one statement for the three
    assert calls == [3]  # one call of the script (sync_jobs/commands/enqueue.py) for the three
    for command_id in ids:
        job = Job(f"command-{command_id}", redis, _queue_name=queue)
        assert await job.status() == JobStatus.queued


async def test_a_hung_queue_does_not_hold_the_mutations_answer(engine: AsyncEngine) -> None:
    """A "Redis" that takes the connection and never answers: the mutation is answered
    (ACCEPTED, durable) all the same — before, its hand-off waited on the queue inline and
    the answer never came. The command stays ACCEPTED for the sweep."""
    connected = asyncio.Event()
    held: list[asyncio.StreamWriter] = []

    async def _hang(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        connected.set()

    server = await asyncio.start_server(_hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    ids = await small_firm(engine)
    settings = Settings(
        database_url=url_of(engine),
        redis_url=f"redis://127.0.0.1:{port}/0",
        rate_limit=RateLimitSettings(enabled=False),
    )
    update = mutation("updateOpportunity", "UpdateOpportunityInput")
    data = {"opportunityId": gid("Opportunity", ids["deal"]), "probability": 40}
    try:
        app = create_app(settings, clock=lambda: FIRM_NOW)
        async with app.router.lifespan_context(app), http_client(app) as client:
            answer = await asyncio.wait_for(
                graphql(client, update, {"input": {**data, "idempotencyKey": "hung"}}), 10
            )
            await asyncio.wait_for(connected.wait(), 10)  # the relay is at the hung queue
            accepted = answer["data"]["updateOpportunity"]
            assert accepted["status"] == "ACCEPTED"
            assert await _status(engine, id_of_command(accepted["id"])) == CommandStatus.ACCEPTED
    finally:
        for writer in held:
            writer.close()
        server.close()


async def test_a_hung_redis_fails_the_enqueue_instead_of_holding_the_relay(
    engine: AsyncEngine,
) -> None:
    """The relay's queueing gives up on a Redis that never answers (``REDIS_ENQUEUE_TIMEOUT_
    SECONDS``): the command stays ACCEPTED and the relay's loop goes on (before, the hand-offs'
    task and every sweep after it waited for ever)."""
    held: list[asyncio.StreamWriter] = []

    async def _hang(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(_hang, "127.0.0.1", 0)
    hung = ArqCommandDispatcher(f"redis://127.0.0.1:{server.sockets[0].getsockname()[1]}/0")
    command_id = await _accepted(engine, "hung")
    try:
        queued = await asyncio.wait_for(relay_one(engine, hung, command_id), 10)
        report = await asyncio.wait_for(relay_accepted(engine, hung), 10)
    finally:
        await hung.close()
        for writer in held:
            writer.close()
        server.close()
    assert held, "the relay asked the hung Redis"
    assert queued is False and report.pending is True
    assert await _status(engine, command_id) == CommandStatus.ACCEPTED


async def test_a_round_queues_at_most_its_share_and_the_next_follows(
    engine: AsyncEngine, redis: ArqRedis, queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More handed off than a round takes (``hand_off.ROUND``, 2 here): the rest are queued
    by the next round, right after, without a new hand-off to wake it."""
    monkeypatch.setattr(hand_off, "ROUND", 2)
    ids = [await _accepted(engine, f"rounds-{n}") for n in range(5)]
    marks = await _handed_off(engine, queue, ids)
    assert len(marks) == 3  # rounds of 2, 2 and 1
