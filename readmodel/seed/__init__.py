"""A synthetic, deterministic services firm for the demo, the tests and the benchmarks.

``seed_firm`` generates the firm in chunks of accounts and bulk-inserts each chunk, so 10,000
accounts (about a million time entries) fit in memory and in minutes. The same
``SeedConfig`` always gives the same rows (only ``synced_at`` is the wall clock).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from tqdm import tqdm

from readmodel.figures.stored import lock_figures, refresh_stale
from readmodel.seed.accounts import add_account
from readmodel.seed.catalog import build_catalog
from readmodel.seed.context import Row, SeedContext
from readmodel.seed.writer import clear_firm, insert_rows, reset_sequences

CHUNK_ACCOUNTS = 250
SUBSIDIARY_SHARE = 0.2
SOURCE_OF = {
    "account": ("salesforce", "account"),
    "contact": ("salesforce", "contact"),
    "opportunity": ("salesforce", "opportunity"),
    "account_xref": ("netsuite", "customer"),
}


@dataclass(frozen=True)
class SeedConfig:
    """What to generate: ``accounts`` in all (subsidiaries included), as of ``today``."""

    accounts: int = 200
    seed: int = 42
    today: date = field(default_factory=lambda: datetime.now(UTC).date())


@dataclass
class SeedReport:
    accounts: int
    rows: Counter[str]
    seconds: float

    def summary(self) -> str:
        total = sum(self.rows.values())
        parts = ", ".join(f"{n:,} {t}" for t, n in sorted(self.rows.items()) if n)
        return (
            f"seeded {self.accounts:,} accounts: {total:,} rows in {self.seconds:.1f} s "
            f"({total / max(self.seconds, 1e-9):,.0f} rows/s): {parts}"
        )


def generate(config: SeedConfig, ctx: SeedContext | None = None) -> Iterator[dict[str, list[Row]]]:
    """The firm's rows by table, one chunk of up to 250 accounts at a time.

    The seeder inserts these chunks; the simulators build their stores from them, so a
    simulated source holds exactly the firm ``clientgraph seed`` would write.
    """
    ctx = ctx or SeedContext(random.Random(config.seed), config.today, datetime.now(UTC))
    catalog = build_catalog(ctx, config.accounts)
    made = 0
    while made < config.accounts:
        size = min(CHUNK_ACCOUNTS, config.accounts - made)
        _chunk(ctx, catalog, size)
        yield dict(ctx.rows)
        ctx.rows.clear()
        made += size


def generate_all(config: SeedConfig) -> dict[str, list[Row]]:
    """The whole firm in memory (for simulators and tests; the seeder streams chunks)."""
    merged: dict[str, list[Row]] = {}
    for chunk in generate(config):
        for table, rows in chunk.items():
            merged.setdefault(table, []).extend(rows)
    return merged


async def seed_firm(
    engine: AsyncEngine, config: SeedConfig, *, progress: bool = True
) -> SeedReport:
    """Generate the firm and insert it; one transaction per chunk of accounts."""
    started = time.perf_counter()
    ctx = SeedContext(random.Random(config.seed), config.today, datetime.now(UTC))
    counts: Counter[str] = Counter()
    bar = tqdm(total=config.accounts, unit="account", desc="seeding", disable=not progress)
    with bar:
        for chunk in generate(config, ctx):
            counts.update({t: len(r) for t, r in chunk.items()})
            async with engine.begin() as conn:
                await lock_figures(conn)
                await insert_rows(conn, chunk)
                await refresh_stale(conn, config.today)
            bar.update(len(chunk.get("account", [])))
            bar.set_postfix(rows=f"{sum(counts.values()):,}")
    async with engine.begin() as conn:
        await insert_rows(conn, {"sync_state": _sync_states(ctx, counts)})
        await reset_sequences(conn)
        if conn.dialect.name == "postgresql":
            # Statistics for the planner now, not when autovacuum gets round to the bulk load.
            await conn.exec_driver_sql("ANALYZE")
    return SeedReport(config.accounts, counts, time.perf_counter() - started)


def _chunk(ctx: SeedContext, catalog: object, size: int) -> None:
    """``size`` accounts; a subsidiary's parent is an earlier top-level account of the chunk."""
    top_level: list[Row] = []
    for _ in range(size):
        parent = None
        if top_level and ctx.rng.random() < SUBSIDIARY_SHARE:
            parent = ctx.rng.choice(top_level)
        account = add_account(ctx, catalog, parent)  # type: ignore[arg-type]
        if parent is None:
            top_level.append(account)


def _sync_states(ctx: SeedContext, counts: Counter[str]) -> list[Row]:
    """Record each seeded (system, object) as synced now: the basis of freshness answers."""
    states = []
    for table, count in sorted(counts.items()):
        if not count:
            continue
        system, object_type = SOURCE_OF.get(table, ("netsuite", table))
        states.append(
            {
                "system": system,
                "object_type": object_type,
                "checkpoint": None,
                "last_attempt_at": ctx.synced_at,
                "last_success_at": ctx.synced_at,
                "records_applied": count,
                "records_applied_total": count,
                "last_error": None,
            }
        )
    return states


__all__ = ["SeedConfig", "SeedReport", "clear_firm", "generate", "generate_all", "seed_firm"]
