"""Figures and health stored per account (readmodel/tables/figures.py), for the compiled path.

``refresh`` recomputes accounts with the very functions the per-field path runs
(``project_sums`` → ``figures_of``, ``engagement_figures_where``, ``account_health``) and
writes the results as integers and text. Triggers (migration 0014) delete an account's
``account_figures`` row whenever an input of its figures changes; every writer then calls
``refresh_stale`` in its own transaction, so the next query reads current values. Health
depends on the date: its row records ``as_of``, the compiled path uses it only on that day,
and ``refresh_dated`` (the daily job) moves every account to a new day.

Each live project's outlook (``Project.outlook``, readmodel/forecasts/outlook.py) is stored
with its figures, as of the same day, for the trend window ``OUTLOOK_WINDOW`` (the setting's
default: a deployment that sets ``forecasts.outlook_window_days`` otherwise is answered per
field for the outlook; docs/architecture.md, "Stored figures").

Statements per call: 3 to find the accounts, then per chunk of ``CHUNK`` accounts 6 deletes,
the figures' own (4 + 5 + 11), the outlook's 2 and 6 inserts, whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from readmodel import tables
from readmodel.figures.engagements import engagement_figures_where
from readmodel.figures.health import account_health
from readmodel.figures.numbers import ratio
from readmodel.figures.project_sums import project_sums
from readmodel.figures.projects import ProjectFigures, figures_of
from readmodel.figures.sql import ACCOUNT, ENGAGEMENT, PROJECT, live
from readmodel.forecasts.outlook import STORED_WINDOW, Outlook, outlook_inputs_of, outlook_of
from readmodel.types import utcnow

CHUNK = 500
"""Accounts recomputed per round of statements (bounds the bound parameters)."""

STATE = tables.table_of(tables.AccountFigures)
FACTOR = tables.table_of(tables.AccountHealthFactor)
PROJECTS = tables.table_of(tables.ProjectFigures)
ENGAGEMENTS = tables.table_of(tables.EngagementFigures)
OUTLOOKS = tables.table_of(tables.ProjectOutlook)
OUTLOOK_FACTORS = tables.table_of(tables.ProjectOutlookFactor)
OUTLOOK_WINDOW = STORED_WINDOW
"""The trend window (days) of the stored outlook."""


LOCK_KEY = 0x63676669  # "cgfi": pg_advisory_xact_lock key of the writers of figures


async def lock_figures(conn: AsyncConnection) -> None:
    """Serialize the transactions that change figures' inputs and refresh them (PostgreSQL:
    a transaction-level advisory lock, taken before the first write; SQLite has one writer).

    Without it two writers of one account could each refresh it from a snapshot lacking the
    other's change, and the later commit would store figures missing the earlier one's. Other
    writers of inputs (an operator's SQL) take it shared, by trigger (migration 0020)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


async def refresh_stale(conn: AsyncConnection, today: date) -> int:
    """Recompute the accounts without a current row (a change invalidated them), at most
    ``CHUNK`` (the lowest ids), and return how many. Call it inside the transaction that made
    the change. The bound keeps a writer's transaction short when many accounts are stale at
    once (just after migration 0014, or after a backfill cut short): those are answered per
    field until the daily refresh, a worker's start or ``clientgraph figures refresh``."""
    missing = select(ACCOUNT.c.id).where(ACCOUNT.c.id.not_in(select(STATE.c.account_id)))
    found = await conn.execute(missing.order_by(ACCOUNT.c.id).limit(CHUNK))
    ids = [row.id for row in found]
    await refresh(conn, ids, today)
    return len(ids)


async def dated_accounts(conn: AsyncConnection, today: date) -> list[int]:
    """Accounts whose stored health is not of ``today`` (or that have none), by id."""
    current = select(STATE.c.account_id).where(STATE.c.as_of == today)
    found = select(ACCOUNT.c.id).where(ACCOUNT.c.id.not_in(current)).order_by(ACCOUNT.c.id)
    return [row.id for row in await conn.execute(found)]


async def refresh_dated(
    engine: AsyncEngine,
    today: date,
    progress: Callable[[int, int], Any] | None = None,
) -> int:
    """The daily refresh: every account whose health is not as of ``today`` (or is stale),
    ``CHUNK`` accounts per transaction; ``progress(done, total)`` after each. Returns how many
    accounts it refreshed."""
    async with engine.connect() as conn:
        ids = await dated_accounts(conn, today)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        async with engine.begin() as conn:
            await lock_figures(conn)
            await refresh(conn, chunk, today)
        if progress is not None:
            progress(start + len(chunk), len(ids))
    return len(ids)


async def refresh(conn: AsyncConnection, account_ids: Iterable[int], today: date) -> None:
    """Recompute and store the figures of ``account_ids`` (their projects, engagements and
    health as of ``today``), replacing what was stored."""
    ids = sorted(set(account_ids))
    for start in range(0, len(ids), CHUNK):
        await _refresh_chunk(conn, ids[start : start + CHUNK], today)


async def _refresh_chunk(conn: AsyncConnection, ids: Sequence[int], today: date) -> None:
    owned_projects = select(PROJECT.c.id).where(PROJECT.c.account_id.in_(ids))
    owned_engagements = select(ENGAGEMENT.c.id).where(ENGAGEMENT.c.account_id.in_(ids))
    await conn.execute(
        delete(PROJECTS).where(
            or_(PROJECTS.c.account_id.in_(ids), PROJECTS.c.project_id.in_(owned_projects))
        )
    )
    await conn.execute(
        delete(ENGAGEMENTS).where(
            or_(
                ENGAGEMENTS.c.account_id.in_(ids),
                ENGAGEMENTS.c.engagement_id.in_(owned_engagements),
            )
        )
    )
    for outlook_table in (OUTLOOKS, OUTLOOK_FACTORS):
        await conn.execute(
            delete(outlook_table).where(
                or_(
                    outlook_table.c.account_id.in_(ids),
                    outlook_table.c.project_id.in_(owned_projects),
                )
            )
        )
    await conn.execute(delete(FACTOR).where(FACTOR.c.account_id.in_(ids)))
    await conn.execute(delete(STATE).where(STATE.c.account_id.in_(ids)))
    sums = await project_sums(conn, PROJECT.c.account_id.in_(ids))
    projects = [_project_row(figures_of(s)) | {"account_id": s.account_id} for s in sums]
    live_projects = select(PROJECT.c.id).where(live(PROJECT), PROJECT.c.account_id.in_(ids))
    inputs = await outlook_inputs_of(conn, live_projects, today, OUTLOOK_WINDOW)
    outlooks: list[dict[str, Any]] = []
    outlook_factors: list[dict[str, Any]] = []
    for s in sums:
        o = outlook_of(s, figures_of(s), inputs(s.id), today)
        keys = {"project_id": s.id, "account_id": s.account_id}
        when = {"as_of": today, "window_days": OUTLOOK_WINDOW}
        outlooks.append(_outlook_row(o) | keys | when)
        for position, (name, value, explanation) in enumerate(o.factors):
            outlook_factors.append(
                {
                    "project_id": s.id,
                    "position": position,
                    "account_id": s.account_id,
                    "name": name,
                    "value": None if value is None else str(value),
                    "explanation": explanation,
                }
            )
    engagements = await engagement_figures_where(conn, ENGAGEMENT.c.account_id.in_(ids))
    owner = (
        dict(
            (
                await conn.execute(
                    select(ENGAGEMENT.c.id, ENGAGEMENT.c.account_id).where(
                        ENGAGEMENT.c.id.in_(list(engagements))
                    )
                )
            ).all()
        )
        if engagements
        else {}
    )
    health = await account_health(conn, ids, today)
    now = utcnow()
    states = []
    factors = []
    for account_id in ids:
        h = health.get(account_id)
        states.append(
            {
                "account_id": account_id,
                "as_of": today,
                "score": None if h is None else h.score,
                "status": None if h is None else h.status,
                "refreshed_at": now,
            }
        )
        for position, f in enumerate(h.factors if h is not None else ()):
            factors.append(
                {
                    "account_id": account_id,
                    "position": position,
                    "name": f.name,
                    "value": str(f.value),
                    "weight": f.weight,
                    "penalty": str(f.penalty),
                    "explanation": f.explanation,
                }
            )
    rows = [
        {
            "engagement_id": e.engagement_id,
            "account_id": owner[e.engagement_id],
            "currency": e.sold_value.currency,
            "delivered_minor": _minor(e.delivered.amount),
            "billed_to_date_minor": _minor(e.billed_to_date.amount),
            "backlog_minor": _minor(e.backlog.amount),
        }
        for e in engagements.values()
    ]
    for table, values in (
        (PROJECTS, projects),
        (ENGAGEMENTS, rows),
        (STATE, states),
        (FACTOR, factors),
        (OUTLOOKS, outlooks),
        (OUTLOOK_FACTORS, outlook_factors),
    ):
        if values:
            await conn.execute(insert(table), values)


def _project_row(p: ProjectFigures) -> dict[str, Any]:
    return {
        "project_id": p.project_id,
        "currency": p.currency,
        "hours_logged_x100": _minor(p.hours_logged),
        "billable_hours_x100": _minor(p.billable_hours),
        "cost_to_date_minor": _minor(p.cost_to_date.amount),
        "budget_burn_x10000": _x10000(p.budget_burn),
        "hours_burn_x10000": _x10000(p.hours_burn),
        "eac_minor": _minor(p.eac.amount),
        "percent_complete_x10000": _x10000(p.percent_complete),
        "recognized_revenue_minor": _minor(p.recognized_revenue.amount),
        "unbilled_wip_minor": _minor(p.unbilled_wip.amount),
        "billed_minor": _minor(p.billed.amount),
        "collected_minor": _minor(p.collected.amount),
        "margin_x10000": _x10000(p.margin),
    }


def _outlook_row(o: Outlook) -> dict[str, Any]:
    """What ``schema/forecasts/outlook.py`` shows of ``o``, as integers."""
    trend = o.trend
    return {
        "currency": o.currency,
        "status": o.status,
        "low_to_budget_x10000": _x10000(ratio(o.low, o.budget)),
        "high_to_budget_x10000": _x10000(ratio(o.high, o.budget)),
        "trend_days_left": None if trend is None else trend.days_left,
        "team_eac_minor": _minor(o.team_eac),
        "trend_eac_minor": _maybe_minor(o.trend_eac),
        "daily_burn_minor": None if trend is None else _minor(trend.daily),
        "eac_low_minor": _minor(o.low),
        "eac_high_minor": _minor(o.high),
        "overrun_low_minor": _minor(o.low - o.budget),
        "overrun_high_minor": _minor(o.high - o.budget),
        "revenue_at_completion_minor": _maybe_minor(o.revenue_at_completion),
        "margin_at_completion_x10000": _x10000(o.margin_at_completion),
    }


def _maybe_minor(value: Decimal | None) -> int | None:
    return None if value is None else _minor(value)


def _minor(value: Decimal) -> int:
    """An amount exact to the cent (every stored money figure is) as hundredths."""
    scaled = value * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} is not exact to the cent")
    return int(scaled)


def _x10000(value: Decimal | None) -> int | None:
    """A ratio exact to 4 places (``numbers.ratio``) as ten-thousandths."""
    if value is None:
        return None
    scaled = value * 10_000
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} is not exact to 4 places")
    return int(scaled)
