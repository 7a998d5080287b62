"""A small writable firm behind a real gateway, for the write path's tests.

Records come from the systems the default ownership map names (opportunities in Salesforce,
delivery and invoices in NetSuite), plus one project synced from Tryton (not writable while
NetSuite owns projects). Each test gets its own database (the ``engine`` fixture), so it can
count command rows exactly.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from clientgraph.settings import GraphQLSettings, Settings, WritesSettings
from gateway.app import create_app
from readmodel.command_log import COMMANDS
from resolvers.ids import to_global_id
from tests.conftest import FIRM_NOW, http_client
from tests.readmodel.firm_builder import FirmBuilder, build

SF, NS = "salesforce", "netsuite"


def url_of(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


async def _recipe(b: FirmBuilder, ids: dict[str, Any]) -> None:
    acme = await b.account("Acme", source_system=SF, source_id="001ACME")
    ids["deal"] = await b.opportunity(acme, 5_000_000, source_system=SF, source_id="006DEAL")
    ids["won"] = await b.opportunity(
        acme,
        100,
        source_system=SF,
        source_id="006WON",
        stage="closed_won",
        is_closed=True,
        is_won=True,
        probability=100,
    )
    ids["project"] = await b.project(
        acme, "P-1", "time_and_materials", source_system=NS, source_id="job-1"
    )
    ids["tryton_project"] = await b.project(
        acme, "T-1", "fixed_fee", source_system="tryton", source_id="work-9"
    )
    ids["ann"] = await b.person("Ann", source_system=NS, source_id="emp-7")
    for label, status in (
        ("submitted", "submitted"),
        ("submitted2", "submitted"),
        ("approved", "approved"),
    ):
        ids[label] = await b.time(
            ids["project"], ids["ann"], 800, status, source_system=NS, source_id=f"tb-{label}"
        )
    ids["milestone"] = await b.milestone(
        ids["project"], 100_000, "planned", date(2026, 7, 15), source_system=NS, source_id="task-3"
    )
    ids["draft"] = await b.invoice(
        acme, "INV-9", 120_000, 120_000, status="draft", source_system=NS, source_id="inv-9"
    )
    ids["posted"] = await b.invoice(
        acme, "INV-8", 50_000, 50_000, source_system=NS, source_id="inv-8"
    )


async def small_firm(engine: AsyncEngine) -> dict[str, Any]:
    """Build the firm; returns the read-model ids by label."""
    return await build(engine, _recipe)


def gid(type_name: str, key: int) -> str:
    return to_global_id(type_name, key)


@asynccontextmanager
async def writable_app(
    engine: AsyncEngine, *, bare_driver: bool = True, **writes: Any
) -> AsyncIterator[Starlette]:
    """The gateway on ``engine``'s database (embedded: commands stay ACCEPTED), clock pinned;
    with ``bare_driver=False``, a PostgreSQL gateway without its bare connections
    (readmodel/raw_reads.py: compiled reads off), as when SQL is traced."""
    settings = Settings(database_url=url_of(engine), writes=WritesSettings(**writes))
    if not bare_driver:
        settings.graphql = GraphQLSettings(compiled_reads=False)
    app = create_app(settings, clock=lambda: FIRM_NOW)
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def writable_gateway(engine: AsyncEngine, **writes: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with writable_app(engine, **writes) as app, http_client(app) as client:
        yield client


async def command_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(COMMANDS))).scalar_one())


async def command_row(engine: AsyncEngine, command_id: int) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(select(COMMANDS).where(COMMANDS.c.id == command_id))).one()


async def set_status(engine: AsyncEngine, command_id: int, status: str, **fields: Any) -> None:
    """What the executor would do: move a command's row (the tests play the worker)."""
    async with engine.begin() as conn:
        await conn.execute(
            update(COMMANDS)
            .where(COMMANDS.c.id == command_id)
            .values(status=status, updated_at=FIRM_NOW, **fields)
        )


RESULT = """
  __typename
  ... on Command { id kind status targetSystem idempotencyKey attempts consistencyToken
    target { system objectType sourceId } }
  ... on CommandRejected { code message fields { field message } }
"""


def mutation(name: str, input_type: str) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {RESULT} }} }}"


def command_id(global_id: str) -> int:
    """The command log's id inside a ``Command`` global id."""
    padded = global_id + "=" * (-len(global_id) % 4)
    type_name, _, key = base64.urlsafe_b64decode(padded).decode().partition(":")
    assert type_name == "Command"
    return int(key)
