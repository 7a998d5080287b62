"""``completeMilestone``: mark a planned milestone completed in the system that owns delivery."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from readmodel.enums import MilestoneStatus
from resolvers.commands.accept import Write, accept_command
from resolvers.commands.ownership import owner_of, ownership_of
from resolvers.commands.validation import Checker, as_payload
from resolvers.context import Context

KIND = "complete_milestone"
ENTITY = "milestone"


async def complete_milestone(ctx: Context, key: str, args: Mapping[str, Any]) -> Row[Any]:
    """Accept the completion; ``completedOn`` defaults to today and may not be in the future."""

    def build(check: Checker) -> Write:
        owner = owner_of(ownership_of(ctx), ENTITY)
        milestone = check.key("milestoneId", args["milestone_id"], "Milestone")
        completed_on = check.iso_date("completedOn", args.get("completed_on")) or ctx.today
        if completed_on > ctx.today:
            check.add("completedOn", "a milestone cannot be completed in the future")
        check.refuse_if_any()
        assert milestone is not None
        row = check.target(ENTITY, milestone, owner, "milestoneId")
        check.expect(
            row.status,
            MilestoneStatus.PLANNED,
            lambda r: f"only a planned milestone can be completed (this is {r.status})",
        )
        payload = as_payload(milestone_id=row.source_id, completed_on=completed_on)
        return Write(owner, ENTITY, row.source_id, payload)

    return await accept_command(ctx, KIND, key, args, build)
