"""Read your own writes (``X-Consistency-Token``) and say how fresh every answer is.

A mutation's ``Command.consistencyToken`` names the command. A request that sends it back
(several may be comma-separated) is held before it runs until each command is final: the
executor marks a command SUCCEEDED only once the read model holds the source's record, so
the answer then includes the write. The wait is bounded by ``writes.consistency_wait_seconds``
(default 2 s); when it runs out, or a token names no command, the request runs anyway and
says so with ``extensions.freshness.stale = true``.

Every HTTP answer carries ``extensions.freshness``: ``asOf`` (the request's clock),
``oldestSourceSyncAt`` (the least recent successful pull over ``sync_state``), ``behind``
(each source × object type that is NEVER, FAILING or STALE, or PAUSED on old data, as
``{system, objectType, status}``; every configured source's objects count, pulled or not)
and ``stale`` (the consistency wait ran out, or ``behind`` is not empty), plus
``consistency: {reached, waitedMs}`` when a token was sent. One small SQL statement each.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection

from gateway.encoded import EncodedList
from readmodel.command_log import COMMANDS, FINAL_STATUSES
from readmodel.db import autocommit
from readmodel.reads.freshness import (
    STALE_AFTER_INTERVALS,
    SourceState,
    behind,
    source_states,
    sync_states,
)
from readmodel.request_connection import Reads
from resolvers.commands.tokens import command_id_of
from resolvers.planner.sync_states import states as statement_states

log = logging.getLogger(__name__)

HEADER = "x-consistency-token"
MAX_TOKENS = 10
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Consistency:
    """How the wait for a request's tokens ended."""

    reached: bool
    waited_ms: int


async def wait_for_tokens(connection: HTTPConnection) -> Consistency | None:
    """Hold the request until its tokens' commands are final, or the wait runs out.

    ``None`` when the request carries no token (it runs at once).
    """
    header = connection.headers.get(HEADER)
    if not header:
        return None
    state = connection.app.state
    started = time.monotonic()
    ids = [command_id_of(token) for token in header.split(",")[:MAX_TOKENS]]
    timeout = state.settings.writes.consistency_wait_seconds
    known = [i for i in ids if i is not None]
    principal = getattr(connection.state, "principal", None)  # set by authentication
    owner = None if principal is None or principal.sees_all_commands else principal.id
    try:
        reached = len(known) == len(ids) and await _until_final(state.engine, known, timeout, owner)
    except SQLAlchemyError:  # unreadable command log: answer at once, marked stale
        log.warning("consistency wait skipped: command log unreadable", exc_info=True)
        reached = False
    return Consistency(reached, round((time.monotonic() - started) * 1000))


async def _until_final(
    engine: AsyncEngine, ids: list[int], timeout: float, owner: str | None
) -> bool:
    """Poll the commands' statuses until all are final (True) or ``timeout`` passes (False).

    With an ``owner``, another caller's command counts as one that does not exist: a token
    tells nothing about commands its sender may not see.
    """
    deadline = time.monotonic() + timeout
    stmt = select(COMMANDS.c.id, COMMANDS.c.status).where(COMMANDS.c.id.in_(ids))
    if owner is not None:
        stmt = stmt.where(COMMANDS.c.principal_id == owner)
    while True:
        async with engine.connect() as conn:
            statuses = {row.id: row.status for row in await conn.execute(stmt)}
        if len(statuses) < len(set(ids)):
            return False  # a token for a command that does not exist can never be reached
        if all(status in FINAL_STATUSES for status in statuses.values()):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))


async def freshness(connection: HTTPConnection, consistency: Consistency | None) -> dict[str, Any]:
    """The ``extensions.freshness`` of an answer (see the module's docstring)."""
    state = connection.app.state
    now: datetime = state.clock()
    try:
        read = getattr(connection.state, "sync_text", None)  # by the compiled answer's statement
        if read is not None:
            states: Sequence[SourceState] = statement_states(read, state.sync_objects)
        else:  # through the request's reads (a connection at a time; gateway/graphql.py), if any
            reads = getattr(connection.state, "reads", None) or state.engine
            states = await _states(reads, state.sync_objects)
    except SQLAlchemyError:  # the answer itself reports the outage; freshness is unknown
        log.warning("freshness unknown: sync_state unreadable", exc_info=True)
        return {"asOf": now.isoformat(), "oldestSourceSyncAt": None, "behind": [], "stale": True}
    lateness = _lateness(states, now, state.settings.sync.interval_seconds)
    body: dict[str, Any] = {
        "asOf": now.isoformat(),
        "oldestSourceSyncAt": lateness.oldest,
        # its text made once per Lateness: the items (shared by answers) are never changed
        "behind": EncodedList(lateness.behind, lateness.behind_json),
        "stale": bool(lateness.behind) or (consistency is not None and not consistency.reached),
    }
    if consistency is not None:
        body["consistency"] = {"reached": consistency.reached, "waitedMs": consistency.waited_ms}
    return body


@dataclass(frozen=True)
class Lateness:
    """``behind`` and ``oldestSourceSyncAt`` of some states, the same for every ``now``
    strictly between ``after`` and ``before`` (the instants where a status can change: a
    pause's end, a pull's stale limit)."""

    states: Sequence[SourceState]
    interval: float
    after: datetime
    before: datetime
    behind: tuple[dict[str, str], ...]
    oldest: str | None

    @cached_property
    def behind_json(self) -> str:
        """``behind``'s compact JSON, made once for every answer it is remembered for."""
        return json.dumps(list(self.behind), separators=(",", ":"))


_last: Lateness | None = None


def _lateness(states: Sequence[SourceState], now: datetime, interval: float) -> Lateness:
    """The states' lateness at ``now``: remembered for the states of the last answer (the
    compiled path's, one object between two syncs) until the next instant it can change."""
    global _last
    last = _last
    if (
        last is not None
        and last.states is states
        and last.interval == interval
        and last.after < now < last.before
    ):
        return last
    late = behind(states, now, interval)
    oldest = min((s.last_success_at for s in states if s.last_success_at), default=None)
    limit = timedelta(seconds=STALE_AFTER_INTERVALS * interval)
    changes = [s.paused_until for s in states if s.paused_until is not None]
    changes += [s.last_success_at + limit for s in states if s.last_success_at is not None]
    found = Lateness(
        states,
        interval,
        max((_shifted(t, MARGIN) for t in changes if t <= now), default=EARLIEST),  # (a
        min((_shifted(t, -MARGIN) for t in changes if t >= now), default=LATEST),  # margin:
        # the statuses compare seconds as floats, these instants are whole microseconds)
        tuple(
            {"system": s.system, "objectType": s.object_type, "status": status.name}
            for s, status in late
        ),
        None if oldest is None else oldest.isoformat(),
    )
    if isinstance(states, tuple) and found.after < now < found.before:
        _last = found
    return found


MARGIN = timedelta(milliseconds=1)
EARLIEST = datetime.min.replace(tzinfo=UTC) + MARGIN
LATEST = datetime.max.replace(tzinfo=UTC) - MARGIN


def _shifted(moment: datetime, by: timedelta) -> datetime:
    try:
        return moment + by
    except OverflowError:  # a pause "until the end of time": the window just stops there
        return moment


async def _states(engine: Reads, expected: tuple[tuple[str, str], ...]) -> list[SourceState]:
    async with autocommit(engine) as conn:  # one statement: no BEGIN / ROLLBACK around it
        return source_states(await sync_states(conn), expected)
