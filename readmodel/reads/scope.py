"""Row scope: the SQL predicates that keep a caller to the clients it may see.

Built once per request from the caller's principal, then added to every read of a guarded
table (by id, by parent, pages and their counts), so a row outside the scope is absent the
same way a missing row is: lists skip it, counts omit it, ``node(id:)`` answers NOT_FOUND.

The scope is a set of accounts — those a credential names, or an account team's book (the
accounts whose ``owner_name`` is the caller's) — and everything hangs from an account: rows
with ``account_id`` directly, project children through their project, people through the
projects they are staffed on or logged time to, handoffs through their deal. A table with no
rule here is closed to a scoped caller (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, Table, false, select, union
from sqlalchemy.sql.elements import ColumnElement

from readmodel.tables import (
    Account,
    Assignment,
    Handoff,
    Opportunity,
    Person,
    Project,
    TimeEntry,
    table_of,
)

ACCOUNT, PROJECT, OPPORTUNITY = table_of(Account), table_of(Project), table_of(Opportunity)
ASSIGNMENT, TIME_ENTRY = table_of(Assignment), table_of(TimeEntry)
PERSON, HANDOFF = table_of(Person), table_of(Handoff)
BY_ACCOUNT = frozenset(
    {"contact", "opportunity", "engagement", "project", "invoice", "payment", "account_xref"}
)
BY_PROJECT = frozenset({"milestone", "assignment", "time_entry", "change_order"})
Conditions = list[ColumnElement[bool]]


@dataclass(frozen=True)
class RowScope:
    """Which clients a caller sees: ``accounts`` (keys) and/or an ``owner``'s book; both
    ``None``: every client (``conditions`` is always empty)."""

    accounts: frozenset[int] | None = None
    owner: str | None = None
    _cache: dict[str, Conditions] = field(default_factory=dict, compare=False, repr=False)

    @property
    def unrestricted(self) -> bool:
        return self.accounts is None and self.owner is None

    def conditions(self, table: Table) -> Conditions:
        """The predicates a read of ``table`` must add (built once per table per request)."""
        if self.unrestricted:
            return []
        found = self._cache.get(table.name)
        if found is None:
            rule = _RULES.get(table.name)
            found = self._cache[table.name] = [false()] if rule is None else rule(self, table)
        return found

    def account_keys(self) -> list[int] | Select[Any]:
        """What an ``account_id IN (…)`` compares with: literal keys, or the book's subquery."""
        if self.owner is None:
            return sorted(self.accounts or ())
        return select(ACCOUNT.c.id).where(*_account_predicates(self))

    def project_keys(self) -> Select[Any]:
        return select(PROJECT.c.id).where(PROJECT.c.account_id.in_(self.account_keys()))


def _account_predicates(scope: RowScope) -> Conditions:
    out: Conditions = []
    if scope.accounts is not None:
        out.append(ACCOUNT.c.id.in_(sorted(scope.accounts)))
    if scope.owner is not None:
        out.append(ACCOUNT.c.owner_name == scope.owner)
    return out


def _account(scope: RowScope, table: Table) -> Conditions:
    return _account_predicates(scope)


def _by_account(scope: RowScope, table: Table) -> Conditions:
    return [table.c.account_id.in_(scope.account_keys())]


def _by_project(scope: RowScope, table: Table) -> Conditions:
    return [table.c.project_id.in_(scope.project_keys())]


def _person(scope: RowScope, table: Table) -> Conditions:
    projects = scope.project_keys()
    staffed = select(ASSIGNMENT.c.person_id).where(ASSIGNMENT.c.project_id.in_(projects))
    logged = select(TIME_ENTRY.c.person_id).where(TIME_ENTRY.c.project_id.in_(projects))
    return [table.c.id.in_(union(staffed, logged))]


def _handoff(scope: RowScope, table: Table) -> Conditions:
    deals = select(OPPORTUNITY.c.id).where(OPPORTUNITY.c.account_id.in_(scope.account_keys()))
    return [table.c.opportunity_id.in_(deals)]


_RULES: dict[str, Callable[[RowScope, Table], Conditions]] = {
    "account": _account,
    "person": _person,
    "handoff": _handoff,
    **{name: _by_account for name in BY_ACCOUNT},
    **{name: _by_project for name in BY_PROJECT},
}

EVERYTHING = RowScope()
"""The scope of a caller that sees every client."""
