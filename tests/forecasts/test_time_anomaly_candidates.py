"""The day rules of ``timeAnomalies`` read only the days of people the database finds may be
flagged (``_may_flag``: integer arithmetic, looser than the rules). On random patterns, with
thresholds set on the very scores, hours and day counts found in them (the boundaries where
a looser test matters), the anomalies are exactly those of the rules over every day."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import tables
from readmodel.forecasts.robust import robust_score
from readmodel.forecasts.time_anomalies import (
    Thresholds,
    daily_hours,
    day_anomalies,
    pattern_of,
)
from readmodel.money import hours_to_decimal
from tests.readmodel.firm_builder import DEFAULTS, SYNCED, FirmBuilder, build

START, END = date(2026, 6, 1), date(2026, 6, 30)
PEOPLE = 120
BOUNDARIES = 40  # thresholds tried, a statement each
CENT = Decimal("0.01")
HOLIDAYS = frozenset({date(2026, 6, 9), date(2026, 6, 24)})  # a Tuesday, a Wednesday


class Day(NamedTuple):
    person_id: int
    name: str
    work_date: date
    hours: int


def _pattern(rng: random.Random) -> dict[date, list[int]]:
    """A person's entries by day: a usual day with small noise, ties and a few outliers."""
    usual = rng.choice([800, 750, 601, 425])
    steps = [0, 0, 0, 0, 1, -1, 3, 25, -25, 50, -100, 400, -500, 700, rng.randint(-500, 500)]
    weekdays = [n for n in range(30) if (START + timedelta(days=n)).weekday() < 5]
    pool = range(30) if rng.random() < 0.3 else weekdays  # some work weekends
    days = rng.sample(pool, rng.randint(1, len(pool)))
    out = {}
    for n in days:
        hours = max(25, usual + rng.choice(steps))
        split = rng.random() < 0.2 and hours > 100
        out[START + timedelta(days=n)] = [hours - 100, 100] if split else [hours]
    return out


def _boundaries(days: list[Day], rng: random.Random) -> list[Thresholds]:
    """Thresholds on the data's own edges, each making one person's day the only one that
    can flag them (people with a weekend day are flagged whatever the thresholds): their
    highest rounded score or a cent below it (their count of days as the minimum), their
    longest day or a cent below it."""
    by_person: dict[int, list[Decimal]] = defaultdict(list)
    weekend = {d.person_id for d in days if d.work_date.weekday() >= 5 or d.work_date in HOLIDAYS}
    for d in days:
        by_person[d.person_id].append(hours_to_decimal(d.hours))
    out = [Thresholds(Decimal("3.5"), 10, Decimal(12), Decimal(0), HOLIDAYS)]
    for person, hours in by_person.items():
        pattern = pattern_of(hours)
        scores = [robust_score(h, pattern.median, pattern.mad) or Decimal(0) for h in hours]
        if person in weekend or len(hours) < 2:
            continue
        top, longest = max(scores), max(hours)
        cent = CENT * (rng.random() < 0.5)
        if top > CENT:
            out.append(Thresholds(top - cent, len(hours), Decimal(24), Decimal(0), HOLIDAYS))
        out.append(Thresholds(Decimal(100), len(hours), longest - cent, Decimal(0), HOLIDAYS))
    return out[:1] + rng.sample(out[1:], min(len(out) - 1, BOUNDARIES))


async def test_the_candidates_lose_no_anomaly(engine: AsyncEngine) -> None:
    rng = random.Random(20261206)
    every_day: list[Day] = []

    async def firm(b: FirmBuilder, ids: dict[str, Any]) -> None:
        project = await b.project(await b.account("Acme"), "P", "time_and_materials")
        rows = []
        patterns = [(f"P{n:02}", _pattern(rng)) for n in range(PEOPLE)]
        steady = {START + timedelta(days=n): [800] for n in range(6)}  # to the first Saturday
        holiday = {START + timedelta(days=n): [800] for n in (7, 8, 9)}  # 06-09: a holiday
        odd_days = [("Saturday only", steady), ("holiday only", holiday)]
        for name, pattern in [*patterns, *odd_days]:
            person = await b.person(name)
            for day, entries in sorted(pattern.items()):
                every_day.append(Day(person, name, day, sum(entries)))
                rows += [
                    {
                        **DEFAULTS.get(tables.TimeEntry, {}),
                        "source_system": "tryton",
                        "source_id": f"te-{person}-{day}-{k}",
                        "source_version": SYNCED,
                        "synced_at": SYNCED,
                        "project_id": project,
                        "person_id": person,
                        "work_date": day,
                        "hours_x100": hours,
                        "status": "approved",
                    }
                    for k, hours in enumerate(entries)
                ]
        await b.conn.execute(insert(tables.table_of(tables.TimeEntry)), rows)

    await build(engine, firm)
    flagged: dict[str, int] = defaultdict(int)
    async with engine.connect() as conn:
        for limits in _boundaries(every_day, rng):
            want = day_anomalies(every_day, limits)
            got = day_anomalies(await daily_hours(conn, START, END, limits), limits)
            assert sorted(got, key=lambda a: a.order) == sorted(want, key=lambda a: a.order)
            for a in want:
                flagged[a.rule] += 1
    rules = ("off_pattern", "long_day", "weekend", "holiday")
    assert all(flagged[rule] >= 20 for rule in rules), flagged
