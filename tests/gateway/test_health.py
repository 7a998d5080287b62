"""Liveness and readiness probes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import SalesforceSettings, Settings
from gateway.app import create_app
from sync_jobs.connectors.salesforce.connector import SalesforceConnector
from tests.conftest import FIRM_NOW, REDIS_URL, Firm, gateway_client, http_client
from tests.resolvers.commands.world import url_of

SALESFORCE = SalesforceConnector.objects


async def test_healthz_and_readyz(firm: Firm) -> None:
    async with gateway_client(firm.url) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


async def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    async with gateway_client(url) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "unreachable"}


async def test_readyz_reports_the_queue_and_each_source_state(engine: AsyncEngine) -> None:
    async with _gateway(engine, REDIS_URL) as client:
        ready = await client.get("/readyz")

    body = ready.json()
    assert ready.status_code == 200 and (body["database"], body["queue"]) == ("ok", "ok")
    assert body["sources"] == {"salesforce": {o: "never" for o in SALESFORCE}}
    assert body["status"] == "degraded"  # never pulled: served, but flagged


async def test_an_unreachable_queue_leaves_the_gateway_ready_but_degraded(
    engine: AsyncEngine,
) -> None:
    async with _gateway(engine, "redis://127.0.0.1:1/0") as client:
        ready = await client.get("/readyz")

    assert ready.status_code == 200
    assert (ready.json()["status"], ready.json()["queue"]) == ("degraded", "unreachable")


@asynccontextmanager
async def _gateway(engine: AsyncEngine, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=url_of(engine),
        redis_url=redis_url,
        salesforce=SalesforceSettings(base_url="http://sf.test"),
    )
    app = create_app(settings, clock=lambda: FIRM_NOW)
    async with app.router.lifespan_context(app), http_client(app) as client:
        yield client
