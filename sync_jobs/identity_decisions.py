"""Operators' identity decisions, as the sync rules read them (``identity_decision``).

An operator answers an identity exception through GraphQL (``linkIdentity``,
``createIdentityAccount``, ``ignoreIdentity``); the answer is a row per client record, and
every later sync of that record honours it before any matching rule:

- ``link``: the record is linked to the chosen account (while that account is live), whatever
  its name, domain or external id says; the link holds across re-syncs and new versions.
- ``create``: the record is applied as an account of its own (its system's lineage) and
  linked to it.
- ``ignore``: the record is neither linked nor parked, and raises no exception.

A link to an account deleted since, or a create whose account is not written yet, falls
back to the rules (``sync_jobs/identity.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.tables import Account, IdentityDecision, table_of
from sync_jobs.sql import upsert_insert

DECISIONS = table_of(IdentityDecision)
ACCOUNT = table_of(Account)
LINK, CREATE, IGNORE = "link", "create", "ignore"
ACTIONS = (LINK, CREATE, IGNORE)


@dataclass(frozen=True)
class Decision:
    """What an operator decided about one client record, and who, when, through which command."""

    system: str
    object_type: str
    source_id: str
    action: str
    account_id: int | None
    exception_id: int
    command_id: int
    decided_by: str
    decided_role: str
    decided_at: datetime


async def record_decision(conn: AsyncConnection, decision: Decision) -> None:
    """Keep ``decision`` for its record, replacing an earlier one (not yet applied again)."""
    values = {**vars(decision), "applied_at": None}
    stmt = upsert_insert(conn, DECISIONS).values(**values)
    kept = ("system", "source_id")
    stmt = stmt.on_conflict_do_update(
        index_elements=list(kept),
        set_={name: stmt.excluded[name] for name in values if name not in kept},
    )
    await conn.execute(stmt)


async def decided_before(conn: AsyncConnection, system: str, source_id: str) -> bool:
    """Whether this record already has a decision (an operator may change their mind)."""
    d = DECISIONS
    stmt = select(d.c.id).where(d.c.system == system, d.c.source_id == source_id)
    return (await conn.execute(stmt)).first() is not None


@dataclass(frozen=True)
class Decided:
    """A record's decision; ``account_id`` is the live account it links to (if any yet)."""

    action: str
    account_id: int | None


async def decisions_for(
    conn: AsyncConnection, system: str, source_ids: Iterable[str]
) -> dict[str, Decided]:
    """The decisions on these records of ``system``, in one statement.

    ``account_id`` is the linked account (``link``) or the record's own account (``create``),
    each only while live.
    """
    ids = set(source_ids)
    if not ids:
        return {}
    chosen, own = ACCOUNT.alias("chosen"), ACCOUNT.alias("own")
    d = DECISIONS
    stmt = (
        select(d.c.source_id, d.c.action, chosen.c.id, own.c.id)
        .outerjoin(chosen, and_(chosen.c.id == d.c.account_id, chosen.c.deleted_at.is_(None)))
        .outerjoin(
            own,
            and_(
                d.c.action == CREATE,
                own.c.source_system == d.c.system,
                own.c.source_id == d.c.source_id,
                own.c.deleted_at.is_(None),
            ),
        )
        .where(d.c.system == system, d.c.source_id.in_(ids))
    )
    rows = await conn.execute(stmt)
    return {sid: Decided(action, linked or mine) for sid, action, linked, mine in rows}


async def mark_applied(
    conn: AsyncConnection, system: str, source_ids: Iterable[str], at: datetime
) -> None:
    """Stamp ``applied_at`` on decisions a sync honoured for the first time."""
    ids = set(source_ids)
    if not ids:
        return
    await conn.execute(
        update(DECISIONS)
        .where(
            DECISIONS.c.system == system,
            DECISIONS.c.source_id.in_(ids),
            DECISIONS.c.applied_at.is_(None),
        )
        .values(applied_at=at)
    )
