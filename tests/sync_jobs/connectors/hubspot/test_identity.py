"""HubSpot as the account master: ERP customers link to HubSpot companies, never duplicate them,
and NetSuite engagements name HubSpot deals."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import NetSuiteSettings
from readmodel.tables import metadata
from sync_jobs.context import close_deps, open_deps
from sync_jobs.pull import pull_object
from systems.netsuite.app import create_simulator as netsuite_simulator
from systems.netsuite.store import from_seed as netsuite_from_seed
from tests.gateway.test_webhooks import database_url, serve_in_thread
from tests.sync_jobs.connectors.hubspot.conftest import hubspot_settings, serve_hubspot
from tests.systems.test_netsuite_simulator import CERTIFICATES, m2m_settings


async def count(engine: AsyncEngine, table: str, **where: str) -> int:
    t = metadata.tables[table]
    stmt = select(func.count()).select_from(t)
    for column, value in where.items():
        stmt = stmt.where(t.c[column] == value)
    async with engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


async def test_netsuite_customers_link_to_hubspot_companies(engine: AsyncEngine) -> None:
    with serve_hubspot() as hubspot:
        erp = netsuite_from_seed(hubspot.rows)  # the same firm: customers carry HubSpot ids
        with serve_in_thread(netsuite_simulator(erp, certificates=CERTIFICATES)) as ns_url:
            settings = hubspot_settings(hubspot.url, database_url=database_url(engine))
            netsuite = NetSuiteSettings(base_url=ns_url, **m2m_settings())
            settings = settings.model_copy(update={"netsuite": netsuite})
            deps = await open_deps(settings, engine=engine)
            try:
                reports = []
                for system, objects in (
                    ("hubspot", None),
                    ("netsuite", ["customer", "engagement"]),
                ):
                    source = deps.source(system)
                    for object_type in objects or source.objects:
                        reports.append(
                            await pull_object(engine, source, object_type, account_master="hubspot")
                        )
            finally:
                await close_deps(deps)

    assert all(r.error is None and r.parked == 0 for r in reports), reports
    customers = len(erp.rows("customer"))
    assert customers and await count(engine, "account_xref") == customers
    assert await count(engine, "account", source_system="netsuite") == 0  # linked, not copied
    engagements = len(erp.rows("customrecord_cg_engagement"))
    assert await count(engine, "engagement") == engagements  # their deals are HubSpot's
