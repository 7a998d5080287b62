"""A seeded PostgreSQL read model per scale, created once and reused between runs."""

from __future__ import annotations

import asyncio
import time
from datetime import date

import asyncpg

from readmodel import migrate
from readmodel.db import create_engine
from readmodel.seed import SeedConfig, seed_firm

SCALES = {"S": 500, "L": 10_000}
BENCH_TODAY = "2026-06-30"


async def prepare(server: str, scale: str, *, reseed: bool) -> tuple[str, float | None]:
    """The URL of the scale's database, seeding it if new; and the seeding time if seeded."""
    name = f"clientgraph_bench_{scale.lower()}"
    admin = await asyncpg.connect(f"postgresql://{server}/postgres")
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and reseed:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or reseed:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = f"postgresql+asyncpg://{server}/{name}"
    if exists and not reseed:
        return url, None
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        started = time.perf_counter()
        config = SeedConfig(accounts=SCALES[scale], seed=42, today=_date(BENCH_TODAY))
        await seed_firm(engine, config, progress=True)
        async with engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
        return url, time.perf_counter() - started
    finally:
        await engine.dispose()


def _date(text: str) -> date:
    return date.fromisoformat(text)


def run(server: str, scale: str, *, reseed: bool) -> tuple[str, float | None]:
    return asyncio.run(prepare(server, scale, reseed=reseed))
