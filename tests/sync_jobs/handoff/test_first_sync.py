"""A first sync never hands off the firm's history, whatever order the sources are pulled in;
a deal won afterwards gets exactly one project, and a project the firm made is linked.

The firm is generated as of today, so its recent wins (closed within the handoff's 30-day
look-back) already have projects in NetSuite: the picture every real firm starts from.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import command_log
from readmodel.seed import SeedConfig, generate_all
from readmodel.tables import WinObservation, table_of
from readmodel.types import utcnow
from sync_jobs.context import DEPS_KEY, close_deps, open_deps
from sync_jobs.handoff import state
from sync_jobs.jobs import pull_source
from systems.netsuite import app as netsuite_app
from systems.netsuite import faults as netsuite_faults
from systems.netsuite import store as netsuite_store
from systems.salesforce import app as salesforce_app
from systems.salesforce import store as salesforce_store
from tests.sync_jobs.commands.conftest import Sources, settings_for
from tests.sync_jobs.handoff.conftest import drive, handoff, handoff_of, resume
from tests.systems.test_netsuite_simulator import CERTIFICATES, SECRET

ACCOUNTS = 20  # seven deals won in the last 30 days, every one with its project
READY = {"billing_method": "time_and_materials", "start_date": "2026-07-06"}
ORDERS = {
    "crm-first": ("salesforce", "netsuite", "salesforce", "netsuite"),
    "erp-first": ("netsuite", "salesforce", "netsuite", "salesforce"),
    "erp-twice-first": ("netsuite", "netsuite", "salesforce", "salesforce", "netsuite"),
}


@pytest.fixture
async def firm(engine: AsyncEngine) -> AsyncIterator[Sources]:
    """Both simulators holding a firm as of today; the read model still empty."""
    rows = generate_all(SeedConfig(accounts=ACCOUNTS, seed=3, today=utcnow().date()))
    sf, ns = salesforce_store.from_seed(rows), netsuite_store.from_seed(rows)
    sf_faults, ns_faults = salesforce_app.Faults(), netsuite_faults.Faults()
    apps = {
        "salesforce": salesforce_app.create_simulator(sf, client_secret=SECRET, faults=sf_faults),
        "netsuite": netsuite_app.create_simulator(ns, certificates=CERTIFICATES, faults=ns_faults),
    }
    url = engine.url.render_as_string(hide_password=False)
    deps = await open_deps(
        settings_for(url, sf_url="http://sf.test", ns_url="http://ns.test"),
        engine=engine,
        transports={name: httpx.ASGITransport(app=app) for name, app in apps.items()},
    )
    try:
        yield Sources(rows, sf, sf_faults, ns, ns_faults, deps)
    finally:
        await close_deps(deps)


async def pull(firm: Sources, *systems: str) -> None:
    """Scheduled pulls, each followed by the handoff sweep (as the worker runs them)."""
    for system in systems:
        report = await pull_source({DEPS_KEY: firm.deps}, system)
        assert "applied" in report, report


async def count(firm: Sources, table: Any, **where: Any) -> int:
    stmt = select(func.count()).select_from(table)
    stmt = stmt.where(*(table.c[k] == v for k, v in where.items()))
    async with firm.engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


def recent_wins_with_projects(firm: Sources) -> int:
    since = utcnow().date() - timedelta(days=30)
    delivered = {e["opportunity_id"] for e in firm.rows["engagement"]} & {
        e["opportunity_id"]
        for e in firm.rows["engagement"]
        if any(p["engagement_id"] == e["id"] for p in firm.rows["project"])
    }
    recent = [o for o in firm.rows["opportunity"] if o["is_won"] and o["close_date"] >= since]
    return sum(o["id"] in delivered for o in recent)


def open_deal(firm: Sources) -> dict[str, Any]:
    return next(o for o in firm.rows["opportunity"] if not o["is_closed"] and o["service_line"])


def won_in_the_crm(firm: Sources, deal: dict[str, Any]) -> None:
    """The salesperson closes the deal now (after every seeded stamp: the firm is generated
    as of today, and its records may be stamped later today than the clock says)."""
    seeded = max(o["source_version"] for o in firm.rows["opportunity"])
    now = max(utcnow(), seeded + timedelta(seconds=1))
    changes = {"StageName": "Closed Won", "IsWon": True, "IsClosed": True}
    changes["CloseDate"] = now.date().isoformat()
    firm.sf.touch("Opportunity", deal["source_id"], changes, now)


@pytest.mark.parametrize("order", list(ORDERS))
async def test_a_first_sync_in_any_order_hands_off_nothing(firm: Sources, order: str) -> None:
    assert recent_wins_with_projects(firm) >= 5  # the firm's history is there to be tempted
    jobs = len(firm.ns.records["job"])

    await pull(firm, *ORDERS[order])

    assert await count(firm, state.HANDOFFS) == 0
    assert await count(firm, table_of(WinObservation)) == 0
    assert await count(firm, command_log.COMMANDS) == 0
    assert len(firm.ns.records["job"]) == jobs


async def test_a_win_after_the_first_sync_makes_exactly_one_project(firm: Sources) -> None:
    await pull(firm, "salesforce", "netsuite")
    jobs = len(firm.ns.records["job"])
    deal = open_deal(firm)

    won_in_the_crm(firm, deal)
    await pull(firm, "salesforce")  # the win is seen; NetSuite has not looked since
    assert await count(firm, state.HANDOFFS) == 0
    await pull(firm, "netsuite")  # now it has: the handoff opens
    handoff_id = await handoff_of(firm, deal["source_id"])
    await resume(firm, handoff_id, READY)
    await pull(firm, "salesforce", "netsuite")  # later sweeps change nothing

    assert await drive(firm, handoff_id) == "COMPLETED"
    assert (await handoff(firm, handoff_id))["trigger"] == "sync"
    assert len(firm.ns.records["job"]) == jobs + 1
    assert await count(firm, command_log.COMMANDS, kind="create_project") == 1


async def test_a_project_the_firm_made_for_the_deal_is_linked(firm: Sources) -> None:
    await pull(firm, "salesforce", "netsuite")
    deal = open_deal(firm)
    customer = next(x for x in firm.rows["account_xref"] if x["account_id"] == deal["account_id"])
    theirs = dict(next(iter(firm.ns.records["job"].values())))  # a job's every field
    for field in ("id", "lastModifiedDate", "externalId"):
        theirs.pop(field, None)
    theirs.update(
        entityId="PRJ-BYHAND",
        parent={"id": customer["source_id"]},
        custentity_cg_engagement=None,
        custentity_cg_opportunity=deal["source_id"],
        custentity_cg_billing_schedule='{"rule": "by hand"}',
    )

    won_in_the_crm(firm, deal)
    await pull(firm, "salesforce")
    made = firm.ns.create("job", theirs)  # set up by hand, before NetSuite's next pull
    await pull(firm, "netsuite")
    handoff_id = await handoff_of(firm, deal["source_id"])
    await resume(firm, handoff_id, READY)
    jobs = len(firm.ns.records["job"])

    assert await drive(firm, handoff_id) == "COMPLETED"
    done = await handoff(firm, handoff_id)
    assert done["project_source_id"] == made["id"]
    assert len(firm.ns.records["job"]) == jobs  # linked, not created
    assert firm.ns.records["job"][made["id"]]["custentity_cg_billing_schedule"] == (
        '{"rule": "by hand"}'
    )
    assert firm.sf.records["Opportunity"][deal["source_id"]]["Project_Id__c"] == made["id"]
