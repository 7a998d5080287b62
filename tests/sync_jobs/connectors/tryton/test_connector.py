"""The Tryton connector against a live trytond, into the real read model (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.money import decimal_to_minor
from readmodel.tables import Opportunity, table_of
from readmodel.types import utcnow
from sync_jobs.apply import apply_rows
from sync_jobs.connectors.tryton.client import TrytonClient
from sync_jobs.connectors.tryton.connector import TrytonConnector
from sync_jobs.pull import PullReport
from sync_jobs.pull import pull_object as pull_from

# Slow (a live Tryton): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

MASTER = "tryton"  # Tryton owns the client list here: its parties are the accounts


async def pull_object(
    engine: AsyncEngine, connector: TrytonConnector, object_type: str
) -> PullReport:
    return await pull_from(engine, connector, object_type, account_master=MASTER)


async def pull_all(engine: AsyncEngine, connector: TrytonConnector) -> int:
    applied = 0
    for object_type in connector.objects:
        report = await pull_object(engine, connector, object_type)
        assert report.parked == 0, f"{object_type}: rows without a parent"
        applied += report.applied
    return applied


async def live_rows(engine: AsyncEngine, table: str) -> list[Any]:
    from readmodel.tables import metadata

    t = metadata.tables[table]
    query = select(t).where(t.c.deleted_at.is_(None), t.c.source_system == "tryton")
    async with engine.connect() as conn:
        return list((await conn.execute(query)).mappings())


async def test_a_full_pull_mirrors_tryton(engine: AsyncEngine, connector: TrytonConnector) -> None:
    applied = await pull_all(engine, connector)

    expected = 0
    for object_type, table in connector.tables.items():
        at_source = await connector.live_ids(object_type)
        assert at_source, f"the demo firm has no {object_type}"
        stored = {r["source_id"] for r in await live_rows(engine, table)}
        assert stored == set(at_source), object_type
        expected += len(at_source)
    assert applied == expected
    assert await pull_all(engine, connector) == 0  # nothing new: nothing written


async def test_money_and_states_arrive_exact(
    engine: AsyncEngine, connector: TrytonConnector, rpc: TrytonClient
) -> None:
    await pull_all(engine, connector)

    invoices = await rpc.search_read(
        "account.invoice", [["type", "=", "out"]], ["total_amount", "amount_to_pay", "state"]
    )
    stored = {r["source_id"]: r for r in await live_rows(engine, "invoice")}
    for source in invoices:
        row = stored[str(source["id"])]
        assert row["total_minor"] == decimal_to_minor(source["total_amount"])
        assert row["balance_minor"] == decimal_to_minor(source["amount_to_pay"])
    statuses = {r["status"] for r in stored.values()}
    assert {"draft", "posted", "partially_paid", "paid"} <= statuses
    assert all(r["project_id"] is not None for r in stored.values())  # billed by a project
    partial = next(r for r in stored.values() if r["status"] == "partially_paid")
    assert partial["balance_minor"] * 2 == partial["total_minor"]

    invoiced = [r for r in await live_rows(engine, "time_entry") if r["status"] == "invoiced"]
    assert invoiced and all(r["invoice_id"] is not None for r in invoiced)

    opportunities = await live_rows(engine, "opportunity")
    amounts = {r["amount_minor"] for r in opportunities}
    assert 1234567 in amounts  # Decimal("12345.67") to the cent
    assert {"prospecting", "closed_lost"} <= {r["stage"] for r in opportunities}


async def test_an_edit_in_tryton_arrives_in_the_next_pull(
    engine: AsyncEngine, connector: TrytonConnector, rpc: TrytonClient
) -> None:
    await pull_all(engine, connector)
    (lead, *_) = await rpc.search("sale.opportunity", [["state", "=", "lead"]])
    opportunity = str(lead)  # an open one: closed opportunities are read-only
    before = await rpc.read("sale.opportunity", [int(opportunity)], ["amount"])
    try:
        await rpc.write("sale.opportunity", [int(opportunity)], {"amount": Decimal("98765.43")})

        report = await pull_object(engine, connector, "opportunity")

        assert report.applied == 1  # the change only; the overlap's repeats write nothing
        row = next(
            r for r in await live_rows(engine, "opportunity") if r["source_id"] == opportunity
        )
        assert row["amount_minor"] == 9876543
        assert await count(engine, Opportunity) == len(await connector.live_ids("opportunity"))
    finally:
        await rpc.write("sale.opportunity", [int(opportunity)], {"amount": before[0]["amount"]})


async def test_a_record_deleted_in_tryton_is_missing_and_fetched_as_a_deletion(
    engine: AsyncEngine, connector: TrytonConnector, rpc: TrytonClient
) -> None:
    (party,) = await rpc.create("party.party", [{"name": "Short-lived Client"}])
    await pull_object(engine, connector, "account")
    assert str(party) in {r["source_id"] for r in await live_rows(engine, "account")}

    await rpc.delete("party.party", [party])

    assert str(party) not in await connector.live_ids("account")
    (row,) = await connector.fetch("account", [str(party)])
    assert row.deleted_at is not None and row.source_version == row.deleted_at
    async with engine.begin() as conn:
        await apply_rows(conn, [row], utcnow(), account_master=MASTER)
    assert str(party) not in {r["source_id"] for r in await live_rows(engine, "account")}


async def test_fetch_reads_live_records_now(connector: TrytonConnector) -> None:
    ids = sorted(await connector.live_ids("invoice"))[:2]

    rows = await connector.fetch("invoice", ids)

    assert sorted(r.source_id for r in rows) == ids
    assert all(r.deleted_at is None and r.values["total_minor"] > 0 for r in rows)


async def count(engine: AsyncEngine, model: type) -> int:
    t = table_of(model)
    stmt = select(func.count()).select_from(t).where(t.c.deleted_at.is_(None))
    async with engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


async def test_records_without_a_party_are_not_clients_work(
    engine: AsyncEngine, connector: TrytonConnector, rpc: TrytonClient
) -> None:
    (lead,) = await rpc.create(
        "sale.opportunity", [{"description": "Walk-in", "start_date": date.today()}]
    )
    (internal,) = await rpc.create("project.work", [{"name": "Internal", "type": "project"}])
    try:
        applied = await pull_all(engine, connector)  # asserts nothing was parked

        assert applied > 0
        assert str(lead) not in await connector.live_ids("opportunity")
        assert str(internal) not in await connector.live_ids("project")
    finally:
        await rpc.delete("project.work", [internal])
        await rpc.button("sale.opportunity", "cancel", [lead])  # only cancelled ones go
        await rpc.delete("sale.opportunity", [lead])
