"""Embedded continuous sync: an edit in Salesforce shows in GraphQL within the interval.

The gateway runs in embedded mode (no Redis) with its in-process runner pulling every 0.5 s
from the Salesforce simulator served on a real socket; the edit is made through the
simulator's own REST API, as a Salesforce user would.

The test waits up to ``DEADLINE`` for the edit and then asserts the measured delay against
``INTERVAL + MARGIN``: ten intervals, room for a loaded 2-core machine (idle, it takes about
one interval), still far below the next pull a stopped loop would never make.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clientgraph.settings import SalesforceSettings, Settings, SyncSettings
from gateway.app import create_app
from systems.salesforce.app import API, create_simulator
from systems.salesforce.store import Store
from tests.conftest import graphql, http_client, migrated_engine
from tests.sync_jobs.test_worker import serving
from tests.systems.test_salesforce_simulator import SECRET, seeded_store

INTERVAL = 0.5
MARGIN = 4.5  # one pull of a dozen accounts and their deals: ~0.1 s idle, seconds when loaded
DEADLINE = 30.0  # how long to wait for the condition at all
ACCOUNTS = "{ accounts(first: 100) { totalCount nodes { name } } }"
FRESHNESS = "{ freshness { system objectType status lagSeconds lastError pausedUntil } }"


async def poll(client: httpx.AsyncClient, query: str, done: Any, timeout: float) -> Any:
    """Ask ``query`` until ``done(data)`` holds; the last data, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        data = (await graphql(client, query))["data"]
        if done(data):
            return data
        assert time.monotonic() < deadline, f"not within {timeout} s: {data}"
        await asyncio.sleep(0.05)


async def rename_in_salesforce(sf: str, account_id: str, name: str) -> None:
    async with httpx.AsyncClient(base_url=sf) as user:
        token = await user.post("/services/oauth2/token", data={"client_secret": SECRET})
        response = await user.patch(
            f"{API}/sobjects/Account/{account_id}",
            json={"Name": name},
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        assert response.status_code == 204, response.text


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str, Store]]:
    store = seeded_store()
    async with (
        migrated_engine("sqlite", tmp_path) as engine,
        serving(create_simulator(store, client_secret=SECRET, batch_size=50)) as sf,
    ):
        settings = Settings(
            database_url=engine.url.render_as_string(hide_password=False),
            salesforce=SalesforceSettings(base_url=sf, client_secret=SECRET),
            sync=SyncSettings(interval_seconds=INTERVAL),
        )
        app = create_app(settings)  # the real clock: lag is measured against now
        async with app.router.lifespan_context(app), http_client(app) as client:
            yield client, sf, store


async def test_an_edit_at_the_source_shows_within_the_interval(
    gateway: tuple[httpx.AsyncClient, str, Store],
) -> None:
    client, sf, store = gateway
    accounts = len(store.records["Account"])
    await poll(
        client, ACCOUNTS, lambda d: d["accounts"]["totalCount"] == accounts, timeout=DEADLINE
    )

    target = sorted(store.records["Account"])[0]
    await rename_in_salesforce(sf, target, "Renamed In Salesforce Ltd")
    edited = time.monotonic()
    await poll(
        client,
        ACCOUNTS,
        lambda d: "Renamed In Salesforce Ltd" in {n["name"] for n in d["accounts"]["nodes"]},
        timeout=DEADLINE,
    )
    delay = time.monotonic() - edited
    assert delay <= INTERVAL + MARGIN, f"the edit showed after {delay:.2f} s"

    freshness = (await graphql(client, FRESHNESS))["data"]["freshness"]
    assert {(f["system"], f["objectType"]) for f in freshness} == {
        ("salesforce", "account"),
        ("salesforce", "contact"),
        ("salesforce", "opportunity"),
    }
    for f in freshness:
        assert f["status"] == "OK" and f["lastError"] is None and f["pausedUntil"] is None
        assert 0 <= f["lagSeconds"] <= 3 * INTERVAL
