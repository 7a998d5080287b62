"""Accepting a command: its row, its audit entry and what the answer reads along, in one statement.

On PostgreSQL a new command costs one statement and one round trip, its own transaction
(autocommit; on the gateway's bare connections, readmodel/raw_reads.py, when it has them)::

    WITH cg_c AS (INSERT INTO command (…) VALUES (…)
                  ON CONFLICT (principal_id, idempotency_key) DO NOTHING RETURNING command.*),
         cg_a AS (INSERT INTO audit_entry (…) SELECT cg_c.created_at, … FROM cg_c)
    SELECT cg_c.id, …, <read along> FROM cg_c

The command and its audit entry commit together, and a key already logged (a replay, a
concurrent twin) writes neither and returns no row: then the winner is read (a second
statement) and the caller audits the replay itself. ``read_along`` is one more select-list item
of the same snapshot — the gateway's ``sync_state`` column, so the answer's
``extensions.freshness`` needs no statement of its own. SQLite has no data-modifying CTEs: there
the same steps are three statements in one transaction.

With a ``guard`` (the records the command names: readmodel/command_targets.py) the statement
also reads and checks them: the INSERT takes its row from ``cg_ok``, which holds one row only
when they pass, and the statement returns one row either way (the command's columns NULL when
nothing was inserted), with ``cg_passed`` and, when nothing was inserted, the rows it read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, String, TextualSelect, bindparam, column, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from readmodel.audit import Entry, Outcome, record_on
from readmodel.command_log import (
    COMMANDS,
    Accepted,
    IdempotencyKeyReused,
    NewCommand,
    by_key,
    insert_or_fetch,
    values_of,
)
from readmodel.command_targets import Guard, Rendered, render
from readmodel.db import autocommit
from readmodel.raw_reads import RawReads
from readmodel.reads.scope import EVERYTHING, RowScope

READ_ALONG = "cg_read_along"
"""The name of the read-along item's column in the statement's row."""


class TargetsRefused(Exception):
    """The records a guarded command names do not hold (``command_targets.Guard``): nothing
    was written; ``rows``: each target's rows as the statement read them (dicts of
    ``command_targets.READS``), for the caller's checks to say why."""

    def __init__(self, rows: list[list[dict[str, Any]]]) -> None:
        super().__init__("the command's targets do not hold")
        self.rows = rows


@dataclass(frozen=True)
class Audited:
    """The audit entry a new command is logged with: the rest (who, when, correlation) is the
    command's own, so the entry and the command always agree."""

    operation: str
    input_digest: str


async def accept(
    engine: AsyncEngine,
    new: NewCommand,
    *,
    now: datetime,
    audited: Audited | None = None,
    read_along: str | None = None,
    raw: RawReads | None = None,
    guard: Guard | None = None,
    scope: RowScope = EVERYTHING,
) -> Accepted:
    """Log ``new`` as ACCEPTED (with its audit entry, if ``audited``), or fetch the command
    already logged under its key; ``read_along``: an SQL expression read in the same snapshot
    (``Accepted.read_along``). With ``raw`` (PostgreSQL's bare connections: readmodel/
    raw_reads.py) the statement runs on the driver itself, the same text and values.

    ``guard`` (PostgreSQL only): the records ``new`` names, read in the same statement by a
    caller in ``scope``; ``new``'s payload and target may hold their values
    (``command_targets.Col``). Nothing is written unless they hold: else ``TargetsRefused``.

    Raises ``IdempotencyKeyReused`` when the key's command was logged with another input.
    """
    if engine.dialect.name == "postgresql":
        accepted = await _in_one_statement(engine, raw, new, now, audited, read_along, guard, scope)
    elif guard is not None:
        raise ValueError("a guarded command is logged on PostgreSQL only")
    else:
        async with engine.begin() as conn:  # SQLite: the same steps, one transaction
            accepted = await _in_steps(conn, new, now, audited, read_along)
    if not accepted.created and accepted.row.input_hash != new.input_hash:
        raise IdempotencyKeyReused(accepted.row)
    return accepted


async def _in_one_statement(
    engine: AsyncEngine,
    raw: RawReads | None,
    new: NewCommand,
    now: datetime,
    audited: Audited | None,
    read_along: str | None,
    guard: Guard | None = None,
    scope: RowScope = EVERYTHING,
) -> Accepted:
    if guard is None:
        params = values_of(new, now)
        statement = _statement(tuple(params), audited is not None, read_along)
    else:
        params = values_of(replace(new, payload={}, target_source_id=None), now)
        del params["payload"], params["target_source_id"]
        rendered, values = render(guard, new.payload, new.target_source_id, scope)
        statement = _guarded(tuple(params), audited is not None, read_along, rendered)
        params.update(values)
    if audited is not None:
        params["cg_operation"] = audited.operation
        params["cg_digest"] = audited.input_digest
    row: Any  # a Row, or a RawRow off the bare driver: read alike
    if raw is not None:
        async with raw.connect() as bare:  # each statement its own transaction
            row = await bare.first(statement, params)
    else:
        async with autocommit(engine) as conn:  # the statement is the transaction
            row = (await conn.execute(statement, params)).first()
    if guard is not None:
        if row.id is not None:
            along = getattr(row, READ_ALONG) if read_along else None
            return Accepted(row, created=True, audited=audited is not None, read_along=along)
        if not row.cg_passed:
            rows = [getattr(row, f"cg_rows{n}") for n in range(len(guard.targets))]
            raise TargetsRefused([json.loads(found) if found else [] for found in rows])
    elif row is not None:
        along = getattr(row, READ_ALONG) if read_along else None
        return Accepted(row, created=True, audited=audited is not None, read_along=along)
    async with autocommit(engine) as conn:  # the key was taken (a replay, a concurrent twin)
        winner = await by_key(conn, new.idempotency_key, new.principal_id)
        if winner is None:  # pragma: no cover - the key's row exists by construction
            raise RuntimeError(f"command with key {new.idempotency_key!r} vanished")
        return Accepted(winner, created=False, read_along=await _read(conn, read_along))


async def _in_steps(
    conn: AsyncConnection,
    new: NewCommand,
    now: datetime,
    audited: Audited | None,
    read_along: str | None,
) -> Accepted:
    accepted = await insert_or_fetch(conn, new, now=now)
    wrote = accepted.created and audited is not None
    if wrote:
        assert audited is not None
        row = accepted.row
        entry = Entry(
            at=row.created_at,
            actor_id=row.principal_id,
            actor_role=row.principal_role,
            credential_id=row.credential_id,
            operation=audited.operation,
            input_digest=audited.input_digest,
            command_id=row.id,
            outcome=Outcome.ACCEPTED,
            correlation_id=row.correlation_id,
        )
        await record_on(conn, entry)
    along = await _read(conn, read_along)
    return Accepted(accepted.row, accepted.created, audited=wrote, read_along=along)


async def _read(conn: AsyncConnection, read_along: str | None) -> Any:
    if not read_along:
        return None
    return (await conn.execute(text(f"SELECT {read_along}"))).scalar()


AUDITED = (
    "at", "actor_id", "actor_role", "credential_id", "operation", "input_digest",
    "command_id", "outcome", "correlation_id",
)  # fmt: skip


_AUDIT = (
    f", cg_a AS (INSERT INTO audit_entry ({', '.join(AUDITED)}) "
    "SELECT cg_c.created_at, cg_c.principal_id, cg_c.principal_role, "
    "cg_c.credential_id, CAST(:cg_operation AS VARCHAR), CAST(:cg_digest AS VARCHAR), "
    f"cg_c.id, '{Outcome.ACCEPTED}', cg_c.correlation_id FROM cg_c)"
)
"""The audit entry's CTE: written from the inserted command's row (none: no entry)."""


@lru_cache(maxsize=8)
def _statement(names: tuple[str, ...], audited: bool, read_along: str | None) -> TextualSelect:
    """The PostgreSQL statement inserting columns ``names`` (built once per shape: its text
    is prepared once per connection). Its row: the command's columns in the model's order,
    then ``read_along`` as ``cg_read_along``."""
    sql = (
        f"WITH cg_c AS (INSERT INTO command ({', '.join(names)}) "
        f"VALUES ({', '.join(':' + n for n in names)}) "
        "ON CONFLICT (principal_id, idempotency_key) DO NOTHING RETURNING command.*)"
    )
    return _selecting(sql, names, audited, read_along, "cg_c")


@lru_cache(maxsize=256)
def _guarded(
    names: tuple[str, ...], audited: bool, read_along: str | None, guard: Rendered
) -> TextualSelect:
    """``_statement`` with the guard's CTEs: the command is inserted from ``cg_ok``, so only
    when the targets hold, and the row comes back either way (the command's columns NULL
    when nothing was inserted), with the guard's items."""
    casts = ", ".join(f"CAST(:{n} AS {_sql_type(n)})" for n in names)
    sql = (
        f"WITH {guard.ctes}, cg_c AS (INSERT INTO command "
        f"({', '.join(names)}, payload, target_source_id) "
        f"SELECT {casts}, {guard.payload}, {guard.target_source_id} FROM cg_ok "
        "ON CONFLICT (principal_id, idempotency_key) DO NOTHING RETURNING command.*)"
    )
    source = "(SELECT 1) AS cg_one LEFT JOIN cg_c ON true"
    return _selecting(sql, names, audited, read_along, source, guard)


def _selecting(
    sql: str,
    names: tuple[str, ...],
    audited: bool,
    read_along: str | None,
    source: str,
    guard: Rendered | None = None,
) -> TextualSelect:
    """``sql`` (the command's CTEs) with the audit entry's, selecting from ``source`` the
    command's columns, the read-along item and the guard's items, all typed."""
    if audited:
        sql += _AUDIT
    selected = [f"cg_c.{c.name}" for c in COMMANDS.c]
    typed = [column(c.name, c.type) for c in COMMANDS.c]
    if read_along:
        selected.append(f"{read_along} AS {READ_ALONG}")
        typed.append(column(READ_ALONG, String))
    binds = [bindparam(n, type_=COMMANDS.c[n].type) for n in names]
    if guard is not None:
        selected.extend(guard.items)
        typed.extend(column(f"cg_rows{n}", String) for n in range(len(guard.items) - 1))
        typed.append(column("cg_passed", Integer))
        binds.extend(bindparam(n, type_=t) for n, t in guard.binds)
    statement = text(f"{sql} SELECT {', '.join(selected)} FROM {source}").bindparams(*binds)
    return statement.columns(*typed)


@lru_cache(maxsize=32)
def _sql_type(name: str) -> str:
    """The column's type without its length: a value too long is refused as the INSERT's
    ``VALUES`` refuses it, where ``CAST(… AS VARCHAR(48))`` would cut it silently."""
    compiled = str(COMMANDS.c[name].type.compile(dialect=postgresql.dialect()))
    return re.sub(r"^(VARCHAR|CHAR)\(\d+\)$", r"\1", compiled)
