"""The root ``Subscription``: follow a command to its end (graphql-transport-ws).

``commandUpdated`` polls the command's row rather than listening to an in-process event: the
executor runs in another process (the arq worker) and the client may be connected to any
gateway, and the row is the one place every process sees. Polling costs one primary-key read
per subscriber every ``POLL_SECONDS``; a change that is undone within one poll is not seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from readmodel import command_log
from readmodel.command_log import FINAL_STATUSES
from resolvers.commands import queries as command_resolvers
from resolvers.commands.queries import command_key
from resolvers.context import context_of
from resolvers.errors import NotFound
from schema.commands.types import Command

POLL_SECONDS = 0.1


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The command now, then again on every change of it, until it is final."
    )
    async def command_updated(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> AsyncGenerator[Command, None]:
        ctx = context_of(info)
        key = command_key(id)
        seen: Any = None
        while True:
            async with ctx.engine.connect() as conn:
                row = await command_log.get(conn, key)
            if row is None or not command_resolvers.visible(ctx, row):
                raise NotFound(f"no command {id}", argument="id")
            if (row.status, row.updated_at, row.attempts) != seen:
                seen = (row.status, row.updated_at, row.attempts)
                yield Command.from_row(row)
            if row.status in FINAL_STATUSES:
                return
            await asyncio.sleep(POLL_SECONDS)
