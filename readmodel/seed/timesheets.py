"""Timesheet lines: one a day per person near their usual day, on weekdays — and a handful
of planted anomalies (``plant``) for timeAnomalies to find: the seeded time has no others."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from readmodel.enums import ProjectStatus, TimeEntryStatus
from readmodel.seed.catalog import Catalog
from readmodel.seed.context import Row, SeedContext

OVER_BUDGET_SHARE = 0.12
MAX_ENTRIES = 45  # time entries per project: keeps L scale near 1M rows
MAX_ENTRIES_OVER = 150  # … and per project running over budget (about 1 in 8 active ones)
HABIT_X100 = (500, 550, 600, 650, 700)  # a person's usual day on a project (by person id)
USUAL_DAY_X100 = sum(HABIT_X100) // len(HABIT_X100)
USUAL_SHARE = 0.8  # … most days exactly; the others a quarter hour either side, so no day
# is off the person's own pattern (timeAnomalies' robust score needs a wider miss than that)
DAY_TRIES = 3  # weekdays tried for a line before it is left out (the person's days are full)


def loggable_hours_x100(project: Row) -> int:
    """The hours the seed will log on a project on plan: its budget's, or fewer when
    ``MAX_ENTRIES`` lines of a usual day cannot hold them — what its team is booked for, so
    the staffing plan (and the forecast made from it) is what gets delivered and billed."""
    return min(project["budget_hours_x100"], MAX_ENTRIES * USUAL_DAY_X100)


def time_entries(
    ctx: SeedContext,
    catalog: Catalog,
    project: Row,
    team: list[tuple[int, str]],
    discount: int,
    progress: int,
) -> list[Row]:
    """Daily lines until the hours the schedule (and any overrun) implies, at most
    ``MAX_ENTRIES`` (``MAX_ENTRIES_OVER`` overrunning); a line finding no free weekday is left
    out."""
    rng = ctx.rng
    over = project["status"] == ProjectStatus.ACTIVE.value and rng.random() < OVER_BUDGET_SHARE
    burn = rng.randint(150, 220) if over else rng.randint(75, 105)
    target = project["budget_hours_x100"] * progress * burn // 10_000
    first, last = project["start_date"], min(project["end_date"], ctx.today)
    entries: list[Row] = []
    logged, most = 0, MAX_ENTRIES_OVER if over else MAX_ENTRIES
    while logged < target and len(entries) < most and first <= last:
        person_id, role = rng.choice(team)
        habit = HABIT_X100[person_id % len(HABIT_X100)]
        hours = habit if rng.random() < USUAL_SHARE else habit + rng.choice((-25, 25))
        day = _free_weekday(ctx, person_id, first, last)
        if day is not None:
            entries.append(_entry(ctx, catalog, project, person_id, role, day, hours, discount))
        logged += hours
    return entries


def _free_weekday(ctx: SeedContext, person_id: int, first: date, last: date) -> date | None:
    """A weekday in ``first`` … ``last`` the person has logged nothing on yet (then booked);
    ``None`` after ``DAY_TRIES`` taken or weekend days. One line a day near the person's habit:
    the seeded time has no anomalies of its own, only the planted ones (``plant``)."""
    for _ in range(DAY_TRIES):
        day = first + timedelta(days=ctx.rng.randint(0, (last - first).days))
        if day.weekday() < 5 and (person_id, day) not in ctx.busy:
            ctx.busy.add((person_id, day))
            return day
    return None


def _entry(
    ctx: SeedContext,
    catalog: Catalog,
    project: Row,
    person_id: int,
    role: str,
    day: date,
    hours: int,
    discount: int,
) -> Row:
    rng = ctx.rng
    age = (ctx.today - day).days
    rates = catalog.rates[(project["currency"], role)]
    if rng.random() < 0.02:
        status = TimeEntryStatus.REJECTED
    elif age > 45 or (age > 14 and rng.random() < 0.85):
        status = TimeEntryStatus.APPROVED
    elif age > 14:
        status = TimeEntryStatus.SUBMITTED  # piling up: submitted weeks ago, never approved
    else:
        status = TimeEntryStatus.SUBMITTED if rng.random() < 0.6 else TimeEntryStatus.DRAFT
    submitted = None
    if status is not TimeEntryStatus.DRAFT:
        submitted = datetime.combine(
            min(day + timedelta(days=rng.randint(0, 3)), ctx.today), time(18), UTC
        )
    tid = ctx.new_id("time_entry")
    return ctx.add(
        "time_entry",
        {
            **ctx.lineage("time_entry", tid, "netsuite", day),
            "project_id": project["id"],
            "person_id": person_id,
            "role": role,
            "work_date": day,
            "hours_x100": hours,
            "billable": project["billing_method"] != "non_billable",
            "bill_rate_minor": rates.bill * discount // 100,
            "standard_rate_minor": rates.bill,
            "cost_rate_minor": rates.cost,
            "currency": project["currency"],
            "status": status.value,
            "submitted_at": submitted,
            "invoice_id": None,
        },
    )


PLANTED = ("long_day:1", "long_day:2", "long_day:3", "weekend", "closed_project", "off_rate")
"""The deliberate anomalies, one each, on the first projects that fit (docs/formulas.md,
"Time anomalies", "The seeded firm")."""
LONG_DAY_X100 = 1_400  # 14 hours: over max_day_hours (12) and off anyone's pattern
OFF_RATE_PERCENT = 110  # billed 10% over the project's card


def plant(
    ctx: SeedContext, catalog: Catalog, project: Row, team: list[tuple[int, str]], discount: int
) -> None:
    """Add the next planted anomaly this project fits, if any (at most one per project)."""
    kind = next((k for k in PLANTED if k not in ctx.planted and _fits(ctx, k, project)), None)
    if kind is None:
        return
    ctx.planted.add(kind)
    person_id, role = team[0]
    day, hours = _when(ctx, kind, project)
    while (person_id, day) in ctx.busy:  # alone on its day: the planted hours are the day's
        day = _weekday(day - timedelta(days=1)) if day.weekday() < 5 else day - timedelta(days=7)
    ctx.busy.add((person_id, day))
    entry = _entry(ctx, catalog, project, person_id, role, day, hours, discount)
    entry["status"] = TimeEntryStatus.SUBMITTED.value  # awaiting approval: a manager's catch
    entry["submitted_at"] = datetime.combine(day, time(18), UTC)
    if kind == "off_rate":
        entry["bill_rate_minor"] = entry["bill_rate_minor"] * OFF_RATE_PERCENT // 100


def _fits(ctx: SeedContext, kind: str, project: Row) -> bool:
    if kind == "closed_project":
        ended = (ctx.today - project["end_date"]).days
        return project["status"] == ProjectStatus.CLOSED.value and 46 <= ended <= 75
    billable = project["billing_method"] in ("time_and_materials", "retainer")
    return project["status"] == ProjectStatus.ACTIVE.value and billable


def _when(ctx: SeedContext, kind: str, project: Row) -> tuple[date, int]:
    """A recent day within the default 90-day window of timeAnomalies, and the hours."""
    if kind == "closed_project":
        return _weekday(project["end_date"] + timedelta(days=9)), 300
    if kind == "weekend":
        saturday = ctx.today - timedelta(days=(ctx.today.weekday() - 5) % 7 + 7)
        return saturday, 500
    if kind == "off_rate":
        return _weekday(ctx.today - timedelta(days=12)), 600
    n = int(kind.split(":")[1])
    return _weekday(ctx.today - timedelta(days=4 + 9 * n)), LONG_DAY_X100


def _weekday(day: date) -> date:
    """``day``, or the Friday before it if it falls on a weekend."""
    return day - timedelta(days=max(0, day.weekday() - 4))
