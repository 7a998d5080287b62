"""One source budget for every process, kept in Redis (``SharedBudget``).

A source's limits are its account's, not one connection's: NetSuite refuses requests over the
account's concurrency limit with 429 whoever sends them, so three workers each allowed four
requests in flight send twelve and meet a 429 storm. With a Redis URL configured, every
process that talks to the same source account draws from one budget:

* **Request rate** — the ``limits`` library's moving window in Redis (``MovingWindowRateLimiter``
  on its async Redis storage, over redis-py): at most ``requests_per_second`` starts in any
  one-second window, across processes. A caller refused a start sleeps until the window's
  oldest entry expires, then tries again.
* **Concurrency** — a counting semaphore with *leases*: a sorted set of lease tokens scored by
  their expiry (Redis server time, so processes' clocks do not matter), acquired, renewed and
  released by three small Lua scripts, each atomic. A holder renews its lease every third of
  ``lease_seconds`` while its request runs; a process killed mid-request stops renewing, and
  its slot frees itself when the lease runs out, so a dead worker cannot keep a slot forever.
  No maintained package offers an asyncio Redis semaphore with expiring leases on redis-py 5
  (``limits`` counts requests, not requests in flight; the lock libraries lock one holder),
  hence these thirty lines. Waiters poll (5 ms, doubling to 50 ms, with jitter): no queue, so
  no strict first-come order, which a source does not ask for.

The budget's Redis keys name the source *and its base URL*: two processes pointed at the same
account share one budget; a second account (or a simulator on another port) has its own.
A Redis error becomes ``TransientSourceError``: the call fails closed and is retried later,
rather than sending unbudgeted requests into the account.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass
from hashlib import sha1

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from sync_jobs.errors import TransientSourceError

KEY_PREFIX = "clientgraph:limits"
POLL_FIRST_SECONDS = 0.005  # a waiter's first look at a full semaphore; doubles each miss
POLL_CAP_SECONDS = 0.05  # ... up to this

# KEYS[1] the semaphore's sorted set; ARGV: limit, lease ms, token. Expired leases go first.
ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0
"""
# KEYS[1]; ARGV: lease ms, token. 0 when the lease had already run out (and may be reused).
RENEW = """
if not redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
"""


def rate_item(requests_per_second: float) -> RateLimitItem:
    """The moving window for a rate: ``n`` per second, or one per ``⌈1/rate⌉`` seconds."""
    if requests_per_second >= 1:
        return RateLimitItemPerSecond(int(requests_per_second))
    return RateLimitItemPerSecond(1, max(1, round(1 / requests_per_second)))


def account_key(source: str, base_url: str) -> str:
    """``<source>:<short hash of the base URL>``: one budget per source account."""
    return f"{source}:{sha1(base_url.encode()).hexdigest()[:12]}"


class SharedLimits:
    """The process's connection to the shared budgets (one Redis client for all sources)."""

    def __init__(self, redis_url: str) -> None:
        self.redis: Redis = Redis.from_url(redis_url)
        storage = RedisStorage(
            "async+" + redis_url,
            implementation="redispy",
            key_prefix=KEY_PREFIX,
            connection_pool=self.redis.connection_pool,
        )
        self.rate = MovingWindowRateLimiter(storage)
        self.acquire = self.redis.register_script(ACQUIRE)  # EVALSHA, loaded on first use
        self.renew = self.redis.register_script(RENEW)

    def budget(
        self,
        source: str,
        base_url: str,
        *,
        max_concurrency: int,
        requests_per_second: float,
        lease_seconds: float,
    ) -> SharedBudget:
        """The budget every process shares for ``source`` at ``base_url``."""
        return SharedBudget(
            self,
            account_key(source, base_url),
            max_concurrency=max_concurrency,
            item=rate_item(requests_per_second),
            lease_ms=max(1, int(lease_seconds * 1000)),
        )

    async def aclose(self) -> None:
        await self.redis.aclose()


@dataclass
class SharedBudget:
    """One source account's concurrency and rate, shared by every process (see module)."""

    limits: SharedLimits
    key: str
    max_concurrency: int
    item: RateLimitItem
    lease_ms: int

    @property
    def slots_key(self) -> str:
        return f"{KEY_PREFIX}:{self.key}:slots"

    def slot(self) -> AbstractAsyncContextManager[object]:
        return self._held()

    async def pace(self) -> None:
        try:
            while not await self.limits.rate.hit(self.item, self.key):
                stats = await self.limits.rate.get_window_stats(self.item, self.key)
                await asyncio.sleep(max(0.001, stats.reset_time - time.time()))
        except RedisError as error:
            raise _unavailable(error) from None

    @asynccontextmanager
    async def _held(self) -> AsyncIterator[str]:
        token = uuid.uuid4().hex
        await self._acquire(token)
        renewing = asyncio.create_task(self._renew(token))
        try:
            yield token
        finally:
            renewing.cancel()
            await self._release(token)

    async def _acquire(self, token: str) -> None:
        wait = POLL_FIRST_SECONDS
        while not await self._call(self.limits.acquire, self.max_concurrency, self.lease_ms, token):
            await asyncio.sleep(wait * (0.5 + random.random()))
            wait = min(POLL_CAP_SECONDS, wait * 2)

    async def _renew(self, token: str) -> None:
        """Keep the lease while the request runs; a Redis hiccup here only risks the lease."""
        while True:
            await asyncio.sleep(self.lease_ms / 3000)
            try:
                await self._call(self.limits.renew, self.lease_ms, token)
            except TransientSourceError:
                continue

    async def _release(self, token: str) -> None:
        with suppress(RedisError):  # else the lease runs out on its own
            await self.limits.redis.zrem(self.slots_key, token)

    async def _call(self, script: AsyncScript, *args: int | str) -> bool:
        try:
            result = await script(keys=[self.slots_key], args=list(args))
        except RedisError as error:
            raise _unavailable(error) from None
        return bool(result)


def _unavailable(error: RedisError) -> TransientSourceError:
    return TransientSourceError(f"shared rate limits unavailable (Redis): {type(error).__name__}")
