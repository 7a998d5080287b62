"""Rows the compiled path cannot render as the per-field path does make it fall back: the
answer is the per-field one (with its error), never a different value."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import Opportunity, table_of
from tests.access.compiled import compiled_so_far, ordered
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
    before = compiled_so_far()
    per_field, compiled = await _both(engine, ACCOUNTS)
    assert compiled == per_field
    assert compiled_so_far() == before + 1


async def test_times_print_as_isoformat_does(engine: AsyncEngine) -> None:
    """``closedAt``: microseconds only when not zero, always in UTC (+00:00)."""
    await _account(engine, 1, "Plain")
    deal = table_of(Opportunity)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    closed = [
        datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        datetime(2026, 3, 1, 9, 30, 5, 120, tzinfo=UTC),
        datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
        None,
    ]
    async with engine.begin() as conn:
        for key, at in enumerate(closed, 1):
            await conn.execute(
                deal.insert().values(
                    id=key,
                    source_system="crm",
                    source_id=f"o{key}",
                    source_version=when,
                    synced_at=when,
                    payload_hash="h",
                    account_id=1,
                    name=f"Deal {key}",
                    stage="closed_won",
                    probability=100,
                    amount_minor=1,
                    currency="USD",
                    close_date=date(2026, 3, 1),
                    is_won=True,
                    is_closed=True,
                    closed_at=at,
                )
            )
    query = "{ accounts { nodes { opportunities { name closedAt } } } }"
    before = compiled_so_far()
    per_field, compiled = await _both(engine, query)
    assert compiled == per_field
    assert compiled_so_far() == before + 1  # in SQL, not fallen back
    assert "2026-03-02T04:59:59.999999+00:00" in str(per_field)
