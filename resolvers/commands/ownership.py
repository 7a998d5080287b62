"""Which system owns each entity, and the read-model records a mutation targets.

The map comes from ``settings.writes.ownership`` (default: ``clientgraph.settings.
DEFAULT_OWNERSHIP``). A write is routed to the entity's owner and must name records by their
id *in that system*: a record the read model holds from another system (say a project synced
from Tryton while NetSuite owns projects) cannot be written there, hence ``NOT_OWNED``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Select, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from clientgraph.settings import WritesSettings
from readmodel.command_targets import ENTITY_TABLES
from readmodel.raw_reads import RawConnection, Reading
from readmodel.reads.scope import EVERYTHING, RowScope
from resolvers.commands.errors import CommandRefused, RefusalCode
from resolvers.context import Context


def writes_of(ctx: Context) -> WritesSettings:
    """The write path's settings, from the app's (defaults outside an app, e.g. scripts)."""
    settings = getattr(getattr(getattr(ctx.request, "app", None), "state", None), "settings", None)
    return settings.writes if settings is not None else WritesSettings()


def ownership_of(ctx: Context) -> Mapping[str, str]:
    """The configured map, from the app's settings."""
    return writes_of(ctx).ownership


def owner_of(ownership: Mapping[str, str], entity: str) -> str:
    """The system that owns ``entity``; ``NO_OWNER`` when none is configured."""
    owner = ownership.get(entity)
    if not owner:
        raise CommandRefused(
            RefusalCode.NO_OWNER, f"no system is configured to own {entity} records"
        )
    return owner


async def live_records(
    conn: Reading, entity: str, keys: Sequence[int], scope: RowScope = EVERYTHING
) -> dict[int, Any]:
    """The live (not soft-deleted) rows of ``entity`` among ``keys`` that the caller's
    ``scope`` holds, by id; one statement. A row outside the scope is as absent as a missing
    one (NOT_FOUND), so a write cannot probe for other clients' records.

    On a bare connection (readmodel/raw_reads.py) the rows are read by the driver itself,
    with the keys as one array (``= ANY``), for a caller without row rules only: the engine
    compiles the rules with each caller's values (resolvers/commands/accept.py gives such a
    caller's checks the engine's connection).
    """
    where = scope.conditions(ENTITY_TABLES[entity])
    if isinstance(conn, RawConnection):
        if where:
            raise TypeError("a scope with row rules is read on the engine's connection")
        return {row.id: row for row in await conn.all(_live_any(entity), {"keys": keys})}
    stmt = _live(entity).where(*where) if where else _live(entity)  # most writes: kept as is
    return {row.id: row for row in await conn.execute(stmt, {"keys": list(keys)})}


@cache
def _live(entity: str) -> Select[Any]:
    """The live rows of ``entity`` among the ``keys`` parameter, a statement made once per
    entity (not built and keyed again for every write)."""
    table = ENTITY_TABLES[entity]
    keys = table.c.id.in_(bindparam("keys", expanding=True))
    return select(table).where(keys, table.c.deleted_at.is_(None))


@cache
def _live_any(entity: str) -> Select[Any]:
    """``_live`` for PostgreSQL's bare driver: the keys as one array parameter (``= ANY``),
    so the statement's text is the same for any number of keys (and prepared once)."""
    table = ENTITY_TABLES[entity]
    keys = table.c.id == any_(bindparam("keys", type_=ARRAY(BigInteger)))
    return select(table).where(keys, table.c.deleted_at.is_(None))


def check_owned(row: Any, entity: str, owner: str, field: str) -> None:
    """Refuse a record the read model holds from a system other than ``owner``."""
    if row.source_system != owner:
        raise CommandRefused(
            RefusalCode.NOT_OWNED,
            f"{field}: this {entity} lives in {row.source_system}, but {owner} owns "
            f"{entity} records",
        )
