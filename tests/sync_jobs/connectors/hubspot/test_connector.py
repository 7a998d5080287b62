"""The HubSpot connector against the simulator on a real socket: pulls into the read model,
the search's 10,000-result window, archived records, re-reads, id sets, faults and limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import metadata
from sync_jobs.connectors.hubspot import mapping
from sync_jobs.connectors.hubspot.connector import HubSpotConnector
from sync_jobs.errors import LoginFailed, PermanentSourceError, QuotaExhausted
from sync_jobs.pull import PullReport, pull_object
from tests.sync_jobs.connectors.hubspot.conftest import (
    HubSpot,
    hubspot_connector,
    hubspot_rows,
    serve_hubspot,
)


async def pull_all(engine: AsyncEngine, connector: HubSpotConnector) -> list[PullReport]:
    return [
        await pull_object(engine, connector, name, account_master="hubspot")
        for name in connector.objects
    ]


async def live_rows(engine: AsyncEngine, table: str) -> dict[str, dict[str, object]]:
    t = metadata.tables[table]
    async with engine.connect() as conn:
        stmt = select(t).where(t.c.source_system == "hubspot", t.c.deleted_at.is_(None))
        return {r["source_id"]: dict(r) for r in (await conn.execute(stmt)).mappings()}


async def test_a_first_pull_brings_every_company_contact_and_deal_linked(
    engine: AsyncEngine, hubspot: HubSpot
) -> None:
    async with hubspot_connector(hubspot.url) as connector:
        reports = await pull_all(engine, connector)

    assert all(r.error is None and r.parked == 0 for r in reports), reports
    accounts = await live_rows(engine, "account")
    deals = await live_rows(engine, "opportunity")
    assert set(accounts) == set(hubspot.store.objects["companies"])
    assert set(await live_rows(engine, "contact")) == set(hubspot.store.objects["contacts"])
    assert set(deals) == set(hubspot.store.objects["deals"])
    by_id = {a["id"]: source_id for source_id, a in accounts.items()}
    for deal_id, deal in deals.items():  # linked through the v4 associations
        assert by_id[deal["account_id"]] == hubspot.store.company_of["deals"][deal_id]
    seeded = {o["source_id"]: o for o in hubspot.rows["opportunity"]}
    assert all(d["amount_minor"] == seeded[i]["amount_minor"] for i, d in deals.items())


async def test_the_next_pull_reads_only_what_changed_and_archived_records_are_deleted(
    engine: AsyncEngine, hubspot: HubSpot
) -> None:
    store = hubspot.store
    async with hubspot_connector(hubspot.url) as connector:
        await pull_all(engine, connector)
        deal_id, gone = sorted(store.objects["deals"])[:2]
        now = datetime.now(UTC)
        store.update("deals", deal_id, {"amount": "4321.09"}, now)
        store.archive("deals", gone, now + timedelta(milliseconds=5))
        report = await pull_object(engine, connector, "opportunity", account_master="hubspot")

    deals = await live_rows(engine, "opportunity")
    assert deals[deal_id]["amount_minor"] == 432109
    assert gone not in deals
    assert report.applied == 2  # the edit and the deletion; nothing else was rewritten


async def test_a_pull_moves_its_search_window_past_the_result_limit(engine: AsyncEngine) -> None:
    """The simulator refuses paging past 15 results (HubSpot: 10,000); 5 a page."""
    with serve_hubspot(hubspot_rows(40), search_window=15) as hubspot:
        async with hubspot_connector(hubspot.url, page_size=5, search_window=15) as connector:
            report = await pull_object(engine, connector, "account", account_master="hubspot")
        async with hubspot_connector(hubspot.url, page_size=5, search_window=10**6) as blind:
            with pytest.raises(PermanentSourceError, match="VALIDATION_ERROR"):
                async for _ in blind.pull("account", None):
                    pass

    assert report.error is None and len(hubspot.store.objects["companies"]) > 15
    assert set(await live_rows(engine, "account")) == set(hubspot.store.objects["companies"])


async def test_fetch_re_reads_live_records_and_reports_archived_ones_deleted(
    hubspot: HubSpot,
) -> None:
    store = hubspot.store
    live, gone = sorted(store.objects["contacts"])[:2]
    store.archive("contacts", gone, datetime.now(UTC))
    async with hubspot_connector(hubspot.url) as connector:
        rows = {r.source_id: r for r in await connector.fetch("contact", [live, gone])}
        ids = await connector.live_ids("contact")

    assert rows[live].deleted_at is None and rows[live].values["account_id"].source_id
    assert rows[gone].deleted_at is not None
    assert set(ids) == set(store.objects["contacts"]) - {gone}


async def test_rate_limits_and_outages_are_waited_out(hubspot: HubSpot) -> None:
    hubspot.faults.rate_limit(times=2)
    hubspot.faults.outage(times=1, status=502)  # on the search, a read sent as POST
    async with hubspot_connector(hubspot.url, retries=4) as connector:
        pages = [page async for page in connector.pull("account", None)]
    assert sum(len(p.rows) for p in pages) == len(hubspot.store.objects["companies"])
    assert not hubspot.faults.queue
    assert connector._client.rate_limit["x-hubspot-ratelimit-max"] == "190"


async def test_the_daily_limit_is_a_quota_and_a_bad_token_a_login_error(hubspot: HubSpot) -> None:
    hubspot.faults.rate_limit(times=1, policy="DAILY")
    async with hubspot_connector(hubspot.url, retries=0) as connector:
        with pytest.raises(QuotaExhausted, match="DAILY"):
            await connector.live_ids("account")
    async with hubspot_connector(hubspot.url, token="wrong") as connector:
        with pytest.raises(LoginFailed, match="CLIENTGRAPH_HUBSPOT__ACCESS_TOKEN"):
            await connector.live_ids("account")


async def test_the_rolling_rate_limit_is_met_with_429s_and_still_completes(
    engine: AsyncEngine,
) -> None:
    """A 10-second window of 6 calls: the pull meets HubSpot's TEN_SECONDLY_ROLLING 429."""
    with serve_hubspot(hubspot_rows(3), per_ten_seconds=6) as hubspot:
        async with hubspot_connector(hubspot.url, retries=0) as connector:
            reports = []
            with pytest.raises(Exception, match="TEN_SECONDLY_ROLLING"):
                reports = await pull_all(engine, connector)
    assert reports == []
    t = metadata.tables["account"]
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(t))).scalar_one() > 0


async def test_a_record_indexed_late_is_read_by_the_next_pulls_overlap(
    engine: AsyncEngine, hubspot: HubSpot
) -> None:
    """HubSpot's search trails its writes: a deal saved 20 s before the newest one read can
    become searchable only afterwards. The next pull's overlap still reads it."""
    store = hubspot.store
    async with hubspot_connector(hubspot.url) as connector:
        await pull_all(engine, connector)
        newest = max(mapping.stamp(r, "companies") for r in store.live("companies"))
        late = store.put(
            "companies", "1999", {"name": "Indexed Late Ltd"}, newest - timedelta(seconds=20)
        )
        assert late["id"] == "1999"
        await pull_object(engine, connector, "account", account_master="hubspot")

    assert (await live_rows(engine, "account"))["1999"]["name"] == "Indexed Late Ltd"
