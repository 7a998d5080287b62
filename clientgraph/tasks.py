"""What the CLI's database commands do, as plain async functions (tested without a shell)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from clientgraph.settings import Settings
from readmodel import migrate
from readmodel.db import create_engine
from readmodel.tables import Account


class SeedRefused(Exception):
    """Seeding would mix a synthetic firm into existing data."""


async def migrate_database(settings: Settings) -> None:
    engine = create_engine(settings.database_url.get_secret_value())
    try:
        before = await migrate.current_revision(engine)
        await migrate.upgrade(engine)
        after = await migrate.current_revision(engine)
        print(f"read model at revision {after} (was {before or 'empty'})", file=sys.stderr)
    finally:
        await engine.dispose()


async def seed_database(
    settings: Settings,
    *,
    accounts: int,
    seed: int,
    today: date | None,
    reset: bool,
    progress: bool,
) -> None:
    from readmodel.forecasts.rules import Rules
    from readmodel.seed import SeedConfig, clear_firm, seed_firm
    from readmodel.seed.history import seed_snapshots
    from sync_jobs.handoff.templates import weeks_of

    engine = create_engine(settings.database_url.get_secret_value())
    try:
        await migrate.upgrade(engine)
        existing = await _count_accounts(engine)
        if existing and not reset:
            raise SeedRefused(f"the read model already holds {existing} accounts; use --reset")
        if reset:
            await clear_firm(engine)
        config = SeedConfig(accounts=accounts, seed=seed, today=today or datetime.now(UTC).date())
        report = await seed_firm(engine, config, progress=progress)
        print(report.summary(), file=sys.stderr)
        rules = Rules.of(settings.forecasts, weeks_of)
        months = settings.forecasts.snapshot_months
        snapshots = await seed_snapshots(engine, config.today, months, rules, progress=progress)
        print(f"forecast history: {snapshots:,} snapshot rows", file=sys.stderr)
    finally:
        await engine.dispose()


async def refresh_figures(settings: Settings, *, today: date | None, progress: bool) -> int:
    """``clientgraph figures refresh``: every account not stored as of ``today``, with a
    progress bar; returns how many were refreshed."""
    from tqdm import tqdm

    from readmodel.figures.stored import refresh_dated

    engine = create_engine(settings.database_url.get_secret_value())
    day = today or datetime.now(UTC).date()
    bar = tqdm(unit="account", desc="refreshing figures", disable=not progress)
    try:
        with bar:

            def advance(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            refreshed = await refresh_dated(engine, day, advance)
    finally:
        await engine.dispose()
    print(f"figures and health of {refreshed:,} accounts refreshed as of {day}", file=sys.stderr)
    return refreshed


async def prepare_demo(settings: Settings, *, accounts: int) -> None:
    """Migrate, and seed a firm when the read model holds no accounts yet."""
    await migrate_database(settings)
    engine = create_engine(settings.database_url.get_secret_value())
    try:
        has_accounts = await _count_accounts(engine) > 0
    finally:
        await engine.dispose()
    if not has_accounts:
        await seed_database(
            settings, accounts=accounts, seed=42, today=None, reset=False, progress=True
        )


async def _count_accounts(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(Account))).scalar_one())
