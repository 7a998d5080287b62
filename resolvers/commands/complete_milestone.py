"""``completeMilestone``: mark a planned milestone completed in the system that owns delivery."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from readmodel.enums import MilestoneStatus
from readmodel.raw_reads import Reading
from resolvers.commands.accept import Write, accept_command
from resolvers.commands.ownership import owned_record, owner_of, ownership_of
from resolvers.commands.validation import Checker, as_payload
from resolvers.context import Context

KIND = "complete_milestone"
ENTITY = "milestone"


async def complete_milestone(ctx: Context, key: str, args: Mapping[str, Any]) -> Row[Any]:
    """Accept the completion; ``completedOn`` defaults to today and may not be in the future."""

    async def build(conn: Reading) -> Write:
        owner = owner_of(ownership_of(ctx), ENTITY)
        check = Checker()
        milestone = check.key("milestoneId", args["milestone_id"], "Milestone")
        completed_on = check.iso_date("completedOn", args.get("completed_on")) or ctx.today
        if completed_on > ctx.today:
            check.add("completedOn", "a milestone cannot be completed in the future")
        check.refuse_if_any()
        assert milestone is not None
        row = await owned_record(conn, ENTITY, milestone, owner, "milestoneId", ctx.scope)
        if row.status != MilestoneStatus.PLANNED:
            check.add(
                "milestoneId", f"only a planned milestone can be completed (this is {row.status})"
            )
        check.refuse_if_any()
        payload = as_payload(milestone_id=row.source_id, completed_on=completed_on)
        return Write(owner, ENTITY, row.source_id, payload)

    return await accept_command(ctx, KIND, key, args, build)
