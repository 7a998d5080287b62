"""Tables owned by the ERP by default: invoices and payments."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Index
from sqlmodel import Field

from readmodel.tables.lineage import Lineage, unique_source

ACCOUNT_INVOICES_COVER = (
    "status", "deleted_at", "number", "due_date", "total_minor", "balance_minor", "currency",
)  # fmt: skip
"""What ``ix_invoice_account_issue`` holds beside its key (PostgreSQL: an index-only scan)."""


class Invoice(Lineage, table=True):
    """An invoice to a client, for at most one project (limit: no multi-project invoices).

    ``balance_minor`` is the amount still to pay as the ERP reports it.
    """

    __tablename__ = "invoice"
    __table_args__ = (
        unique_source(),
        Index("ix_invoice_status_due", "status", "due_date"),
        Index("ix_invoice_due_date_id", "due_date", "id"),  # the invoices connection's order
        Index(  # an account's invoices in order, covering what the views read (migration 0019)
            "ix_invoice_account_issue",
            "account_id",
            "issue_date",
            "id",
            postgresql_include=list(ACCOUNT_INVOICES_COVER),
        ),
    )

    account_id: int = Field(foreign_key="account.id", sa_type=BigInteger)
    project_id: int | None = Field(
        default=None, foreign_key="project.id", index=True, sa_type=BigInteger
    )
    number: str = Field(max_length=32)
    currency: str = Field(max_length=3)
    issue_date: date
    due_date: date
    total_minor: int = Field(sa_type=BigInteger)
    balance_minor: int = Field(sa_type=BigInteger)
    status: str = Field(max_length=16)


class Payment(Lineage, table=True):
    """Money received against one invoice (limit: a payment applies to a single invoice)."""

    __tablename__ = "payment"
    __table_args__ = (unique_source(),)

    invoice_id: int = Field(foreign_key="invoice.id", index=True, sa_type=BigInteger)
    account_id: int = Field(foreign_key="account.id", index=True, sa_type=BigInteger)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    received_on: date
    status: str = Field(max_length=16)
