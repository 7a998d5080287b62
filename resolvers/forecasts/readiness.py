"""``Opportunity.readiness``: the handoff's own readiness checks on open deals, batched.

The checks are the handoff's (``sync_jobs.handoff.readiness``), not a copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncConnection

from resolvers.context import Context
from sync_jobs.handoff import readiness

NO_INPUTS = "{}"  # an open deal has no handoff yet, so nobody has supplied data


async def _readiness(conn: AsyncConnection, keys: Sequence[int]) -> dict[int, Any]:
    facts = await readiness.gather_many(conn, dict.fromkeys(keys, NO_INPUTS))
    return {k: readiness.check(f, readiness.plan_of(f)) for k, f in facts.items()}


def readiness_loader(ctx: Context) -> DataLoader:
    """Deal id → ``readiness.Readiness`` (None for an id that names no deal)."""
    return ctx.loaders.keyed("readiness_by_opportunity", lambda: _readiness)
