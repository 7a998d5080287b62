# ruff: noqa: F811 - `sources` is the simulators' fixture, imported, and each test's argument
"""Wins observed by sync: a deal turning won is a change; a deal found won is history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from readmodel.tables import Opportunity, SyncState, WinObservation, table_of
from readmodel.types import utcnow
from sync_jobs.pull import pull_object
from sync_jobs.refresh import refresh_records
from tests.sync_jobs.commands.conftest import Sources, sources  # noqa: F401 - the fixture

OPPORTUNITY, OBSERVED, STATE = table_of(Opportunity), table_of(WinObservation), table_of(SyncState)


def open_deal(sources: Sources, n: int = 0) -> dict[str, Any]:
    return [o for o in sources.rows["opportunity"] if not o["is_closed"]][n]


def win_at_the_source(sources: Sources, deal: dict[str, Any]) -> None:
    changes = {"StageName": "Closed Won", "IsWon": True, "IsClosed": True}
    sources.sf.touch("Opportunity", deal["source_id"], changes, utcnow())


async def observed(sources: Sources) -> set[str]:
    """Source ids of the deals with an observed win."""
    o = OPPORTUNITY.c
    stmt = select(o.source_id).join(OBSERVED, OBSERVED.c.opportunity_id == o.id)
    async with sources.engine.connect() as conn:
        return set((await conn.execute(stmt)).scalars())


async def reread(sources: Sources, deal: dict[str, Any]) -> None:
    """A webhook's hint: the deal is fetched and applied now."""
    salesforce = sources.deps.source("salesforce")
    await refresh_records(sources.engine, salesforce, "opportunity", [deal["source_id"]])


async def forget(sources: Sources, deal: dict[str, Any], *, checkpoint: bool) -> None:
    """The read model as if it had never seen ``deal`` (and, maybe, no opportunity pull)."""
    async with sources.engine.begin() as conn:
        await conn.execute(delete(OPPORTUNITY).where(OPPORTUNITY.c.source_id == deal["source_id"]))
        if not checkpoint:
            where = (STATE.c.system == "salesforce", STATE.c.object_type == "opportunity")
            await conn.execute(update(STATE).where(*where).values(checkpoint=None))


async def test_the_backfill_observes_no_win(sources: Sources) -> None:
    assert any(o["is_won"] for o in sources.rows["opportunity"])
    assert await observed(sources) == set()


async def test_a_pull_that_turns_a_deal_won_observes_it_once(sources: Sources) -> None:
    deal = open_deal(sources)
    win_at_the_source(sources, deal)
    salesforce = sources.deps.source("salesforce")

    await pull_object(sources.engine, salesforce, "opportunity")
    await reread(sources, deal)  # the same win again: the first observation stays

    assert await observed(sources) == {deal["source_id"]}


async def test_a_won_deal_new_to_the_read_model_is_history_until_the_first_pull(
    sources: Sources,
) -> None:
    early, late = open_deal(sources, 0), open_deal(sources, 1)
    win_at_the_source(sources, early)

    await forget(sources, early, checkpoint=False)  # a hint racing the first pull
    await reread(sources, early)
    await pull_object(sources.engine, sources.deps.source("salesforce"), "opportunity")
    assert await observed(sources) == set()  # the re-read, then the backfill: history

    win_at_the_source(sources, late)
    await forget(sources, late, checkpoint=True)  # made and won between two pulls
    await reread(sources, late)
    assert await observed(sources) == {late["source_id"]}
