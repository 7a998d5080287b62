"""Which invoices count as billed, open and overdue (one rule, in SQL and in Python)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_
from sqlalchemy.sql.elements import ColumnElement

from readmodel.enums import InvoiceStatus
from readmodel.figures.sql import INVOICE

BILLED_STATUSES = (InvoiceStatus.POSTED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID)
"""Invoices that count as billed: issued to the client and not void (drafts are not billed)."""

OPEN_STATUSES = (InvoiceStatus.POSTED, InvoiceStatus.PARTIALLY_PAID)
"""Invoices whose balance is accounts receivable."""


def is_billed() -> ColumnElement[bool]:
    """SQL: the invoice is posted, partially paid or paid."""
    return INVOICE.c.status.in_(BILLED_STATUSES)


def is_open() -> ColumnElement[bool]:
    """SQL: the invoice is posted or partially paid (its balance is receivable)."""
    return INVOICE.c.status.in_(OPEN_STATUSES)


def is_overdue(today: date) -> ColumnElement[bool]:
    """SQL: open, due before ``today`` and with a balance still to pay."""
    return and_(is_open(), INVOICE.c.due_date < today, INVOICE.c.balance_minor > 0)


def days_overdue(status: str, due_date: date, balance_minor: int, today: date) -> int:
    """Days an invoice is past due as of ``today``; 0 unless it is overdue.

    Overdue means posted or partially paid, due before ``today`` and a balance above zero.

    Args:
        status: The invoice status (``readmodel.enums.InvoiceStatus`` value).
        due_date: The invoice's due date.
        balance_minor: The amount still to pay, in minor units.
        today: The date to measure against (the request's "today", never the clock).

    Returns:
        ``(today - due_date).days`` for an overdue invoice, else 0.
    """
    if status not in OPEN_STATUSES or balance_minor <= 0 or due_date >= today:
        return 0
    return (today - due_date).days
