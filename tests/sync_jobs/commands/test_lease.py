"""A running command's lease, through the job (``apply_command``) against the Salesforce
simulator: renewed while the source is slow, given back when the attempt is cancelled, never
touched by an attempt whose lease another worker took over, taken over once it lapsed; and
the claim's compare-and-set on a stale read (a race the job cannot be paused inside: the
command log's ``claim`` itself, on the real database).

``HeldWrite`` keeps the source's answer to the command's write (a PATCH) until the test lets
it go, so the attempt is RUNNING under its lease for as long as the test needs; the order is
forced by events and by polling the row, not by sleeps of a fixed length.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import command_log
from readmodel.command_log import CommandStatus
from readmodel.types import utcnow
from tests.sync_jobs.commands.conftest import (
    Sources,
    add_command,
    command,
    first,
    open_sources,
    run_once,
    set_command,
)

WAIT_SECONDS = 30.0


class HeldWrite(httpx.AsyncBaseTransport):
    """Passes requests on; the first PATCH's answer is kept until ``release`` is set."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if self.held.is_set() or request.method != "PATCH":
            return response
        body = await response.aread()
        self.held.set()
        await asyncio.wait_for(self.release.wait(), WAIT_SECONDS)
        return httpx.Response(response.status_code, headers=response.headers, content=body)


@asynccontextmanager
async def _held_attempt(
    engine: AsyncEngine, lease_seconds: float, *, refused_with: int | None = None
) -> AsyncIterator[tuple[Sources, HeldWrite, int, asyncio.Task[Any]]]:
    """The attempt, its write's answer held; ``refused_with``: the status Salesforce refuses
    the write with (400: permanent, 503: transient)."""
    held: dict[str, HeldWrite] = {}

    def wrap(system: str, inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        if system != "salesforce":
            return inner
        held[system] = HeldWrite(inner)
        return held[system]

    async with open_sources(engine, wrap=wrap, lease_seconds=lease_seconds) as sources:
        if refused_with is not None:
            sources.sf_faults.refuse_writes("REFUSED_FOR_THE_TEST", status=refused_with)
        deal = first(sources.rows["opportunity"], stage="prospecting")["source_id"]
        payload = {"opportunity_id": deal, "stage": "negotiation", "amount": "125000.10"}
        command_id = await add_command(sources.engine, "update_opportunity", "salesforce", payload)
        attempt = asyncio.create_task(run_once(sources, command_id))
        transport = held["salesforce"]
        await asyncio.wait_for(transport.held.wait(), WAIT_SECONDS)  # written, answer in hand
        try:
            yield sources, transport, command_id, attempt
        finally:
            transport.release.set()
            if not attempt.done():
                attempt.cancel()
            await asyncio.gather(attempt, return_exceptions=True)


async def _until(engine: AsyncEngine, command_id: int, check: Any) -> dict[str, Any]:
    """The command's row once ``check(row)`` holds (polled; ``WAIT_SECONDS`` at most)."""
    for _ in range(int(WAIT_SECONDS / 0.05)):
        row = await command(engine, command_id)
        if check(row):
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"command {command_id} never got there: {row}")


async def test_a_slow_attempt_renews_its_lease_and_one_taken_over_changes_nothing(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async with _held_attempt(engine, lease_seconds=3.0) as (_, _, command_id, attempt):
        claimed = await command(engine, command_id)
        assert claimed["status"] == CommandStatus.RUNNING and claimed["lease_token"]
        renewed = await _until(
            engine, command_id, lambda r: r["lease_expires_at"] > claimed["lease_expires_at"]
        )
        assert renewed["lease_token"] == claimed["lease_token"]  # still this attempt's
        # each expiry is its renewal's moment + 3 s: renewed (every 1 s) before it lapsed
        assert renewed["lease_expires_at"] - claimed["lease_expires_at"] < timedelta(seconds=3)

        far = utcnow() + timedelta(hours=1)  # another worker takes the command over
        await set_command(
            engine, command_id, CommandStatus.RUNNING, lease_token="other", lease_expires_at=far
        )
        with pytest.raises(asyncio.CancelledError):  # its next renewal finds the lease gone
            await asyncio.wait_for(asyncio.shield(attempt), WAIT_SECONDS)
        after = await command(engine, command_id)
        assert (after["status"], after["lease_token"]) == (CommandStatus.RUNNING, "other")
        assert after["lease_expires_at"] == far  # the abandoned attempt gave back nothing
        assert after["applied_at"] is None  # nor recorded its write
    _logged(caplog, f"command {command_id}: lease taken over, attempt abandoned", None)


@pytest.mark.parametrize(
    "refused_with", [None, 400, 503], ids=["answered", "refused", "unavailable"]
)
async def test_an_attempt_taken_over_records_nothing(
    engine: AsyncEngine, refused_with: int | None
) -> None:
    """Another worker takes the command over while the source is answering; the answer is
    the write done (the attempt would record it and end SUCCEEDED), a refusal (FAILED) or a
    503 (DISPATCHED for a retry). The abandoned attempt records none of them: the row stays
    the new holder's, as it was. The lease (an hour) is not renewed before the answer, so
    each move's own token guard decides."""
    async with _held_attempt(engine, 3600.0, refused_with=refused_with) as held:
        _, transport, command_id, attempt = held
        far = utcnow() + timedelta(hours=2)
        await set_command(
            engine, command_id, CommandStatus.RUNNING, lease_token="other", lease_expires_at=far
        )
        before = await command(engine, command_id)
        transport.release.set()
        report = await asyncio.wait_for(attempt, WAIT_SECONDS)
        after = await command(engine, command_id)
    assert isinstance(report, dict) and report["status"] == "MOVED_ON", report
    assert after == before  # status, token, error, attempts, next attempt: all the holder's
    assert (after["status"], after["lease_token"]) == (CommandStatus.RUNNING, "other")
    assert after["last_error_code"] is None


async def test_a_renewal_that_meets_a_database_blip_is_tried_again(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The first renewal fails (the database is briefly unreachable); the attempt keeps its
    lease, renews it at the next beat and finishes. The failure is logged with its cause."""
    renew = command_log.renew_lease
    calls = 0

    async def blip_once(*args: Any, **kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("the database is briefly unreachable")
        return await renew(*args, **kwargs)

    monkeypatch.setattr(command_log, "renew_lease", blip_once)
    async with _held_attempt(engine, lease_seconds=3.0) as held:
        _, transport, command_id, attempt = held
        claimed = await command(engine, command_id)
        renewed = await _until(
            engine, command_id, lambda r: r["lease_expires_at"] > claimed["lease_expires_at"]
        )
        assert calls >= 2 and renewed["lease_token"] == claimed["lease_token"]
        transport.release.set()
        report = await asyncio.wait_for(attempt, WAIT_SECONDS)
    assert report["status"] == CommandStatus.SUCCEEDED, report
    _logged(caplog, f"command {command_id}: lease not renewed", "briefly unreachable")


async def test_a_cancelled_attempt_whose_release_fails_is_still_cancelled(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Giving the lease back meets a database blip: the cancellation still goes through, the
    failure is logged with its cause, and the lease is left to lapse by itself."""

    async def blip(*args: Any, **kwargs: Any) -> bool:
        raise ConnectionError("the database is briefly unreachable")

    monkeypatch.setattr(command_log, "release_lease", blip)
    async with _held_attempt(engine, lease_seconds=60.0) as (_, _, command_id, attempt):
        claimed = await command(engine, command_id)
        attempt.cancel()
        with pytest.raises(asyncio.CancelledError):
            await attempt
        after = await command(engine, command_id)
    assert after["lease_expires_at"] == claimed["lease_expires_at"]  # not given back
    _logged(caplog, f"command {command_id}: lease not released", "briefly unreachable")


def _logged(caplog: pytest.LogCaptureFixture, message: str, cause: str | None) -> None:
    """``message`` was logged as a warning by the lease, with the exception ``cause``."""
    found = [
        r
        for r in caplog.records
        if r.name == "sync_jobs.commands.lease" and r.getMessage() == message
    ]
    assert found and found[0].levelname == "WARNING", [r.getMessage() for r in caplog.records]
    if cause is not None:
        assert found[0].exc_info is not None and cause in str(found[0].exc_info[1])


async def test_a_cancelled_attempt_gives_its_lease_back_at_once(engine: AsyncEngine) -> None:
    async with _held_attempt(engine, lease_seconds=60.0) as held:
        sources, transport, command_id, attempt = held
        claimed = await command(engine, command_id)
        attempt.cancel()  # arq's job timeout, a SIGTERM
        with pytest.raises(asyncio.CancelledError):
            await attempt
        released = await command(engine, command_id)
        assert released["status"] == CommandStatus.RUNNING
        assert released["lease_token"] == claimed["lease_token"]
        assert released["lease_expires_at"] <= utcnow() < claimed["lease_expires_at"]

        transport.release.set()
        again = await run_once(sources, command_id)  # the next run claims it at once
        assert isinstance(again, dict) and again["status"] == CommandStatus.SUCCEEDED, again


async def test_a_dead_workers_command_is_claimed_once_its_lease_lapsed(sources: Sources) -> None:
    """Through the job: a RUNNING command whose lease lapsed (its worker died) is taken by the
    next run; one whose lease still holds is left to its worker."""
    deal = first(sources.rows["opportunity"], stage="prospecting")["source_id"]
    payload = {"opportunity_id": deal, "stage": "negotiation", "amount": "125000.10"}
    dead, alive = [
        await add_command(sources.engine, "update_opportunity", "salesforce", payload)
        for _ in range(2)
    ]
    lapsed, holds = utcnow() - timedelta(seconds=1), utcnow() + timedelta(hours=1)
    for command_id, until in ((dead, lapsed), (alive, holds)):
        await set_command(
            sources.engine, command_id, CommandStatus.RUNNING,
            lease_token=f"worker-{command_id}", lease_expires_at=until,
        )  # fmt: skip

    taken = await run_once(sources, dead)
    left = await run_once(sources, alive)

    assert isinstance(taken, dict) and taken["status"] == CommandStatus.SUCCEEDED, taken
    assert left == {"command": alive, "status": "CLAIMED_ELSEWHERE", "skipped": True}
    assert (await command(sources.engine, alive))["lease_token"] == f"worker-{alive}"


async def test_a_claim_on_a_stale_read_of_the_command_loses(sources: Sources) -> None:
    """Two workers read the command; the first claims it and its attempt ends (a retry is
    due, DISPATCHED again). The second's claim compares with what it read (``attempts``) and
    loses, though the status would let it start: one attempt, counted once."""
    deal = first(sources.rows["opportunity"], stage="prospecting")["source_id"]
    payload = {"opportunity_id": deal, "stage": "negotiation", "amount": "125000.10"}
    command_id = await add_command(sources.engine, "update_opportunity", "salesforce", payload)
    async with sources.engine.connect() as conn:
        read = await command_log.get(conn, command_id)  # both workers read this
    assert read is not None
    claim = {"now": utcnow(), "lease_until": utcnow() + timedelta(minutes=1), "attempts": 1}
    async with sources.engine.begin() as conn:
        first_wins = await command_log.claim(conn, read, token="first", **claim)
    await set_command(sources.engine, command_id, CommandStatus.DISPATCHED, lease_token=None)
    async with sources.engine.begin() as conn:
        second_wins = await command_log.claim(conn, read, token="second", **claim)

    assert (first_wins, second_wins) == (True, False)
    after = await command(sources.engine, command_id)
    assert (after["status"], after["attempts"]) == (CommandStatus.DISPATCHED, 1)
