"""In-process checks before the load: each workload answers without errors, and how many SQL
statements one request of it runs (counted on the gateway's own engine)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from clientgraph.settings import AuthSettings, GraphQLSettings, Settings
from gateway.app import create_app
from readmodel.db import count_statements
from resolvers.ids import to_global_id


async def _check(url: str, bodies: dict[str, str], cache_mb: int) -> dict[str, list[str]]:
    # as the measured gateway runs (bench/servers.py): anonymous callers are admins
    app = create_app(
        Settings(
            database_url=url,
            auth=AuthSettings(anonymous_role="admin"),
            graphql=GraphQLSettings(response_cache_mb=cache_mb),
        )
    )
    seen = {}
    async with app.router.lifespan_context(app):
        if app.state.counter_lease is not None:  # its hits run no statement once it holds
            await app.state.counter_lease.taken(10.0)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name, body in bodies.items():
                for _ in range(2):  # the second request is wrk's steady state (a cache hit)
                    statements = count_statements(app.state.engine)
                    answer = (
                        await client.post(
                            "/graphql", content=body, headers={"content-type": "application/json"}
                        )
                    ).json()
                    if "errors" in answer:
                        raise SystemExit(f"{name} answered with errors: {answer['errors'][:2]}")
                    seen[name] = [" ".join(s.split()) for s in statements]
                    statements.clear()
    return seen


def statements_per_request(
    url: str, bodies: dict[str, str], *, response_cache_mb: int = 0
) -> dict[str, list[str]]:
    """The SQL statements a repeated request of each workload runs, on the gateway's own engine
    (with the response cache on, those of a hit)."""
    return asyncio.run(_check(url, bodies, response_cache_mb))


async def _scalar(url: str, sql: str) -> int:
    """One integer read from the bench database."""
    from sqlalchemy import text

    from readmodel.db import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


def waiting_commands(url: str) -> int:
    """Commands waiting to be run in the bench database: a gateway's relay sweeps them (no
    worker runs here), which would be measured with the reads."""
    waiting = "SELECT count(*) FROM command WHERE status IN ('ACCEPTED', 'DISPATCHED')"
    return asyncio.run(_scalar(url, waiting))


def busiest_account(url: str) -> int:
    """The client view is measured on the account with the most projects (the worst case)."""
    busiest = (
        "SELECT account_id FROM project GROUP BY account_id "
        "ORDER BY COUNT(*) DESC, account_id LIMIT 1"
    )
    return asyncio.run(_scalar(url, busiest))


def unified_view_variables(url: str) -> dict[str, Any]:
    return {"id": to_global_id("Account", busiest_account(url))}


def body(query: str, variables: dict[str, Any] | None = None) -> str:
    return json.dumps({"query": query, "variables": variables or {}})
