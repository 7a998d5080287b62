"""The Salesforce connector's targeted reads: ``fetch`` (webhook hints) and ``live_ids``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import pytest

from sync_jobs.connectors.salesforce.client import SalesforceClient
from sync_jobs.connectors.salesforce.connector import SalesforceConnector
from sync_jobs.connectors.salesforce.mapping import modstamp
from sync_jobs.errors import TransientSourceError
from systems.salesforce.app import Faults, create_simulator
from tests.sync_jobs.connectors.salesforce.test_connector import Org
from tests.systems.test_salesforce_simulator import SECRET, seeded_store

READ_AT = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)


@asynccontextmanager
async def open_org() -> AsyncIterator[Org]:
    """A seeded simulator in-process (4 records a page) and a connector on it."""
    store, faults = seeded_store(), Faults()
    app = create_simulator(store, client_secret=SECRET, batch_size=4, faults=faults)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = SalesforceClient("http://sf.test", "clientgraph", SECRET, http)
        yield Org(store, faults, SalesforceConnector(client), http, app.state.simulator)


@pytest.fixture
async def org() -> AsyncIterator[Org]:
    async with open_org() as o:
        yield o


async def test_fetch_maps_live_records_and_marks_missing_ones_deleted(org: Org) -> None:
    connector = SalesforceConnector(org.connector._client, clock=lambda: READ_AT)
    live, gone = sorted(org.store.records["Contact"])[:2]
    org.store.touch("Contact", live, {"LastName": "Okafor"}, READ_AT)
    org.store.delete("Contact", gone, READ_AT)

    rows = await connector.fetch("contact", [live, gone, "003NEVER"])

    assert [r.source_id for r in rows] == [live, gone, "003NEVER"]
    assert rows[0].values["last_name"] == "Okafor" and rows[0].deleted_at is None
    assert rows[0].source_version == READ_AT
    assert all(r.deleted_at == r.source_version == READ_AT for r in rows[1:])
    assert all(r.table == "contact" and r.source_system == "salesforce" for r in rows)


async def test_fetch_raises_transient_errors_for_the_job_to_retry(org: Org) -> None:
    account = sorted(org.store.records["Account"])[0]
    org.faults.fail_next(503, "SERVER_UNAVAILABLE", retry_after=2)
    with pytest.raises(TransientSourceError) as raised:
        await org.connector.fetch("account", [account])
    assert raised.value.retry_after == 2


async def test_live_ids_pages_through_every_live_record(org: Org) -> None:
    gone = sorted(org.store.records["Opportunity"])[0]
    org.store.delete("Opportunity", gone, READ_AT)

    found = await org.connector.live_ids("opportunity")  # batch size 4: several pages

    expected = {
        i: modstamp(r) for i, r in org.store.records["Opportunity"].items() if not r["IsDeleted"]
    }
    assert found == expected and gone not in found and len(found) > 4
