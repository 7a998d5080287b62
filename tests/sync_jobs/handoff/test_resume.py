"""Exactly once, whatever happens: a win seen five times at once makes one handoff and one
project; a worker dying between steps leaves a handoff the next sweep resumes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import func, select, text

from readmodel import command_log
from readmodel.types import utcnow
from sync_jobs.commands import execute
from sync_jobs.commands.lease import Lease
from sync_jobs.context import DEPS_KEY
from sync_jobs.handoff import state
from sync_jobs.handoff.orchestrator import advance
from sync_jobs.handoff.triggers import advance_handoffs
from sync_jobs.pull import pull_object
from sync_jobs.source_state import mark_pulled
from tests.sync_jobs.handoff.conftest import (
    Sources,
    drive,
    handoff,
    handoff_of,
    open_deal,
    pending_command,
    resume,
    win,
)

READY = {"billing_method": "time_and_materials", "start_date": "2026-07-06"}


async def _won_in_the_crm(sources: Sources, deal: dict[str, Any]) -> None:
    """A salesperson closes the deal in Salesforce; a pull brings the change in."""
    now = utcnow()
    changes = {"StageName": "Closed Won", "IsWon": True, "IsClosed": True}
    changes["CloseDate"] = now.date().isoformat()
    sources.sf.touch("Opportunity", deal["source_id"], changes, now)
    report = await pull_object(sources.engine, sources.deps.source("salesforce"), "opportunity")
    assert report.error is None
    await pull_projects(sources)  # NetSuite has looked for the deal's project since


async def pull_projects(sources: Sources) -> None:
    """The pull of NetSuite's projects that lets the sweep hand off a win seen before it."""
    netsuite = sources.deps.source("netsuite")
    assert (await pull_object(sources.engine, netsuite, "job")).error is None
    await mark_pulled(sources.engine, "netsuite", "job", utcnow())


async def _count(sources: Sources, stmt: Any) -> int:
    async with sources.engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


async def test_a_win_seen_five_times_at_once_makes_one_project(sources: Sources) -> None:
    deal = open_deal(sources)
    await _won_in_the_crm(sources, deal)
    ctx = {DEPS_KEY: sources.deps}
    jobs_before = len(sources.ns.records["job"])

    sweeps = await asyncio.gather(*(advance_handoffs(ctx) for _ in range(5)))  # at once
    assert sum(sweep["opened"] for sweep in sweeps) == 1  # each counts what it made
    handoff_id = await handoff_of(sources, deal["source_id"])
    assert (await handoff(sources, handoff_id))["status"] == "WAITING_FOR_DATA"
    await resume(sources, handoff_id, READY)
    await asyncio.gather(*(advance(sources.engine, handoff_id, utcnow()) for _ in range(5)))

    assert await drive(sources, handoff_id) == "COMPLETED"
    assert await _count(sources, select(func.count()).select_from(state.HANDOFFS)) == 1
    c = command_log.COMMANDS.c
    made = select(func.count()).where(c.kind == "create_project")
    assert await _count(sources, made) == 1
    assert len(sources.ns.records["job"]) == jobs_before + 1
    assert (await handoff(sources, handoff_id))["trigger"] == "sync"


async def test_a_crash_between_steps_resumes_where_it_stopped(sources: Sources) -> None:
    deal = open_deal(sources)
    handoff_id = await win(sources, deal, READY)
    command_id = await pending_command(sources, handoff_id)
    assert command_id is not None

    # the worker applies ensure_customer and commits SUCCEEDED, then dies before the hook
    row = await execute.load_command(sources.engine, command_id)
    lease = Lease(sources.engine, command_id, seconds=30)
    assert row is not None and await execute._claim(sources.deps, row, lease, 1)
    report = await execute._attempt(sources.deps, row, lease, 1)  # write, read back, SUCCEEDED
    assert report["status"] == "SUCCEEDED"
    stuck = await handoff(sources, handoff_id)
    assert [s["status"] for s in stuck["steps"][:2]] == ["RUNNING", "PENDING"]

    report = await advance_handoffs({DEPS_KEY: sources.deps})  # the sweep after a pull

    assert report["advanced"] == 1
    resumed = await handoff(sources, handoff_id)
    assert [s["status"] for s in resumed["steps"][:2]] == ["SUCCEEDED", "RUNNING"]
    assert await drive(sources, handoff_id) == "COMPLETED"
    assert (await handoff(sources, handoff_id))["manual_intervention"] is False


async def test_data_arriving_by_sync_resumes_a_waiting_handoff(sources: Sources) -> None:
    deal = open_deal(sources)
    await _won_in_the_crm(sources, deal)
    ctx = {DEPS_KEY: sources.deps}
    await advance_handoffs(ctx)
    handoff_id = await handoff_of(sources, deal["source_id"])
    assert (await handoff(sources, handoff_id))["status"] == "WAITING_FOR_DATA"

    # Finance signs the statement of work in NetSuite; the next pull brings it in
    customer = next(
        x for x in sources.rows["account_xref"] if x["account_id"] == deal["account_id"]
    )
    signed = sources.ns.create(
        "customrecord_cg_engagement",
        {
            "name": f"SOW {deal['name']}",
            "custrecord_cg_customer": {"id": customer["source_id"]},
            "custrecord_cg_opportunity": deal["source_id"],
            "custrecord_cg_billing_method": "retainer",
            "custrecord_cg_sold_value": "120000.00",
            "custrecord_cg_currency": {"id": "1" if deal["currency"] == "USD" else "4"},
            "custrecord_cg_start_date": "2026-08-03",
            "custrecord_cg_end_date": None,
            "custrecord_cg_signed_at": None,
            "custrecord_cg_status": "signed",
        },
    )
    netsuite = sources.deps.source("netsuite")
    assert (await pull_object(sources.engine, netsuite, "engagement")).error is None
    await advance_handoffs(ctx)

    assert await drive(sources, handoff_id) == "COMPLETED"
    done = await handoff(sources, handoff_id)
    job = sources.ns.records["job"][done["project_source_id"]]
    assert (job["custentity_cg_billing_method"], job["custentity_cg_budget"]) == (
        "retainer",
        "120000.00",
    )
    assert str(job["startDate"]) == "2026-08-03"
    assert job["custentity_cg_engagement"] == {"id": signed["id"]}  # under it, not a new one


async def test_advancers_racing_to_create_the_project_log_one_command(sources: Sources) -> None:
    deal = open_deal(sources)
    handoff_id = await win(sources, deal, READY)
    customer_step = await pending_command(sources, handoff_id)
    assert customer_step is not None
    # ensure_customer SUCCEEDED, its hook not run yet: create_project is due for everyone
    row = await execute.load_command(sources.engine, customer_step)
    lease = Lease(sources.engine, customer_step, seconds=30)
    assert row is not None and await execute._claim(sources.deps, row, lease, 1)
    assert (await execute._attempt(sources.deps, row, lease, 1))["status"] == "SUCCEEDED"
    jobs_before = len(sources.ns.records["job"])

    racers = [advance(sources.engine, handoff_id, utcnow()) for _ in range(5)]
    racers.append(execute.on_command_succeeded({DEPS_KEY: sources.deps}, row))  # the hook
    await asyncio.gather(*racers)

    c = command_log.COMMANDS.c
    assert await _count(sources, select(func.count()).where(c.kind == "create_project")) == 1
    assert await drive(sources, handoff_id) == "COMPLETED"
    assert len(sources.ns.records["job"]) == jobs_before + 1


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite runs one writer at a time
async def test_an_advancer_waits_while_another_holds_the_handoff(sources: Sources) -> None:
    """PostgreSQL's row lock serialises advancers: one started while another logs the next
    step (here under a key of its own) waits, then finds the step taken, whatever its key."""
    deal = open_deal(sources)
    handoff_id = await win(sources, deal, READY)
    first_step = await pending_command(sources, handoff_id)
    assert first_step is not None
    await run_to_the_end_without_hook(sources, first_step)

    async with sources.engine.begin() as holder:
        assert await state.load(holder, handoff_id, lock=True) is not None
        waiting = asyncio.create_task(advance(sources.engine, handoff_id, utcnow()))
        await _until_it_waits_or_ends(sources, waiting)
        taken = await _log_the_project_step(holder, handoff_id)
    await waiting

    c = command_log.COMMANDS.c
    assert await _count(sources, select(func.count()).where(c.kind == "create_project")) == 1
    steps = (await handoff(sources, handoff_id))["steps"]
    assert steps[1]["command_id"] == taken


async def run_to_the_end_without_hook(sources: Sources, command_id: int) -> None:
    row = await execute.load_command(sources.engine, command_id)
    lease = Lease(sources.engine, command_id, seconds=30)
    assert row is not None and await execute._claim(sources.deps, row, lease, 1)
    assert (await execute._attempt(sources.deps, row, lease, 1))["status"] == "SUCCEEDED"


async def _until_it_waits_or_ends(
    sources: Sources, advancer: asyncio.Task[Any], deadline: float = 60.0
) -> None:
    """The advancer waits on a lock (or, with no lock to wait on, has finished)."""
    waits = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    loop = asyncio.get_running_loop()
    until = loop.time() + deadline
    while loop.time() < until:
        if advancer.done() or await _count(sources, waits) > 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no advancer waited on a lock within {deadline} s")


async def _log_the_project_step(conn: Any, handoff_id: int) -> int:
    """What a racing advancer does: step one settled, create_project logged and running."""
    now = utcnow()
    steps = await state.steps_of(conn, handoff_id)
    await state.set_step(conn, steps[0].id, status="SUCCEEDED", completed_at=now)
    new = command_log.NewCommand(
        kind="create_project",
        target_system="netsuite",
        target_object="project",
        target_source_id=None,
        idempotency_key=f"racer-{handoff_id}",
        input_hash="racer",
        payload={},
        correlation_id=f"handoff-{handoff_id}",
    )
    accepted = await command_log.insert_or_fetch(conn, new, now=now)
    await state.set_step(conn, steps[1].id, status="RUNNING", command_id=accepted.row.id)
    return int(accepted.row.id)


async def test_data_sent_with_a_win_sync_saw_first_joins_its_handoff_until_it_starts(
    sources: Sources,
) -> None:
    """Sync opened the handoff (no data: WAITING_FOR_DATA); the markOpportunityWon mutation
    then brings the data, which is merged into that handoff, not a second one. Data sent once
    the handoff has started changes nothing."""
    deal = open_deal(sources)
    await _won_in_the_crm(sources, deal)
    await advance_handoffs({DEPS_KEY: sources.deps})
    handoff_id = await handoff_of(sources, deal["source_id"])
    assert (await handoff(sources, handoff_id))["status"] == "WAITING_FOR_DATA"

    assert await win(sources, deal, READY) == handoff_id  # the mutation, data in hand
    merged = await handoff(sources, handoff_id)
    assert (json.loads(merged["inputs"]), merged["trigger"]) == (READY, "sync")
    assert merged["status"] == "IN_PROGRESS"
    assert await drive(sources, handoff_id) == "COMPLETED"

    await win(sources, deal, {"billing_method": "retainer"})  # too late: it has run
    assert json.loads((await handoff(sources, handoff_id))["inputs"]) == READY
    assert await _count(sources, select(func.count()).select_from(state.HANDOFFS)) == 1


async def test_data_is_not_merged_into_a_handoff_an_advancer_started_meanwhile(
    sources: Sources,
) -> None:
    """``merge_inputs``: data merged into an open handoff (and only that one, its
    ``updated_at`` moved); a row read while the handoff was open, after an advancer moved it
    to IN_PROGRESS, is refused by the statement's own status guard (the read alone would not
    refuse); a row read as started is refused at once. The sweep's ``in_flight`` lists both,
    oldest first, a batch at a time."""
    deal = open_deal(sources)
    handoff_id = await win(sources, deal, None)  # no data: WAITING_FOR_DATA
    other = open_deal(sources, account_id=_another_account(sources, deal))
    other_id = await win(sources, other, None)  # another open handoff
    async with sources.engine.connect() as conn:
        read, other_read = [await state.load(conn, i) for i in (handoff_id, other_id)]
    assert read is not None and read.status == "WAITING_FOR_DATA" and other_read is not None
    again = await state.open_handoff(
        sources.engine, read.opportunity_id, trigger="sync", won_at=None, inputs=None, now=utcnow()
    )
    assert again == (handoff_id, False)  # the deal's handoff, not made again
    supplied, moved = {"manager_name": "Ada Lovelace"}, utcnow()
    async with sources.engine.begin() as conn:
        assert await state.merge_inputs(conn, other_read, supplied, moved) is True
    async with sources.engine.begin() as conn:  # an advancer starts the first handoff
        await state.set_handoff(conn, handoff_id, utcnow(), status="IN_PROGRESS")
    async with sources.engine.begin() as conn:
        stale = await state.merge_inputs(conn, read, READY, utcnow())
        started = await state.load(conn, handoff_id)
        assert started is not None
        fresh = await state.merge_inputs(conn, started, READY, utcnow())
        first_batch = await state.in_flight(conn, 1)

    assert (stale, fresh) == (False, False)
    assert json.loads((await handoff(sources, handoff_id))["inputs"]) == {}
    merged = await handoff(sources, other_id)
    assert (json.loads(merged["inputs"]), merged["updated_at"]) == (supplied, moved)
    assert first_batch == [handoff_id]


def _another_account(sources: Sources, deal: dict[str, Any]) -> Any:
    """An account, other than ``deal``'s, with an open deal a handoff can start from."""
    return next(
        o["account_id"]
        for o in sources.rows["opportunity"]
        if not o["is_closed"] and o["service_line"] and o["account_id"] != deal["account_id"]
    )
