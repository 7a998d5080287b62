"""A mutation's target read on the gateway's bare connections (readmodel/raw_reads.py) gives
what the engine gives: the same rows, the same values and types, the same absences, for every
entity a command can target (the reads SQLite's acceptance and a refusal's explanation use;
PostgreSQL checks a command's targets in the statement that logs it, row rules included).
PostgreSQL only (SQLite has no bare connections)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import AuthSettings, Settings
from gateway.app import create_app
from readmodel import api_keys
from readmodel.db import autocommit, count_statements, on_statement
from readmodel.raw_reads import RawReads, RawRow
from readmodel.reads.scope import ACCOUNT, RowScope
from resolvers.commands.ownership import ENTITY_TABLES, live_records
from tests.conftest import FIRM_NOW, Firm, http_client
from tests.resolvers.commands.world import command_count, gid, mutation, small_firm, url_of

UPDATE = mutation("updateOpportunity", "UpdateOpportunityInput")

ON_POSTGRESQL = pytest.mark.parametrize("firm", ["postgresql"], indirect=True)


def _values(rows: dict[int, Any]) -> dict[int, list[tuple[str, Any, type]]]:
    """Each row's columns by name, with each value's type (a date is not its text)."""
    out = {}
    for key, row in rows.items():
        mapping = dict(row._mapping.items())
        out[key] = [(name, value, type(value)) for name, value in sorted(mapping.items())]
    return out


async def _keys(firm: Firm, entity: str) -> list[int]:
    """Some of the entity's ids, a soft-deleted one among them where there is one, and an id
    that does not exist."""
    table = ENTITY_TABLES[entity]
    async with firm.engine.connect() as conn:
        live = list(
            (await conn.execute(select(table.c.id).order_by(table.c.id).limit(6))).scalars()
        )
        gone = (
            await conn.execute(select(table.c.id).where(table.c.deleted_at.is_not(None)).limit(1))
        ).scalar()
        top = (await conn.execute(select(func.max(table.c.id)))).scalar() or 0
    return [*live, *([gone] if gone is not None else []), top + 1000]


@ON_POSTGRESQL
@pytest.mark.parametrize("entity", sorted(ENTITY_TABLES))
async def test_the_bare_driver_reads_the_targets_the_engine_reads(firm: Firm, entity: str) -> None:
    keys = await _keys(firm, entity)
    async with autocommit(firm.engine) as conn:
        expected = await live_records(conn, entity, keys)
    raw = RawReads(firm.engine, 1, None)
    seen = count_statements(firm.engine)
    try:
        async with raw.connect() as bare:
            got = await live_records(bare, entity, keys)
    finally:
        await raw.aclose()
    assert _values(got) == _values(expected)
    assert {type(row) for row in got.values()} <= {RawRow}
    assert len(seen) == 1 and "= ANY ($1::BIGINT[])" in seen[0], seen


@ON_POSTGRESQL
async def test_row_rules_are_never_read_on_the_bare_driver(firm: Firm) -> None:
    """A scope's rules carry each caller's values: only the engine compiles them (a mutation
    by such a caller reads on the engine: the HTTP test below)."""
    raw = RawReads(firm.engine, 1, None)
    try:
        for scope in (RowScope(accounts=frozenset({1})), RowScope(owner="Ann Book")):
            with pytest.raises(TypeError, match="row rules"):
                async with raw.connect() as bare:
                    await live_records(bare, "opportunity", [1], scope)
    finally:
        await raw.aclose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_soft_deleted_target_is_absent_on_the_bare_driver(engine: AsyncEngine) -> None:
    """The guard the statement carries (``deleted_at IS NULL``), on a firm of the test's own."""
    deal = (await small_firm(engine))["deal"]
    table = ENTITY_TABLES["opportunity"]
    raw = RawReads(engine, 1, None)
    try:
        async with raw.connect() as bare:
            before = await live_records(bare, "opportunity", [deal])
        async with engine.begin() as conn:
            await conn.execute(
                update(table).where(table.c.id == deal).values(deleted_at=func.now())
            )
        async with raw.connect() as bare:
            after = await live_records(bare, "opportunity", [deal])
    finally:
        await raw.aclose()
    assert list(before) == [deal] and after == {}


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_caller_with_row_rules_has_them_in_its_commands_statement(
    engine: AsyncEngine,
) -> None:
    """Through HTTP: an account team's key limited to one owner's book has its deal checked
    in its command's one statement (on the bare driver), the book's rule in it, with the
    owner's name a bound value; a key for another book finds no such deal and logs nothing.
    Verified: without the rule in the statement, the second key's command is logged."""
    deal = (await small_firm(engine))["deal"]
    opportunities, accounts = ENTITY_TABLES["opportunity"], ACCOUNT
    async with engine.begin() as conn:
        account_id = (
            await conn.execute(select(opportunities.c.account_id).where(opportunities.c.id == deal))
        ).scalar_one()
        await conn.execute(
            update(accounts).where(accounts.c.id == account_id).values(owner_name="Ann Book")
        )
    books = AuthSettings(anonymous_role=None, book_scoped_account_teams=True)
    settings = Settings(database_url=url_of(engine), auth=books)
    app = create_app(settings, clock=lambda: FIRM_NOW)
    engine_side: list[str] = []
    every: list[str] = []
    async with app.router.lifespan_context(app), http_client(app) as client:
        event.listen(
            app.state.engine.sync_engine,
            "before_cursor_execute",
            lambda _c, _k, statement, *_: engine_side.append(" ".join(statement.split())),
        )
        on_statement(app.state.engine, lambda sql: every.append(" ".join(sql.split())))
        answers = {}
        for owner in ("Ann Book", "Someone Else"):
            key, _ = await api_keys.create(
                engine, name=owner, role="account_team", owner=owner, now=FIRM_NOW
            )
            variables = {
                "input": {
                    "opportunityId": gid("Opportunity", deal),
                    "probability": 55,
                    "idempotencyKey": f"book-{owner}",
                }
            }
            response = await client.post(
                "/graphql",
                json={"query": UPDATE, "variables": variables},
                headers={"Authorization": f"Bearer {key}"},
            )
            answers[owner] = response.json()["data"]["updateOpportunity"]
        writes = app.state.raw_writes
        assert writes is not None and writes.opened == 1  # both statements, one connection
    assert answers["Ann Book"]["status"] == "ACCEPTED"
    assert answers["Someone Else"]["code"] == "NOT_FOUND"
    bare = [s for s in every if s not in engine_side]
    logged = [s for s in bare if "INSERT INTO command " in s]
    assert len(logged) == 2 and all("account.owner_name = CAST(" in s for s in logged), bare
    assert "Ann Book" not in logged[0]  # a bound value, not spliced into the text
    assert not [s for s in every if s.startswith("SELECT opportunity.id")]  # no read of its own
    assert await command_count(engine) == 1
