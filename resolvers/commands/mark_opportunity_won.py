"""``markOpportunityWon``: close a deal as won in the CRM (stage closed_won, probability 100)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from resolvers.commands.accept import Write, accept_command
from resolvers.commands.ownership import owner_of, ownership_of
from resolvers.commands.validation import Checker, as_payload
from resolvers.context import Context
from resolvers.handoffs.data import handoff_data

KIND = "mark_opportunity_won"
ENTITY = "opportunity"


async def mark_opportunity_won(ctx: Context, key: str, args: Mapping[str, Any]) -> Row[Any]:
    """Accept the win; the close date defaults to the request's UTC date.

    Optional ``handoff`` data (billing method, start date, milestones…) travels in the
    payload: when the win SUCCEEDS, the handoff it starts reads it (``sync_jobs.handoff``).
    """

    def build(check: Checker) -> Write:
        owner = owner_of(ownership_of(ctx), ENTITY)
        opportunity = check.key("opportunityId", args["opportunity_id"], "Opportunity")
        close_date = check.iso_date("closeDate", args.get("close_date")) or ctx.today
        check.refuse_if_any()
        assert opportunity is not None
        row = check.target(ENTITY, opportunity, owner, "opportunityId")
        check.expect(row.is_closed, False, _already_closed)
        handoff = handoff_data(check, "handoff", args.get("handoff"), row.currency)
        payload = as_payload(
            opportunity_id=row.source_id,
            stage="closed_won",
            probability=100,
            close_date=close_date,
        )
        if handoff:  # data the CRM lacks, kept for the handoff this win starts
            payload["handoff"] = handoff
        return Write(owner, ENTITY, row.source_id, payload)

    return await accept_command(ctx, KIND, key, args, build)


def _already_closed(row: Any) -> str:
    return f"this deal is already closed ({'won' if row.is_won else 'lost'})"
