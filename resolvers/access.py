"""The rule table applied to one request: may this caller run this operation?"""

from __future__ import annotations

from collections.abc import Mapping

from clientgraph.access.policy import QUERY_ROLES, SUBSCRIPTION_ROLES, Roles, mutation_roles
from clientgraph.access.roles import ALL_ROLES
from resolvers.context import Context
from resolvers.errors import Forbidden

SCOPED_CALLERS_REFUSED = frozenset({"portfolio", "forecast"})
"""Firm-wide figures: never for a caller that sees some clients only."""


def _table(ctx: Context, operation_type: str) -> Mapping[str, Roles]:
    if operation_type == "mutation":
        return mutation_roles(ctx.partner_mutations)
    return SUBSCRIPTION_ROLES if operation_type == "subscription" else QUERY_ROLES


def allowed(ctx: Context, operation_type: str, name: str) -> bool:
    """Whether the caller's role may use the root field ``name`` of ``operation_type``."""
    principal = ctx.principal
    if operation_type == "query" and name in SCOPED_CALLERS_REFUSED and principal.row_scoped:
        return False
    return principal.role in _table(ctx, operation_type).get(name, ALL_ROLES)


def authorize(ctx: Context, operation_type: str, name: str) -> None:
    """Raise ``FORBIDDEN`` naming the operation when the caller may not use it."""
    if not allowed(ctx, operation_type, name):
        role = ctx.principal.role.value
        raise Forbidden(f"{name}: the {role} role may not use this operation", operation=name)
