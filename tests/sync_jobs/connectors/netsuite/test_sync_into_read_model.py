"""End to end: the CRM from the Salesforce simulator, then every NetSuite object, into a
migrated read model. The result is the seeded firm, value for value."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import IntegrationException, SyncParked, metadata, table_of
from sync_jobs.apply import apply_rows
from sync_jobs.connectors.salesforce.client import SalesforceClient
from sync_jobs.connectors.salesforce.connector import SalesforceConnector
from sync_jobs.pull import pull_object
from systems.salesforce.app import create_simulator as create_salesforce
from systems.salesforce.store import from_seed as salesforce_from_seed
from tests.sync_jobs.connectors.netsuite.conftest import Account
from tests.systems.test_netsuite_simulator import SECRET

Rows = dict[str, list[dict[str, Any]]]
NETSUITE_TABLES = (
    "person",
    "rate_card",
    "rate_card_line",
    "engagement",
    "project",
    "milestone",
    "assignment",
    "invoice",
    "time_entry",
    "change_order",
    "payment",
)
BOOKKEEPING = {"id", "source_system", "synced_at", "deleted_at", "payload_hash", "updated_at"}


async def pull_crm(engine: AsyncEngine, rows: Rows) -> None:
    """The account master first: NetSuite customers link to these accounts."""
    app = create_salesforce(salesforce_from_seed(rows), client_secret=SECRET)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        connector = SalesforceConnector(SalesforceClient("http://sf.test", "cg", SECRET, http))
        for object_type in connector.objects:
            await pull_object(engine, connector, object_type)


async def pull_erp(engine: AsyncEngine, account: Account) -> int:
    applied = 0
    for object_type in account.connector.objects:
        report = await pull_object(engine, account.connector, object_type)
        assert report.error is None and report.parked == 0, report
        applied += report.applied
    return applied


async def read_model(engine: AsyncEngine) -> Rows:
    async with engine.connect() as conn:
        return {
            name: [dict(r) for r in (await conn.execute(select(metadata.tables[name]))).mappings()]
            for name in ("account", "opportunity", "account_xref", *NETSUITE_TABLES)
        }


def by_source_id(rows: Rows, table: str) -> dict[str, dict[str, Any]]:
    """A table's rows by source id, their foreign keys as the parents' source ids.

    The same function reads the generated firm and the synced read model, so the two compare
    whatever their integer ids are.
    """
    t = metadata.tables[table]
    parents = {fk.parent.name: fk.column.table.name for fk in t.foreign_keys}
    source = {p: {r["id"]: r["source_id"] for r in rows[p]} for p in set(parents.values())}
    return {
        row["source_id"]: {
            column: source[parents[column]].get(value) if column in parents else value
            for column, value in row.items()
            if column not in BOOKKEEPING
        }
        for row in rows[table]
    }


async def count(engine: AsyncEngine, model: type) -> int:
    async with engine.connect() as conn:
        stmt = select(func.count()).select_from(table_of(model))
        return int((await conn.execute(stmt)).scalar_one())


async def test_syncing_both_simulators_reproduces_the_seeded_firm(
    engine: AsyncEngine, account: Account
) -> None:
    seeded = account.rows
    await pull_crm(engine, seeded)

    applied = await pull_erp(engine, account)

    synced = await read_model(engine)
    assert applied == sum(len(seeded[t]) for t in (*NETSUITE_TABLES, "account_xref"))
    assert len(synced["account"]) == len(seeded["account"])  # customers linked, not added
    links = {x["source_id"]: x["account_id"] for x in synced["account_xref"]}
    expected = {x["source_id"]: x["account_id"] for x in seeded["account_xref"]}
    crm_id = {r["id"]: r["source_id"] for r in synced["account"]}
    seed_crm_id = {r["id"]: r["source_id"] for r in seeded["account"]}
    assert {c: crm_id[a] for c, a in links.items()} == {
        c: seed_crm_id[a] for c, a in expected.items()
    }
    for table in NETSUITE_TABLES:
        assert by_source_id(synced, table) == by_source_id(seeded, table), table
    assert await count(engine, SyncParked) == 0
    assert await count(engine, IntegrationException) == 0
    assert await pull_erp(engine, account) == 0  # nothing new: nothing written


async def test_an_edit_arrives_and_a_hard_delete_is_found_by_id_sets(
    engine: AsyncEngine, account: Account
) -> None:
    await pull_crm(engine, account.rows)
    await pull_erp(engine, account)
    edited, deleted = sorted(account.records("invoice"))[:2]
    await account.patch("invoice", edited, {"amountRemaining": 12.34})
    account.store.delete("invoice", deleted)

    report = await pull_object(engine, account.connector, "invoice")
    missing = set(by_source_id(await read_model(engine), "invoice"))
    missing -= set(await account.connector.live_ids("invoice"))
    tombstones = await account.connector.fetch("invoice", sorted(missing))
    async with engine.begin() as conn:
        await apply_rows(conn, tombstones, tombstones[0].source_version)

    assert report.applied == 1 and missing == {deleted}
    t = metadata.tables["invoice"]
    async with engine.connect() as conn:
        found = dict((await conn.execute(select(t.c.source_id, t.c.deleted_at))).all())
        balance = (
            await conn.execute(select(t.c.balance_minor).where(t.c.source_id == edited))
        ).scalar_one()
    assert balance == 1234
    assert found[deleted] == tombstones[0].deleted_at and found[edited] is None
