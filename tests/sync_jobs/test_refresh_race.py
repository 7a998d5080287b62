"""Two re-reads of one record race, and the stale one lands last: the newer version stays.

Webhook re-reads run as independent jobs (several workers, several gateways), so a re-read
that read the record *before* an edit can be applied *after* a re-read that saw the edit.
Only the version guard in ``sync_jobs/apply.py`` (``stored.source_version <=
incoming.source_version``) keeps the older answer out; this test fails when it is removed.

The simulator runs in-process; ``HeldAnswers`` wraps its transport and keeps the first answer
to ``GET …/sobjects/Account/<id>`` (already read, so it holds the old version) until the
test lets it go. The order is forced by events, not by sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import Account
from sync_jobs.connectors.salesforce.client import SalesforceClient
from sync_jobs.connectors.salesforce.connector import SalesforceConnector
from sync_jobs.refresh import refresh_records
from systems.salesforce.app import create_simulator
from systems.salesforce.store import Store
from tests.sync_jobs.test_refresh import live
from tests.systems.test_salesforce_simulator import SECRET, seeded_store

OLDER = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
NEWER = datetime(2026, 7, 1, 9, 0, 5, tzinfo=UTC)  # a later second: sources stamp seconds
WAIT_SECONDS = 30.0


class HeldAnswers(httpx.AsyncBaseTransport):
    """Passes requests on; the first answer whose URL path ends with ``suffix`` is read in
    full, then kept until ``release`` is set (``held`` says when it is in hand)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, suffix: str) -> None:
        self._inner = inner
        self._suffix = suffix
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if self.held.is_set() or not request.url.path.endswith(self._suffix):
            return response
        body = await response.aread()  # the source's answer as it was at this moment
        self.held.set()
        await asyncio.wait_for(self.release.wait(), WAIT_SECONDS)
        return httpx.Response(response.status_code, headers=response.headers, content=body)


@dataclass
class Race:
    store: Store
    connector: SalesforceConnector
    transport: HeldAnswers
    target: str  # the account whose first read is held


@pytest.fixture
async def race() -> AsyncIterator[Race]:
    store = seeded_store()
    app = create_simulator(store, client_secret=SECRET)
    target = sorted(store.records["Account"])[0]
    transport = HeldAnswers(httpx.ASGITransport(app=app), f"/sobjects/Account/{target}")
    async with httpx.AsyncClient(transport=transport) as http:
        connector = SalesforceConnector(SalesforceClient("http://sf.test", "cg", SECRET, http))
        yield Race(store, connector, transport, target)


async def test_a_stale_re_read_applied_after_a_newer_one_changes_nothing(
    engine: AsyncEngine, race: Race
) -> None:
    store, connector, transport, target = race.store, race.connector, race.transport, race.target
    store.touch("Account", target, {"Name": "Older Name Ltd"}, OLDER)
    slow = asyncio.create_task(refresh_records(engine, connector, "account", [target]))
    await asyncio.wait_for(transport.held.wait(), WAIT_SECONDS)  # it has read "Older"

    store.touch("Account", target, {"Name": "Newer Name Ltd"}, NEWER)
    fast = await refresh_records(engine, connector, "account", [target])
    transport.release.set()
    stale = await asyncio.wait_for(slow, WAIT_SECONDS)

    assert (fast.applied, stale.applied, stale.skipped) == (1, 0, 1)
    assert (await live(engine, Account))[target] == "Newer Name Ltd"
