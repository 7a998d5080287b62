"""Reconciliation repairs drift between a source and the read model, and says what it fixed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import Account, AccountXref, Opportunity, SyncState, table_of
from sync_jobs.pull import Page, pull_object
from sync_jobs.reconcile import ReconcileReport, reconcile_object, reconcile_source
from sync_jobs.rolling import Rolling
from sync_jobs.rows import CanonicalRow
from tests.sync_jobs.test_apply import NOW, T0, opportunity
from tests.sync_jobs.test_identity import crm_account, customer

ACCOUNTS, OPPS, XREF = table_of(Account), table_of(Opportunity), table_of(AccountXref)
LATER = T0 + timedelta(days=1)


class InMemoryConnector:
    """A system of record held in dicts: its change feed is whatever the test says it is.

    ``live_ids`` and ``fetch`` read the records themselves, so a change made here without an
    event (``drift``) is invisible to pulls but not to reconciliation.
    """

    def __init__(self, system: str, tables: dict[str, str], *rows: CanonicalRow) -> None:
        self.system, self.tables = system, tables
        self.objects = tuple(tables)
        self.records: dict[str, dict[str, CanonicalRow]] = {o: {} for o in tables}
        self.fetched: list[list[str]] = []
        for row in rows:
            self.put(row)

    def object_of(self, row: CanonicalRow) -> str:
        return next(o for o, t in self.tables.items() if t == row.table)

    def put(self, row: CanonicalRow) -> None:
        self.records[self.object_of(row)][row.source_id] = row

    async def pull(self, object_type: str, checkpoint: str | None) -> AsyncIterator[Page]:
        yield Page(list(self.records[object_type].values()), None)

    async def fetch(self, object_type: str, ids: Sequence[str]) -> list[CanonicalRow]:
        self.fetched.append(list(ids))
        table, here = self.tables[object_type], self.records[object_type]
        gone = [CanonicalRow(table, self.system, i, NOW, deleted_at=NOW) for i in ids]
        return [here.get(i, dead) for i, dead in zip(ids, gone, strict=True)]

    async def live_ids(self, object_type: str) -> dict[str, datetime]:
        return {i: r.source_version for i, r in self.records[object_type].items()}


def crm_source() -> InMemoryConnector:
    accounts = [crm_account(f"001{c}", f"Client {c}") for c in "ABCD"]
    tables = {"account": "account", "opportunity": "opportunity"}
    return InMemoryConnector("salesforce", tables, *accounts, opportunity("006A", "001A", T0))


async def load_everything(engine: AsyncEngine, source: InMemoryConnector) -> None:
    for object_type in source.objects:
        await pull_object(engine, source, object_type, clock=lambda: NOW)


async def accounts(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        return {r.source_id: r for r in await conn.execute(select(ACCOUNTS))}


def counts(report: ReconcileReport) -> tuple[int, int, int, int, int]:
    return (report.tombstoned, report.repaired, report.realigned, report.parked, report.checked)


async def test_reconcile_repairs_injected_drift_and_reports_it(engine: AsyncEngine) -> None:
    source = crm_source()
    await load_everything(engine, source)
    assert [counts(r) for r in await reconcile_source(engine, source, clock=lambda: NOW)] == [
        (0, 0, 0, 0, 4),
        (0, 0, 0, 0, 1),
    ]

    # Given drift that no event reported:
    del source.records["account"]["001B"]  # deleted at the source
    source.put(replace(crm_account("001C", "Client C Renamed"), source_version=LATER))
    source.put(crm_account("001E", "Client E"))  # created, its event lost
    async with engine.begin() as conn:
        await _corrupt(conn, "001D", T0 - timedelta(days=9), name="garbage")  # stale content
        await _corrupt(conn, "001A", T0 + timedelta(days=365))  # a stamp from the future
        await conn.execute(
            update(OPPS).values(source_version=T0 - timedelta(days=1))  # stamp only
        )

    # When
    reports = await reconcile_source(engine, source, clock=lambda: NOW + timedelta(hours=1))

    # Then
    assert [counts(r) for r in reports] == [(1, 3, 1, 0, 5), (0, 0, 1, 0, 1)]
    state = await accounts(engine)
    assert state["001B"].deleted_at == NOW
    assert state["001C"].name == "Client C Renamed" and state["001C"].source_version == LATER
    assert state["001D"].name == "Client D" and state["001D"].source_version == T0
    assert state["001A"].source_version == T0 and state["001E"].name == "Client E"
    assert source.fetched[0] == ["001A", "001B", "001C", "001D", "001E"]
    assert await _saved(engine) == {
        "account": (NOW + timedelta(hours=1), reports[0]),
        "opportunity": (NOW + timedelta(hours=1), reports[1]),
    }

    again = await reconcile_source(engine, source, clock=lambda: NOW)
    assert [r.fixed + r.parked for r in again] == [0, 0]
    assert len(source.fetched) == 2, "nothing was re-read the second time"


async def test_a_row_tombstoned_by_mistake_is_revived(engine: AsyncEngine) -> None:
    source = crm_source()
    await load_everything(engine, source)
    async with engine.begin() as conn:
        await conn.execute(
            update(ACCOUNTS).where(ACCOUNTS.c.source_id == "001C").values(deleted_at=NOW)
        )

    report = await reconcile_object(engine, source, "account", clock=lambda: NOW)

    assert counts(report) == (0, 1, 0, 0, 4)
    assert (await accounts(engine))["001C"].deleted_at is None


async def test_a_repair_waiting_for_its_parent_is_parked_and_keeps_its_stamp(
    engine: AsyncEngine,
) -> None:
    source = crm_source()
    await load_everything(engine, source)
    moved = opportunity("006A", "001NEW", LATER)  # now on an account not pulled yet
    source.put(moved)

    report = await reconcile_object(engine, source, "opportunity", clock=lambda: NOW)

    assert counts(report) == (0, 0, 0, 1, 1)
    async with engine.connect() as conn:
        version = (await conn.execute(select(OPPS.c.source_version))).scalar_one()
    assert version == T0, "the rewind is undone for a row that could not be applied"


class ListingAGhost(InMemoryConnector):
    """Lists ``001Z``, which is deleted before its re-read (created and deleted meanwhile)."""

    async def live_ids(self, object_type: str) -> dict[str, datetime]:
        return await super().live_ids(object_type) | {"001Z": NOW}


async def test_each_deletion_is_counted_and_a_record_gone_by_its_re_read_is_no_repair(
    engine: AsyncEngine,
) -> None:
    source = ListingAGhost("salesforce", {"account": "account"})
    for row in crm_source().records["account"].values():
        source.put(row)
    await load_everything(engine, source)
    del source.records["account"]["001B"], source.records["account"]["001C"]

    report = await reconcile_object(engine, source, "account", clock=lambda: NOW)

    assert counts(report) == (2, 0, 0, 0, 5)
    assert "001Z" not in await accounts(engine)


class WithVolatile(InMemoryConnector):
    """Accounts ``001A`` (and ``001Z``, not live) change without their stamps moving."""

    async def volatile_ids(self, object_type: str) -> set[str]:
        return {"001A", "001Z"} if object_type == "account" else set()


async def test_the_master_and_the_rolling_slice_reach_every_object_of_a_source(
    engine: AsyncEngine,
) -> None:
    # Given NetSuite as the client master (its customers are the accounts), volatile 001A
    customers = [
        replace(crm_account(f"001{c}", f"Client {c}"), source_system="netsuite") for c in "AB"
    ]
    source = WithVolatile("netsuite", {"customer": "account"}, *customers)
    await pull_object(engine, source, "customer", clock=lambda: NOW, account_master="netsuite")
    del source.records["customer"]["001B"]
    rolling = Rolling(period=3600, interval=3600)  # one slice: every live record each run

    (report,) = await reconcile_source(
        engine, source, clock=lambda: NOW, account_master="netsuite", rolling=rolling
    )

    assert counts(report) == (1, 0, 0, 0, 2)  # the account row, not a link to one
    assert report.content_checked == 1 and source.fetched == [["001B"], ["001A"]]
    assert (await accounts(engine))["001B"].deleted_at == NOW


async def test_volatile_records_join_the_rolling_slice(engine: AsyncEngine) -> None:
    source = WithVolatile("salesforce", {"account": "account"})
    for c in "ABCDEFGH":
        source.put(crm_account(f"001{c}", f"Client {c}"))
    await load_everything(engine, source)
    rolling = Rolling(period=4 * 3600, interval=3600)
    ids = set(source.records["account"])
    at = next(
        NOW + timedelta(hours=h)
        for h in range(4)
        if rolling.due(ids, NOW + timedelta(hours=h)) - {"001A"}
        and rolling.due(ids, NOW + timedelta(hours=h)) | {"001A"} != ids
    )

    report = await reconcile_object(engine, source, "account", clock=lambda: at, rolling=rolling)

    expected = rolling.due(ids, at) | {"001A"}
    assert report.content_checked == len(expected)
    assert source.fetched == [sorted(expected)]


async def test_erp_customers_reconcile_against_their_links(engine: AsyncEngine) -> None:
    crm = crm_source()
    await load_everything(engine, crm)
    erp = InMemoryConnector(
        "netsuite",
        {"customer": "account"},
        customer("C1", "x", external_id="001A"),
        customer("C2", "x", external_id="001B"),
        customer("C3", "x", external_id="001C"),
    )
    await load_everything(engine, erp)
    del erp.records["customer"]["C1"]
    async with engine.begin() as conn:
        await conn.execute(delete(XREF).where(XREF.c.source_id == "C2"))

    report = await reconcile_object(engine, erp, "customer", clock=lambda: NOW)

    assert counts(report) == (1, 1, 0, 0, 3)
    async with engine.connect() as conn:
        linked = await conn.execute(select(XREF.c.source_id).order_by(XREF.c.source_id))
        assert linked.scalars().all() == ["C2", "C3"]
    assert len(await accounts(engine)) == 4, "reconciling customers never adds a client"


async def _corrupt(conn: Any, source_id: str, version: datetime, **values: Any) -> None:
    await conn.execute(
        update(ACCOUNTS)
        .where(ACCOUNTS.c.source_id == source_id)
        .values(source_version=version, **values)
    )


async def _saved(engine: AsyncEngine) -> dict[str, tuple[datetime, ReconcileReport]]:
    t = table_of(SyncState)
    stmt = select(t.c.object_type, t.c.last_reconciled_at, t.c.last_reconcile_report).where(
        t.c.system == "salesforce"
    )
    async with engine.connect() as conn:
        rows = await conn.execute(stmt)
        return {o: (at, ReconcileReport(**json.loads(text))) for o, at, text in rows}


async def test_content_that_changed_under_an_unchanged_stamp_is_repaired_by_the_rolling_pass(
    engine: AsyncEngine,
) -> None:
    source = crm_source()
    await load_everything(engine, source)
    # Given a value that changed at the source without moving the record's stamp
    source.put(crm_account("001C", "Client C Renamed"))
    assert (await reconcile_object(engine, source, "account", clock=lambda: NOW)).fixed == 0

    # When a rolling pass re-reads every record (one slice: the period is one run)
    report = await reconcile_object(
        engine, source, "account", clock=lambda: NOW, rolling=Rolling(3600, 3600)
    )

    # Then only the changed record is rewritten, and the report names it
    assert (report.content_checked, report.content_repaired) == (4, 1)
    assert report.repaired_ids == ["001C"]
    assert (await accounts(engine))["001C"].name == "Client C Renamed"
    again = await reconcile_object(
        engine, source, "account", clock=lambda: NOW, rolling=Rolling(3600, 3600)
    )
    assert (again.content_checked, again.content_repaired, again.repaired_ids) == (4, 0, [])


async def test_a_rolling_pass_reads_a_slice_per_run_and_every_record_once_a_period(
    engine: AsyncEngine,
) -> None:
    source = crm_source()
    await load_everything(engine, source)
    rolling = Rolling(period=4 * 3600, interval=3600)

    checked = []
    for hour in range(4):
        at = NOW + timedelta(hours=hour)
        report = await reconcile_object(
            engine, source, "account", clock=lambda at=at: at, rolling=rolling
        )
        checked.append(report.content_checked)

    assert sum(checked) == 4  # each of the four accounts exactly once in the period
    assert sum(len(ids) for ids in source.fetched) == 4


def test_a_report_naming_long_ids_still_fits_its_column() -> None:
    report = ReconcileReport("netsuite", "invoice", repaired_ids=["x" * 60] * 20)

    stored = report.to_json()

    assert len(stored) <= 1000 and 0 < len(json.loads(stored)["repaired_ids"]) < 20
