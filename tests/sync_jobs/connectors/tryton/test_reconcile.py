"""The scheduled ``reconcile_source`` job against a live Tryton: a party deleted in Tryton is
tombstoned; a live party missing from the id list is re-read and kept.

Tryton lists ids in one ``search_read``, so nothing there drops a live record by itself; the
list is made incomplete by a connector that leaves one id out (as a listing racing an edit
or a paging bug would). Reconciliation must believe the re-read, not the list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import metadata
from sync_jobs.connectors.base import Connector
from sync_jobs.connectors.tryton.client import TrytonClient
from sync_jobs.context import DEPS_KEY, SyncDeps
from sync_jobs.jobs import pull_source, reconcile_source
from tests.sync_jobs.connectors.tryton.test_writes import SYSTEM, deps, tryton

# Slow (a live Tryton): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

__all__ = ["deps", "tryton"]  # the fixtures, re-used (each test its own Tryton)


class ListingWithout:
    """The real connector, except that its id list of ``object_type`` omits ``omitted``."""

    def __init__(self, real: Connector, object_type: str, omitted: str) -> None:
        self.real, self.object_type, self.omitted = real, object_type, omitted

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    async def live_ids(self, object_type: str) -> dict[str, datetime]:
        found = await self.real.live_ids(object_type)
        if object_type == self.object_type:
            found.pop(self.omitted, None)
        return found


async def deleted_at(engine: AsyncEngine) -> dict[str, Any]:
    t = metadata.tables["account"]
    query = select(t.c.source_id, t.c.deleted_at).where(t.c.source_system == SYSTEM)
    async with engine.connect() as conn:
        return dict((await conn.execute(query)).all())


async def test_a_deleted_party_is_tombstoned_and_one_missing_from_the_list_is_kept(
    deps: SyncDeps, rpc: TrytonClient
) -> None:
    # Given two new clients, synced; one deleted in Tryton, the other left out of the list
    gone, kept = await rpc.create("party.party", [{"name": "Gone Client"}, {"name": "Kept"}])
    await pull_source({DEPS_KEY: deps}, SYSTEM)
    assert {str(gone), str(kept)} <= set(await deleted_at(deps.engine))
    await rpc.delete("party.party", [gone])
    deps.sources[SYSTEM] = ListingWithout(deps.sources[SYSTEM], "account", str(kept))

    # When
    reports = await reconcile_source({DEPS_KEY: deps}, SYSTEM)

    # Then
    state = await deleted_at(deps.engine)
    assert state[str(gone)] is not None
    assert state[str(kept)] is None, "a live party missing from the id list was tombstoned"
    (accounts,) = [r for r in reports if r.object_type == "account"]
    assert (accounts.tombstoned, accounts.repaired) == (1, 0)
