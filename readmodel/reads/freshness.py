"""How fresh the read model is, per source system and object type.

Every configured source × object type has a state, whether or not ``sync_state`` has a row
for it yet: a pair that was never pulled is ``NEVER``, not absent. The read model is *behind*
while any pair is NEVER, FAILING or STALE (or PAUSED on data older than the stale limit);
``extensions.freshness`` and the ``freshness`` query both read these states.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.tables import SyncState, table_of

STALE_AFTER_INTERVALS = 3  # a pull may miss two slots (a slow page, a retry) before STALE


class SyncStatus(StrEnum):
    """The sync health of one (system, object type); see ``status_of``."""

    OK = "ok"
    STALE = "stale"
    FAILING = "failing"
    PAUSED = "paused"
    NEVER = "never"


@dataclass(frozen=True)
class SourceState:
    """One (system, object type): its ``sync_state`` row, or NEVER when it has none yet."""

    system: str
    object_type: str
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    records_applied: int = 0
    records_applied_total: int = 0
    last_error: str | None = None
    paused_until: datetime | None = None

    @classmethod
    def from_row(cls, row: Any) -> SourceState:
        names = cls.__dataclass_fields__
        return cls(**{name: getattr(row, name) for name in names})


async def sync_states(conn: AsyncConnection) -> list[Row[Any]]:
    """Every (system, object type) the read model has a ``sync_state`` row for, in order."""
    t = table_of(SyncState)
    return list(await conn.execute(select(t).order_by(t.c.system, t.c.object_type)))


def source_states(rows: Iterable[Any], expected: Iterable[tuple[str, str]]) -> list[SourceState]:
    """The rows' states plus a NEVER state for each expected pair without a row, in order."""
    states = {(r.system, r.object_type): SourceState.from_row(r) for r in rows}
    for system, object_type in expected:
        states.setdefault((system, object_type), SourceState(system, object_type))
    return [states[key] for key in sorted(states)]


def status_of(state: SourceState, now: datetime, interval_seconds: float) -> SyncStatus:
    """PAUSED, then FAILING, then NEVER, then STALE (lag > 3 × interval), else OK."""
    if state.paused_until is not None and state.paused_until > now:
        return SyncStatus.PAUSED
    if state.last_error is not None:
        return SyncStatus.FAILING
    if state.last_success_at is None:
        return SyncStatus.NEVER
    if _lag(state, now) > STALE_AFTER_INTERVALS * interval_seconds:
        return SyncStatus.STALE
    return SyncStatus.OK


def behind(
    states: Sequence[SourceState], now: datetime, interval_seconds: float
) -> list[tuple[SourceState, SyncStatus]]:
    """The states that make an answer stale, with their status.

    NEVER, FAILING and STALE always do; PAUSED does once its data is older than the stale
    limit (a rest that starts right after a good pull is not yet a gap).
    """
    found: list[tuple[SourceState, SyncStatus]] = []
    for state in states:
        status = status_of(state, now, interval_seconds)
        if status is SyncStatus.PAUSED and not _too_old(state, now, interval_seconds):
            continue
        if status is not SyncStatus.OK:
            found.append((state, status))
    return found


def _too_old(state: SourceState, now: datetime, interval_seconds: float) -> bool:
    if state.last_success_at is None:
        return True
    return _lag(state, now) > STALE_AFTER_INTERVALS * interval_seconds


def _lag(state: SourceState, now: datetime) -> float:
    assert state.last_success_at is not None
    return (now - state.last_success_at).total_seconds()
