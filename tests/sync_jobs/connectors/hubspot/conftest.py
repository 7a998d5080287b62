"""The HubSpot simulator on a real socket (uvicorn in a thread), and a connector for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from clientgraph.settings import HubSpotSettings, Settings, SyncSettings, WritesSettings
from sync_jobs.connectors.hubspot.client import HubSpotClient
from sync_jobs.connectors.hubspot.connector import HubSpotConnector
from sync_jobs.connectors.registry import open_http
from systems.hubspot.app import SEARCH_WINDOW, create_simulator
from systems.hubspot.faults import Faults, RateLimits
from systems.hubspot.store import Store, from_seed, with_hubspot_ids
from tests.gateway.test_webhooks import serve_in_thread
from tests.systems.test_netsuite_simulator import seeded_rows

TOKEN = "pat-na1-simulated-token"
Rows = dict[str, list[dict[str, Any]]]
HUBSPOT_OWNS_DEALS = {
    "opportunity": "hubspot",
    **{e: "netsuite" for e in ("project", "milestone", "time_entry", "invoice", "payment")},
    "change_order": "netsuite",
}


@dataclass
class HubSpot:
    url: str
    store: Store
    faults: Faults
    limits: RateLimits
    rows: Rows


def hubspot_rows(accounts: int = 6) -> Rows:
    return with_hubspot_ids(seeded_rows(accounts))


@contextmanager
def serve_hubspot(
    rows: Rows | None = None, *, search_window: int = SEARCH_WINDOW, per_ten_seconds: int = 190
) -> Iterator[HubSpot]:
    rows = rows or hubspot_rows()
    store, faults = from_seed(rows), Faults()
    limits = RateLimits(max_per_interval=per_ten_seconds)
    app = create_simulator(
        store, access_token=TOKEN, faults=faults, limits=limits, search_window=search_window
    )
    with serve_in_thread(app) as url:
        yield HubSpot(url, store, faults, limits, rows)


@pytest.fixture
def hubspot() -> Iterator[HubSpot]:
    with serve_hubspot() as served:
        yield served


def hubspot_settings(
    url: str, *, database_url: str = "", retries: int = 3, interval: float = 30.0, **hs: Any
) -> Settings:
    options: dict[str, Any] = {"access_token": TOKEN, "requests_per_second": 1000, **hs}
    return Settings(
        database_url=database_url or "sqlite+aiosqlite:///:memory:",
        hubspot=HubSpotSettings(base_url=url, **options),
        sync=SyncSettings(
            account_master="hubspot",
            max_retries=retries,
            interval_seconds=interval,
            reconcile_interval_seconds=max(interval, 3600),
        ),
        writes=WritesSettings(ownership=HUBSPOT_OWNS_DEALS),
    )


@asynccontextmanager
async def hubspot_connector(
    url: str, *, token: str = TOKEN, retries: int = 3, **options: Any
) -> AsyncIterator[HubSpotConnector]:
    """A connector through the same limited HTTP client the worker builds."""
    async with open_http("hubspot", hubspot_settings(url, retries=retries)) as http:
        yield HubSpotConnector(HubSpotClient(url, token, http), **options)
