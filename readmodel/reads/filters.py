"""Filters for the root collections, as plain data, turned into SQL conditions here.

The GraphQL layer validates client input into these dataclasses; this module is the one place
that knows how each filter maps to columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Table, and_
from sqlalchemy.sql.elements import ColumnElement

from readmodel.enums import InvoiceStatus
from readmodel.tables import Account, Invoice, Project, table_of

OPEN_INVOICE_STATUSES = (InvoiceStatus.POSTED.value, InvoiceStatus.PARTIALLY_PAID.value)
Conditions = list[ColumnElement[bool]]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class AccountQuery:
    name_contains: str | None = None
    industries: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    currency: str | None = None
    parent_id: int | None = None
    top_level: bool | None = None

    def conditions(self) -> Conditions:
        t = table_of(Account)
        out: Conditions = []
        if self.name_contains:
            pattern = f"%{_like_escape(self.name_contains.lower())}%"
            out.append(t.c.name.ilike(pattern, escape="\\"))
        if self.industries is not None:
            out.append(t.c.industry.in_(self.industries))
        if self.statuses is not None:
            out.append(t.c.status.in_(self.statuses))
        if self.currency is not None:
            out.append(t.c.currency == self.currency)
        if self.parent_id is not None:
            out.append(t.c.parent_id == self.parent_id)
        if self.top_level is not None:
            out.append(t.c.parent_id.is_(None) if self.top_level else t.c.parent_id.is_not(None))
        return out


@dataclass(frozen=True)
class ProjectQuery:
    statuses: tuple[str, ...] | None = None
    billing_methods: tuple[str, ...] | None = None
    account_id: int | None = None
    engagement_id: int | None = None
    currency: str | None = None

    def conditions(self) -> Conditions:
        t = table_of(Project)
        out: Conditions = []
        if self.statuses is not None:
            out.append(t.c.status.in_(self.statuses))
        if self.billing_methods is not None:
            out.append(t.c.billing_method.in_(self.billing_methods))
        if self.account_id is not None:
            out.append(t.c.account_id == self.account_id)
        if self.engagement_id is not None:
            out.append(t.c.engagement_id == self.engagement_id)
        if self.currency is not None:
            out.append(t.c.currency == self.currency)
        return out


@dataclass(frozen=True)
class InvoiceQuery:
    statuses: tuple[str, ...] | None = None
    overdue: bool | None = None
    account_id: int | None = None
    project_id: int | None = None
    currency: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None

    def conditions(self, today: date) -> Conditions:
        t = table_of(Invoice)
        out: Conditions = []
        if self.statuses is not None:
            out.append(t.c.status.in_(self.statuses))
        if self.overdue is not None:
            overdue = overdue_condition(t, today)
            out.append(overdue if self.overdue else ~overdue)
        for column, value in (
            (t.c.account_id, self.account_id),
            (t.c.project_id, self.project_id),
            (t.c.currency, self.currency),
        ):
            if value is not None:
                out.append(column == value)
        if self.issued_from is not None:
            out.append(t.c.issue_date >= self.issued_from)
        if self.issued_to is not None:
            out.append(t.c.issue_date <= self.issued_to)
        return out


def overdue_condition(t: Table, today: date) -> ColumnElement[bool]:
    """DOMAIN.md: posted (or partially paid), due date past, balance > 0."""
    return and_(t.c.status.in_(OPEN_INVOICE_STATUSES), t.c.due_date < today, t.c.balance_minor > 0)
