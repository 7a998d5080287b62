"""clientgraph in a supergraph, proven with Apollo's own tools (npm, tests/federation/):
``@apollo/composition`` composes our ``_service { sdl }`` with a second subgraph that extends
``Account``, and ``@apollo/gateway`` answers queries across both, forwarding an API key. The
gateway's fetch of 100 accounts from clientgraph (``_entities``) is one SQL statement per type.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text

from clientgraph.settings import AuthSettings, GraphQLSettings, Settings
from gateway.app import create_app
from readmodel.db import count_statements
from resolvers.ids import to_global_id
from tests.conftest import FIRM_NOW, Firm
from tests.federation.live import finance_key, serving
from tests.federation.npm import HERE, node
from tests.federation.tiers import tier_of, tiers_app

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("firm", ["postgresql"], indirect=True)]
ENTITY_TABLES = ("account", "project", "opportunity", "engagement", "invoice", "person")
FROM = re.compile(r"\bFROM (\w+)")
ACROSS = "{ accounts(first: 100) { nodes { id name supportTier } } }"
ENTITY_FETCH = "{ tieredAccounts { id supportTier name status projects { code } } }"


class Supergraph:
    """The Node process: Apollo's gateway over both subgraphs, one query per line."""

    def __init__(self, process: asyncio.subprocess.Process, composition: dict[str, Any]) -> None:
        self.process, self.composition = process, composition

    async def ask(self, query: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"query": query}).encode() + b"\n")
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout=60)
        assert line, "the Apollo gateway stopped"
        return dict(json.loads(line))


@asynccontextmanager
async def supergraph(clientgraph: str, other: str, key: str) -> AsyncIterator[Supergraph]:
    process = await asyncio.create_subprocess_exec(
        node(), str(HERE / "supergraph.mjs"), clientgraph, other, key,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=HERE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = await asyncio.wait_for(process.stdout.readline(), timeout=120)
        assert first, "the Apollo gateway did not start"
        yield Supergraph(process, json.loads(first))
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def _account_ids(firm: Firm) -> list[str]:
    async with firm.engine.connect() as conn:
        rows = await conn.execute(text("SELECT id FROM account ORDER BY id DESC LIMIT 100"))
        return [to_global_id("Account", int(r[0])) for r in rows]


async def test_apollo_composes_and_serves_a_supergraph_over_clientgraph(firm: Firm) -> None:
    ids = await _account_ids(firm)
    settings = Settings(
        database_url=firm.url,
        auth=AuthSettings(anonymous_role=None),
        graphql=GraphQLSettings(),
    )
    app = create_app(settings, clock=lambda: FIRM_NOW)
    async with (
        app.router.lifespan_context(app),
        finance_key(firm) as key,
        serving(app) as clientgraph,
        serving(tiers_app(ids)) as other,
        supergraph(clientgraph, other, key) as gateway,
    ):
        assert gateway.composition["composed"], gateway.composition
        across = await gateway.ask(ACROSS)
        seen = count_statements(app.state.engine)
        fetched = await gateway.ask(ENTITY_FETCH)
        read = [m.group(1) for s in seen if (m := FROM.search(s))]

    assert "errors" not in across, across["errors"]
    nodes = across["data"]["accounts"]["nodes"]
    assert len(nodes) == 100
    assert all(n["supportTier"] == tier_of(n["id"]) and n["name"] for n in nodes)

    assert "errors" not in fetched, fetched["errors"]
    accounts = fetched["data"]["tieredAccounts"]
    assert [a["id"] for a in accounts] == ids
    assert all(a["name"] and a["status"] and a["supportTier"] == tier_of(a["id"]) for a in accounts)
    assert any(a["projects"] for a in accounts)
    # one _entities request of 100 representations: one statement per type (besides the
    # request's own: its credential, freshness and the command relay)
    assert sorted(t for t in read if t in ENTITY_TABLES) == ["account", "project"], read
