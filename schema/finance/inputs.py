"""Filters for the ``invoices`` collection."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from readmodel.reads.filters import InvoiceQuery
from readmodel.reads.pages import Ordering
from resolvers.inputs import currency_code, date_range, optional_key, values
from schema.crm.inputs import OrderDirection, sort_order
from schema.enums import InvoiceStatus


@strawberry.input(description="All given conditions must hold.")
class InvoiceFilter:
    status: list[InvoiceStatus] | None = None
    overdue: bool | None = strawberry.field(
        default=None,
        description="true: posted or partially paid, past due, balance > 0 (as of today, UTC).",
    )
    account_id: strawberry.ID | None = None
    project_id: strawberry.ID | None = None
    currency: str | None = None
    issued_from: date | None = strawberry.field(default=None, description="Inclusive.")
    issued_to: date | None = strawberry.field(default=None, description="Inclusive.")

    def to_query(self) -> InvoiceQuery:
        date_range(self.issued_from, self.issued_to, "filter.issuedFrom")
        return InvoiceQuery(
            statuses=values(self.status, "filter.status"),
            overdue=self.overdue,
            account_id=optional_key(self.account_id, "Account", "filter.accountId"),
            project_id=optional_key(self.project_id, "Project", "filter.projectId"),
            currency=currency_code(self.currency, "filter.currency"),
            issued_from=self.issued_from,
            issued_to=self.issued_to,
        )


@strawberry.enum(description="What `invoices` can be sorted by.")
class InvoiceOrderField(Enum):
    DUE_DATE = "due_date"
    ISSUE_DATE = "issue_date"
    NUMBER = "number"


@strawberry.input(description="How `invoices` is sorted; its cursors belong to that order.")
class InvoiceOrder:
    field: InvoiceOrderField = strawberry.field(
        default=InvoiceOrderField.DUE_DATE, description="What to sort by."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way."
    )

    def to_ordering(self) -> Ordering:
        return sort_order(self.field.value, self.direction)
