"""``ResilientWorker``: arq's worker, kept alive through Redis outages.

arq's poll loop lets a Redis connection error escape and the worker process ends, with its
running jobs cancelled. Here a failed poll (or a failed first connection) is logged, the
worker waits (0.5 s doubling to 5 s) and polls again; jobs already running go on (their state
is in SQL), and ``redis_ok`` says whether the last poll reached Redis (``worker_health``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from arq import Worker, create_pool
from redis.exceptions import RedisError

OUTAGE_BACKOFF_SECONDS = 0.5  # first wait after Redis failed a poll; doubles
OUTAGE_BACKOFF_CAP_SECONDS = 5.0  # the longest: back within 5 s of Redis

log = logging.getLogger(__name__)


class ResilientWorker(Worker):
    """arq's worker, kept alive through Redis outages.

    arq's poll loop lets a Redis connection error escape and the process ends, with its
    running jobs cancelled. Here a failed poll (or a failed first connection) is logged, the
    worker waits (0.5 s doubling to 5 s) and polls again; jobs already running go on (their
    state is in SQL), and ``redis_ok`` says whether the last poll reached Redis.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.redis_ok = False
        self._outage_wait = OUTAGE_BACKOFF_SECONDS

    async def main(self) -> None:
        while self._pool is None:
            try:
                self._pool = await _connect(self)
            except (RedisError, OSError, TimeoutError) as error:
                await self._ride_out(error)
        self.redis_ok = True
        await super().main()

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except (RedisError, OSError, TimeoutError) as error:
            await self._ride_out(error)
            return
        if not self.redis_ok:
            log.warning("queue %s: Redis is back, polling again", self.queue_name)
        self.redis_ok = True
        self._outage_wait = OUTAGE_BACKOFF_SECONDS

    async def _ride_out(self, error: BaseException) -> None:
        if self.redis_ok or self._outage_wait == OUTAGE_BACKOFF_SECONDS:
            log.warning("queue %s: Redis unavailable (%r); retrying", self.queue_name, error)
        self.redis_ok = False
        await asyncio.sleep(self._outage_wait)
        self._outage_wait = min(OUTAGE_BACKOFF_CAP_SECONDS, self._outage_wait * 2)

    async def close(self) -> None:
        try:
            await super().close()
        except (RedisError, OSError, TimeoutError) as error:  # Redis is gone: nothing to tidy
            log.warning("queue %s: closed without Redis (%r)", self.queue_name, error)


async def _connect(worker: Worker) -> Any:
    settings = worker.redis_settings
    assert settings is not None
    settings.conn_retries = 0  # the worker's own loop retries, for as long as it takes
    return await create_pool(
        settings,
        job_deserializer=worker.job_deserializer,
        job_serializer=worker.job_serializer,
        default_queue_name=worker.queue_name,
        expires_extra_ms=worker.expires_extra_ms,
    )
