"""``issueInvoice``: issue an invoice to a project's client in the system that owns invoices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from resolvers.commands.accept import Write, accept_command
from resolvers.commands.ownership import owner_of, ownership_of
from resolvers.commands.validation import Checker, as_payload
from resolvers.context import Context

KIND = "issue_invoice"
ENTITY = "invoice"


async def issue_invoice(ctx: Context, key: str, args: Mapping[str, Any]) -> Row[Any]:
    """Accept a new open invoice for a project (a record of the invoices' owner).

    The issue date defaults to today; without ``dueDate`` the ERP applies the client's
    payment terms, and without ``amount`` it totals what it has to bill. An amount is ≥ 0 in
    the project's currency.
    """

    def build(check: Checker) -> Write:
        owner = owner_of(ownership_of(ctx), ENTITY)
        project = check.key("projectId", args["project_id"], "Project")
        issue_date = check.iso_date("issueDate", args.get("issue_date")) or ctx.today
        due_date = check.iso_date("dueDate", args.get("due_date"))
        if due_date is not None and due_date < issue_date:
            check.add("dueDate", "must be on or after the issue date")
        check.refuse_if_any()
        assert project is not None
        row = check.target("project", project, owner, "projectId")
        money = args.get("amount")
        amount = None
        if money is not None:
            amount = check.amount(
                "amount", money["amount"], money["currency"], expected=row.currency
            )
        payload = as_payload(
            project_id=row.source_id,
            issue_date=issue_date,
            due_date=due_date,
            amount=amount,
            currency=row.currency,
        )
        return Write(owner, ENTITY, None, payload)

    return await accept_command(ctx, KIND, key, args, build)
