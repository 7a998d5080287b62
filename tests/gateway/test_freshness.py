# ruff: noqa: F811 - `org` is the Salesforce simulator fixture, imported, and each test's argument
"""Freshness over HTTP: every configured source × object has a state, and answers say which
ones are behind (``extensions.freshness``) — never ``stale: false`` on what was not synced.

The gateway runs with a Redis URL so that it schedules nothing itself: the tests play the
worker with the real ``pull_source`` job against the Salesforce simulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import SalesforceSettings, Settings, TrytonSettings
from gateway.app import create_app
from sync_jobs.connectors.salesforce.connector import SalesforceConnector
from sync_jobs.connectors.tryton.connector import TrytonConnector
from sync_jobs.errors import TransientSourceError
from sync_jobs.jobs import pull_source
from tests.conftest import FIRM_NOW, REDIS_URL, graphql, http_client
from tests.sync_jobs.test_jobs import Org, org, url_of  # noqa: F401 - the fixture

FRESHNESS = "{ freshness { system objectType status lastError } }"
SALESFORCE = set(SalesforceConnector.objects)
TRYTON = set(TrytonConnector.objects)


@asynccontextmanager
async def gateway(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """Salesforce and Tryton configured; the clock pinned to the simulator's."""
    settings = Settings(
        database_url=url_of(engine),
        redis_url=REDIS_URL,  # jobs would go to a worker: this gateway pulls nothing itself
        salesforce=SalesforceSettings(base_url="http://sf.test"),
        tryton=TrytonSettings(base_url="http://tryton.test"),
    )
    app = create_app(settings, clock=lambda: FIRM_NOW)
    async with app.router.lifespan_context(app), http_client(app) as client:
        yield client


async def ask(engine: AsyncEngine) -> tuple[dict[tuple[str, str], Any], dict[str, Any]]:
    async with gateway(engine) as client:
        body = await graphql(client, FRESHNESS)
    rows = {(r["system"], r["objectType"]): r for r in body["data"]["freshness"]}
    return rows, body["extensions"]["freshness"]


def statuses(rows: dict[tuple[str, str], Any], system: str) -> set[str]:
    return {r["status"] for (s, _), r in rows.items() if s == system}


def behind(extension: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(b["system"], b["objectType"]): b["status"] for b in extension["behind"]}


async def test_a_configured_source_never_synced_is_never_and_stale(engine: AsyncEngine) -> None:
    rows, extension = await ask(engine)

    assert set(rows) == {("salesforce", o) for o in SALESFORCE} | {("tryton", o) for o in TRYTON}
    assert statuses(rows, "salesforce") == statuses(rows, "tryton") == {"NEVER"}
    assert extension["stale"] is True and extension["oldestSourceSyncAt"] is None
    assert behind(extension) == {key: "NEVER" for key in rows}


async def test_a_synced_source_is_ok_while_the_other_stays_never(
    engine: AsyncEngine, org: Org
) -> None:
    await pull_source(org.ctx, "salesforce")

    rows, extension = await ask(engine)

    assert statuses(rows, "salesforce") == {"OK"} and statuses(rows, "tryton") == {"NEVER"}
    assert extension["stale"] is True
    assert behind(extension) == {("tryton", o): "NEVER" for o in TRYTON}


async def test_an_outage_marks_every_object_of_the_source_failing(
    engine: AsyncEngine, org: Org
) -> None:
    await pull_source(org.ctx, "salesforce")
    org.later(30)
    org.faults.fail_next(503, "SERVER_UNAVAILABLE", times=100, retry_after=0)

    with pytest.raises(TransientSourceError):
        await pull_source(org.ctx, "salesforce")

    rows, extension = await ask(engine)
    failing = {key: r for key, r in rows.items() if key[0] == "salesforce"}
    assert {r["status"] for r in failing.values()} == {"FAILING"}
    assert all("SERVER_UNAVAILABLE" in r["lastError"] for r in failing.values())
    assert {k: v for k, v in behind(extension).items() if k[0] == "salesforce"} == {
        key: "FAILING" for key in failing
    }


async def test_a_recovered_source_is_ok_again(engine: AsyncEngine, org: Org) -> None:
    org.faults.fail_next(503, "SERVER_UNAVAILABLE", times=100, retry_after=0)
    with pytest.raises(TransientSourceError):
        await pull_source(org.ctx, "salesforce")
    org.faults.queue.clear()
    org.later(30)

    await pull_source(org.ctx, "salesforce")

    rows, _ = await ask(engine)
    assert statuses(rows, "salesforce") == {"OK"}
    assert all(r["lastError"] is None for key, r in rows.items() if key[0] == "salesforce")


def test_lateness_is_remembered_only_until_a_status_can_change() -> None:
    """``extensions.freshness``' ``behind`` for the compiled path's states is kept between the
    instants where a status changes (a pull's stale limit, a pause's end), and recomputed
    across them: every ``now`` gets what ``behind`` says for it."""
    from datetime import UTC, datetime, timedelta

    from gateway.consistency import _lateness
    from readmodel.reads.freshness import SourceState, behind

    base = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
    states = (
        SourceState("salesforce", "account", last_success_at=base),
        SourceState(
            "netsuite",
            "invoice",
            last_success_at=base + timedelta(seconds=40),
            paused_until=base + timedelta(seconds=70),
        ),
        SourceState("tryton", "invoice", last_success_at=base, last_error="down"),
    )
    interval = 30.0  # stale after 90 s
    moments = [base + timedelta(seconds=s) for s in range(0, 200, 1)]
    moments += [base + timedelta(seconds=90, microseconds=d) for d in (-1, 0, 1, 999, 1001)]
    for now in moments + moments[::-1]:
        expected = [
            (s.system, s.object_type, status.name) for s, status in behind(states, now, interval)
        ]
        got = [
            (b["system"], b["objectType"], b["status"])
            for b in _lateness(states, now, interval).behind
        ]
        assert got == expected, now
    statuses = {
        m: [b["status"] for b in _lateness(states, base + timedelta(seconds=m), interval).behind]
        for m in (60, 100, 150)
    }
    assert statuses == {
        60: ["FAILING"],
        100: ["STALE", "FAILING"],
        150: ["STALE", "STALE", "FAILING"],
    }
