"""``updateOpportunity``: change a deal's stage, close date, amount or probability in the CRM."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from resolvers.commands.accept import Write, accept_command
from resolvers.commands.ownership import owner_of, ownership_of
from resolvers.commands.validation import Checker, as_payload
from resolvers.context import Context

KIND = "update_opportunity"
ENTITY = "opportunity"
CHANGES = ("stage", "close_date", "amount", "probability")


async def update_opportunity(ctx: Context, key: str, args: Mapping[str, Any]) -> Row[Any]:
    """Accept the update; winning goes through ``markOpportunityWon`` (it has its own rules)."""

    def build(check: Checker) -> Write:
        owner = owner_of(ownership_of(ctx), ENTITY)
        opportunity = check.key("opportunityId", args["opportunity_id"], "Opportunity")
        close_date = check.iso_date("closeDate", args.get("close_date"))
        check.probability("probability", args.get("probability"))
        if args.get("stage") == "closed_won":
            check.add("stage", "use markOpportunityWon to win a deal")
        if all(args.get(name) is None for name in CHANGES):
            check.add(
                "opportunityId", "nothing to change: give stage, closeDate, amount or probability"
            )
        check.refuse_if_any()
        assert opportunity is not None
        row = check.target(ENTITY, opportunity, owner, "opportunityId")
        check.expect(row.is_closed, False, lambda _: "a closed deal cannot be updated")
        money = args.get("amount")
        amount = None
        if money is not None:
            amount = check.amount(
                "amount", money["amount"], money["currency"], expected=row.currency
            )
        payload = as_payload(
            opportunity_id=row.source_id,
            stage=args.get("stage"),
            close_date=close_date,
            amount=amount,
            currency=row.currency if amount is not None else None,
            probability=args.get("probability"),
        )
        return Write(owner, ENTITY, row.source_id, payload)

    return await accept_command(ctx, KIND, key, args, build)
