"""A mutation against a live Tryton, end to end: the gateway (embedded: the worker runs in
its process) accepts ``updateOpportunity`` over HTTP, the command changes the Tryton record
through JSON-RPC, and the GraphQL view shows the change once the command says SUCCEEDED."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import Settings, SyncSettings, TrytonSettings, WritesSettings
from gateway.app import create_app
from resolvers.ids import to_global_id
from sync_jobs.connectors.tryton.client import TrytonClient
from sync_jobs.context import close_deps, open_deps
from tests.conftest import graphql
from tests.resolvers.commands.world import command_id, mutation
from tests.sync_jobs.commands.conftest import command, read_model_row
from tests.sync_jobs.connectors.tryton.conftest import PASSWORD, LiveTryton
from tests.sync_jobs.connectors.tryton.test_writes import (
    SYSTEM,
    TODAY,
    fresh_tryton,
    new_opportunity,
    pull_everything,
)

# Slow (a live Tryton): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

UPDATE = mutation("updateOpportunity", "UpdateOpportunityInput")
COMMAND = "query($id: ID!) { command(id: $id) { status attempts } }"
VIEW = """query($id: ID!) {
  opportunity(id: $id) { stage probability closeDate amount { amount currency } }
}"""


@pytest.fixture
def tryton(tmp_path: Path) -> Iterator[LiveTryton]:
    with fresh_tryton(tmp_path / "tryton") as live:
        yield live


@pytest.fixture
async def rpc(tryton: LiveTryton) -> AsyncIterator[TrytonClient]:
    """JSON-RPC to the same Tryton, to make records and read them back."""
    async with httpx.AsyncClient(timeout=30) as http:
        yield tryton.client(http)


def settings_for(engine: AsyncEngine, tryton: LiveTryton) -> Settings:
    """Tryton owns the client list, deals and time; no Redis: embedded mode."""
    owned = {entity: SYSTEM for entity in ("opportunity", "project", "time_entry", "invoice")}
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        writes=WritesSettings(ownership=owned, consistency_wait_seconds=15),
        sync=SyncSettings(account_master=SYSTEM, interval_seconds=3600, max_retries=0),
        tryton=TrytonSettings(
            base_url=tryton.base_url,
            database=tryton.server.site.database,
            password=PASSWORD,
            requests_per_second=1000,
        ),
    )


async def pull_tryton(settings: Settings, engine: AsyncEngine) -> None:
    """Fill the read model from Tryton before the gateway serves it."""
    deps = await open_deps(settings, engine=engine)
    try:
        await pull_everything(deps)
    finally:
        await close_deps(deps)


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway on a real socket (uvicorn), its lifespan running the in-process worker."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        server = uvicorn.Server(uvicorn.Config(app, port=port, lifespan="off", log_level="warning"))
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                yield client
        finally:
            server.should_exit = True
            await task


async def test_update_opportunity_changes_tryton_then_the_graphql_view(
    engine: AsyncEngine,
    tryton: LiveTryton,
    rpc: TrytonClient,
) -> None:
    deal = await new_opportunity(rpc)
    settings = settings_for(engine, tryton)
    await pull_tryton(settings, engine)
    opportunity = to_global_id(
        "Opportunity", (await read_model_row(engine, "opportunity", str(deal)))["id"]
    )
    close = TODAY + timedelta(days=75)
    change: dict[str, Any] = {
        "opportunityId": opportunity,
        "idempotencyKey": "tryton-e2e-1",
        "stage": "PROPOSAL",
        "amount": {"amount": "61000.40", "currency": "USD"},
        "probability": 70,
        "closeDate": close.isoformat(),
    }

    async with served(settings) as client:
        accepted = (await graphql(client, UPDATE, {"input": change}))["data"]["updateOpportunity"]
        followed = await client.post(
            "/graphql",
            json={"query": COMMAND, "variables": {"id": accepted["id"]}},
            headers={"X-Consistency-Token": accepted["consistencyToken"]},
        )
        view = await graphql(client, VIEW, {"id": opportunity})

    assert accepted["__typename"] == "Command" and accepted["targetSystem"] == "tryton"
    row = await command(engine, command_id(accepted["id"]))
    assert followed.json()["data"]["command"] == {"status": "SUCCEEDED", "attempts": 1}, row
    fields = ["state", "amount", "conversion_probability", "end_date"]
    (at_tryton,) = await rpc.read("sale.opportunity", [deal], fields)
    assert at_tryton == {
        "id": deal,
        "state": "opportunity",
        "amount": Decimal("61000.40"),
        "conversion_probability": Decimal("0.7"),
        "end_date": close,
    }
    assert view["data"]["opportunity"] == {
        "stage": "PROPOSAL",
        "probability": 70,
        "closeDate": close.isoformat(),
        "amount": {"amount": "61000.40", "currency": "USD"},
    }
