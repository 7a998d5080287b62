"""A change in Salesforce reaches GraphQL through a signed webhook within seconds.

Real sockets end to end: the simulator runs as its own process (``python -m
systems.salesforce --webhook-url … --webhook-secret …``), the gateway under uvicorn. A user
edits an account through the simulator's REST API; the simulator posts the signed CDC event
to the gateway, which re-reads the record; a GraphQL query shows the new name.

The query is repeated for up to ``DEADLINE_SECONDS``; the measured delay must stay under
``BOUND_SECONDS`` (about 0.3–0.8 s idle; five seconds leaves room for a loaded 2-core
machine and is still far from the hourly pull, and the unchanged checkpoint shows the
name came by webhook).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.app import create_app
from readmodel.tables import Account, table_of
from systems.salesforce.app import API
from tests.conftest import graphql
from tests.e2e import processes
from tests.gateway.test_webhooks import (
    WHSEC,
    checkpoint,
    event_ids,
    gateway_settings,
    pull_all,
    serve_in_thread,
    settle,
)
from tests.systems.test_salesforce_simulator import SECRET

# Slow (processes: the simulator and uvicorn on sockets): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

DEADLINE_SECONDS = 30.0  # how long to wait at all
BOUND_SECONDS = 5.0  # the delay asserted


@pytest.fixture
def gateway_port() -> int:
    return processes.free_port()


@pytest.fixture
def simulator(gateway_port: int) -> Iterator[str]:
    """The simulator process, posting its change events to the gateway's webhook URL."""
    hook = f"http://127.0.0.1:{gateway_port}/webhooks/salesforce"
    args = ["--accounts", "6", "--today", "2026-06-30", "--client-secret", SECRET]
    with processes.simulator(
        "salesforce", *args, "--webhook-url", hook, "--webhook-secret", WHSEC
    ) as base:
        yield base


async def rename_in_salesforce(simulator: str, account_id: str, name: str) -> None:
    """What a user does in Salesforce: authenticate, PATCH the record (204)."""
    async with httpx.AsyncClient(base_url=simulator) as sf:
        token = await sf.post("/services/oauth2/token", data={"client_secret": SECRET})
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        patched = await sf.patch(
            f"{API}/sobjects/Account/{account_id}", json={"Name": name}, headers=auth
        )
    assert patched.status_code == 204, patched.text


async def test_a_salesforce_edit_shows_in_graphql_within_seconds_of_its_webhook(
    engine: AsyncEngine, simulator: str, gateway_port: int
) -> None:
    await pull_all(engine, simulator)
    async with engine.connect() as conn:
        target = (await conn.execute(select(table_of(Account).c.source_id))).scalars().first()
    assert target is not None
    started = datetime.now(UTC)
    app = create_app(gateway_settings(engine, simulator))
    with serve_in_thread(app, gateway_port) as gateway:
        await settle(engine, started)
        before = await checkpoint(engine, "account")
        query = '{ accounts(filter: {nameContains: "webhooked"}) { nodes { name } } }'
        async with httpx.AsyncClient(base_url=gateway) as client:
            await rename_in_salesforce(simulator, target, "Webhooked Holdings")
            edited = time.monotonic()
            while True:
                nodes = (await graphql(client, query))["data"]["accounts"]["nodes"]
                elapsed = time.monotonic() - edited
                if nodes or elapsed > DEADLINE_SECONDS:
                    break
    assert [n["name"] for n in nodes] == ["Webhooked Holdings"], f"not seen in {elapsed:.2f} s"
    assert elapsed <= BOUND_SECONDS, f"seen after {elapsed:.2f} s"
    assert len(await event_ids(engine)) == 1  # the simulator's one signed event
    assert await checkpoint(engine, "account") == before  # it came by webhook, not a pull
