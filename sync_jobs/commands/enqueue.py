"""A command's job queued in one Redis round trip (with the others queued together), exactly
as arq queues it.

arq's ``ArqRedis.enqueue_job`` takes three round trips (``WATCH`` the job's key, ``EXISTS``
it and its result, then ``MULTI`` / ``PSETEX`` / ``ZADD`` / ``EXEC``). The relay queues every
accepted command, so this does the same in one Lua script (atomic, as the transaction is):
nothing when the job or its result is still kept, else the job under arq's key, serialized
by the pool's serializer, with arq's default expiry, and its id in the queue scored by the
time it was queued. arq's workers cannot tell the two apart (tests/sync_jobs/commands/
test_enqueue.py reads the job back through arq).
"""

from __future__ import annotations

import asyncio
from typing import Any

from arq import ArqRedis
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms
from redis.exceptions import RedisError

SCRIPT = """
local queued = {}
for i = 2, #KEYS, 2 do
  local at = (i - 2) / 2 * 3
  if redis.call('EXISTS', KEYS[i], KEYS[i + 1]) > 0 then
    queued[#queued + 1] = 0
  else
    redis.call('PSETEX', KEYS[i], ARGV[1], ARGV[at + 2])
    redis.call('ZADD', KEYS[1], ARGV[at + 3], ARGV[at + 4])
    queued[#queued + 1] = 1
  end
end
return queued
"""
"""KEYS: the queue, then each job's key and its result's key; ARGV: the expiry (ms), then each
job's serialized bytes, score and id. Returns 1 for each job queued, 0 for each kept already."""

Waiting = tuple[str, tuple[Any, ...], str, "asyncio.Future[bool]"]  # function, args, id, answer


class Enqueue:
    """The script on one arq pool and queue (redis-py sends its SHA1, loading it on
    ``NOSCRIPT``).

    Jobs asked for in the same turn of the event loop (a hand-off round's, queued together)
    go in one call of the script: one round trip for all of them."""

    def __init__(self, pool: ArqRedis, queue_name: str) -> None:
        self.pool = pool
        self.queue_name = queue_name
        self._script = pool.register_script(SCRIPT)
        self._waiting: list[Waiting] = []

    async def __call__(self, function: str, args: tuple[Any, ...], *, job_id: str) -> bool:
        """Queue ``function(*args)`` as job ``job_id`` unless a job or result with that id is
        kept (``False``: as arq's ``enqueue_job`` returning ``None``)."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bool] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._send)  # after the others asked for in this turn
        self._waiting.append((function, args, job_id, answer))
        return await answer

    def _send(self) -> None:
        jobs, self._waiting = self._waiting, []
        task = asyncio.create_task(self._queue(jobs))
        _sending.add(task)
        task.add_done_callback(_sending.discard)

    async def _queue(self, jobs: list[Waiting]) -> None:
        pool = self.pool
        queued_at = timestamp_ms()
        keys: list[Any] = [self.queue_name]
        values: list[Any] = [pool.expires_extra_ms]
        for function, args, job_id, _ in jobs:
            job = serialize_job(function, args, {}, None, queued_at, serializer=pool.job_serializer)
            keys += [job_key_prefix + job_id, result_key_prefix + job_id]
            values += [job, queued_at, job_id]
        try:
            queued = await self._script(keys=keys, args=values)
        except BaseException as error:  # Redis down, hung (the callers' timeouts), cancelled
            for *_, answer in jobs:
                if not answer.done():
                    answer.set_exception(error if isinstance(error, Exception) else RedisError())
            if not isinstance(error, Exception):
                raise
            return
        for (*_, answer), one in zip(jobs, queued, strict=True):
            if not answer.done():  # (a caller that gave up: its timeout cancelled it)
                answer.set_result(bool(one))


_sending: set[asyncio.Task[None]] = set()  # the script calls under way (kept from the GC)
