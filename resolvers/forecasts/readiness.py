"""``Opportunity.readiness``: the handoff's own readiness checks on open deals, batched.

The loader hangs off the request's ``Context`` (made on first use, renewed with the
request's loaders), as the handoff loaders do: ``resolvers.dataloaders`` is shared by every
domain. The checks are the handoff's (``sync_jobs.handoff.readiness``), not a copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.context import Context
from sync_jobs.handoff import readiness

ATTRIBUTE = "readiness_loader"
NO_INPUTS = "{}"  # an open deal has no handoff yet, so nobody has supplied data


class ReadinessByOpportunityLoader(DataLoader):  # type: ignore[misc]
    """Deal id → ``readiness.Readiness`` (``None`` for an id that names no deal)."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self._engine = engine

    async def batch_load_fn(self, keys: Sequence[int]) -> list[Any]:
        async with self._engine.connect() as conn:
            facts = await readiness.gather_many(conn, dict.fromkeys(keys, NO_INPUTS))
        return [
            None if k not in facts else readiness.check(facts[k], readiness.plan_of(facts[k]))
            for k in keys
        ]


def readiness_loader(ctx: Context) -> ReadinessByOpportunityLoader:
    """This request's loader (a WebSocket operation gets a new one with its new loaders)."""
    cached = getattr(ctx, ATTRIBUTE, None)
    if cached is None or cached[0] is not ctx.loaders:
        cached = (ctx.loaders, ReadinessByOpportunityLoader(ctx.engine))
        setattr(ctx, ATTRIBUTE, cached)
    loader: ReadinessByOpportunityLoader = cached[1]
    return loader
