# ruff: noqa: F811 - `tryton` and `rpc` are fixtures, imported, and each test's argument
"""The handoff against a live Tryton, the account master and owner of deals and projects.

A deal is won over HTTP (``markOpportunityWon`` with the data Tryton lacks); the gateway's
in-process worker wins it in Tryton (its sale confirmed), opens the handoff, and runs every
step as a command through the Tryton writer: the party is the customer, a ``project.work``
is made for it with a task per milestone, staffing is recorded, and a note on the won deal
names the project. The graph then shows the handoff COMPLETED and the project under the
client; pulling and sweeping again, or replaying a step, makes nothing more.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import Settings
from readmodel.command_log import COMMANDS
from readmodel.types import utcnow
from resolvers.ids import to_global_id
from sync_jobs.connectors.tryton import deals
from sync_jobs.connectors.tryton.client import TrytonClient
from sync_jobs.context import DEPS_KEY, SyncDeps, close_deps, open_deps
from sync_jobs.handoff import state
from sync_jobs.handoff.triggers import advance_handoffs
from sync_jobs.jobs import pull_source
from tests.conftest import graphql, migrated_engine
from tests.e2e.test_tryton_mutation import (  # noqa: F401 - the fixtures
    pull_tryton,
    rpc,
    served,
    settings_for,
    tryton,
)
from tests.resolvers.commands.world import mutation
from tests.sync_jobs.commands.conftest import read_model_row
from tests.sync_jobs.connectors.tryton.conftest import LiveTryton
from tests.sync_jobs.connectors.tryton.test_writes import (
    TODAY,
    new_opportunity,
    pull_everything,
    rerun_after_a_crash,
    run_job,
    succeeded,
)

# Slow (a live Tryton): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

CLIENT_01 = 3  # the demo firm's first client party
WON = mutation("markOpportunityWon", "MarkOpportunityWonInput")
VIEW = """query($id: ID!) { opportunity(id: $id) {
  stage projects { name } handoff { status projectSourceId customerSourceId
                                    steps { name status } project { name engagement { id } } }
  account { projects {
    code name managerName billingMethod budget { amount currency } budgetHours
  } } } }"""
MILESTONES = [("Design signed off", 30, "19200.00"), ("Platform live", 90, "28800.00")]
PROJECT_FIELDS = ["name", "project_invoice_method", "list_price", "effort_duration", "comment"]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A SQLite read model is enough here: PostgreSQL is covered by the simulators' test."""
    async with migrated_engine("sqlite", tmp_path) as built:
        yield built


def fast(settings: Settings) -> Settings:
    """The relay queues each next step's command within 0.2 s instead of 5 s."""
    writes = settings.writes.model_copy(update={"relay_interval_seconds": 0.2})
    return settings.model_copy(update={"writes": writes})


def win_input(deal_gid: str) -> dict[str, Any]:
    milestones = [
        {
            "name": name,
            "dueDate": (TODAY + timedelta(days=days)).isoformat(),
            "amount": {"amount": amount, "currency": "USD"},
        }
        for name, days, amount in MILESTONES
    ]
    handoff = {
        "serviceLine": "Data & Analytics",
        "billingMethod": "MILESTONE",
        "startDate": TODAY.isoformat(),
        "milestones": milestones,
        "managerName": "Grace Hopper",
    }
    return {"opportunityId": deal_gid, "idempotencyKey": "tryton-handoff-1", "handoff": handoff}


async def until_completed(client: httpx.AsyncClient, deal_gid: str) -> dict[str, Any]:
    """The opportunity's view once its handoff stops moving (60 s at most)."""
    for _ in range(300):
        view = (await graphql(client, VIEW, {"id": deal_gid}))["data"]["opportunity"]
        handoff = view["handoff"]
        if handoff is not None and handoff["status"] not in ("READY", "IN_PROGRESS"):
            return dict(view)
        await asyncio.sleep(0.2)
    raise AssertionError(f"the handoff did not finish: {view}")


async def projects_of(rpc: TrytonClient, party: int) -> dict[int, dict[str, Any]]:
    domain = [["type", "=", "project"], ["party", "=", party]]
    return {p["id"]: p for p in await rpc.search_read("project.work", domain, PROJECT_FIELDS)}


async def commands_logged(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(COMMANDS))).scalar_one())


async def test_a_deal_won_in_tryton_is_set_up_in_tryton_once(
    engine: AsyncEngine, tryton: LiveTryton, rpc: TrytonClient
) -> None:
    deal = await new_opportunity(rpc)  # Client 01, 48,000.00 USD
    settings = fast(settings_for(engine, tryton))
    await pull_tryton(settings, engine)
    before = await projects_of(rpc, CLIENT_01)
    deal_gid = to_global_id(
        "Opportunity", (await read_model_row(engine, "opportunity", str(deal)))["id"]
    )

    async with served(settings) as client:
        won = (await graphql(client, WON, {"input": win_input(deal_gid)}))["data"]
        assert won["markOpportunityWon"]["targetSystem"] == "tryton", won
        view = await until_completed(client, deal_gid)

    handoff = view["handoff"]
    assert handoff["status"] == "COMPLETED", handoff
    assert [(s["name"], s["status"]) for s in handoff["steps"]] == [
        ("ensure_customer", "SUCCEEDED"),
        ("create_project", "SUCCEEDED"),
        ("create_billing_schedule", "SUCCEEDED"),
        ("request_staffing", "SUCCEEDED"),
        ("link_project_to_opportunity", "SUCCEEDED"),
    ]
    assert (view["stage"], handoff["customerSourceId"]) == ("CLOSED_WON", str(CLIENT_01))
    after = await projects_of(rpc, CLIENT_01)
    (new,) = set(after) - set(before)
    assert str(new) == handoff["projectSourceId"]
    await _tryton_holds_the_setup(rpc, deal, after[new])
    (project,) = [p for p in view["account"]["projects"] if p["name"] == after[new]["name"]]
    assert project["billingMethod"] == "MILESTONE"
    # Tryton has no engagements: the deal reaches its project through the handoff
    assert handoff["project"] == {"name": after[new]["name"], "engagement": None}
    assert view["projects"] == [{"name": after[new]["name"]}]
    # the handoff's code and manager, not Tryton's sequence number
    assert (project["code"], project["managerName"]) == (
        after[new]["name"].split()[0],
        "Grace Hopper",
    )
    assert project["budget"] == {"amount": "48000.00", "currency": "USD"}
    assert Decimal(project["budgetHours"]) == 320

    logged = await commands_logged(engine)
    await _again_makes_nothing(settings, engine)
    assert await projects_of(rpc, CLIENT_01) == after
    assert await commands_logged(engine) == logged


async def _tryton_holds_the_setup(rpc: TrytonClient, deal: int, project: dict[str, Any]) -> None:
    """The project as planned, a task per milestone, and the won deal's note naming it."""
    assert project["name"].startswith("DNA-H") and project["name"].endswith("Data platform")
    assert project["project_invoice_method"] == "manual"  # milestones are invoiced by hand
    assert (project["list_price"], project["effort_duration"].total_seconds()) == (
        Decimal("150.0000"),
        320 * 3600,
    )
    assert "staffing requested: Principal 32.00 h" in project["comment"]
    assert f"opportunity: sale.opportunity,{deal}" in project["comment"]
    tasks = await rpc.search_read("project.work", [["parent", "=", project["id"]]], ["name"])
    assert sorted(t["name"] for t in tasks) == sorted(name for name, _, _ in MILESTONES)
    (state,) = await rpc.read("sale.opportunity", [deal], ["state"])
    assert state["state"] == "won"
    notes = await rpc.search("ir.note", [["resource", "=", f"sale.opportunity,{deal}"]])
    assert len(notes) == 1


async def _again_makes_nothing(settings: Settings, engine: AsyncEngine) -> None:
    """A pull and a sweep open nothing; replaying the project step finds the project."""
    deps = await open_deps(settings, engine=engine)
    try:
        await pull_everything(deps)
        assert await advance_handoffs({DEPS_KEY: deps}) == {"opened": 0, "advanced": 0}
        async with engine.connect() as conn:
            stmt = select(COMMANDS.c.id, COMMANDS.c.target_source_id)
            stmt = stmt.where(COMMANDS.c.kind == "create_project")
            (made,) = list(await conn.execute(stmt))
        replayed = await rerun_after_a_crash(deps, made.id)
        assert succeeded(replayed) == made.target_source_id
    finally:
        await close_deps(deps)


async def test_a_deal_won_by_hand_in_tryton_waits_for_data_then_completes(
    engine: AsyncEngine, tryton: LiveTryton, rpc: TrytonClient
) -> None:
    deal = await new_opportunity(rpc)
    before = await projects_of(rpc, CLIENT_01)
    deps = await open_deps(settings_for(engine, tryton), engine=engine)
    try:
        await pull_everything(deps)  # the first sync: the deal is open
        await deals.mark_opportunity_won(rpc, {"opportunity_id": str(deal)}, "by-hand")
        await pull_source({DEPS_KEY: deps}, "tryton")  # the win is a change: seen, handed off
        (handoff_id,) = await _handoffs(engine)
        waiting = await _load(engine, handoff_id)
        assert (waiting.trigger, waiting.status) == ("sync", "WAITING_FOR_DATA")
        missing = {m["field"] for m in json.loads(waiting.missing)}
        assert missing == {"serviceLine", "startDate", "billingMethod"}  # no rate card asked

        await _supply(engine, waiting)
        assert await _drive(deps, handoff_id) == "COMPLETED"
    finally:
        await close_deps(deps)
    after = await projects_of(rpc, CLIENT_01)
    (new,) = set(after) - set(before)
    project = after[new]
    assert project["project_invoice_method"] == "effort"
    assert "monthly_approved_time" in project["comment"]


async def test_a_win_found_by_the_first_sync_is_history_and_a_project_naming_the_deal_is_linked(
    engine: AsyncEngine, tryton: LiveTryton, rpc: TrytonClient
) -> None:
    history, deal = await new_opportunity(rpc), await new_opportunity(rpc)
    await deals.mark_opportunity_won(rpc, {"opportunity_id": str(history)}, "before-us")
    deps = await open_deps(settings_for(engine, tryton), engine=engine)
    try:
        await pull_source({DEPS_KEY: deps}, "tryton")  # the first sync, with its sweep
        assert await _handoffs(engine) == []

        await deals.mark_opportunity_won(rpc, {"opportunity_id": str(deal)}, "by-hand")
        (theirs,) = await rpc.create(  # the firm set the project up by hand, naming the deal
            "project.work",
            [{"type": "project", "name": "Set up by hand", "party": CLIENT_01,
              "comment": f"opportunity: sale.opportunity,{deal}"}],
        )  # fmt: skip
        before = await projects_of(rpc, CLIENT_01)
        await pull_source({DEPS_KEY: deps}, "tryton")
        (handoff_id,) = await _handoffs(engine)
        await _supply(engine, await _load(engine, handoff_id))
        assert await _drive(deps, handoff_id) == "COMPLETED"
        done = await _load(engine, handoff_id)
    finally:
        await close_deps(deps)
    assert done.project_source_id == str(theirs)
    after = await projects_of(rpc, CLIENT_01)
    assert after.keys() == before.keys()  # linked, nothing created
    assert "staffing requested" not in after[theirs]["comment"]  # the firm's to staff


async def _supply(engine: AsyncEngine, waiting: Any) -> None:
    """What ``resumeHandoff`` would merge: the data Tryton lacks."""
    data = {"service_line": "Cybersecurity", "billing_method": "time_and_materials"}
    async with engine.begin() as conn:
        await state.merge_inputs(conn, waiting, {**data, "start_date": str(TODAY)}, utcnow())


async def _drive(deps: SyncDeps, handoff_id: int) -> str:
    """The sweep after a pull, and the worker running each step's command, to the end."""
    for _ in range(12):
        await advance_handoffs({DEPS_KEY: deps})
        async with deps.engine.connect() as conn:
            steps = await state.steps_of(conn, handoff_id)
        running = [s.command_id for s in steps if s.status == "RUNNING"]
        if not running:
            return str((await _load(deps.engine, handoff_id)).status)
        await run_job(deps, int(running[0]))
    raise AssertionError(f"handoff {handoff_id} still moving")


async def _handoffs(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(state.HANDOFFS.c.id))).scalars())


async def _load(engine: AsyncEngine, handoff_id: int) -> Any:
    async with engine.connect() as conn:
        return await state.load(conn, handoff_id)
