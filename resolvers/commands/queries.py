"""Reading the command log: one command by id, a filtered page, and each command's target.

Commands are listed newest first (keyset on the id). A command's ``target`` is the record it
writes, as the read model holds it (its version and sync time), loaded for a whole page in one
statement per entity table.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import command_log
from readmodel.command_log import COMMANDS, CommandQuery
from resolvers.commands.ownership import ENTITY_TABLES
from resolvers.commands.validation import Checker
from resolvers.connections import RowPage, request_page
from resolvers.context import Context
from resolvers.errors import BadUserInput, NotFound
from resolvers.pagination import encode_cursor

ORDERING = "command:newest"
TargetKey = tuple[str, str, str]  # (entity, system, source id)


def command_key(global_id: str, *, argument: str = "id") -> int:
    """The key of a ``Command`` global id, or ``BAD_USER_INPUT``."""
    check = Checker()
    key = check.key(argument, global_id, "Command")
    if key is None:
        raise BadUserInput(f"{argument}: {check.problems[0].message}", argument=argument)
    return key


async def command(ctx: Context, global_id: str) -> Row[Any]:
    """The command with this global id, or ``NOT_FOUND`` (also for another caller's command:
    a caller sees its own commands, operators see all)."""
    key = command_key(global_id)
    async with ctx.engine.connect() as conn:
        row = await command_log.get(conn, key)
    if row is None or not visible(ctx, row):
        raise NotFound(f"no command {global_id}", argument="id")
    return row


def visible(ctx: Context, row: Row[Any]) -> bool:
    """Whether the caller may see this command."""
    return ctx.principal.sees_all_commands or row.principal_id == ctx.principal.id


def scoped(ctx: Context, query: CommandQuery) -> CommandQuery:
    """``query`` narrowed to the caller's own commands, unless it sees them all."""
    if ctx.principal.sees_all_commands:
        return query
    return replace(query, principal_id=ctx.principal.id)


@dataclass
class CommandPage(RowPage):
    """A page of commands; counted with the log's own query (commands have no tombstones)."""

    query: CommandQuery = field(default_factory=CommandQuery)

    async def total_count(self) -> int:
        async with self.ctx.engine.connect() as conn:
            return await command_log.count(conn, self.query)


async def commands(
    ctx: Context, first: int | None, after: str | None, query: CommandQuery
) -> RowPage:
    """Validate ``first`` / ``after`` and read one page of the caller's commands, newest first."""
    query = scoped(ctx, query)
    request = request_page(ctx, first, after, ORDERING)
    before = None if request.after is None else id_of_cursor(request.after)
    async with ctx.engine.connect() as conn:
        rows, has_next = await command_log.page(conn, query, before, request.first)
    cursors = [encode_cursor(ORDERING, (r.id,)) for r in rows]
    conditions = query.conditions()
    return CommandPage(
        rows, cursors, has_next, before is not None, COMMANDS, conditions, ctx, query
    )


def id_of_cursor(key: tuple[Any, ...]) -> int:
    if len(key) != 1 or type(key[0]) is not int or not 0 < key[0] < 2**63:
        raise BadUserInput("after: not a valid cursor", argument="after")
    return int(key[0])


class TargetsByKey(DataLoader):  # type: ignore[misc]
    """(entity, system, source id) → the read-model row's lineage; one statement per entity."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self._engine = engine

    async def batch_load_fn(self, keys: Sequence[TargetKey]) -> list[Row[Any] | None]:
        wanted: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for entity, system, source_id in keys:
            if entity in ENTITY_TABLES:
                wanted[entity].add((system, source_id))
        found: dict[TargetKey, Any] = {}
        async with self._engine.connect() as conn:
            for entity, pairs in wanted.items():
                table = ENTITY_TABLES[entity]
                cols = (
                    table.c.source_system,
                    table.c.source_id,
                    table.c.source_version,
                    table.c.synced_at,
                )
                stmt = select(*cols).where(table.c.source_id.in_([s for _, s in pairs]))
                for row in await conn.execute(stmt):
                    found[(entity, row.source_system, row.source_id)] = row
        return [found.get(k) for k in keys]


_TARGET_LOADERS: weakref.WeakKeyDictionary[Any, TargetsByKey] = weakref.WeakKeyDictionary()


def targets(ctx: Context) -> TargetsByKey:
    """This request's target loader (kept beside its loaders, so it dies with the request).

    ``resolvers.dataloaders.Loaders`` is another team's file; once it grows a
    ``command_targets`` loader this indirection goes.
    """
    loader = _TARGET_LOADERS.get(ctx.loaders)
    if loader is None:
        loader = _TARGET_LOADERS[ctx.loaders] = TargetsByKey(ctx.engine)
    return loader
