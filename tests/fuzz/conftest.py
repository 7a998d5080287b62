"""The fuzz run's targets: a running gateway (credentials required) on a seeded read model,
a key per caller, and the real global ids the documents ask for.

Queries run against the shared ``firm`` (read-only: only API keys are added to it);
mutations write commands, so they get a small firm in a database of their own, with the
embedded job runner (no Redis). ``CLIENTGRAPH_FUZZ_EXAMPLES`` multiplies the examples of every
property (docs/testing.md); without it the run is the fast, reproducible set.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, Phase, settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from clientgraph.settings import AuthSettings, GraphQLSettings, Settings
from gateway.app import create_app
from readmodel import api_keys
from readmodel.db import create_engine
from readmodel.seed import SeedConfig, seed_firm
from resolvers.handoffs.queries import to_handoff_id
from resolvers.ids import to_global_id
from tests.conftest import FIRM_NOW, FIRM_TODAY, Firm, fresh_database, migrated_template

# The documented defaults, but a smaller cost budget and deadline: a random document that
# selects every list at its largest page is refused (QUERY_TOO_COMPLEX) instead of reading
# for seconds, so the run stays short; refusals are answers the checks hold too.
# Partners may be held to registered documents (trusted documents, where the gateway has
# them): that refusal comes before everything else, so the run lifts it to reach the partner's
# scope and field rules with its documents.
LIMITS: dict[str, Any] = {
    "max_cost": 200_000,
    "role_max_cost": {},
    "request_timeout_seconds": 10,
    "trusted_documents_only_roles": [],
}
CALLERS = ("admin", "delivery", "partner")
PARTNER_ACCOUNTS = 3  # the partner's key names the first few accounts
SCALE = max(1, int(os.environ.get("CLIENTGRAPH_FUZZ_EXAMPLES", "1") or 1))
TABLES = {
    "Account": "account",
    "Contact": "contact",
    "Opportunity": "opportunity",
    "Engagement": "engagement",
    "Project": "project",
    "Milestone": "milestone",
    "Invoice": "invoice",
    "Payment": "payment",
    "Person": "person",
    "TimeEntry": "time_entry",
    "Command": "command",
}
IDS_PER_TYPE = 6


def fuzz_settings(examples: int) -> settings:
    """Hypothesis settings of one property: ``examples`` × the scale, reproducible."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        derandomize=SCALE == 1,  # the fast set is the same run every time; a long run explores
        database=None,
        print_blob=True,
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],  # no slow explain
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@dataclass
class Target:
    """A running gateway and what the fuzz run needs to call it."""

    backend: str
    url: str = field(repr=False)
    engine: AsyncEngine = field(repr=False)
    app: Starlette = field(repr=False)
    client: httpx.AsyncClient = field(repr=False)
    keys: dict[str, str] = field(default_factory=dict, repr=False)  # caller → API key
    ids: list[str] = field(default_factory=list, repr=False)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"Target({self.backend!r})")  # Hypothesis prints it with every failure

    def headers(self, caller: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[caller]}"}


async def _column(engine: AsyncEngine, sql: str) -> list[Any]:
    async with engine.connect() as conn:
        return [row[0] for row in await conn.execute(text(sql))]


async def real_ids(engine: AsyncEngine) -> list[str]:
    """A few global ids of every type the firm holds: the first rows and the last."""
    out: list[str] = []
    for type_name, table in TABLES.items():
        keys = await _column(engine, f"SELECT id FROM {table} ORDER BY id")
        picked = keys[: IDS_PER_TYPE // 2] + keys[-IDS_PER_TYPE // 2 :]
        out += [to_global_id(type_name, int(k)) for k in dict.fromkeys(picked)]
    handoffs = await _column(engine, "SELECT id FROM handoff ORDER BY id")
    return out + [to_handoff_id(int(k)) for k in handoffs[:IDS_PER_TYPE]]


async def make_keys(engine: AsyncEngine) -> dict[str, str]:
    accounts = await _column(engine, f"SELECT id FROM account ORDER BY id LIMIT {PARTNER_ACCOUNTS}")
    keys: dict[str, str] = {}
    for caller in CALLERS:
        named = [to_global_id("Account", int(a)) for a in accounts] if caller == "partner" else None
        keys[caller], _ = await api_keys.create(
            engine, name=f"fuzz-{caller}", role=caller, now=FIRM_NOW, accounts=named
        )
    return keys


@asynccontextmanager
async def fuzz_app(url: str) -> AsyncIterator[Starlette]:
    """The gateway with anonymous access off (every caller shows a key)."""
    settings_ = Settings(
        database_url=url,
        graphql=GraphQLSettings(**LIMITS),
        auth=AuthSettings(anonymous_role=None),
    )
    app = create_app(settings_, clock=lambda: FIRM_NOW)
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def target(backend: str, url: str, engine: AsyncEngine) -> AsyncIterator[Target]:
    keys = await make_keys(engine)
    ids = await real_ids(engine)
    async with AsyncExitStack() as stack:
        app = await stack.enter_async_context(fuzz_app(url))
        transport = httpx.ASGITransport(app=app)
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60)
        )
        yield Target(backend, url, engine, app, client, keys, ids)


@pytest.fixture(scope="module")
async def read_target(firm: Firm) -> AsyncIterator[Target]:
    """The shared 300-account firm behind a gateway of its own."""
    async with target(firm.backend, firm.url, firm.engine) as built:
        yield built


WRITE_FIRM = SeedConfig(accounts=12, seed=5, today=FIRM_TODAY)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def write_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Target]:
    """A small firm in a database of its own: mutations write commands into it."""
    backend = str(request.param)
    template = await migrated_template(backend)
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    async with fresh_database(backend, tmp, template=template) as url:
        engine = create_engine(url, pool_size=5)
        try:
            await seed_firm(engine, WRITE_FIRM, progress=False)
            async with target(backend, url, engine) as built:
                built.ids += await _a_command(built)
                yield built
        finally:
            await engine.dispose()


async def _a_command(built: Target) -> list[str]:
    """Log time once, so ``command``, ``commandUpdated`` and the operator actions have a real
    command to work on."""
    from tests.access.world import LOG_TIME, log_time_input, staffed

    project, person = await staffed(built.engine, 1)
    variables = {"input": log_time_input(project, person, "fuzz-seed")}
    response = await built.client.post(
        "/graphql", json={"query": LOG_TIME, "variables": variables}, headers=built.headers("admin")
    )
    command = response.json()["data"]["logTime"]
    assert command["__typename"] == "Command", response.text
    return [command["id"]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def served(app: Starlette) -> AsyncIterator[str]:
    """The app (its lifespan already running) on a real socket: its WebSocket URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task
