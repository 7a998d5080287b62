"""The six roles a caller can hold."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ACCOUNT_TEAM = "account_team"
    """Sales and account managers: clients, pipeline, deal changes and wins."""
    DELIVERY = "delivery"
    """Project managers and consultants: projects, staffing, time, milestones."""
    FINANCE = "finance"
    """Controllers and billing: invoices, payments, rates, costs and margins."""
    OPERATOR = "operator"
    """Who runs clientgraph: the command log, handoffs, integration exceptions, the audit log."""
    ADMIN = "admin"
    """Everything."""
    PARTNER = "partner"
    """An outside firm: only the accounts its credential names, no internal fields."""


ALL_ROLES = frozenset(Role)
INTERNAL = ALL_ROLES - {Role.PARTNER}
MONEY_DETAIL = frozenset({Role.FINANCE, Role.OPERATOR, Role.ADMIN})
"""Who sees rates, costs, margins, unbilled WIP and payment details."""
OPERATORS = frozenset({Role.OPERATOR, Role.ADMIN})
"""Who sees every command, the exception queues and the audit log, and runs operator actions."""


def parse_role(text: str | None) -> Role | None:
    """The role a claim or a setting names, or ``None`` for anything else."""
    try:
        return Role(text) if text else None
    except ValueError:
        return None
