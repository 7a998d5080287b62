"""A seeded PostgreSQL read model per scale, created once and reused between runs.

How long seeding took is kept with the database (as its COMMENT), so a run that reuses the
database still reports the seeding time, with when it was seeded and the load average then.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg

from readmodel import migrate
from readmodel.db import create_engine
from readmodel.seed import SeedConfig, seed_firm

SCALES = {"S": 500, "L": 10_000}
BENCH_TODAY = "2026-06-30"


async def prepare(
    server: str, scale: str, *, reseed: bool, name: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The URL of the scale's database (``name``, default ``clientgraph_bench_<scale>`` and
    ``BENCH_DATABASE_SUFFIX``: a database of one's own when several trees share the server,
    each migrating it to its own head), migrated, and seeded if new; and how its seeding went."""
    suffix = os.environ.get("BENCH_DATABASE_SUFFIX", "")
    name = name or f"clientgraph_bench_{scale.lower()}{suffix}"
    admin = await asyncpg.connect(f"postgresql://{server}/postgres")
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        seeded = await admin.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
            name,
        )
        if exists and (reseed or not seeded):  # no comment: an earlier seeding did not finish
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or reseed or not seeded:
            await admin.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql+asyncpg://{server}/{name}"
        if exists and seeded and not reseed:
            engine = create_engine(url)
            try:
                await migrate.upgrade(engine)  # a database seeded by an older revision
            finally:
                await engine.dispose()
            return url, {**json.loads(seeded), "seeded_in_this_run": False}
        info = await _seed(url, scale)
        await admin.execute(f"COMMENT ON DATABASE \"{name}\" IS '{json.dumps(info)}'")
        return url, {**info, "seeded_in_this_run": True}
    finally:
        await admin.close()


async def _seed(url: str, scale: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        load = Path("/proc/loadavg").read_text().split()[:3]
        started = time.perf_counter()
        config = SeedConfig(accounts=SCALES[scale], seed=42, today=_date(BENCH_TODAY))
        await seed_firm(engine, config, progress=True)  # analyses PostgreSQL when done
        return {
            "seed_seconds": round(time.perf_counter() - started, 1),
            "seeded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average_at_start": [float(x) for x in load],
        }
    finally:
        await engine.dispose()


async def prepare_sqlite(scale: str, *, reseed: bool) -> tuple[str, dict[str, Any]]:
    """The embedded default's database for the scale: a SQLite file (``BENCH_SQLITE_DIR``,
    default /var/tmp), seeded like the PostgreSQL one and reused; its seeding info is kept
    beside it (``<file>.json``, written only once seeding finished)."""
    folder = Path(os.environ.get("BENCH_SQLITE_DIR", "/var/tmp"))
    path = folder / f"clientgraph_bench_{scale.lower()}.sqlite"
    info_path = path.with_suffix(".json")
    url = f"sqlite+aiosqlite:///{path}"
    if info_path.exists() and path.exists() and not reseed:
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
        return url, {**json.loads(info_path.read_text()), "seeded_in_this_run": False}
    for stale in (path, info_path):
        stale.unlink(missing_ok=True)
    info = await _seed(url, scale)
    info_path.write_text(json.dumps(info))
    return url, {**info, "seeded_in_this_run": True}


def run_sqlite(scale: str, *, reseed: bool) -> tuple[str, dict[str, Any]]:
    return asyncio.run(prepare_sqlite(scale, reseed=reseed))


def _date(text: str) -> date:
    return date.fromisoformat(text)


def run(
    server: str, scale: str, *, reseed: bool, name: str | None = None
) -> tuple[str, dict[str, Any]]:
    return asyncio.run(prepare(server, scale, reseed=reseed, name=name))
