"""A NetSuite account: the simulator in-process, seeded with the firm, and a connector on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sync_jobs.connectors.netsuite.client import NetSuiteClient
from sync_jobs.connectors.netsuite.connector import OBJECTS, NetSuiteConnector
from sync_jobs.pull import Page
from systems.netsuite.app import RECORDS, Simulator, create_simulator
from systems.netsuite.faults import Faults
from systems.netsuite.store import Store, from_seed
from tests.systems.test_netsuite_simulator import CERTIFICATES, LOGIN, seeded_rows

BASE = "http://ns.test"
PAGE_SIZE = 50


@dataclass
class Account:
    rows: dict[str, list[dict[str, Any]]]
    store: Store
    faults: Faults
    sim: Simulator
    http: httpx.AsyncClient
    client: NetSuiteClient
    connector: NetSuiteConnector

    def records(self, object_type: str) -> dict[str, dict[str, Any]]:
        return self.store.records.get(OBJECTS[object_type][0], {})

    async def as_user(self) -> dict[str, str]:
        """A session of someone editing records in NetSuite itself."""
        return {"Authorization": f"Bearer {self.sim.user_token()}"}

    async def patch(self, record_type: str, record_id: str, changes: dict[str, Any]) -> None:
        url = f"{BASE}{RECORDS}/{record_type}/{record_id}"
        response = await self.http.patch(url, json=changes, headers=await self.as_user())
        assert response.status_code == 204, response.text


@pytest.fixture
async def account() -> AsyncIterator[Account]:
    rows = seeded_rows()
    store, faults = from_seed(rows), Faults()
    app = create_simulator(store, certificates=CERTIFICATES, page_size=PAGE_SIZE, faults=faults)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = NetSuiteClient(BASE, LOGIN, http)
        connector = NetSuiteConnector(client)  # asks for 1,000; the account pages by 50
        yield Account(rows, store, faults, app.state.simulator, http, client, connector)


async def pages(connector: NetSuiteConnector, object_type: str, since: str | None) -> list[Page]:
    return [page async for page in connector.pull(object_type, since)]
