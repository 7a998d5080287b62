"""The command log (table ``command``): accepting writes, moving them between states, reading them.

The accepting side (mutations) and the executing side (``apply_command``, the relay) share
these functions so that every status change is a guarded compare-and-set: a transition names
the statuses it may leave from, and reports whether it applied. Two workers, a relay and an
operator racing on one command therefore never both win, whatever the database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Row,
    String,
    Table,
    Update,
    and_,
    any_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from clientgraph.access.principal import SYSTEM_ID as SYSTEM_PRINCIPAL
from readmodel.raw_reads import RawConnection, Reading
from readmodel.tables import Command, table_of
from readmodel.types import UTCDateTime

COMMANDS: Table = table_of(Command)


class CommandStatus(StrEnum):
    """Where a command is; stored upper-case, as the table documents."""

    ACCEPTED = "ACCEPTED"  # in the log, not yet handed to the queue
    DISPATCHED = "DISPATCHED"  # handed to the queue (arq job ``command-<id>``)
    RUNNING = "RUNNING"  # a worker is applying it at the source (holding a lease)
    APPLIED = "APPLIED"  # the source confirmed the write; its read-back is to be retried
    SUCCEEDED = "SUCCEEDED"  # applied, and the read model reflects the source's record
    FAILED = "FAILED"  # the source refused it (permanent); an operator may retry
    DEAD_LETTERED = "DEAD_LETTERED"  # transient failures until max_attempts ran out
    CANCELLED = "CANCELLED"  # an operator withdrew it before it ran


FINAL_STATUSES = frozenset(
    {
        CommandStatus.SUCCEEDED,
        CommandStatus.FAILED,
        CommandStatus.DEAD_LETTERED,
        CommandStatus.CANCELLED,
    }
)
"""States a command leaves only by an operator's retry: what a consistency token waits for."""


@dataclass(frozen=True)
class NewCommand:
    """A validated write, ready to be logged. ``payload`` holds JSON-safe strings only."""

    kind: str
    target_system: str
    target_object: str
    target_source_id: str | None
    idempotency_key: str
    input_hash: str
    payload: Mapping[str, Any]
    correlation_id: str
    principal_id: str = SYSTEM_PRINCIPAL
    """Who asked: keys are unique per principal (``system``: clientgraph's own writes)."""
    principal_role: str | None = None
    credential_id: str | None = None
    trace_context: str | None = None
    """The accepting request's W3C ``traceparent``: the executor's spans join its trace."""


@dataclass(frozen=True)
class Accepted:
    """The logged command, and whether this call created it (``False``: a replay)."""

    row: Any
    """The command's row: SQLAlchemy's ``Row``, or a ``RawRow`` off the bare driver (read alike,
    by attribute)."""
    created: bool
    audited: bool = False
    """The statement that logged it also wrote its audit entry (``command_intake.accept``)."""
    read_along: Any = None
    """The value of the select-list item read in the same statement, if one was asked for."""


class IdempotencyKeyReused(Exception):
    """The key names a command whose input differs from this one's."""

    def __init__(self, existing: Any) -> None:
        super().__init__(f"idempotency key already used by command {existing.id}")
        self.existing = existing


def input_hash(kind: str, arguments: Mapping[str, Any]) -> str:
    """A stable digest of what the client sent (the kind included: a key is per write).

    Hashing the raw arguments, not the validated payload, lets a replay be recognised before
    validation, which may refuse it now that the first call changed the record.
    """
    canonical = json.dumps([kind, arguments], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


SOURCE_KEY_PREFIX = "clientgraph-"


def source_key_of(idempotency_key: str, principal_id: str = SYSTEM_PRINCIPAL) -> str:
    """The external id / idempotency key the owning system sees for a command's write.

    Derived from the caller's idempotency key alone (not from the command's row id), so the
    same key names the same record at the source across retries, replays and even another
    clientgraph installation or a rebuilt command log. 44 characters: every source's
    external-id field holds it. Keys are the caller's own: another principal's same key names
    another record (clientgraph's own keys hash as they did before principals existed).
    """
    scoped = (
        idempotency_key
        if principal_id == SYSTEM_PRINCIPAL
        else (f"{principal_id}\x00{idempotency_key}")
    )
    digest = hashlib.sha256(scoped.encode()).hexdigest()[:32]
    return SOURCE_KEY_PREFIX + digest


def source_key(row: Any) -> str:
    """The source key of a logged command, a row or its mapping (rows older than migration
    0006 used their id)."""
    data = row if isinstance(row, Mapping) else row._mapping
    return str(data["source_key"] or f"clientgraph-command-{data['id']}")


async def insert_or_fetch(
    conn: AsyncConnection,
    new: NewCommand,
    *,
    now: datetime,
    status: str = CommandStatus.ACCEPTED,
) -> Accepted:
    """Insert ``new`` with ``status``, or read the row already logged under its key.

    ``INSERT … ON CONFLICT (principal_id, idempotency_key) DO NOTHING RETURNING *`` (the new
    row itself), then, only when nothing was inserted, a read of the winner: a concurrent twin
    blocks on the unique index until it commits, so the read (a new snapshot under READ
    COMMITTED) sees it. The caller compares ``input_hash`` and owns the transaction (an
    operator's action logs itself and a transition together).
    """
    inserted = (await conn.execute(_insert(conn, new, now, status).returning(COMMANDS))).first()
    if inserted is not None:
        return Accepted(inserted, created=True)
    row = await by_key(conn, new.idempotency_key, new.principal_id)
    if row is None:  # pragma: no cover - the key's row exists by construction
        raise RuntimeError(f"command with key {new.idempotency_key!r} vanished")
    return Accepted(row, created=False)


def _insert(conn: AsyncConnection, new: NewCommand, now: datetime, status: str) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(COMMANDS).values(**values_of(new, now, status))
    return stmt.on_conflict_do_nothing(index_elements=["principal_id", "idempotency_key"])


def values_of(
    new: NewCommand, now: datetime, status: str = CommandStatus.ACCEPTED
) -> dict[str, Any]:
    """The row ``new`` is logged as, with ``status``, column by column."""
    return {
        "kind": new.kind,
        "status": str(status),
        "target_system": new.target_system,
        "target_object": new.target_object,
        "target_source_id": new.target_source_id,
        "idempotency_key": new.idempotency_key,
        "source_key": source_key_of(new.idempotency_key, new.principal_id),
        "principal_id": new.principal_id,
        "principal_role": new.principal_role,
        "credential_id": new.credential_id,
        "input_hash": new.input_hash,
        "payload": payload_text(new.payload),
        "correlation_id": new.correlation_id,
        "trace_context": new.trace_context,
        "attempts": 0,
        "max_attempts": Command.model_fields["max_attempts"].default,
        "created_at": now,
        "updated_at": now,
        "completed_at": now if status in FINAL_STATUSES else None,
    }


def payload_text(payload: Mapping[str, Any]) -> str:
    """A command's payload as the log stores it: JSON, keys sorted, UTF-8 kept (the one
    statement's spliced values, readmodel/command_targets.py, are written alike)."""
    return json.dumps(dict(payload), sort_keys=True, ensure_ascii=False)


async def transition(
    conn: AsyncConnection,
    command_id: int,
    from_statuses: Collection[str],
    to_status: str,
    *,
    now: datetime,
    holder: str | None = None,
    **fields: Any,
) -> bool:
    """Move a command to ``to_status`` if it is in one of ``from_statuses``; True if it moved.

    Args:
        conn: a connection in a transaction (the caller commits: it may log more with it).
        command_id: the command.
        from_statuses: the statuses this move is allowed from (a compare-and-set).
        to_status: the new status.
        now: stamps ``updated_at``; and ``completed_at`` when ``to_status`` is final, unless
            ``fields`` sets it.
        holder: a lease token: the move applies only while that lease holds the row (an
            attempt whose lease was taken over by another worker changes nothing).
        **fields: other columns to set in the same statement, e.g. ``attempts=0``,
            ``last_error_code=…``, ``next_attempt_at=…``, ``dispatched_at=now``.
    """
    values: dict[str, Any] = {"status": str(to_status), "updated_at": now}
    if to_status in FINAL_STATUSES:
        values["completed_at"] = now
    values.update(fields)
    c = COMMANDS.c
    where = [c.id == command_id, c.status.in_([str(s) for s in from_statuses])]
    if holder is not None:
        where.append(c.lease_token == holder)
    result = await conn.execute(update(COMMANDS).where(*where).values(**values))
    return bool(result.rowcount == 1)


DISPATCHED = str(CommandStatus.DISPATCHED)


async def mark_dispatched(conn: Reading, ids: Sequence[int], *, now: datetime) -> int:
    """Move the commands ``ids`` ACCEPTED → DISPATCHED in one statement, each a guarded move
    (one whose job already started, or that an operator cancelled, is left as it is); how
    many moved. The caller's connection commits (a bare one: the statement is its own
    transaction, its text the same for any number of ids)."""
    if isinstance(conn, RawConnection):
        accepted = str(CommandStatus.ACCEPTED)
        values = {"ids": list(ids), "now": now, "accepted": accepted, "dispatched": DISPATCHED}
        return await conn.execute(_dispatched_any(), values)
    c = COMMANDS.c
    stmt = (
        update(COMMANDS)
        .where(c.id.in_(list(ids)), c.status == str(CommandStatus.ACCEPTED))
        .values(status=DISPATCHED, updated_at=now, dispatched_at=now)
    )
    return int((await conn.execute(stmt)).rowcount)


@cache
def _dispatched_any() -> Update:
    """``mark_dispatched``'s statement for PostgreSQL's bare driver (ids as one array)."""
    c = COMMANDS.c
    ids = c.id == any_(bindparam("ids", type_=postgresql.ARRAY(BigInteger)))
    now = bindparam("now", type_=UTCDateTime)
    return (
        update(COMMANDS)
        .where(ids, c.status == bindparam("accepted", type_=String))
        .values(status=bindparam("dispatched", type_=String), updated_at=now, dispatched_at=now)
    )


CLAIMABLE = frozenset({CommandStatus.ACCEPTED, CommandStatus.DISPATCHED, CommandStatus.APPLIED})
"""States an attempt may start from; RUNNING too, once its lease has lapsed (``claim``)."""


async def claim(
    conn: AsyncConnection,
    command: Row[Any],
    *,
    token: str,
    now: datetime,
    lease_until: datetime,
    attempts: int,
) -> bool:
    """Take ``command`` for one attempt under lease ``token``; True if this caller won it.

    A compare-and-set on what the caller read (status and ``attempts``): the row must still
    be claimable, or RUNNING under a lease that lapsed (its worker died) or has none (a row
    from before leases). Two workers racing for one command never both win.
    """
    c = COMMANDS.c
    lapsed = or_(c.lease_expires_at.is_(None), c.lease_expires_at <= now)
    stmt = (
        update(COMMANDS)
        .where(
            c.id == command.id,
            c.attempts == command.attempts,
            or_(
                c.status.in_([str(s) for s in CLAIMABLE]),
                and_(c.status == CommandStatus.RUNNING.value, lapsed),
            ),
        )
        .values(
            status=CommandStatus.RUNNING.value,
            updated_at=now,
            attempts=attempts,
            next_attempt_at=None,
            lease_token=token,
            lease_expires_at=lease_until,
        )
    )
    return bool((await conn.execute(stmt)).rowcount == 1)


async def renew_lease(
    conn: AsyncConnection, command_id: int, token: str, *, lease_until: datetime
) -> bool:
    """Extend a running attempt's lease; False when the lease is no longer this token's."""
    return await _while_held(conn, command_id, token, lease_expires_at=lease_until)


async def release_lease(
    conn: AsyncConnection, command_id: int, token: str, *, now: datetime
) -> bool:
    """End a RUNNING attempt's lease now (its job was cancelled): the next run may claim it."""
    return await _while_held(conn, command_id, token, lease_expires_at=now, updated_at=now)


async def _while_held(conn: AsyncConnection, command_id: int, token: str, **values: Any) -> bool:
    """Set ``values`` on a RUNNING command whose lease is ``token``'s; True if it was."""
    c = COMMANDS.c
    held = [c.id == command_id, c.status == CommandStatus.RUNNING.value, c.lease_token == token]
    result = await conn.execute(update(COMMANDS).where(*held).values(**values))
    return bool(result.rowcount == 1)


async def get(conn: AsyncConnection, command_id: int) -> Row[Any] | None:
    """The command ``command_id``, or ``None``."""
    return (await conn.execute(select(COMMANDS).where(COMMANDS.c.id == command_id))).first()


async def by_key(
    conn: AsyncConnection, idempotency_key: str, principal_id: str = SYSTEM_PRINCIPAL
) -> Row[Any] | None:
    """The command ``principal_id`` logged under ``idempotency_key``, or ``None``."""
    c = COMMANDS.c
    stmt = select(COMMANDS).where(
        c.principal_id == principal_id, c.idempotency_key == idempotency_key
    )
    return (await conn.execute(stmt)).first()


async def by_ids(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, Row[Any]]:
    """The commands among ``ids``, by id (one statement)."""
    if not ids:
        return {}
    rows = await conn.execute(select(COMMANDS).where(COMMANDS.c.id.in_(list(ids))))
    return {row.id: row for row in rows}


async def due_for_dispatch(conn: AsyncConnection, now: datetime, limit: int) -> list[int]:
    """Ids of ACCEPTED commands whose ``next_attempt_at`` is unset or past, oldest first.

    A command moved back to ACCEPTED with ``next_attempt_at`` in the future waits until then.
    (The executor's own retries stay DISPATCHED and are re-run by the queue; see
    ``lost_in_queue`` for jobs the queue lost.)
    """
    c = COMMANDS.c
    stmt = (
        select(c.id)
        .where(
            c.status == CommandStatus.ACCEPTED.value,
            or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now),
        )
        .order_by(c.id)
        .limit(limit)
    )
    return list((await conn.execute(stmt)).scalars())


async def lost_in_queue(conn: AsyncConnection, due_before: datetime, limit: int) -> list[int]:
    """Ids of queued commands whose job may be gone (a Redis restart, a flushed queue).

    DISPATCHED or APPLIED past its due time (``next_attempt_at``, else ``dispatched_at``) by
    the grace the caller chose. Queueing them again is safe: arq ignores a job id it still
    holds, and the job re-claims such rows.
    """
    c = COMMANDS.c
    due = func.coalesce(c.next_attempt_at, c.dispatched_at, c.updated_at)
    waiting = [CommandStatus.DISPATCHED.value, CommandStatus.APPLIED.value]
    stmt = select(c.id).where(c.status.in_(waiting), due <= due_before).order_by(c.id).limit(limit)
    return list((await conn.execute(stmt)).scalars())


async def lapsed_leases(conn: AsyncConnection, now: datetime, limit: int) -> list[int]:
    """Ids of RUNNING commands whose lease lapsed: their worker died (or lost the database).

    A row RUNNING without a lease predates leases; it counts as lapsed too.
    """
    c = COMMANDS.c
    lapsed = or_(c.lease_expires_at.is_(None), c.lease_expires_at <= now)
    stmt = (
        select(c.id)
        .where(c.status == CommandStatus.RUNNING.value, lapsed)
        .order_by(c.id)
        .limit(limit)
    )
    return list((await conn.execute(stmt)).scalars())


@dataclass(frozen=True)
class CommandQuery:
    """A filter of the command list: each given tuple allows any of its values."""

    statuses: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None
    systems: tuple[str, ...] | None = None
    principal_id: str | None = None
    """Only this caller's commands (every caller's but an operator's list is narrowed so)."""

    def conditions(self) -> list[ColumnElement[bool]]:
        c = COMMANDS.c
        pairs = ((c.status, self.statuses), (c.kind, self.kinds), (c.target_system, self.systems))
        out: list[ColumnElement[bool]] = [
            column.in_(list(allowed)) for column, allowed in pairs if allowed is not None
        ]
        if self.principal_id is not None:
            out.append(c.principal_id == self.principal_id)
        return out


async def page(
    conn: AsyncConnection, query: CommandQuery, before_id: int | None, first: int
) -> tuple[list[Row[Any]], bool]:
    """Up to ``first`` commands, newest first, older than ``before_id``; and whether more follow."""
    conditions = query.conditions()
    if before_id is not None:
        conditions.append(COMMANDS.c.id < before_id)
    stmt = select(COMMANDS).where(*conditions).order_by(COMMANDS.c.id.desc()).limit(first + 1)
    rows = list(await conn.execute(stmt))
    return rows[:first], len(rows) > first


async def count(conn: AsyncConnection, query: CommandQuery) -> int:
    """How many commands match ``query``."""
    stmt = select(func.count()).select_from(COMMANDS).where(*query.conditions())
    return int((await conn.execute(stmt)).scalar_one())
