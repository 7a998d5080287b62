"""``submitChangeOrder``: propose a change to a project's budget, hours or end date."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from readmodel.command_targets import Col
from resolvers.commands.accept import Write, accept_command
from resolvers.commands.ownership import owner_of, ownership_of
from resolvers.commands.validation import Checker, as_payload
from resolvers.context import Context

KIND = "submit_change_order"
ENTITY = "change_order"
MAX_REASON = 500  # the change_order.reason column
MAX_DAYS = 3650
ZERO_MONEY = ZERO_HOURS = Decimal("0.00")  # the executor expects every delta, zero or not


async def submit_change_order(ctx: Context, key: str, args: Mapping[str, Any]) -> Row[Any]:
    """Accept a new change order on a project of the change orders' owner.

    Deltas may be negative (a descoping); at least one must be non-zero, and a budget delta
    is in the project's currency. The payload always carries all three deltas and the
    currency (zeros for those not given).
    """

    def build(check: Checker) -> Write:
        owner = owner_of(ownership_of(ctx), ENTITY)
        project = check.key("projectId", args["project_id"], "Project")
        hours = _hours(check, args.get("hours_delta"))
        days = args.get("days_delta")
        if days is not None and abs(days) > MAX_DAYS:
            check.add("daysDelta", f"at most {MAX_DAYS} days either way")
        check.text("reason", args.get("reason"), max_length=MAX_REASON, required=True)
        check.refuse_if_any()
        assert project is not None
        row = check.target("project", project, owner, "projectId")
        budget = _budget(check, args.get("budget_delta"), row.currency)
        if not any((budget, hours, days)):
            check.add("budgetDelta", "give a non-zero budgetDelta, hoursDelta or daysDelta")
        payload = as_payload(
            project_id=row.source_id,
            budget_delta=budget or ZERO_MONEY,
            currency=row.currency,
            hours_delta=hours or ZERO_HOURS,
            days_delta=days or 0,
            reason=args["reason"].strip(),
        )
        return Write(owner, ENTITY, None, payload)

    return await accept_command(ctx, KIND, key, args, build)


def _hours(check: Checker, text: str | None) -> Decimal | None:
    return None if text is None else check.hours("hoursDelta", text, signed=True)


def _budget(check: Checker, money: Mapping[str, str] | None, currency: Col) -> Decimal | None:
    if money is None:
        return None
    return check.amount(
        "budgetDelta", money["amount"], money["currency"], expected=currency, signed=True
    )
