"""Projects' time entries: filtered by status and work date, newest first, bounded per project.

A project's timesheet grows for as long as the project runs, so unlike its milestones the list
is capped: at most ``TIME_ENTRIES_PER_PROJECT`` entries per project, the newest. A client that
needs older time narrows the window with a work-date range.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from readmodel.tables import TimeEntry, table_of

TIME_ENTRIES_PER_PROJECT = 500
"""The most entries one project answers with: enough for a review screen, and one long-running
project cannot make a response unbounded."""


@dataclass(frozen=True)
class TimeEntryQuery:
    """Which of a project's entries to read: any of ``statuses``, worked in [from, to]."""

    statuses: tuple[str, ...] | None = None
    work_from: date | None = None
    work_to: date | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        t = table_of(TimeEntry)
        out: list[ColumnElement[bool]] = []
        if self.statuses is not None:
            out.append(t.c.status.in_(self.statuses))
        if self.work_from is not None:
            out.append(t.c.work_date >= self.work_from)
        if self.work_to is not None:
            out.append(t.c.work_date <= self.work_to)
        return out


async def time_entries_by_project(
    conn: AsyncConnection,
    project_ids: Sequence[int],
    query: TimeEntryQuery,
    *,
    where: Sequence[ColumnElement[bool]] = (),
    limit: int = TIME_ENTRIES_PER_PROJECT,
) -> dict[int, list[Row[Any]]]:
    """Live entries of each project matching ``query``, newest first, at most ``limit`` each.

    Args:
        conn: A read-model connection.
        project_ids: The projects to read, in one statement.
        query: The filter every project's entries must match.
        where: Further conditions (the caller's row scope).
        limit: The cap per project (a window function ranks each project's entries).

    Returns:
        Each project's entries by work date, then id, both descending; absent when none match.
    """
    grouped: dict[int, list[Row[Any]]] = defaultdict(list)
    if not project_ids:
        return grouped
    t = table_of(TimeEntry)
    newest_first = (t.c.work_date.desc(), t.c.id.desc())
    rank = func.row_number().over(partition_by=t.c.project_id, order_by=newest_first)
    ranked = (
        select(t, rank.label("rank_in_project"))
        .where(
            t.c.project_id.in_(set(project_ids)),
            t.c.deleted_at.is_(None),
            *query.conditions(),
            *where,
        )
        .subquery()
    )
    stmt = (
        select(*(ranked.c[column.name] for column in t.columns))
        .where(ranked.c.rank_in_project <= limit)
        .order_by(ranked.c.project_id, ranked.c.work_date.desc(), ranked.c.id.desc())
    )
    for row in await conn.execute(stmt):
        grouped[row.project_id].append(row)
    return grouped
