"""A command's job queued in one round trip (sync_jobs/commands/enqueue.py) is the job arq's
own ``enqueue_job`` queues — read back through arq — and, as arq's, is queued once per id
while the job or its result is kept. Against a real Redis."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import Job, JobStatus

from sync_jobs.commands.relay import ArqCommandDispatcher, job_id_of
from tests.conftest import REDIS_URL
from tests.sync_jobs.commands.test_relay import redis  # noqa: F401 (a fixture)


@pytest.fixture
def command() -> int:
    """A command id of this test's own: job ids are global in Redis, and tests run at once."""
    return random.randrange(3_000_000_000, 4_000_000_000)


@pytest.fixture
async def queues(redis: ArqRedis, command: int) -> AsyncIterator[tuple[str, str]]:  # noqa: F811
    """Two queues of this test's own (the script's, arq's); their jobs deleted afterwards."""
    names = (
        f"clientgraph:test:{uuid.uuid4().hex[:10]}",
        f"clientgraph:test:{uuid.uuid4().hex[:10]}",
    )
    yield names
    job_id = job_id_of(command)
    keys = [p + i for p in (job_key_prefix, result_key_prefix) for i in (job_id, "arq-" + job_id)]
    await redis.delete(*names, *keys)


async def _round_trips(pool: ArqRedis, run: Awaitable[Any]) -> int:
    """How many commands ``pool`` sent to Redis while ``run`` ran."""
    sent = 0
    send = pool.execute_command

    async def counted(*args: Any, **options: Any) -> Any:
        nonlocal sent
        sent += 1
        return await send(*args, **options)

    pool.execute_command = counted  # type: ignore[method-assign]
    try:
        await run
    finally:
        del pool.execute_command
    return sent


async def test_the_job_is_arqs_own_in_one_round_trip(
    redis: ArqRedis,  # noqa: F811
    queues: tuple[str, str],
    command: int,
) -> None:
    ours, theirs = queues
    dispatcher = ArqCommandDispatcher(redis, queue_name=ours)
    job_id = await dispatcher.enqueue("apply_command", command)
    assert job_id == job_id_of(command)
    reference_id = "arq-" + job_id
    arqs = await redis.enqueue_job(
        "apply_command", command, _job_id=reference_id, _queue_name=theirs
    )
    assert arqs is not None

    mine = await Job(job_id, redis, _queue_name=ours).info()
    reference = await arqs.info()
    assert mine is not None and reference is not None
    assert (mine.function, mine.args, mine.kwargs, mine.job_try) == (
        reference.function,
        reference.args,
        reference.kwargs,
        reference.job_try,
    )
    assert (mine.function, mine.args) == ("apply_command", (command,))
    assert await Job(job_id, redis, _queue_name=ours).status() == JobStatus.queued
    assert abs(mine.score - mine.enqueue_time.timestamp() * 1000) < 1  # due now, as arq's
    ttl = await redis.pttl(job_key_prefix + job_id)
    reference_ttl = await redis.pttl(job_key_prefix + reference_id)
    assert abs(ttl - reference_ttl) < 5_000 and ttl > 86_000_000  # arq's default: a day

    await redis.delete(ours, job_key_prefix + job_id)
    mine_sent = await _round_trips(redis, dispatcher.enqueue("apply_command", command))
    assert mine_sent == 1  # EVALSHA (arq: WATCH, EXISTS, then MULTI … EXEC)


async def test_a_job_is_queued_once_while_it_or_its_result_is_kept(
    redis: ArqRedis,  # noqa: F811
    queues: tuple[str, str],
    command: int,
) -> None:
    ours, _ = queues
    dispatcher = ArqCommandDispatcher(redis, queue_name=ours)
    job_id = job_id_of(command)
    assert await dispatcher.enqueue("apply_command", command) == job_id
    assert await dispatcher.enqueue("apply_command", command) is None  # queued already
    assert await redis.zcard(ours) == 1

    await redis.delete(ours, job_key_prefix + job_id)  # ran; its result kept
    await redis.set(result_key_prefix + job_id, b"result", px=60_000)
    assert await dispatcher.enqueue("apply_command", command) is None
    assert await redis.zcard(ours) == 0

    await redis.delete(result_key_prefix + job_id)  # the result expired: queued again
    assert await dispatcher.enqueue("apply_command", command) == job_id
    assert await redis.zcard(ours) == 1


async def test_a_flushed_script_cache_is_loaded_again(
    redis: ArqRedis,  # noqa: F811
    queues: tuple[str, str],
    command: int,
) -> None:
    """A Redis restarted (or ``SCRIPT FLUSH``ed) forgets the script: the next job loads it."""
    ours, _ = queues
    dispatcher = ArqCommandDispatcher(REDIS_URL, queue_name=ours)
    try:
        assert await dispatcher.enqueue("apply_command", command) == job_id_of(command)
        await redis.delete(job_key_prefix + job_id_of(command))
        await redis.script_flush()
        assert await dispatcher.enqueue("apply_command", command) == job_id_of(command)
        assert await redis.zcard(ours) == 1
    finally:
        await dispatcher.close()
