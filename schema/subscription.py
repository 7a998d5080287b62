"""The root ``Subscription``: follow a command or a handoff to its end (graphql-transport-ws
and graphql-sse).

Each subscription polls its row rather than listening to an in-process event: the executor
runs in another process (the arq worker) and the client may be connected to any gateway, and
the row is the one place every process sees. Polling costs one primary-key read per subscriber
every ``POLL_SECONDS``; a change that is undone within one poll is not seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry

from readmodel import command_log
from readmodel.command_log import FINAL_STATUSES
from readmodel.tables import HandoffStatus as HandoffState
from resolvers.commands import queries as command_resolvers
from resolvers.commands.queries import command_key
from resolvers.context import context_of
from resolvers.errors import NotFound
from resolvers.handoffs import queries as handoff_resolvers
from resolvers.handoffs.loaders import forget
from schema.commands.types import Command
from schema.handoffs.types import Handoff

POLL_SECONDS = 0.1
HANDOFF_POLL_SECONDS = 0.5  # a handoff's steps take seconds (each is a command to a system)
HANDOFF_FINAL = frozenset({HandoffState.COMPLETED, HandoffState.CANCELLED})
"""Where a handoff's subscription ends: a FAILED or HALTED handoff can still be resumed."""


@strawberry.type(description="Follow a command or a handoff as it changes.")
class Subscription:
    @strawberry.subscription(
        description="The command now, then again on every change of it, until it is final."
    )
    async def command_updated(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The command's id.")],
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

    @strawberry.subscription(
        description="The handoff now, then again on every change of its status, readiness or "
        "steps, until it is COMPLETED or CANCELLED (FAILED and HALTED wait for an operator)."
    )
    async def handoff_updated(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The handoff's id.")],
    ) -> AsyncGenerator[Handoff, None]:
        ctx = context_of(info)
        key = handoff_resolvers.handoff_key(id)
        seen: Any = None
        while True:
            row = await handoff_resolvers.current(ctx, key)
            if row is None:
                raise NotFound(f"no handoff {id}", argument="id")
            if (row.status, row.readiness_score, row.updated_at) != seen:
                seen = (row.status, row.readiness_score, row.updated_at)
                forget(ctx)  # its steps and project as they are now
                yield Handoff.from_row(row)
            if row.status in HANDOFF_FINAL:
                return
            await asyncio.sleep(HANDOFF_POLL_SECONDS)
