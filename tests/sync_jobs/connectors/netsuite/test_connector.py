"""The NetSuite connector against the simulator: pulls, checkpoints, fetches, id sets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sync_jobs.connectors.base import Connector
from sync_jobs.connectors.netsuite.connector import OBJECTS, OVERLAP, NetSuiteConnector
from tests.sync_jobs.connectors.netsuite.conftest import PAGE_SIZE, Account, pages


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.parametrize("object_type", list(OBJECTS))
async def test_a_full_pull_yields_every_record_once(account: Account, object_type: str) -> None:
    records = account.records(object_type)
    got = await pages(account.connector, object_type, None)

    ids = [row.source_id for page in got for row in page.rows]
    assert sorted(ids) == sorted(records) and len(ids) == len(set(ids))
    assert all(len(page.rows) <= PAGE_SIZE for page in got)
    checkpoints = [page.checkpoint for page in got]
    assert checkpoints == sorted(checkpoints)  # type: ignore[type-var]
    newest = max(r["lastModifiedDate"] for r in records.values())
    assert checkpoints[-1] == iso(newest)
    assert {row.table for page in got for row in page.rows} == {OBJECTS[object_type][1]}


async def test_an_incremental_pull_brings_an_edit(account: Account) -> None:
    full = await pages(account.connector, "invoice", None)
    checkpoint = full[-1].checkpoint
    target = sorted(account.records("invoice"))[0]

    await account.patch("invoice", target, {"amountRemaining": 0, "status": {"id": "B"}})
    again = await pages(account.connector, "invoice", checkpoint)

    rows = {row.source_id: row for page in again for row in page.rows}
    assert rows[target].values["status"] == "paid" and rows[target].values["balance_minor"] == 0
    assert again[-1].checkpoint == iso(account.records("invoice")[target]["lastModifiedDate"])
    newest = datetime.fromisoformat(checkpoint.replace("Z", "+00:00"))  # type: ignore[union-attr]
    assert all(r.source_version >= newest - OVERLAP for r in rows.values())  # only the window


async def test_nothing_new_keeps_the_checkpoint(account: Account) -> None:
    full = await pages(account.connector, "customer", None)
    again = await pages(account.connector, "customer", full[-1].checkpoint)
    assert all(page.checkpoint == full[-1].checkpoint for page in again)


async def test_an_edit_during_a_pull_skips_nothing(account: Account) -> None:
    """An edit between two pages moves a record to the end; no other record is lost."""
    first = sorted(account.records("timebill").values(), key=lambda r: r["lastModifiedDate"])[0]
    seen: list[str] = []
    async for page in account.connector.pull("timebill", None):
        if not seen:
            account.store.update("timebill", first["id"], {"hours": 1})
        seen += [row.source_id for row in page.rows]
    assert set(seen) == set(account.records("timebill")) and seen.count(first["id"]) == 2


async def test_fetch_reads_records_and_reports_deletions(account: Account) -> None:
    pulled = {r.source_id: r for p in await pages(account.connector, "job", None) for r in p.rows}
    live, gone = sorted(pulled)[:2]
    account.store.delete("job", gone)
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    connector = NetSuiteConnector(account.client, clock=lambda: now)

    fetched = await connector.fetch("job", [live, gone])

    assert fetched[0] == pulled[live]  # the record API maps like SuiteQL rows
    assert fetched[1].deleted_at == fetched[1].source_version == now
    assert (fetched[1].table, fetched[1].source_id) == ("project", gone)


@pytest.mark.parametrize("object_type", list(OBJECTS))
async def test_fetch_and_pull_agree_on_every_object(account: Account, object_type: str) -> None:
    pulled = {
        r.source_id: r for p in await pages(account.connector, object_type, None) for r in p.rows
    }
    sample = sorted(pulled)[:3]
    assert await account.connector.fetch(object_type, sample) == [pulled[i] for i in sample]


async def test_live_ids_are_every_record_with_its_stamp(account: Account) -> None:
    account.store.delete("timebill", sorted(account.records("timebill"))[0])
    live = await account.connector.live_ids("timebill")
    assert live == {i: r["lastModifiedDate"] for i, r in account.records("timebill").items()}


async def test_the_objects_come_parents_first(account: Account) -> None:
    connector: Connector = account.connector  # mypy checks the protocol is met
    order = list(connector.objects)
    for child, parents in {
        "job": ("customer", "engagement", "ratecard"),
        "timebill": ("job", "employee", "invoice"),
        "customerpayment": ("invoice", "customer"),
        "ratecardline": ("ratecard",),
    }.items():
        assert all(order.index(p) < order.index(child) for p in parents)
    assert account.connector.tables["customer"] == "account"
