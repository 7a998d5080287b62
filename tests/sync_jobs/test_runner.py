"""The embedded runner: jobs handed to it run in-process, with arq's retry rules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import Account, table_of
from sync_jobs.context import sync_deps
from sync_jobs.dispatch import InProcessDispatcher, QueueUnavailable
from sync_jobs.runner import InProcessRunner, UnknownJob
from systems.salesforce.app import Faults, create_simulator
from tests.sync_jobs.connectors.salesforce.test_connector import count
from tests.sync_jobs.test_jobs import settings_for, url_of
from tests.systems.test_salesforce_simulator import SECRET, seeded_store


async def eventually(check: object, timeout: float = 5.0) -> None:
    """Wait until the coroutine function ``check`` returns true."""
    for _ in range(int(timeout / 0.02)):
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the runner did not get there in time")


@pytest.fixture(params=["sqlite"])  # scheduling logic: one backend is enough
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def dispatcher_and_faults(
    engine: AsyncEngine,
) -> AsyncIterator[tuple[InProcessDispatcher, Faults]]:
    faults = Faults()
    app = create_simulator(seeded_store(), client_secret=SECRET, batch_size=25, faults=faults)
    settings = settings_for(url_of(engine), max_retries=1)
    transports = {"salesforce": httpx.ASGITransport(app=app)}
    async with sync_deps(settings, engine=engine, transports=transports) as deps:
        runner = InProcessRunner(deps, [], interval=3600)  # no schedule: only handed jobs
        await runner.start()
        try:
            yield InProcessDispatcher(runner), faults
        finally:
            await runner.stop()


async def test_an_enqueued_pull_runs_in_process(
    engine: AsyncEngine, dispatcher_and_faults: tuple[InProcessDispatcher, Faults]
) -> None:
    dispatcher, _ = dispatcher_and_faults
    assert await dispatcher.enqueue("pull_source", "salesforce")
    await eventually(lambda: count(engine, Account))


async def test_a_transient_failure_is_retried_after_its_deferral(
    engine: AsyncEngine, dispatcher_and_faults: tuple[InProcessDispatcher, Faults]
) -> None:
    dispatcher, faults = dispatcher_and_faults
    account_id = sorted(seeded_store().records["Account"])[0]
    faults.fail_next(503, "SERVER_UNAVAILABLE", times=2, retry_after=0)  # one try + one retry

    await dispatcher.enqueue("refresh_records", "salesforce", "account", [account_id])

    async def arrived() -> bool:
        t = table_of(Account)
        async with engine.connect() as conn:
            stmt = select(t.c.id).where(t.c.source_id == account_id)
            return (await conn.execute(stmt)).first() is not None

    await eventually(arrived)
    assert not faults.queue


async def test_unknown_jobs_and_a_runnerless_dispatcher_are_refused() -> None:
    with pytest.raises(UnknownJob):
        await InProcessDispatcher(None).enqueue("pull_everything")
    with pytest.raises(QueueUnavailable):
        await InProcessDispatcher(None).enqueue("pull_source", "salesforce")


class HeldAnswers(httpx.AsyncBaseTransport):
    """Answers record reads from the simulator, but holds the first answer until released:
    the network delay of a slow source, so a second hint can arrive mid-refresh."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.release, self.held = inner, asyncio.Event(), asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if "/sobjects/" in request.url.path and not self.held.is_set():
            self.held.set()
            await self.release.wait()
        return response


async def test_a_hint_arriving_mid_refresh_is_not_swallowed(engine: AsyncEngine) -> None:
    store = seeded_store()
    account_id = sorted(store.records["Account"])[0]
    held = HeldAnswers(httpx.ASGITransport(app=create_simulator(store, client_secret=SECRET)))
    settings = settings_for(url_of(engine))
    async with sync_deps(settings, engine=engine, transports={"salesforce": held}) as deps:
        runner = InProcessRunner(deps, [], interval=3600)
        await runner.start()
        try:
            dispatcher = InProcessDispatcher(runner)
            await dispatcher.enqueue("refresh_records", "salesforce", "account", [account_id])
            await held.held.wait()  # the first refresh has read the old name
            later = datetime.now(UTC) + timedelta(seconds=5)
            store.touch("Account", account_id, {"Name": "Renamed Mid-Refresh"}, later)
            await dispatcher.enqueue("refresh_records", "salesforce", "account", [account_id])
            held.release.set()

            async def renamed() -> bool:
                t = table_of(Account)
                async with engine.connect() as conn:
                    stmt = select(t.c.name).where(t.c.source_id == account_id)
                    return (await conn.execute(stmt)).scalar() == "Renamed Mid-Refresh"

            await eventually(renamed)
        finally:
            await runner.stop()


async def test_the_embedded_runner_takes_the_days_forecast_snapshot(engine: AsyncEngine) -> None:
    from readmodel.forecasts.snapshots import SNAPSHOT
    from tests.forecasts.test_forecast_accuracy import accuracy_firm
    from tests.readmodel.firm_builder import build

    await build(engine, accuracy_firm)  # a 3,000.00 Strategy milestone due 2026-07-15
    day = datetime(2026, 6, 30, 2, 17, tzinfo=UTC)

    async def stored() -> list[tuple[object, ...]]:
        s = SNAPSHOT.c
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(s.taken_on, s.month, s.amount_minor).where(s.amount_minor != 0)
            )
            return [tuple(r) for r in rows]

    settings = settings_for(url_of(engine))
    async with sync_deps(settings, engine=engine, clock=lambda: day) as deps:
        runner = InProcessRunner(deps, [], interval=3600, snapshot_after=0)
        await runner.start()
        try:
            await eventually(stored)
        finally:
            await runner.stop()
    assert await stored() == [(day.date(), day.date().replace(month=7, day=1), 300_000)]


async def test_a_new_deployment_reconstructs_its_forecast_history_once(engine: AsyncEngine) -> None:
    """forecasts.history_months (the demo's 12): the first snapshot of a deployment with no
    history first takes one on the 1st of each past month; a later day adds only its own."""
    from readmodel.forecasts.snapshots import SNAPSHOT
    from sync_jobs.context import DEPS_KEY
    from sync_jobs.forecast_snapshots import snapshot_forecast
    from tests.readmodel.firm_builder import FirmBuilder, build

    async def firm(b: FirmBuilder, ids: dict[str, object]) -> None:
        acme = await b.account("Acme")
        under_way = {
            "status": "active",
            "start_date": datetime(2026, 1, 5).date(),
            "end_date": datetime(2026, 9, 30).date(),
        }
        ps = await b.project(acme, "PS", "milestone", **under_way)
        await b.milestone(ps, 300_000, "planned", datetime(2026, 7, 15).date())

    await build(engine, firm)
    settings = settings_for(url_of(engine))
    forecasts = settings.forecasts.model_copy(update={"history_months": 2})
    settings = settings.model_copy(update={"forecasts": forecasts})

    async def days_stored() -> list[object]:
        async with engine.connect() as conn:
            rows = await conn.execute(select(SNAPSHOT.c.taken_on).distinct())
            return sorted(r[0] for r in rows)

    for now in (datetime(2026, 6, 30, 2, 17, tzinfo=UTC), datetime(2026, 7, 1, 2, 17, tzinfo=UTC)):
        async with sync_deps(settings, engine=engine, clock=lambda now=now: now) as deps:
            await snapshot_forecast({DEPS_KEY: deps})
    first = [datetime(2026, m, d).date() for m, d in ((4, 1), (5, 1), (6, 30), (7, 1))]
    assert await days_stored() == first
