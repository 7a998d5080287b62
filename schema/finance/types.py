"""Finance: invoices and the payments against them."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from readmodel.figures import days_overdue
from resolvers.context import context_of
from resolvers.ids import to_global_id
from schema.common.types import NESTED_FIRST, After, First, Money, Node, many, money, one
from schema.enums import InvoiceStatus, PaymentStatus

if TYPE_CHECKING:
    from schema.crm.types import Account
    from schema.delivery.types import Project

AccountT = Annotated["Account", strawberry.lazy("schema.crm.types")]
ProjectT = Annotated["Project", strawberry.lazy("schema.delivery.types")]


@strawberry.federation.type(
    keys=["id"], description="An invoice to a client, for at most one project."
)
class Invoice(Node):
    number: str
    status: InvoiceStatus
    issue_date: date
    due_date: date
    total: Money
    balance: Money = strawberry.field(description="Still to pay, as the ERP reports it.")

    @classmethod
    def from_row(cls, row: Any) -> Invoice:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Invoice", row.id)),
            number=row.number,
            status=InvoiceStatus(row.status),
            issue_date=row.issue_date,
            due_date=row.due_date,
            total=money(row.total_minor, row.currency),
            balance=money(row.balance_minor, row.currency),
        )

    @strawberry.field(description="Days past due (0 unless posted or partly paid, due, unpaid).")
    def days_overdue(self, info: strawberry.Info) -> int:
        row = self.row
        return days_overdue(row.status, row.due_date, row.balance_minor, context_of(info).today)

    @strawberry.field
    async def account(self, info: strawberry.Info) -> AccountT | None:
        from schema.crm.types import Account

        return await one(info, "account_by_id", self.row.account_id, Account.from_row)

    @strawberry.field
    async def project(self, info: strawberry.Info) -> ProjectT | None:
        from schema.delivery.types import Project

        return await one(info, "project_by_id", self.row.project_id, Project.from_row)

    @strawberry.field(description="Payments received against this invoice, by date.")
    async def payments(
        self, info: strawberry.Info, first: First = NESTED_FIRST, after: After = None
    ) -> list[Payment]:
        return await many(
            info, "payments_by_invoice", self.row.id, Payment.from_row, first, after=after
        )


@strawberry.type
class Payment(Node):
    amount: Money | None
    received_on: date | None
    status: PaymentStatus

    @classmethod
    def from_row(cls, row: Any) -> Payment:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Payment", row.id)),
            amount=money(row.amount_minor, row.currency),
            received_on=row.received_on,
            status=PaymentStatus(row.status),
        )

    @strawberry.field
    async def invoice(self, info: strawberry.Info) -> Invoice | None:
        return await one(info, "invoice_by_id", self.row.invoice_id, Invoice.from_row)
