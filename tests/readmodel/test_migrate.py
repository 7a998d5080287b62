"""Migrations build the same schema as the tables declare, on both databases."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import migrate
from readmodel.db import create_engine
from readmodel.tables import metadata
from tests.conftest import BACKENDS, FIRM_NOW, fresh_database


async def test_migrations_reach_head(engine: AsyncEngine) -> None:
    assert await migrate.current_revision(engine) == migrate.head_revision()


async def test_migrations_match_the_declared_tables(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    assert diff == [], "tables changed without a migration: run `make migration m=...`"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_0007_moves_the_running_count_to_the_total(backend: str, tmp_path: Path) -> None:
    async with fresh_database(backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine, "0005")
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO sync_state (system, object_type, records_applied) "
                        "VALUES ('salesforce', 'account', 42)"
                    )
                )

            await migrate.upgrade(engine)

            async with engine.connect() as conn:
                row = (
                    await conn.execute(
                        text("SELECT records_applied, records_applied_total FROM sync_state")
                    )
                ).one()
        finally:
            await engine.dispose()
    assert tuple(row) == (0, 42)  # the total is kept; the latest pull's count is not known


async def test_0016_leaves_every_stored_account_to_be_refreshed(
    backend: str, tmp_path: Path
) -> None:
    """The stored figures of accounts refreshed before 0016 have no outlooks: 0016 drops them,
    so the next refresh (even the same day's) stores them again, outlooks included."""
    async with fresh_database(backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine, "0015")
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO account (id, source_system, source_id, source_version, "
                        "synced_at, name, currency, billing_terms_days, status, updated_at) "
                        "VALUES (1, 'salesforce', '001A', :at, :at, 'Acme', 'EUR', 30, "
                        "'active', :at)"
                    ),
                    {"at": FIRM_NOW},
                )
                await conn.execute(
                    text(
                        "INSERT INTO account_figures (account_id, as_of, refreshed_at) "
                        "VALUES (1, :day, :at)"
                    ),
                    {"day": FIRM_NOW.date(), "at": FIRM_NOW},
                )

            await migrate.upgrade(engine)

            async with engine.connect() as conn:
                left = (await conn.execute(text("SELECT count(*) FROM account_figures"))).scalar()
        finally:
            await engine.dispose()
    assert left == 0
