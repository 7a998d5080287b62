"""Stored figures and health (readmodel/figures/stored.py) as the compiled read path reads
them: health is stored as of a day, so on the next day the compiled path computes it on the
per-field path until the daily refresh (the CLI, or the worker's job) has run; a change made
by plain SQL (no refresh) is caught by the triggers the same way. Every answer is compared with
the per-field path's."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Date, bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import Settings
from clientgraph.settings_forecasts import ForecastSettings
from readmodel.figures.stored import OUTLOOK_WINDOW, refresh_stale
from readmodel.seed import SeedConfig, seed_firm
from sync_jobs.context import DEPS_KEY, SyncDeps
from sync_jobs.jobs import JOBS
from sync_jobs.pull import apply_page
from sync_jobs.rows import CanonicalRow
from tests.access.compiled import Answer, admin_paths, ask

DAY = date(2026, 3, 2)
QUERY = (Path(__file__).parents[2] / "bench" / "queries" / "portfolio_list.graphql").read_text()
FIGURES = """
query { projects(first: 20) { nodes { code hoursLogged budgetBurn unbilledWip { amount }
  engagement { backlog { amount } } account { health { score factors { explanation } } } } } }
"""

OUTLOOKS = """
query { projects(first: 100) { nodes { code outlook {
  asOf status lowToBudget highToBudget trendDaysLeft teamEac { amount currency }
  trendEac { amount } dailyBurn { amount } eacLow { amount } eacHigh { amount }
  overrunLow { amount } overrunHigh { amount } revenueAtCompletion { amount }
  marginAtCompletion factors { name value explanation } } } } }
"""


def at(day: date) -> datetime:
    return datetime.combine(day, time(9, 30), UTC)


async def both(
    engine: AsyncEngine, day: date, query: str = QUERY, **settings: Any
) -> tuple[Answer, Answer]:
    async with admin_paths(engine, at(day), **settings) as (per_field_client, compiled_client):
        per_field = await ask(per_field_client, query, {})
        compiled = await ask(compiled_client, query, {})
    assert compiled.body == per_field.body
    return per_field, compiled


def cli_refresh(engine: AsyncEngine, day: date) -> str:
    url = engine.url.render_as_string(hide_password=False)
    command = [str(Path(sys.executable).parent / "clientgraph"), "figures", "refresh"]
    done = subprocess.run(
        [*command, "--quiet", "--today", day.isoformat()],
        env={**os.environ, "CLIENTGRAPH_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stderr


async def test_health_of_a_new_day_waits_for_the_daily_refresh(engine: AsyncEngine) -> None:
    await seed_firm(engine, SeedConfig(accounts=8, seed=5, today=DAY), progress=False)
    _, seeded = await both(engine, DAY)
    assert seeded.statements == 1  # the seed stored every account's figures as of DAY

    _, stale = await both(engine, DAY + timedelta(days=1))
    assert stale.statements > 1  # health of DAY is not the next day's: computed per field

    said = cli_refresh(engine, DAY + timedelta(days=1))
    assert "of 8 accounts refreshed as of 2026-03-03" in said, said
    _, refreshed = await both(engine, DAY + timedelta(days=1))
    assert refreshed.statements == 1
    assert refreshed.body[0] != seeded.body[0]  # explanations count days: health moved on

    later = DAY + timedelta(days=2)
    url = engine.url.render_as_string(hide_password=False)
    deps = SyncDeps(Settings(database_url=url), engine, {}, clock=lambda: at(later))
    result: Any = await JOBS["refresh_figures"]({DEPS_KEY: deps})
    assert result == {"today": later.isoformat(), "accounts": 8}
    _, by_job = await both(engine, later)
    assert by_job.statements == 1
    assert cli_refresh(engine, later).strip().endswith("of 0 accounts refreshed as of 2026-03-04")


async def test_a_change_no_writer_refreshed_is_answered_per_field(engine: AsyncEngine) -> None:
    await seed_firm(engine, SeedConfig(accounts=6, seed=7, today=DAY), progress=False)
    _, before = await both(engine, DAY, FIGURES)
    assert before.statements == 1
    async with engine.begin() as conn:  # plain SQL: the triggers mark the accounts stale
        await conn.execute(text("UPDATE time_entry SET hours_x100 = hours_x100 + 500"))
    _, stale = await both(engine, DAY, FIGURES)
    assert stale.statements > 1 and stale.body != before.body

    async with engine.begin() as conn:
        touched = await conn.execute(
            text(
                "SELECT count(DISTINCT p.account_id) FROM time_entry t "
                "JOIN project p ON p.id = t.project_id"
            )
        )
        assert await refresh_stale(conn, DAY) == touched.scalar_one() > 0
        assert await refresh_stale(conn, DAY) == 0
    _, refreshed = await both(engine, DAY, FIGURES)
    assert refreshed.statements == 1 and refreshed.body[0] == stale.body[0]


def outlooks(answer: Answer) -> list[dict[str, Any]]:
    nodes = dict(dict(dict(answer.body)["data"])["projects"])["nodes"]
    return [dict(dict(n)["outlook"]) for n in nodes]


async def test_outlooks_are_stored_with_the_figures_as_of_a_day(engine: AsyncEngine) -> None:
    """Project.outlook is stored with the figures (every branch: no end date, no budget, an
    overrun, on track) and read by the compiled path only on the day it was stored."""
    await seed_firm(engine, SeedConfig(accounts=6, seed=7, today=DAY), progress=False)
    async with engine.begin() as conn:  # plain SQL: the triggers mark the accounts stale
        costly = await conn.execute(
            text(
                "SELECT project_id FROM time_entry WHERE deleted_at IS NULL GROUP BY project_id "
                "HAVING sum(hours_x100 * cost_rate_minor) > 0 ORDER BY project_id LIMIT 3"
            )
        )
        no_end, no_budget, tiny = [row[0] for row in costly]
        for statement, project in (
            ("UPDATE project SET end_date = NULL WHERE id = :p", no_end),
            ("UPDATE project SET budget_minor = 0 WHERE id = :p", no_budget),
            ("UPDATE project SET budget_minor = 100 WHERE id = :p", tiny),
        ):
            await conn.execute(text(statement), {"p": project})
        assert await refresh_stale(conn, DAY) > 0
    _, today = await both(engine, DAY, OUTLOOKS)
    assert today.statements == 1
    found = outlooks(today)
    assert {"ON_TRACK", "OVERRUN", "NO_BUDGET"} <= {o["status"] for o in found}
    assert {o["trendEac"] is None for o in found} == {True, False}
    assert {o["marginAtCompletion"] is None for o in found} == {True, False}
    assert all(len(o["factors"]) == 4 for o in found)

    _, next_day = await both(engine, DAY + timedelta(days=1), OUTLOOKS)
    assert next_day.statements > 1  # stored as of DAY: the next day's is computed per field
    assert ForecastSettings().outlook_window_days == OUTLOOK_WINDOW  # stored: the default's
    other = ForecastSettings(outlook_window_days=OUTLOOK_WINDOW + 7)
    per_field, other_window = await both(engine, DAY, OUTLOOKS, forecasts=other)
    assert other_window.statements > 1  # another window than the stored one: per field
    assert per_field.body != today.body  # (the window changes the trends)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE project SET end_date = NULL"))  # every trend: gone
        await refresh_stale(conn, DAY)
    _, no_trends = await both(engine, DAY, OUTLOOKS)
    assert no_trends.statements == 1
    assert all(o["trendEac"] is None and o["trendDaysLeft"] is None for o in outlooks(no_trends))


async def test_a_change_by_sync_refreshes_the_outlook(engine: AsyncEngine) -> None:
    """A time entry deleted by a sync (a tombstone through ``apply_page``) changes its
    project's outlook: not refreshed (a backfill's page), the compiled path answers per field;
    refreshed (as ``apply_page`` does in its transaction), compiled again, the new numbers."""
    await seed_firm(engine, SeedConfig(accounts=6, seed=7, today=DAY), progress=False)
    _, before = await both(engine, DAY, OUTLOOKS)
    assert before.statements == 1
    window = DAY - timedelta(days=27)
    async with engine.connect() as conn:
        recent = (
            await conn.execute(
                text(
                    "SELECT source_system, source_id FROM time_entry WHERE deleted_at IS NULL "
                    "AND status <> 'rejected' AND hours_x100 * cost_rate_minor > 0 "
                    "AND work_date >= :start ORDER BY id LIMIT 2"
                ).bindparams(bindparam("start", type_=Date)),
                {"start": window},
            )
        ).all()
    version = at(DAY) + timedelta(hours=12)
    first, second = (
        CanonicalRow("time_entry", system, source_id, version, deleted_at=version)
        for system, source_id in recent
    )
    async with engine.begin() as conn:
        await apply_page(conn, [first], "time_entry", version, refresh=False)
    _, stale = await both(engine, DAY, OUTLOOKS)
    assert stale.statements > 1 and stale.body != before.body
    async with engine.begin() as conn:
        assert await refresh_stale(conn, DAY) >= 1
    _, refreshed = await both(engine, DAY, OUTLOOKS)
    assert refreshed.statements == 1 and refreshed.body == stale.body

    async with engine.begin() as conn:
        await apply_page(conn, [second], "time_entry", version)  # refreshes in its transaction
    _, synced = await both(engine, DAY, OUTLOOKS)
    assert synced.statements == 1 and synced.body != refreshed.body
