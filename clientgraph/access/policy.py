"""The rule table: which roles may use each operation, and which see each guarded field.

Keys are GraphQL names. A root field or mutation absent from ``OPERATION_ROLES`` is open to
every role (rows are still scoped); a field absent from ``FIELD_ROLES`` is shown to every role
that can reach its object. ``schema.access`` applies this table to the schema when it is
built (and refuses to start if a name here matches no field); docs/security.md shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from clientgraph.access.roles import ALL_ROLES, INTERNAL, MONEY_DETAIL, OPERATORS, Role

Roles = frozenset[Role]

ACCOUNT_TEAM = frozenset({Role.ACCOUNT_TEAM, Role.ADMIN})
DELIVERY = frozenset({Role.DELIVERY, Role.ADMIN})

QUERY_ROLES: Mapping[str, Roles] = {
    "integrationExceptions": OPERATORS,
    "auditLog": OPERATORS,
    "handoff": INTERNAL,
    "handoffs": OPERATORS,  # the exception queue: an operator's view
    "portfolio": INTERNAL,  # and never for a caller scoped to some clients (firm-wide sums)
    "_service": INTERNAL,  # federation's copy of the schema: also an introspection (settings)
    "billingDelays": MONEY_DETAIL,  # amounts owed and unbilled: finance's view (scoped rows)
    "timeAnomalies": DELIVERY | MONEY_DETAIL,  # who approves time, and who bills it
    "forecast": INTERNAL,  # firm-wide sums, as portfolio (never for a scoped caller)
}
"""Root query fields that not every role may call."""

MUTATION_ROLES: Mapping[str, Roles] = {
    "updateOpportunity": ACCOUNT_TEAM,
    "markOpportunityWon": ACCOUNT_TEAM,
    "submitChangeOrder": frozenset({Role.ACCOUNT_TEAM, Role.DELIVERY, Role.ADMIN}),
    "logTime": DELIVERY,
    "approveTimeEntries": DELIVERY,
    "completeMilestone": DELIVERY,
    "issueInvoice": frozenset({Role.FINANCE, Role.ADMIN}),
    "retryCommand": OPERATORS,
    "cancelCommand": OPERATORS,
    "resumeHandoff": OPERATORS,
    "retryHandoffStep": OPERATORS,
    "cancelHandoff": OPERATORS,
    "linkIdentity": OPERATORS,
    "createIdentityAccount": OPERATORS,
    "ignoreIdentity": OPERATORS,
}
"""Every mutation, and the roles that may call it (partners: see ``mutation_roles``)."""

OPERATOR_ACTIONS = frozenset(k for k, v in MUTATION_ROLES.items() if v == OPERATORS)
"""Mutations that act on other callers' work; never open to partners."""

SUBSCRIPTION_ROLES: Mapping[str, Roles] = {
    "commandUpdated": ALL_ROLES,
    "handoffUpdated": INTERNAL,  # as the ``handoff`` query
}
"""Subscriptions (rows scoped as in queries: a caller follows its own commands, and the
handoffs of the accounts it may see)."""

FIELD_ROLES: Mapping[tuple[str, str], Roles] = {
    ("Project", "costToDate"): MONEY_DETAIL,
    ("Project", "eac"): MONEY_DETAIL,
    ("Project", "margin"): MONEY_DETAIL,
    ("Project", "unbilledWip"): MONEY_DETAIL,
    ("Project", "budgetBurn"): INTERNAL,
    ("Project", "percentComplete"): INTERNAL,
    ("Assignment", "billRate"): MONEY_DETAIL,
    ("Assignment", "costRate"): MONEY_DETAIL,
    ("TimeEntry", "billRate"): MONEY_DETAIL,
    ("Payment", "amount"): MONEY_DETAIL,
    ("Payment", "receivedOn"): MONEY_DETAIL,
    ("Person", "email"): INTERNAL,
    ("Opportunity", "handoff"): INTERNAL,
    ("Opportunity", "readiness"): INTERNAL,  # as its handoff: the firm's own setup data
    ("Project", "outlook"): INTERNAL,  # its ratios and status, as budgetBurn; costs below
    **{
        ("ProjectOutlook", name): MONEY_DETAIL
        for name in (
            "teamEac",
            "trendEac",
            "dailyBurn",
            "eacLow",
            "eacHigh",
            "overrunLow",
            "overrunHigh",
            "revenueAtCompletion",
            "marginAtCompletion",
            "factors",  # their sentences name the amounts
        )
    },
    ("TimeAnomaly", "billRate"): MONEY_DETAIL,
    ("TimeAnomaly", "cardRate"): MONEY_DETAIL,
}
"""Guarded fields: for other roles the value is null and ``extensions.masked`` names it."""


def mutation_roles(partner_mutations: Iterable[str] = ()) -> dict[str, Roles]:
    """The mutation table with the mutations a deployment opened to partners."""
    opened = set(partner_mutations)
    unknown = opened - set(MUTATION_ROLES)
    if unknown:
        raise ValueError(f"no such mutation: {', '.join(sorted(unknown))}")
    if opened & OPERATOR_ACTIONS:
        raise ValueError("operator actions cannot be opened to partners")
    return {
        name: roles | {Role.PARTNER} if name in opened else roles
        for name, roles in MUTATION_ROLES.items()
    }
