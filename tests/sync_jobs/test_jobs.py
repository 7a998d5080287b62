"""The sync jobs against the Salesforce simulator and the real read model (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from arq import Retry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import SalesforceSettings, Settings, SyncSettings
from readmodel.tables import Account, Opportunity, SyncState, table_of
from sync_jobs.context import DEPS_KEY, SyncDeps, sync_deps
from sync_jobs.errors import TransientSourceError
from sync_jobs.jobs import pull_source, reconcile_source, refresh_records
from systems.salesforce.app import Faults, create_simulator
from systems.salesforce.store import Store
from tests.conftest import FIRM_NOW, gateway_client, graphql
from tests.sync_jobs.connectors.salesforce.test_connector import count
from tests.systems.test_salesforce_simulator import SECRET, seeded_store
from tests.telemetry.recording import attributes, named, record_spans

QUOTA_PAUSE = 600.0


@dataclass
class Org:
    """A simulated Salesforce org and the jobs' ctx pointed at it, with a clock we move."""

    store: Store
    faults: Faults
    simulator: Any
    deps: SyncDeps
    now: datetime = FIRM_NOW

    @property
    def ctx(self) -> dict[str, Any]:
        return {DEPS_KEY: self.deps}

    def later(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def settings_for(url: str, **sync: Any) -> Settings:
    return Settings(
        database_url=url,
        salesforce=SalesforceSettings(
            base_url="http://sf.test", client_secret=SECRET, requests_per_second=1000
        ),
        sync=SyncSettings(quota_pause_seconds=QUOTA_PAUSE, **sync),
    )


def url_of(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
async def org(engine: AsyncEngine) -> AsyncIterator[Org]:
    store, faults = seeded_store(), Faults()
    app = create_simulator(store, client_secret=SECRET, batch_size=25, faults=faults)
    holder: list[Org] = []
    settings = settings_for(url_of(engine), max_retries=3)
    transports = {"salesforce": httpx.ASGITransport(app=app)}
    async with sync_deps(
        settings, engine=engine, transports=transports, clock=lambda: holder[0].now
    ) as deps:
        holder.append(Org(store, faults, app.state.simulator, deps))
        yield holder[0]


async def states(engine: AsyncEngine) -> dict[str, Any]:
    t = table_of(SyncState)
    async with engine.connect() as conn:
        rows = await conn.execute(select(t).where(t.c.system == "salesforce"))
        return {r.object_type: r for r in rows}


async def test_a_pull_brings_every_object_parents_first(engine: AsyncEngine, org: Org) -> None:
    result = await pull_source(org.ctx, "salesforce")

    total = sum(len(org.store.records[t]) for t in ("Account", "Contact", "Opportunity"))
    assert result == {"source": "salesforce", "applied": total}
    rows = await states(engine)
    assert set(rows) == {"account", "contact", "opportunity"}
    assert all(r.last_success_at == FIRM_NOW and r.last_error is None for r in rows.values())


@pytest.mark.parametrize("backend", ["sqlite"])  # retry logic: the database plays no part
async def test_a_storm_of_429s_with_retry_after_ends_in_success(
    engine: AsyncEngine, org: Org
) -> None:
    org.faults.fail_next(429, "REQUEST_LIMIT_EXCEEDED_PER_SECOND", times=2, retry_after=0, after=2)

    result = await pull_source(org.ctx, "salesforce")

    assert not org.faults.queue  # both 429s were served and waited out
    assert result["applied"] == sum(len(r) for r in org.store.records.values())
    assert all(r.last_error is None for r in (await states(engine)).values())


@pytest.mark.parametrize("backend", ["sqlite"])  # retry logic: the database plays no part
async def test_a_transient_error_past_the_retries_is_recorded_then_cleared(
    engine: AsyncEngine, org: Org
) -> None:
    org.faults.fail_next(503, "SERVER_UNAVAILABLE", times=4, retry_after=0)  # 1 try + 3 retries

    with pytest.raises(TransientSourceError):
        await pull_source(org.ctx, "salesforce")
    assert "SERVER_UNAVAILABLE" in (await states(engine))["account"].last_error

    org.later(30)
    await pull_source(org.ctx, "salesforce")
    assert (await states(engine))["account"].last_error is None


async def test_a_daily_quota_pauses_the_source_until_it_resets(
    engine: AsyncEngine, org: Org
) -> None:
    org.faults.fail_next(403, "REQUEST_LIMIT_EXCEEDED", retry_after=1200)

    paused = await pull_source(org.ctx, "salesforce")

    until = FIRM_NOW + timedelta(seconds=1200)  # Retry-After beats the 600 s default pause
    assert paused == {"source": "salesforce", "paused_until": until.isoformat()}
    rows = await states(engine)
    assert {r.paused_until for r in rows.values()} == {until}
    assert all("REQUEST_LIMIT_EXCEEDED" in r.last_error for r in rows.values())
    async with gateway_client(url_of(engine)) as client:  # its clock is FIRM_NOW
        body = await graphql(client, "{ freshness { objectType status pausedUntil } }")
    assert {f["status"] for f in body["data"]["freshness"]} == {"PAUSED"}

    # while paused: no request reaches the source, webhook refreshes are deferred
    org.later(600)
    calls = org.simulator.used
    assert await pull_source(org.ctx, "salesforce") == paused
    with pytest.raises(Retry):
        await refresh_records(org.ctx, "salesforce", "account", ["001x"])
    assert org.simulator.used == calls and await count(engine, Account) == 0

    # after the pause: the pull resumes and the pause is lifted
    org.later(601)
    resumed = await pull_source(org.ctx, "salesforce")
    assert resumed["applied"] > 0 and await count(engine, Account) > 0
    rows = await states(engine)
    assert all(r.paused_until is None and r.last_error is None for r in rows.values())


@pytest.mark.parametrize("backend", ["sqlite"])  # retry logic: the database plays no part
async def test_without_retry_after_a_quota_pause_lasts_the_configured_time(
    engine: AsyncEngine, org: Org
) -> None:
    org.faults.fail_next(403, "REQUEST_LIMIT_EXCEEDED", after=1)  # the account page is read

    paused = await pull_source(org.ctx, "salesforce")

    assert paused["paused_until"] == (FIRM_NOW + timedelta(seconds=QUOTA_PAUSE)).isoformat()
    assert await count(engine, Account) > 0  # what was read before the quota ran out stays


async def test_the_reconcile_job_finds_a_hard_delete(engine: AsyncEngine, org: Org) -> None:
    await pull_source(org.ctx, "salesforce")
    gone = sorted(org.store.records["Opportunity"])[0]
    del org.store.records["Opportunity"][gone]  # vanished without a trace at the source

    reports = await reconcile_source(org.ctx, "salesforce")

    assert {r.object_type: r.tombstoned for r in reports}["opportunity"] == 1
    assert await count(engine, Opportunity) == len(org.store.records["Opportunity"])


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_pull_and_reconcile_spans_count_pages_records_and_repairs(
    engine: AsyncEngine,
    org: Org,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spans = record_spans(monkeypatch)
    await pull_source(org.ctx, "salesforce")
    gone = sorted(org.store.records["Opportunity"])[0]
    del org.store.records["Opportunity"][gone]  # a hard delete no change feed reported

    await reconcile_source(org.ctx, "salesforce")

    (pull,) = named(spans, "sync.pull")
    objects = {
        attributes(s)["clientgraph.object_type"]: s for s in named(spans, "sync.pull_object")
    }
    total = sum(len(org.store.records[t]) for t in ("Account", "Contact", "Opportunity")) + 1
    assert pull.parent is None and attributes(pull)["clientgraph.records"] == total
    assert set(objects) == {"account", "contact", "opportunity"}
    assert all(
        s.parent is not None and s.parent.span_id == pull.context.span_id for s in objects.values()
    )
    assert sum(attributes(s)["clientgraph.applied"] for s in objects.values()) == total  # type: ignore[misc]
    assert attributes(pull)["clientgraph.pages"] == sum(
        attributes(s)["clientgraph.pages"]
        for s in objects.values()  # type: ignore[misc]
    )
    (run,) = named(spans, "sync.reconcile")
    parts = {
        attributes(s)["clientgraph.object_type"]: s for s in named(spans, "sync.reconcile_object")
    }
    assert run.parent is None and attributes(run)["clientgraph.fixed"] == 1
    assert attributes(parts["opportunity"])["clientgraph.tombstoned"] == 1
    assert attributes(parts["account"])["clientgraph.checked"] == len(org.store.records["Account"])
    assert all(
        p.parent is not None and p.parent.span_id == run.context.span_id for p in parts.values()
    )
