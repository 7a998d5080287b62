"""Time entries that look wrong, each with the rule that flagged it and its numbers.

Two statements whatever the period: the daily totals of the people a day rule may flag (off
the person's own pattern, over-long, weekend; the database finds them, ``_may_flag``) and the
entries that may break an entry rule (closed project, no assignment, rate off the rate card).
Python applies the rules exactly to what they return. Formulas and a worked example:
docs/formulas.md, "Time anomalies".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Row,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from readmodel import tables
from readmodel.enums import ProjectStatus, TimeEntryStatus
from readmodel.figures.sql import PERSON, PROJECT, TIME_ENTRY, as_int, live
from readmodel.forecasts.robust import MAD_TO_SIGMA, mad, median, robust_score
from readmodel.money import Money, hours_to_decimal

ASSIGNMENT = tables.table_of(tables.Assignment)
RATE_CARD_LINE = tables.table_of(tables.RateCardLine)
Where = Sequence[ColumnElement[bool]]
RULES = (
    "off_pattern",
    "long_day",
    "weekend",
    "holiday",
    "closed_project",
    "unstaffed",
    "rate_off_card",
)
"""Every rule, in the order anomalies of one day are listed."""
CLOSED = (ProjectStatus.COMPLETED, ProjectStatus.CLOSED)
OPEN_ENDED = date(9999, 12, 31)
"""An assignment without an end date, as a last day no entry is after."""


@dataclass(frozen=True)
class Thresholds:
    """The settings the rules compare with (``ForecastSettings``)."""

    score: Decimal
    min_days: int
    max_day_hours: Decimal
    rate_tolerance_percent: Decimal
    holidays: frozenset[date] = frozenset()  # the firm's, on weekdays (a weekend is flagged)


@dataclass(frozen=True)
class Pattern:
    """A person's days with time in the period: how many, their median and MAD (hours)."""

    days: int
    median: Decimal
    mad: Decimal


@dataclass(frozen=True)
class TimeAnomaly:
    """One flag: a person's day (day rules) or one entry (entry rules)."""

    rule: str
    person_id: int
    work_date: date
    hours: Decimal
    explanation: str
    entry: Row[Any] | None = None
    pattern: Pattern | None = None
    score: Decimal | None = None
    threshold: Decimal | None = None
    bill_rate: Money | None = None
    card_rate: Money | None = None

    @property
    def order(self) -> tuple[date, int, int, int]:
        entry = 0 if self.entry is None else self.entry.id
        return (self.work_date, self.person_id, RULES.index(self.rule), entry)


def _logged(start: date, end: date) -> list[ColumnElement[bool]]:
    t = TIME_ENTRY.c
    return [
        live(TIME_ENTRY),
        live(PROJECT),
        t.status != TimeEntryStatus.REJECTED,
        t.work_date >= start,
        t.work_date <= end,
    ]


async def daily_hours(
    conn: AsyncConnection, start: date, end: date, limits: Thresholds, where: Where = ()
) -> list[Row[Any]]:
    """(person_id, name, work_date, hours_x100) of every day with logged time of each person
    who has a day a day rule may flag (``_may_flag``): all their days, as their pattern is
    made of them all."""
    t = TIME_ENTRY.c
    stmt = (
        select(t.person_id, PERSON.c.name, t.work_date, func.sum(t.hours_x100).label("hours"))
        .join(PROJECT, PROJECT.c.id == t.project_id)
        .join(PERSON, PERSON.c.id == t.person_id)
        .where(*_logged(start, end), *where)
        .where(t.person_id.in_(_may_flag(start, end, limits, where)))
        .group_by(t.person_id, PERSON.c.name, t.work_date)
        .order_by(t.person_id, t.work_date)
    )
    return list(await conn.execute(stmt))


def _days_off(start: date, end: date, holidays: frozenset[date]) -> list[date]:
    """The period's Saturdays, Sundays and the firm's holidays."""
    days = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return [d for d in days if d.weekday() >= 5 or d in holidays]


def _once(stmt: Any, name: str) -> Any:
    """A common table expression PostgreSQL computes once: on a table not analysed yet it
    may plan a nested loop that would run a window over every day again for each row."""
    return stmt.cte(name).prefix_with("MATERIALIZED", dialect="postgresql")


def _ranked(person: Any, value: Any, name: str) -> Any:
    """``value`` with its rank (``rn``) among its person's and their count (``n``)."""
    return select(
        person,
        value,
        func.row_number().over(partition_by=person, order_by=value).label("rn"),
        func.count().over(partition_by=person).label("n"),
    ).subquery(name)


def _middle(ranked: Any, value: Any) -> Any:
    """Twice the median of ``value`` per person over ``ranked`` (``rn``: its rank, ``n``: the
    person's count): the two middle values summed, or the middle one doubled — an integer."""
    middle = ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
    twice = case((func.count() == 1, 2 * func.sum(value)), else_=func.sum(value))
    return (
        select(ranked.c.person_id, twice.label("m2"), func.max(ranked.c.n).label("n"))
        .where(middle)
        .group_by(ranked.c.person_id)
    )


def _may_flag(start: date, end: date, limits: Thresholds, where: Where) -> Any:
    """The people with a day the day rules may flag, found in the database: a firm's every
    day of the period is hundreds of thousands of rows, its anomalies a handful.

    In integers (hundredths of an hour): ``m2`` is twice the median, ``d2 = |2h − m2|`` twice
    a day's deviation, ``a4`` four times the MAD, so the robust score is ``2·d2 ÷ (1.4826·a4)``.
    The test is looser than the rules by 0.01 of score and 0.01 h (the rules round the score
    half-even to 0.01 first), and the rules are then applied exactly to these people's days."""
    t = TIME_ENTRY.c
    daily = (
        select(t.person_id, t.work_date, cast(func.sum(t.hours_x100), BigInteger).label("h"))
        .join(PROJECT, PROJECT.c.id == t.project_id)
        .where(*_logged(start, end), *where)
        .group_by(t.person_id, t.work_date)
        .cte("daily")  # read three times: computed once
    )
    ranked = _ranked(daily.c.person_id, daily.c.h, "ranked")
    median = _once(_middle(ranked, ranked.c.h), "median")
    deviation = (
        select(
            daily.c.person_id,
            daily.c.work_date,
            daily.c.h,
            median.c.n,
            func.abs(2 * daily.c.h - median.c.m2).label("d2"),
        )
        .join(median, median.c.person_id == daily.c.person_id)
        .subquery("deviation")
    )
    ranked_dev = _ranked(deviation.c.person_id, deviation.c.d2, "ranked_dev")
    spread = _once(_middle(ranked_dev, ranked_dev.c.d2), "spread")
    d = deviation.c
    score_cut = float(limits.score - Decimal("0.01")) * float(MAD_TO_SIGMA)
    off_pattern = and_(
        d.n >= limits.min_days,
        spread.c.m2 > 0,
        2 * d.d2 >= spread.c.m2 * score_cut,
    )
    long_day = d.h >= int(limits.max_day_hours * 100)
    return (
        select(d.person_id)
        .join(spread, spread.c.person_id == d.person_id)
        .where(or_(off_pattern, long_day, d.work_date.in_(_days_off(start, end, limits.holidays))))
        .distinct()
    )


def pattern_of(hours: Sequence[Decimal]) -> Pattern:
    centre = median(hours)
    return Pattern(len(hours), centre, mad(hours, centre))


def day_anomalies(days: Iterable[Row[Any]], limits: Thresholds) -> list[TimeAnomaly]:
    """The day rules over ``daily_hours`` rows (pure)."""
    by_person: dict[int, list[Row[Any]]] = defaultdict(list)
    for row in days:
        by_person[row.person_id].append(row)
    out: list[TimeAnomaly] = []
    for rows in by_person.values():
        hours = [hours_to_decimal(as_int(r.hours)) for r in rows]
        pattern = pattern_of(hours) if len(hours) >= limits.min_days else None
        for row, day_hours in zip(rows, hours, strict=True):
            out += _day_flags(row, day_hours, pattern, limits)
    return out


def _day_flags(
    row: Row[Any], hours: Decimal, pattern: Pattern | None, limits: Thresholds
) -> list[TimeAnomaly]:
    who, day = row.name, row.work_date
    flags = []
    score = None if pattern is None else robust_score(hours, pattern.median, pattern.mad)
    if pattern is not None and score is not None and score > limits.score:
        flags.append(
            TimeAnomaly(
                "off_pattern", row.person_id, day, hours,
                f"{who} logged {hours} h on {day}: robust score {score} (|{hours} − "
                f"{pattern.median}| ÷ (1.4826 × {pattern.mad})) against their median day of "
                f"{pattern.median} h over {pattern.days} days with time; flagged above "
                f"{limits.score}.",
                pattern=pattern, score=score, threshold=limits.score,
            )
        )  # fmt: skip
    if hours > limits.max_day_hours:
        text = f"{who} logged {hours} h on {day}, more than the {limits.max_day_hours} h a day."
        flags.append(
            TimeAnomaly("long_day", row.person_id, day, hours, text, threshold=limits.max_day_hours)
        )
    if day.weekday() >= 5:
        text = f"{who} logged {hours} h on {day:%A} {day}."
        flags.append(TimeAnomaly("weekend", row.person_id, day, hours, text))
    if day in limits.holidays and day.weekday() < 5:
        text = f"{who} logged {hours} h on {day:%A} {day}, a holiday of the firm."
        flags.append(TimeAnomaly("holiday", row.person_id, day, hours, text))
    return flags


def _staffed() -> ColumnElement[bool]:
    a, t = ASSIGNMENT.c, TIME_ENTRY.c
    return exists().where(
        live(ASSIGNMENT),
        a.person_id == t.person_id,
        a.project_id == t.project_id,
        a.start_date <= t.work_date,
        or_(a.end_date.is_(None), a.end_date >= t.work_date),
    )


def _staffing() -> Any:
    """Each (person, project)'s live assignments: how many, the first start, the last end."""
    a = ASSIGNMENT.c
    return (
        select(a.person_id, a.project_id, func.count().label("n"))
        .add_columns(func.min(a.start_date).label("first"))
        .add_columns(func.max(func.coalesce(a.end_date, OPEN_ENDED)).label("last"))
        .where(live(ASSIGNMENT))
        .group_by(a.person_id, a.project_id)
        .subquery("staffing")
    )


def _covered(staffing: Any) -> ColumnElement[bool]:
    """``_staffed``, answered from the entry's (person, project) staffing where it can be: no
    assignment, or a day outside all of them, is not covered, one assignment spanning it is;
    only days within several assignments' range ask for them one by one (a firm's period
    holds hundreds of thousands of entries)."""
    t, s = TIME_ENTRY.c, staffing.c
    return case(
        (s.n.is_(None), false()),
        (or_(t.work_date < s.first, t.work_date > s.last), false()),
        (s.n == 1, true()),
        else_=_staffed(),
    )


def _card_rates() -> Any:
    """Each rate card's lowest live rate per role."""
    r = RATE_CARD_LINE.c
    return (
        select(r.rate_card_id, r.role, func.min(r.bill_rate_minor).label("rate"))
        .where(live(RATE_CARD_LINE))
        .group_by(r.rate_card_id, r.role)
        .subquery("card")
    )


async def flagged_entries(
    conn: AsyncConnection, start: date, end: date, where: Where = ()
) -> list[Row[Any]]:
    """Entries that may break an entry rule, with their project, person, staffing and card
    rate (the rules are applied again, exactly, in ``entry_anomalies``)."""
    t, p = TIME_ENTRY.c, PROJECT.c
    staffing, cards = _staffing(), _card_rates()
    staffed, card = _covered(staffing), cards.c.rate
    closed = and_(p.status.in_(CLOSED), or_(p.end_date.is_(None), t.work_date > p.end_date))
    off_card = and_(t.billable.is_(True), card.is_not(None), card != t.bill_rate_minor)
    stmt = (
        select(
            TIME_ENTRY,
            p.code,
            p.status.label("project_status"),
            p.end_date.label("project_end"),
            PERSON.c.name.label("person_name"),
            staffed.label("staffed"),
            card.label("card_rate"),
        )
        .join(PROJECT, p.id == t.project_id)
        .join(PERSON, PERSON.c.id == t.person_id)
        .outerjoin(
            staffing,
            and_(staffing.c.person_id == t.person_id, staffing.c.project_id == t.project_id),
        )
        .outerjoin(cards, and_(cards.c.rate_card_id == p.rate_card_id, cards.c.role == t.role))
        .where(*_logged(start, end), *where, or_(closed, not_(staffed), off_card))
        .order_by(t.work_date, t.person_id, t.id)
    )
    return list(await conn.execute(stmt))


def entry_anomalies(entries: Iterable[Row[Any]], limits: Thresholds) -> list[TimeAnomaly]:
    """The entry rules over ``flagged_entries`` rows (pure)."""
    return [flag for row in entries for flag in _entry_flags(row, limits)]


def _entry_flags(row: Row[Any], limits: Thresholds) -> list[TimeAnomaly]:
    hours = hours_to_decimal(row.hours_x100)
    what = f"{row.person_name}'s {hours} h on {row.code} dated {row.work_date}"

    def flag(rule: str, text: str, **kw: Any) -> TimeAnomaly:
        return TimeAnomaly(rule, row.person_id, row.work_date, hours, text, row, **kw)

    out = []
    end = row.project_end
    if row.project_status in CLOSED and (end is None or row.work_date > end):
        after = "" if end is None else f" after its end date {end}"
        out.append(flag("closed_project", f"{what} is on a {row.project_status} project{after}."))
    if not row.staffed:
        text = f"{what}: {row.person_name} has no assignment on {row.code} covering that day."
        out.append(flag("unstaffed", text))
    if _off_card(row, limits.rate_tolerance_percent):
        text = f"{what} is billed at a rate other than the rate card's for role {row.role}."
        bill = Money.from_minor(row.bill_rate_minor, row.currency)
        card = Money.from_minor(row.card_rate, row.currency)
        tolerance = limits.rate_tolerance_percent
        out.append(flag("rate_off_card", text, bill_rate=bill, card_rate=card, threshold=tolerance))
    return out


def _off_card(row: Row[Any], tolerance_percent: Decimal) -> bool:
    if not row.billable or row.card_rate is None:
        return False
    gap = abs(row.bill_rate_minor - row.card_rate) * 100
    return bool(gap > row.card_rate * tolerance_percent)


async def time_anomalies(
    conn: AsyncConnection, start: date, end: date, limits: Thresholds, where: Where = ()
) -> list[TimeAnomaly]:
    """Every anomaly of time worked from ``start`` to ``end`` (both included), ordered by
    day, person, rule and entry (2 statements)."""
    days = day_anomalies(await daily_hours(conn, start, end, limits, where), limits)
    entries = entry_anomalies(await flagged_entries(conn, start, end, where), limits)
    return sorted(days + entries, key=lambda a: a.order)
