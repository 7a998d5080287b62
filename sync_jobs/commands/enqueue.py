"""A command's job queued in one Redis round trip, exactly as arq queues it.

arq's ``ArqRedis.enqueue_job`` takes three round trips (``WATCH`` the job's key, ``EXISTS``
it and its result, then ``MULTI`` / ``PSETEX`` / ``ZADD`` / ``EXEC``). The relay queues every
accepted command, so this does the same in one Lua script (atomic, as the transaction is):
nothing when the job or its result is still kept, else the job under arq's key, serialized
by the pool's serializer, with arq's default expiry, and its id in the queue scored by the
time it was queued. arq's workers cannot tell the two apart (tests/sync_jobs/commands/
test_enqueue.py reads the job back through arq).
"""

from __future__ import annotations

from typing import Any

from arq import ArqRedis
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms

SCRIPT = """
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then
  return 0
end
redis.call('PSETEX', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1
"""


class Enqueue:
    """The script on one arq pool (redis-py sends its SHA1, loading it on ``NOSCRIPT``)."""

    def __init__(self, pool: ArqRedis) -> None:
        self.pool = pool
        self._script = pool.register_script(SCRIPT)

    async def __call__(
        self, function: str, args: tuple[Any, ...], *, job_id: str, queue_name: str
    ) -> bool:
        """Queue ``function(*args)`` as job ``job_id`` unless a job or result with that id is
        kept (``False``: as arq's ``enqueue_job`` returning ``None``)."""
        pool = self.pool
        queued_at = timestamp_ms()
        job = serialize_job(function, args, {}, None, queued_at, serializer=pool.job_serializer)
        keys = [job_key_prefix + job_id, result_key_prefix + job_id, queue_name]
        values: list[Any] = [pool.expires_extra_ms, job, queued_at, job_id]
        return bool(await self._script(keys=keys, args=values))
