"""Integration exceptions: what sync could not decide alone, kept until it is resolved.

An exception is one row per (kind, system, record): seeing the same problem again refreshes
``last_seen_at`` instead of adding a row, and a later attempt that succeeds marks it
``resolved``. Operators read them through GraphQL (``integrationExceptions``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.tables import IntegrationException, SyncParked, table_of
from sync_jobs.sql import upsert_insert

EXCEPTIONS = table_of(IntegrationException)
PARKED = table_of(SyncParked)

UNMATCHED = "identity_unmatched"
AMBIGUOUS = "identity_ambiguous"
ORPHANED = "orphaned"
IDENTITY_KINDS = (UNMATCHED, AMBIGUOUS)
KINDS = (*IDENTITY_KINDS, ORPHANED)  # every kind written (GraphQL's IntegrationExceptionKind)
OPEN, RESOLVED = "open", "resolved"

# A parked row is retried at the start (and, if anything is still parked, at the end) of every
# pull of its system, so with NetSuite's six objects pulled every 30 s one scheduling cycle
# counts about 6–12 attempts. 50 attempts is a few cycles: long after a parent pulled in the
# same cycle would have arrived, soon enough for an operator to see it the same day.
ORPHAN_AFTER_ATTEMPTS = 50
MAX_MESSAGE_LENGTH = 1000


@dataclass(frozen=True)
class Problem:
    """One record sync could not apply, and why (``details`` becomes JSON)."""

    kind: str
    system: str
    object_type: str
    source_id: str
    message: str
    details: dict[str, Any] | None = None


async def record(conn: AsyncConnection, problems: Sequence[Problem], at: datetime) -> None:
    """Open (or refresh) one exception per problem, in one batched statement.

    A problem seen again keeps its row and ``first_seen_at`` and moves ``last_seen_at``; one
    that had been resolved re-opens, counting its first sighting from now.
    """
    if not problems:
        return
    stmt = upsert_insert(conn, EXCEPTIONS)
    reopened = EXCEPTIONS.c.status == RESOLVED
    stmt = stmt.on_conflict_do_update(
        index_elements=["kind", "source_system", "object_type", "source_id"],
        set_={
            "object_type": stmt.excluded.object_type,
            "message": stmt.excluded.message,
            "details": stmt.excluded.details,
            "status": OPEN,
            "first_seen_at": case(
                (reopened, stmt.excluded.first_seen_at), else_=EXCEPTIONS.c.first_seen_at
            ),
            "last_seen_at": stmt.excluded.last_seen_at,
            "resolved_at": None,
        },
    )
    await conn.execute(stmt, [_params(p, at) for p in problems])


def _params(problem: Problem, at: datetime) -> dict[str, Any]:
    details = None if problem.details is None else json.dumps(problem.details, sort_keys=True)
    return {
        "kind": problem.kind,
        "source_system": problem.system,
        "object_type": problem.object_type,
        "source_id": problem.source_id,
        "message": problem.message[:MAX_MESSAGE_LENGTH],
        "details": details,
        "status": OPEN,
        "first_seen_at": at,
        "last_seen_at": at,
        "resolved_at": None,
    }


async def resolve(
    conn: AsyncConnection,
    system: str,
    source_ids: Iterable[str],
    kinds: Sequence[str],
    at: datetime,
    *,
    object_type: str,
) -> None:
    """Mark the open exceptions of these kinds for these records resolved (one statement)."""
    ids = set(source_ids)
    if not ids:
        return
    await conn.execute(
        update(EXCEPTIONS)
        .where(
            EXCEPTIONS.c.source_system == system,
            EXCEPTIONS.c.object_type == object_type,
            EXCEPTIONS.c.source_id.in_(ids),
            EXCEPTIONS.c.kind.in_(kinds),
            EXCEPTIONS.c.status == OPEN,
        )
        .values(status=RESOLVED, resolved_at=at)
    )


async def flag_orphans(
    conn: AsyncConnection, system: str, at: datetime, *, account_master: str
) -> int:
    """Open an ``orphaned`` exception for each row parked more than ORPHAN_AFTER_ATTEMPTS times.

    Clients of a non-master system are left out: they wait for identity resolution, and their
    ``identity_*`` exception already says why.
    """
    stmt = select(PARKED).where(
        PARKED.c.source_system == system, PARKED.c.attempts > ORPHAN_AFTER_ATTEMPTS
    )
    if system != account_master:
        stmt = stmt.where(PARKED.c.table_name != "account")
    problems = [_orphan(p) for p in await conn.execute(stmt)]
    await record(conn, problems, at)
    return len(problems)


def _orphan(parked: Any) -> Problem:
    values = json.loads(parked.payload)["values"]
    waiting_for = [
        ":".join(v["$ref"]) for v in values.values() if isinstance(v, dict) and "$ref" in v
    ]
    return Problem(
        kind=ORPHANED,
        system=parked.source_system,
        object_type=parked.object_type,
        source_id=parked.source_id,
        message=(
            f"{parked.table_name} {parked.source_id} has waited for a parent since "
            f"{parked.parked_at.isoformat()} ({parked.attempts} attempts); "
            f"it names {', '.join(waiting_for) or 'no parent'}"
        ),
        details={
            "table": parked.table_name,
            "parents": waiting_for,
            "attempts": parked.attempts,
            "parkedAt": parked.parked_at.isoformat(),
        },
    )
