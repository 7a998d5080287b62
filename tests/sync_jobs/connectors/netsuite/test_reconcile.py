"""The scheduled ``reconcile_source`` job against the NetSuite simulator: a hard delete is
tombstoned, and a live record the id listing missed is re-read and kept, never tombstoned.

The listing can miss a live record for real: ``live_ids`` pages SuiteQL by offset, so a
record deleted on a page already read shifts every later record one place up, and the first
record of the next page is skipped.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import Settings, SyncSettings
from readmodel.tables import metadata
from sync_jobs.context import DEPS_KEY, SyncDeps
from sync_jobs.jobs import reconcile_source
from tests.sync_jobs.connectors.netsuite.conftest import PAGE_SIZE, Account
from tests.sync_jobs.connectors.netsuite.test_sync_into_read_model import pull_crm, pull_erp

LISTING = "SELECT id, lastmodifieddate FROM invoice"


async def deleted_at(engine: AsyncEngine) -> dict[str, Any]:
    t = metadata.tables["invoice"]
    async with engine.connect() as conn:
        return dict((await conn.execute(select(t.c.source_id, t.c.deleted_at))).all())


async def reconcile(engine: AsyncEngine, account: Account) -> dict[str, Any]:
    """Run the job as the worker does; the invoice report.

    Without the rolling content slice: which ids it re-reads depends on the hour, and a
    re-read finds the victim deleted one reconciliation early in some hours.
    """
    sync = SyncSettings(content_reconcile_period_seconds=0)
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, sync=sync)
    deps = SyncDeps(settings, engine, {"netsuite": account.connector})
    reports = await reconcile_source({DEPS_KEY: deps}, "netsuite")
    (invoices,) = [r for r in reports if r.object_type == "invoice"]
    return {"tombstoned": invoices.tombstoned, "repaired": invoices.repaired}


class DeleteDuringListing:
    """After the invoice listing's first page is served, a user deletes ``victim`` (listed on
    that page); records what the listing returned."""

    def __init__(self, account: Account, victim: str) -> None:
        self.account, self.victim, self.listed = account, victim, set[str]()

    async def __call__(self, response: httpx.Response) -> None:
        request = response.request
        if not request.url.path.endswith("/suiteql") or LISTING not in request.content.decode():
            return
        await response.aread()
        self.listed |= {str(r["id"]) for r in json.loads(response.content)["items"]}
        if request.url.params["offset"] == "0":
            self.account.faults.delete_before_next_call("invoice", self.victim)


async def test_a_deleted_invoice_is_tombstoned_and_one_the_listing_skipped_is_kept(
    engine: AsyncEngine, account: Account
) -> None:
    # Given a synced firm, an invoice deleted in NetSuite, and a deletion during the listing
    await pull_crm(engine, account.rows)
    await pull_erp(engine, account)
    ids = sorted(account.records("invoice"), key=int)
    gone = ids.pop()
    account.store.delete("invoice", gone)
    victim, skipped = ids[0], ids[PAGE_SIZE]  # skipped: first of page 2 until victim goes
    listing = DeleteDuringListing(account, victim)
    account.http.event_hooks["response"].append(listing)

    # When
    first = await reconcile(engine, account)

    # Then the deletion is tombstoned; the skipped record, missing from the list, is not
    assert skipped not in listing.listed and victim in listing.listed
    state = await deleted_at(engine)
    assert state[gone] is not None
    assert state[skipped] is None, "a live record missing from the id list was tombstoned"
    assert state[victim] is None  # listed as live: found at the next reconciliation
    assert first == {"tombstoned": 1, "repaired": 0}

    account.http.event_hooks["response"].remove(listing)
    assert await reconcile(engine, account) == {"tombstoned": 1, "repaired": 0}
    state = await deleted_at(engine)
    assert state[victim] is not None and state[skipped] is None
