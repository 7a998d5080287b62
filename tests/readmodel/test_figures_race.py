"""A writer of figures' inputs that takes no lock (an operator's SQL) racing a refresh of the
same account (PostgreSQL, READ COMMITTED; migration 0020): the stored figures never stay
behind the change marked current.

Verified: without migration 0020's triggers the refresh's row survives the operator's change
(the change's trigger, blocked on the row the refresh deleted, never sees the row it inserted),
and the compiled path answers from it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.figures.stored import lock_figures, refresh, refresh_stale
from readmodel.seed import SeedConfig, seed_firm
from tests.conftest import migrated_engine
from tests.readmodel.test_stored_figures import DAY, FIGURES, both

pytestmark = pytest.mark.postgres
WAIT = 10.0


@pytest.fixture
async def pg(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with migrated_engine("postgresql", tmp_path) as engine:
        yield engine


async def stored(engine: AsyncEngine, account: int) -> int:
    async with engine.connect() as conn:
        found = text("SELECT count(*) FROM account_figures WHERE account_id = :a")
        return int((await conn.execute(found, {"a": account})).scalar_one())


async def waiting_for_a_lock(engine: AsyncEngine) -> None:
    """Until a session of this database waits for a lock (the operator's statement)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM time_entry%'"
    )
    while True:
        async with engine.connect() as conn:
            if (await conn.execute(waiting)).scalar_one():
                return
        await asyncio.sleep(0.02)


async def test_a_change_racing_a_refresh_never_leaves_its_figures_current(
    pg: AsyncEngine,
) -> None:
    await seed_firm(pg, SeedConfig(accounts=4, seed=7, today=DAY), progress=False)
    async with pg.connect() as conn:
        entry = (
            await conn.execute(
                text(
                    "SELECT t.id, p.account_id FROM time_entry t JOIN project p "
                    "ON p.id = t.project_id WHERE t.deleted_at IS NULL ORDER BY t.id LIMIT 1"
                )
            )
        ).one()
    assert await stored(pg, entry.account_id) == 1

    async with pg.connect() as refreshing:
        await refreshing.begin()
        await lock_figures(refreshing)
        await refresh(refreshing, [entry.account_id], DAY)  # the row deleted and inserted

        async def operator() -> None:  # plain SQL, autocommit, no lock of its own
            async with pg.begin() as conn:
                # one row trigger, one delete of the account's figures row (an UPDATE runs
                # two, for the old row and the new: the second would start after the refresh)
                await conn.execute(text("DELETE FROM time_entry WHERE id = :e"), {"e": entry.id})

        edit = asyncio.ensure_future(operator())
        await asyncio.wait_for(waiting_for_a_lock(pg), WAIT)  # its statement waits
        assert not edit.done()
        await refreshing.commit()  # figures computed without the operator's change
        await asyncio.wait_for(edit, WAIT)

    assert await stored(pg, entry.account_id) == 0  # its change made the account stale
    _, stale = await both(pg, DAY, FIGURES)  # both paths alike: the change is in the answer
    assert stale.statements > 1
    async with pg.begin() as conn:
        assert await refresh_stale(conn, DAY) == 1
    _, refreshed = await both(pg, DAY, FIGURES)
    assert refreshed.statements == 1 and refreshed.body[0] == stale.body[0]


async def test_truncating_an_input_makes_every_account_stale(pg: AsyncEngine) -> None:
    await seed_firm(pg, SeedConfig(accounts=3, seed=7, today=DAY), progress=False)
    async with pg.begin() as conn:
        await conn.execute(text("TRUNCATE payment"))
    async with pg.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM account_figures"))).scalar() == 0
    await both(pg, DAY, FIGURES)
