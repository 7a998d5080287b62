"""The synthetic firm: deterministic, internally consistent, and covering every state."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.money import decimal_to_minor, value_of_time
from readmodel.seed import SeedConfig, clear_firm, seed_firm
from readmodel.seed.writer import INSERT_ORDER
from readmodel.tables import metadata
from readmodel.types import utcnow
from tests.conftest import migrated_engine

TODAY = date(2026, 6, 30)
CONFIG = SeedConfig(accounts=40, seed=11, today=TODAY)
VOLATILE = {"synced_at", "last_attempt_at", "last_success_at"}


async def content(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, ordered, without the wall-clock columns."""
    out = {}
    async with engine.connect() as conn:
        for name in INSERT_ORDER:
            t = metadata.tables[name]
            cols = [c for c in t.c if c.name not in VOLATILE]
            rows = await conn.execute(select(*cols).order_by(*t.primary_key.columns))
            out[name] = [tuple(r) for r in rows]
    return out


async def scalar(engine: AsyncEngine, sql: str) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql), {"today": TODAY})).scalar_one()


async def test_the_same_config_gives_the_same_firm(
    engine: AsyncEngine, backend: str, tmp_path: Path
) -> None:
    await seed_firm(engine, CONFIG, progress=False)
    async with (
        migrated_engine(backend, tmp_path) as twin,
        migrated_engine(backend, tmp_path) as other,
    ):
        await seed_firm(twin, CONFIG, progress=False)
        await seed_firm(other, SeedConfig(accounts=40, seed=12, today=TODAY), progress=False)
        assert await content(engine) == await content(twin)
        assert (await content(engine))["account"] != (await content(other))["account"]


async def test_money_adds_up(engine: AsyncEngine) -> None:
    await seed_firm(engine, CONFIG, progress=False)
    paid = "(SELECT COALESCE(SUM(p.amount_minor), 0) FROM payment p WHERE p.invoice_id = i.id)"
    assert (
        await scalar(
            engine,
            f"""
        SELECT COUNT(*) FROM invoice i WHERE
          (i.status IN ('posted', 'partially_paid', 'paid')
           AND i.balance_minor <> i.total_minor - {paid})
          OR (i.status = 'paid' AND i.balance_minor <> 0)
          OR (i.status = 'partially_paid'
              AND NOT (i.balance_minor > 0 AND i.balance_minor < i.total_minor))
          OR (i.status IN ('void', 'draft') AND {paid} <> 0)
          OR (i.status = 'draft' AND i.balance_minor <> i.total_minor)
          OR (i.status = 'void' AND i.balance_minor <> 0)""",
        )
        == 0
    )
    async with engine.connect() as conn:
        sums = await conn.execute(
            text("""
            SELECT i.total_minor, SUM(t.hours_x100 * t.bill_rate_minor)
            FROM invoice i JOIN project p ON p.id = i.project_id
            JOIN time_entry t ON t.invoice_id = i.id
            WHERE p.billing_method = 'time_and_materials' GROUP BY i.id, i.total_minor""")
        )
        pairs = sums.all()
    assert pairs and all(total == decimal_to_minor(value_of_time(raw)) for total, raw in pairs)
    assert (
        await scalar(
            engine,
            """
        SELECT COUNT(*) FROM project p WHERE p.billing_method = 'milestone'
          AND p.budget_minor <> (SELECT SUM(m.amount_minor) FROM milestone m
                                 WHERE m.project_id = p.id)""",
        )
        == 0
    )


async def test_records_are_consistent_across_tables(engine: AsyncEngine) -> None:
    await seed_firm(engine, CONFIG, progress=False)
    checks = {
        "invoiced time points to an invoice of its own project": """
            SELECT COUNT(*) FROM time_entry t LEFT JOIN invoice i ON i.id = t.invoice_id
            WHERE (t.status = 'invoiced') <> (t.invoice_id IS NOT NULL)
               OR (t.invoice_id IS NOT NULL AND i.project_id <> t.project_id)""",
        "everything is in its account's currency": """
            SELECT (SELECT COUNT(*) FROM project p JOIN account a ON a.id = p.account_id
                    WHERE p.currency <> a.currency)
                 + (SELECT COUNT(*) FROM invoice i JOIN account a ON a.id = i.account_id
                    WHERE i.currency <> a.currency)
                 + (SELECT COUNT(*) FROM time_entry t JOIN project p ON p.id = t.project_id
                    WHERE t.currency <> p.currency)
                 + (SELECT COUNT(*) FROM account c JOIN account a ON a.id = c.parent_id
                    WHERE c.currency <> a.currency OR c.parent_id >= c.id)""",
        "a project belongs to its engagement's account": """
            SELECT COUNT(*) FROM project p JOIN engagement e ON e.id = p.engagement_id
            WHERE p.account_id <> e.account_id""",
        "probability follows the stage": """
            SELECT COUNT(*) FROM opportunity WHERE
               (stage = 'closed_won' AND NOT (probability = 100 AND is_won AND is_closed))
            OR (stage = 'closed_lost' AND NOT (probability = 0 AND is_closed AND NOT is_won))
            OR (stage NOT IN ('closed_won', 'closed_lost')
                AND NOT (probability BETWEEN 1 AND 99 AND NOT is_closed))""",
        "a payment matches its invoice's account and currency": """
            SELECT COUNT(*) FROM payment p JOIN invoice i ON i.id = p.invoice_id
            WHERE p.account_id <> i.account_id OR p.currency <> i.currency""",
    }
    failures = {name: n for name, sql in checks.items() if (n := await scalar(engine, sql))}
    assert failures == {}


async def test_every_state_a_user_looks_for_is_present(engine: AsyncEngine) -> None:
    await seed_firm(engine, CONFIG, progress=False)
    distinct = {
        "SELECT COUNT(DISTINCT billing_method) FROM project": 5,
        "SELECT COUNT(DISTINCT status) FROM invoice": 5,
        "SELECT COUNT(DISTINCT currency) FROM account": 2,
        "SELECT COUNT(DISTINCT stage) FROM opportunity": 6,
        "SELECT COUNT(DISTINCT status) FROM project": 5,
    }
    for sql, expected in distinct.items():
        assert await scalar(engine, sql) == expected, sql
    present = {
        "overdue invoice": "SELECT COUNT(*) FROM invoice WHERE status IN ('posted', "
        "'partially_paid') AND due_date < :today AND balance_minor > 0",
        "slipped milestone": "SELECT COUNT(*) FROM milestone WHERE status = 'planned' "
        "AND due_date < :today",
        "stale submitted time": "SELECT COUNT(*) FROM time_entry WHERE status = 'submitted' "
        "AND submitted_at IS NOT NULL AND work_date <= :cutoff",
        "subsidiary": "SELECT COUNT(*) FROM account WHERE parent_id IS NOT NULL",
        "open change order": "SELECT COUNT(*) FROM change_order WHERE status = 'submitted'",
    }
    async with engine.connect() as conn:
        for name, sql in present.items():
            params = {"today": TODAY, "cutoff": TODAY - timedelta(days=15)}
            assert (await conn.execute(text(sql), params)).scalar_one() > 0, name


async def test_sync_state_counts_and_cross_references(engine: AsyncEngine) -> None:
    report = await seed_firm(engine, CONFIG, progress=False)
    assert report.rows["account"] == 40
    assert (
        await scalar(
            engine,
            "SELECT records_applied FROM sync_state "
            "WHERE system = 'netsuite' AND object_type = 'invoice'",
        )
        == (report.rows["invoice"])
    )
    assert (
        await scalar(
            engine,
            """
        SELECT COUNT(*) FROM account a WHERE EXISTS (SELECT 1 FROM engagement e
          WHERE e.account_id = a.id) <> EXISTS (SELECT 1 FROM account_xref x
          WHERE x.account_id = a.id)""",
        )
        == 0
    )


async def test_new_rows_get_fresh_ids_and_clear_empties(engine: AsyncEngine) -> None:
    await seed_firm(engine, CONFIG, progress=False)
    account = metadata.tables["account"]
    async with engine.begin() as conn:
        before = (await conn.execute(select(func.max(account.c.id)))).scalar_one()
        new_id = (
            await conn.execute(
                insert(account)
                .values(
                    source_system="salesforce",
                    source_id="001NEW",
                    source_version=utcnow(),
                    synced_at=utcnow(),
                    name="New Client",
                    currency="USD",
                    billing_terms_days=30,
                    status="prospect",
                    updated_at=utcnow(),
                )
                .returning(account.c.id)
            )
        ).scalar_one()
    assert new_id > before

    await clear_firm(engine)

    for name in INSERT_ORDER:
        assert await scalar(engine, f"SELECT COUNT(*) FROM {name}") == 0, name


def test_the_cli_seeds_refuses_to_mix_and_resets(tmp_path: Path) -> None:
    env = {**os.environ, "CLIENTGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}

    def seed(*extra: str) -> subprocess.CompletedProcess[str]:
        args = [
            sys.executable,
            "-m",
            "clientgraph",
            "seed",
            "--accounts",
            "10",
            "--today",
            "2026-06-30",
            *extra,
        ]
        return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)

    first, again, reset = seed(), seed(), seed("--reset", "--quiet")

    assert first.returncode == 0 and "seeded 10 accounts" in first.stderr
    assert "seeding" in first.stderr  # the progress bar
    assert again.returncode == 1 and "--reset" in again.stderr
    assert reset.returncode == 0 and "seeding:" not in reset.stderr
