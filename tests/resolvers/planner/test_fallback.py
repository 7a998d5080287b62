"""Rows the compiled path cannot render as the per-field path does make it fall back: the
answer is the per-field one (with its error), never a different value."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.access.compiled import ordered
from tests.conftest import gateway_client

ACCOUNTS = (
    "{ accounts(first: 10) { edges { cursor node { name status } } pageInfo { endCursor } } }"
)


async def _account(engine: AsyncEngine, key: int, name: str, status: str = "active") -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO account (id, source_system, source_id, source_version, synced_at, "
                "payload_hash, name, currency, billing_terms_days, status, updated_at) VALUES "
                "(:id, 'crm', :sid, :when, :when, 'h', :name, 'USD', 30, :status, :when)"
            ),
            {"id": key, "sid": f"a{key}", "when": when, "name": name, "status": status},
        )


async def _both(engine: AsyncEngine, query: str) -> tuple[Any, Any]:
    url = engine.url.render_as_string(hide_password=False)
    async with (
        gateway_client(url, compiled_reads=False) as slow,
        gateway_client(url, compiled_reads=True) as fast,
    ):
        a = await slow.post("/graphql", json={"query": query})
        b = await fast.post("/graphql", json={"query": query})
    return ordered(a.text), ordered(b.text)


async def test_text_a_cursor_would_escape_falls_back(engine: AsyncEngine) -> None:
    for key, name in enumerate(["Zürich AG", 'The "Quoted" Co', "Back\\slash", "Plain"], 1):
        await _account(engine, key, name)
    per_field, compiled = await _both(engine, ACCOUNTS)
    assert compiled == per_field
    assert "Zürich AG" in str(per_field)


async def test_a_stored_value_the_enum_lacks_falls_back(engine: AsyncEngine) -> None:
    await _account(engine, 1, "Plain", status="bogus")
    per_field, compiled = await _both(engine, ACCOUNTS)
    assert compiled == per_field
    assert "errors" in dict(per_field)


async def test_plain_rows_compile_alike(engine: AsyncEngine) -> None:
    for key in range(1, 4):
        await _account(engine, key, f"Client {key}")
    per_field, compiled = await _both(engine, ACCOUNTS)
    assert compiled == per_field
