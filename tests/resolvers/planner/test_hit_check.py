"""The shared check of response-cache hits (resolvers/planner/hit_check.py): every caller gets
a read that started after it asked, one read for all who asked before it started.

Verified: handing a caller the read in flight (instead of the next one) fails
``test_a_caller_during_a_read_waits_for_the_next``; dropping the shield fails
``test_a_caller_gone_leaves_the_read_to_the_others``.
"""

from __future__ import annotations

import asyncio

import pytest

from resolvers.planner.hit_check import SharedRead


class Reads:
    """A read held open until ``release()``: its value is its number (1, 2, …)."""

    def __init__(self) -> None:
        self.started = 0
        self.fail_next = False
        self._open: list[asyncio.Event] = []
        self.begun = asyncio.Event()

    async def read(self) -> int:
        self.started += 1
        number = self.started
        held = asyncio.Event()
        self._open.append(held)
        self.begun.set()
        await held.wait()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError(f"read {number} failed")
        return number

    async def release(self) -> None:
        while not self._open:  # the next read is started by the loop's next turn
            await asyncio.sleep(0)
        self._open.pop(0).set()
        for _ in range(3):
            await asyncio.sleep(0)


async def test_callers_before_a_read_starts_share_it() -> None:
    reads = Reads()
    shared = SharedRead(reads.read)
    callers = [asyncio.create_task(shared.started_after_now()) for _ in range(5)]
    await reads.release()
    assert await asyncio.gather(*callers) == [1, 1, 1, 1, 1]
    assert reads.started == 1


async def test_a_caller_during_a_read_waits_for_the_next() -> None:
    """The read in flight may have taken its snapshot before this caller's write committed."""
    reads = Reads()
    shared = SharedRead(reads.read)
    first = asyncio.create_task(shared.started_after_now())
    await reads.begun.wait()  # read 1 is in flight
    later = [asyncio.create_task(shared.started_after_now()) for _ in range(3)]
    await reads.release()
    assert await first == 1
    assert not any(t.done() for t in later)  # read 2 started after they asked
    await reads.release()
    assert await asyncio.gather(*later) == [2, 2, 2]
    assert reads.started == 2
    third = asyncio.create_task(shared.started_after_now())  # nothing in flight: a new read
    await reads.release()
    assert await third == 3


async def test_a_caller_gone_leaves_the_read_to_the_others() -> None:
    reads = Reads()
    shared = SharedRead(reads.read)
    gone, staying = (asyncio.create_task(shared.started_after_now()) for _ in range(2))
    await reads.begun.wait()
    gone.cancel()
    await reads.release()
    assert await staying == 1
    assert gone.cancelled()


async def test_a_failed_read_fails_its_callers_only() -> None:
    reads = Reads()
    shared = SharedRead(reads.read)
    reads.fail_next = True
    failing = [asyncio.create_task(shared.started_after_now()) for _ in range(2)]
    await reads.release()
    for task in failing:
        with pytest.raises(RuntimeError, match="read 1 failed"):
            await task
    after = asyncio.create_task(shared.started_after_now())
    await reads.release()
    assert await after == 2
