"""Accept one webhook delivery: verify it, record its event ids once, return what to re-read.

Every check happens before anything is written, and the event ids are recorded in one
transaction, so a rejected delivery changes nothing and a redelivery (senders retry, and
may deliver twice on their own) is recognised by its event ids.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from readmodel.tables import WebhookEvent, table_of
from sync_jobs.sql import upsert_insert
from sync_jobs.webhooks.events import Event, Hint, merge_hints, parse_events
from sync_jobs.webhooks.signature import verify

EVENTS = table_of(WebhookEvent)


@dataclass(frozen=True)
class Receipt:
    """What a delivery did: new events, repeats, and the re-reads the new ones ask for."""

    accepted: list[str]  # event ids seen for the first time
    duplicates: int
    hints: list[Hint]


async def receive(
    engine: AsyncEngine,
    source: str,
    body: bytes,
    *,
    secret: str,
    signature: str | None,
    now: datetime,
    tolerance_seconds: int,
    verifier: Callable[[bytes], object] | None = None,
) -> Receipt:
    """Verify and parse a delivery, then record its new event ids.

    ``verifier`` replaces clientgraph's own signature check for a source that signs its own
    way (HubSpot's ``X-HubSpot-Signature-v3``); it raises as ``signature.verify`` does.

    Raises:
        BadSignature / StaleTimestamp: from ``signature.verify``; nothing is written.
        MalformedBody: from ``events.parse_events``; nothing is written.
    """
    if verifier is not None:
        verifier(body)
    else:
        verify(secret, signature, body, now=now, tolerance_seconds=tolerance_seconds)
    events = parse_events(source, body)
    async with engine.begin() as conn:
        fresh = await _record_new(conn, source, events, now)
    accepted = [e for e in _unique(events) if e.event_id in fresh]
    return Receipt(
        accepted=[e.event_id for e in accepted],
        duplicates=len(events) - len(accepted),
        hints=merge_hints(accepted),
    )


async def forget(engine: AsyncEngine, source: str, event_ids: Sequence[str]) -> None:
    """Un-record events whose re-read could not be handed on, so a redelivery is accepted."""
    if not event_ids:
        return
    async with engine.begin() as conn:
        await conn.execute(
            delete(EVENTS).where(EVENTS.c.source_system == source, EVENTS.c.event_id.in_(event_ids))
        )


async def _record_new(
    conn: AsyncConnection, source: str, events: Sequence[Event], now: datetime
) -> set[str]:
    """Insert-or-ignore every event id in one statement; the ids actually inserted come back.

    The unique constraint decides, so two deliveries of one event racing on two gateway
    processes still accept it once.
    """
    rows = [
        {"source_system": source, "event_id": e.event_id, "received_at": now}
        for e in _unique(events)
    ]
    stmt = (
        upsert_insert(conn, EVENTS)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["source_system", "event_id"])
        .returning(EVENTS.c.event_id)
    )
    return set((await conn.execute(stmt)).scalars().all())


def _unique(events: Sequence[Event]) -> list[Event]:
    """First of each event id: a delivery may repeat an event within itself."""
    first: dict[str, Event] = {}
    for event in events:
        first.setdefault(event.event_id, event)
    return list(first.values())
