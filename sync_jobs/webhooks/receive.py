"""Accept one webhook delivery: verify it, record its event ids once, return what to re-read.

Every check happens before anything is written, and the event ids are recorded in one
transaction, so a rejected delivery changes nothing and a redelivery (senders retry, and
may deliver twice on their own) is recognised by its event ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from readmodel.tables import WebhookEvent, table_of
from sync_jobs.sql import upsert_insert
from sync_jobs.webhooks import signature, standard
from sync_jobs.webhooks.events import Event, Hint, merge_hints, parse_events

EVENTS = table_of(WebhookEvent)
log = logging.getLogger("clientgraph.webhooks")


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
    headers: Mapping[str, str],
    now: datetime,
    tolerance_seconds: int,
    verifier: Callable[[bytes], object] | None = None,
) -> Receipt:
    """Verify and parse a delivery, then record its new event ids.

    ``verifier`` replaces clientgraph's own signature check for a source that signs its own
    way (HubSpot's ``X-HubSpot-Signature-v3``); it raises as ``signature.verify`` does.

    A Standard Webhooks delivery is recorded under its ``webhook-id`` (all its events are new
    or none is); a delivery signed with the deprecated ``X-Clientgraph-Signature`` under the
    ``eventId`` of each event.

    Raises:
        BadSignature / StaleTimestamp: from ``standard.verify`` / ``signature.verify``;
            nothing is written.
        MalformedBody: from ``events.parse_events``; nothing is written.
    """
    if verifier is not None:  # the source's own scheme: its events carry their own ids
        verifier(body)
        delivery_id = None
    else:
        delivery_id = verify_delivery(
            secret, headers, body, now=now, tolerance_seconds=tolerance_seconds
        )
    events = parse_events(source, body, delivery_id=delivery_id)
    return await record(engine, source, events, now, delivery_id=delivery_id)


def verify_delivery(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: datetime, tolerance_seconds: int
) -> str | None:
    """The ``webhook-id`` of a Standard Webhooks delivery, ``None`` for the deprecated scheme
    (its ids are in the body); raises ``BadSignature`` / ``StaleTimestamp``."""
    lower = {k.lower(): v for k, v in headers.items()}
    if standard.is_standard(lower) or signature.HEADER.lower() not in lower:
        return standard.verify(secret, lower, body, now=now, tolerance_seconds=tolerance_seconds)
    legacy = lower[signature.HEADER.lower()]
    signature.verify(secret, legacy, body, now=now, tolerance_seconds=tolerance_seconds)
    log.warning("a delivery signed with the deprecated %s: move its sender to Standard "
                "Webhooks (docs/sync.md)", signature.HEADER)
    return None


async def record(
    engine: AsyncEngine,
    source: str,
    events: Sequence[Event],
    now: datetime,
    *,
    delivery_id: str | None = None,
) -> Receipt:
    """Record the new ids of verified events (or of the whole delivery) in one transaction."""
    keys = [delivery_id] if delivery_id is not None else [e.event_id for e in _unique(events)]
    async with engine.begin() as conn:
        fresh = await _record_new(conn, source, keys, now)
    if delivery_id is not None:
        new = list(events) if fresh else []
        return Receipt(sorted(fresh), duplicates=len(keys) - len(fresh), hints=merge_hints(new))
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
    conn: AsyncConnection, source: str, event_ids: Sequence[str], now: datetime
) -> set[str]:
    """Insert-or-ignore every event id in one statement; the ids actually inserted come back.

    The unique constraint decides, so two deliveries of one event racing on two gateway
    processes still accept it once.
    """
    rows = [{"source_system": source, "event_id": i, "received_at": now} for i in event_ids]
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
