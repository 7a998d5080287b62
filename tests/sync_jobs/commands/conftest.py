"""A firm behind both simulators (in-process ASGI), a read model pulled from them, and helpers
to write command rows and run ``apply_command`` the way a worker would."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from arq import Retry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import NetSuiteSettings, SalesforceSettings, Settings, SyncSettings
from readmodel import command_intake, command_log
from readmodel.command_log import CommandStatus, NewCommand, input_hash, source_key
from readmodel.tables import metadata
from readmodel.types import utcnow
from sync_jobs.commands.execute import apply_command
from sync_jobs.context import DEPS_KEY, SyncDeps, close_deps, open_deps
from sync_jobs.pull import pull_object
from systems.fault_proxy import FaultLayer, create_proxy
from systems.netsuite import app as netsuite_app
from systems.netsuite import faults as netsuite_faults
from systems.netsuite import store as netsuite_store
from systems.salesforce import app as salesforce_app
from systems.salesforce import store as salesforce_store
from tests.systems.test_netsuite_simulator import CERTIFICATES, SECRET, m2m_settings, seeded_rows

Rows = dict[str, list[dict[str, Any]]]
ACCOUNTS = 6  # a small source with records of every kind (milestones, submitted time, deals
# in every stage)


@dataclass
class Sources:
    """The firm's rows as generated, both simulators' stores and faults, and the job deps."""

    rows: Rows
    sf: salesforce_store.Store
    sf_faults: salesforce_app.Faults
    ns: netsuite_store.Store
    ns_faults: netsuite_faults.Faults
    deps: SyncDeps
    # in front of each simulator (``lossy_sources``): the answers to lose
    layers: dict[str, FaultLayer] = field(default_factory=dict)

    @property
    def engine(self) -> AsyncEngine:
        return self.deps.engine


def settings_for(
    database_url: str, *, sf_url: str, ns_url: str, account_master: str = "salesforce"
) -> Settings:
    """Both sources configured; ``max_retries=0`` so no 429/503 is absorbed below the job."""
    fast = {"requests_per_second": 1000}
    return Settings(
        database_url=database_url,
        salesforce=SalesforceSettings(base_url=sf_url, client_secret=SECRET, **fast),
        netsuite=NetSuiteSettings(base_url=ns_url, **m2m_settings(), **fast),
        sync=SyncSettings(max_retries=0, account_master=account_master),
    )


CLIENTS = {"salesforce": "account", "netsuite": "customer"}  # each system's client object


async def pull_everything(deps: SyncDeps) -> None:
    """The account master's clients first, then the CRM, then the ERP: every target of a
    command exists."""
    master = deps.settings.sync.account_master
    order = [(master, CLIENTS[master])]
    order += [
        (s, o)
        for s in ("salesforce", "netsuite")
        for o in deps.source(s).objects
        if (s, o) not in order
    ]
    for system, object_type in order:
        connector = deps.source(system)
        report = await pull_object(deps.engine, connector, object_type, account_master=master)
        assert report.error is None and report.parked == 0, report


@pytest.fixture
async def sources(engine: AsyncEngine) -> AsyncIterator[Sources]:
    async with open_sources(engine) as opened:
        yield opened


@pytest.fixture
async def lossy_sources(engine: AsyncEngine) -> AsyncIterator[Sources]:
    """The simulators behind fault proxies (``systems.fault_proxy``) that lose the first
    answer to every write, once the source has acted on it; reads pass."""
    async with open_sources(engine, lossy=True) as opened:
        yield opened


@asynccontextmanager
async def open_sources(
    engine: AsyncEngine,
    *,
    lossy: bool = False,
    wrap: Callable[[str, httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None,
    lease_seconds: float | None = None,
    account_master: str = "salesforce",
) -> AsyncIterator[Sources]:
    """The firm; ``wrap`` puts a transport of the test's in front of a simulator's,
    ``lease_seconds`` shortens a running command's lease and ``account_master`` names the
    system that owns the client list (``settings.sync.account_master``)."""
    rows = seeded_rows(ACCOUNTS)
    sf, sf_faults = salesforce_store.from_seed(rows), salesforce_app.Faults()
    ns, ns_faults = netsuite_store.from_seed(rows), netsuite_faults.Faults()
    apps = {
        "salesforce": salesforce_app.create_simulator(sf, client_secret=SECRET, faults=sf_faults),
        "netsuite": netsuite_app.create_simulator(ns, certificates=CERTIFICATES, faults=ns_faults),
    }
    urls = {"salesforce": "http://sf.test", "netsuite": "http://ns.test"}
    layers = {system: FaultLayer(urls[system], rate=0.0) for system in apps}
    transports = {system: httpx.ASGITransport(app=app) for system, app in apps.items()}
    if lossy:
        transports = {
            system: httpx.ASGITransport(app=create_proxy(layers[system], transport))
            for system, transport in transports.items()
        }
    if wrap is not None:
        transports = {system: wrap(system, transport) for system, transport in transports.items()}
    url = engine.url.render_as_string(hide_password=False)
    settings = settings_for(
        url, sf_url=urls["salesforce"], ns_url=urls["netsuite"], account_master=account_master
    )
    if lease_seconds is not None:
        writes = settings.writes.model_copy(update={"lease_seconds": lease_seconds})
        settings = settings.model_copy(update={"writes": writes})
    deps = await open_deps(settings, engine=engine, transports=transports)
    try:
        await pull_everything(deps)  # before any answer is lost
        for layer in layers.values():
            layer.lose_first_answers = lossy
        yield Sources(rows, sf, sf_faults, ns, ns_faults, deps, layers)
    finally:
        await close_deps(deps)


async def add_command(
    engine: AsyncEngine, kind: str, system: str, payload: dict[str, Any], *, max_attempts: int = 8
) -> int:
    """An accepted command, logged as the accepting side logs it."""
    new = NewCommand(
        kind=kind,
        target_system=system,
        target_object=kind.rsplit("_", 1)[-1],
        target_source_id=None,
        idempotency_key=uuid.uuid4().hex,
        input_hash=input_hash(kind, payload),
        payload=payload,
        correlation_id=uuid.uuid4().hex,
    )
    accepted = await command_intake.accept(engine, new, now=utcnow())
    command_id = int(accepted.row.id)
    if max_attempts != accepted.row.max_attempts:
        await set_command(engine, command_id, CommandStatus.ACCEPTED, max_attempts=max_attempts)
    return command_id


async def command(engine: AsyncEngine, command_id: int) -> dict[str, Any]:
    async with engine.connect() as conn:
        row = await command_log.get(conn, command_id)
    assert row is not None
    return dict(row._mapping)


async def set_command(
    engine: AsyncEngine, command_id: int, status: CommandStatus, **fields: Any
) -> None:
    """Move a command to ``status`` from wherever it is (a crash, an operator's retry)."""
    async with engine.begin() as conn:
        moved = await command_log.transition(
            conn, command_id, set(CommandStatus), status, now=utcnow(), **fields
        )
    assert moved


async def run_once(sources: Sources, command_id: int, job_try: int = 1) -> dict[str, Any] | float:
    """One run of the job: its report, or the seconds it asked to be deferred."""
    try:
        report: dict[str, Any] = await apply_command(
            {DEPS_KEY: sources.deps, "job_try": job_try}, command_id
        )
    except Retry as retry:
        return (retry.defer_score or 0) / 1000
    return report


async def skipped(sources: Sources, command_id: int) -> bool:
    """Whether a run left the command alone (it was final)."""
    outcome = await run_once(sources, command_id)
    return isinstance(outcome, dict) and outcome.get("skipped") is True


async def run_to_the_end(sources: Sources, command_id: int, max_runs: int = 20) -> list[float]:
    """Re-run as arq would after each ``Retry`` (without the wait); the deferrals asked."""
    deferrals: list[float] = []
    for run in range(1, max_runs + 1):
        outcome = await run_once(sources, command_id, run)
        if not isinstance(outcome, float):
            return deferrals
        deferrals.append(outcome)
    raise AssertionError(f"command {command_id} still retrying after {max_runs} runs")


def at_source(store: netsuite_store.Store, record_type: str, logged: dict[str, Any]) -> list[Any]:
    """The source's records written by the command ``logged`` (found by its external id)."""
    key = source_key(logged)
    return [r for r in store.rows(record_type) if r.get("externalId") == key]


async def read_model_row(engine: AsyncEngine, table: str, source_id: str) -> dict[str, Any]:
    t = metadata.tables[table]
    async with engine.connect() as conn:
        stmt = select(t).where(t.c.source_id == source_id)
        return dict((await conn.execute(stmt)).mappings().one())


def first(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    return next(r for r in rows if all(r.get(k) == v for k, v in match.items()))
