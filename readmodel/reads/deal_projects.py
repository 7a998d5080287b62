"""The projects a won deal leads to: through its engagement, or through its handoff.

A project reaches its deal in two ways, and a deal may use both:

* the contract: ``project.engagement_id`` → ``engagement.opportunity_id`` (the firm's own
  projects, and the handoff's, which it makes under an engagement naming the deal);
* the handoff: its ``create_project`` step's command names the project it wrote or linked
  (``command.target_system`` / ``target_source_id``), so a project the PSA keeps without
  an engagement (Tryton has none) is still reached.

Each function is one statement for a whole batch of keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, and_, select, union
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from readmodel.command_log import COMMANDS, CommandStatus
from readmodel.tables import Engagement, Handoff, HandoffStep, Project, table_of

PROJECT, ENGAGEMENT = table_of(Project), table_of(Engagement)
HANDOFF, STEP = table_of(Handoff), table_of(HandoffStep)
PROJECT_STEP = "create_project"


def _through_handoff() -> Select[Any]:
    """Live projects written or linked by a handoff's succeeded project step, with the
    handoff's ``handoff_id`` and ``deal_id``."""
    p, h, s, c = PROJECT.c, HANDOFF.c, STEP.c, COMMANDS.c
    return (
        select(*PROJECT.c, h.id.label("handoff_id"), h.opportunity_id.label("deal_id"))
        .select_from(HANDOFF)
        .join(STEP, and_(s.handoff_id == h.id, s.name == PROJECT_STEP))
        .join(COMMANDS, and_(c.id == s.command_id, c.status == CommandStatus.SUCCEEDED.value))
        .join(
            PROJECT,
            and_(p.source_system == c.target_system, p.source_id == c.target_source_id),
        )
        .where(p.deleted_at.is_(None))
    )


async def projects_by_handoff(
    conn: AsyncConnection, handoff_ids: Sequence[int], *, where: Sequence[ColumnElement[bool]] = ()
) -> dict[int, Row[Any]]:
    """The project each handoff made or linked (and ``where`` on it), keyed by handoff id
    (absent: none yet)."""
    if not handoff_ids:
        return {}
    stmt = _through_handoff().where(HANDOFF.c.id.in_(set(handoff_ids)), *where)
    return {row.handoff_id: row for row in await conn.execute(stmt)}


async def projects_by_opportunity(
    conn: AsyncConnection, deal_ids: Sequence[int], *, where: Sequence[ColumnElement[bool]] = ()
) -> dict[int, list[Row[Any]]]:
    """Each deal's live projects (and ``where`` on them), through its engagements or its
    handoff, by code."""
    grouped: dict[int, list[Row[Any]]] = defaultdict(list)
    if not deal_ids:
        return grouped
    keys = set(deal_ids)
    p, e = PROJECT.c, ENGAGEMENT.c
    contracted = (
        select(*PROJECT.c, e.opportunity_id.label("deal_id"))
        .join(ENGAGEMENT, e.id == p.engagement_id)
        .where(e.opportunity_id.in_(keys), e.deleted_at.is_(None), p.deleted_at.is_(None), *where)
    )
    handed = _through_handoff().where(HANDOFF.c.opportunity_id.in_(keys), *where)
    handed = handed.with_only_columns(*PROJECT.c, HANDOFF.c.opportunity_id.label("deal_id"))
    both = union(contracted, handed).subquery()
    stmt = select(both).order_by(both.c.deal_id, both.c.code, both.c.id)
    for row in await conn.execute(stmt):
        grouped[row.deal_id].append(row)
    return grouped
