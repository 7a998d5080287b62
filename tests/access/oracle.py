"""The oracle: what each role may see, computed apart from the implementation.

``allowed_ids`` is plain SQL written here from the rules as issue 12 states them (a partner
sees the accounts its key names and what hangs under them; a caller sees its own commands,
operators all). ``Expectation`` turns the ADMIN answer to a document into the answer a role
must get: rows it may not see removed from lists (nulled in object fields), guarded fields
nulled and their paths listed, forbidden root fields refused. Comparing against it catches
leaks and over-restriction alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.access.policy import FIELD_ROLES, QUERY_ROLES
from clientgraph.access.roles import ALL_ROLES, Role
from resolvers.access import SCOPED_CALLERS_REFUSED
from resolvers.ids import to_global_id
from tests.access.generate import Document, type_of_id

TABLES = {
    "Account": "account",
    "Contact": "contact",
    "Opportunity": "opportunity",
    "Engagement": "engagement",
    "Project": "project",
    "Milestone": "milestone",
    "Invoice": "invoice",
    "Payment": "payment",
    "Person": "person",
    "TimeEntry": "time_entry",
    "Command": "command",
    "Handoff": "handoff",
    "IntegrationException": "integration_exception",
}
SEES_ALL_COMMANDS = frozenset({Role.OPERATOR, Role.ADMIN})
ROLE_GATED = {"Handoff": "handoff", "IntegrationException": "integrationExceptions"}
"""Node types a role sees only if it may use their root field (rows then scoped as there)."""

_PROJECTS = "SELECT id FROM project WHERE account_id IN ({accounts})"
_PARTNER_SQL = {
    "account": "SELECT id FROM account WHERE id IN ({accounts})",
    **{
        t: f"SELECT id FROM {t} WHERE account_id IN ({{accounts}})"
        for t in ("contact", "opportunity", "engagement", "project", "invoice", "payment")
    },
    **{
        t: f"SELECT id FROM {t} WHERE project_id IN ({_PROJECTS})"
        for t in ("milestone", "time_entry")
    },
    "handoff": "SELECT id FROM handoff WHERE opportunity_id IN "
    "(SELECT id FROM opportunity WHERE account_id IN ({accounts}))",
    "integration_exception": "SELECT id FROM integration_exception",  # not row-scoped
    "person": (
        f"SELECT person_id FROM assignment WHERE project_id IN ({_PROJECTS}) "
        f"UNION SELECT person_id FROM time_entry WHERE project_id IN ({_PROJECTS})"
    ),
}


async def _keys(engine: AsyncEngine, sql: str, **params: Any) -> set[int]:
    async with engine.connect() as conn:
        return {int(r[0]) for r in await conn.execute(text(sql), params) if r[0] is not None}


async def allowed_keys(
    engine: AsyncEngine, role: Role, principal_id: str, accounts: frozenset[int] | None
) -> dict[str, set[int]]:
    """Type name → the read-model keys ``role`` may see (``accounts``: a partner's)."""
    out: dict[str, set[int]] = {}
    for type_name, table in TABLES.items():
        if type_name in ROLE_GATED and role not in QUERY_ROLES[ROLE_GATED[type_name]]:
            sql, params = f"SELECT id FROM {table} WHERE 1 = 0", {}
        elif type_name == "Command":
            sql, params = "SELECT id FROM command", {}
            if role not in SEES_ALL_COMMANDS:
                sql, params = (
                    "SELECT id FROM command WHERE principal_id = :me",
                    {"me": principal_id},
                )
        elif accounts is None:
            sql, params = f"SELECT id FROM {table}", {}
        else:
            listed = ", ".join(str(a) for a in sorted(accounts)) or "NULL"
            sql, params = _PARTNER_SQL[table].format(accounts=listed), {}
        out[type_name] = await _keys(engine, sql, **params)
    return out


def global_ids(keys: dict[str, set[int]]) -> frozenset[str]:
    return frozenset(to_global_id(t, k) for t, ks in keys.items() for k in ks)


def root_allowed(root: str, role: Role, scoped: bool) -> bool:
    """The rule table on root query fields (``portfolio``: never for a client-scoped caller)."""
    if root in SCOPED_CALLERS_REFUSED and scoped:
        return False
    return role in QUERY_ROLES.get(root, ALL_ROLES)


class _Gone:
    """A row the role may not see: dropped from a list, null in a nullable field."""


GONE = _Gone()


@dataclass
class Expectation:
    """The answer ``role`` must get to ``document``, derived from the admin's answer."""

    schema: GraphQLSchema
    role: Role
    allowed: frozenset[str]
    scoped: bool
    data: Any = None
    masked: list[str] = field(default_factory=list)
    errors: set[tuple[str, tuple[Any, ...]]] = field(default_factory=set)

    def fresh(self) -> Expectation:
        """The same rules, for another document."""
        return Expectation(self.schema, self.role, self.allowed, self.scoped)

    def of(self, document: Document, admin: dict[str, Any]) -> Expectation:
        assert not admin.get("errors"), admin["errors"]
        query = self.schema.query_type
        assert query is not None
        root = query.fields[document.root]
        if not root_allowed(document.root, self.role, self.scoped):
            self.errors = {("FORBIDDEN", (a,)) for a in document.aliases}
            nullable = not is_non_null_type(root.type)
            self.data = dict.fromkeys(document.aliases) if nullable else None
            return self
        self.data = {}
        if document.references:
            for alias in document.aliases:
                self.data[alias] = [self.entity(v, [alias]) for v in admin["data"][alias]]
            return self
        ids = document.ids or (None,) * len(document.aliases)
        for alias, asked in zip(document.aliases, ids, strict=True):
            value = self.value(admin["data"][alias], root.type, [alias])
            if asked is not None and not self._visible_id(asked):
                value = GONE
            if value is GONE:
                self.errors.add(("NOT_FOUND", (alias,)))
                value = None
            self.data[alias] = value
        return self

    def entity(self, value: dict[str, Any], path: list[str]) -> Any:
        """A reference of ``_entities``: null, without an error, when the role may not see it
        (as for one that names nothing); masked fields' paths leave out the list index."""
        found = self.object(value, path)
        return None if found is GONE else found

    def _visible_id(self, global_id: str) -> bool:
        return global_id in self.allowed or not _is_node_id(global_id)

    def value(self, value: Any, type_: GraphQLOutputType, path: list[str]) -> Any:
        if value is None:
            return None
        nullable = get_nullable_type(type_)
        if isinstance(nullable, GraphQLList):
            items = (self.value(v, nullable.of_type, path) for v in value)
            return [v for v in items if v is not GONE]
        if is_leaf_type(get_named_type(nullable)):
            return value
        return self.object(value, path)

    def object(self, value: dict[str, Any], path: list[str]) -> Any:
        type_name = value["__typename"]
        object_type = self.schema.get_type(type_name)
        assert isinstance(object_type, GraphQLObjectType)
        if type_name in TABLES and value["id"] not in self.allowed:
            return GONE
        mark = len(self.masked)
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "__typename":
                out[key] = item
                continue
            guard = FIELD_ROLES.get((type_name, key))
            if guard is not None and self.role not in guard:
                out[key] = None
                self.masked.append(".".join([*path, key]))
                continue
            f = object_type.fields[key]
            found = self.value(item, f.type, [*path, key])
            if found is GONE:
                if is_non_null_type(f.type):
                    del self.masked[mark:]
                    return GONE
                found = None
            out[key] = found
        if "totalCount" in out:
            _recount(out, value)
        return out


def _recount(connection: dict[str, Any], admin: dict[str, Any]) -> None:
    """A connection's count and page info once rows are removed (the admin saw one page)."""
    assert admin["pageInfo"]["hasNextPage"] is False, "the matrix firm must fit one page"
    edges = connection["edges"]
    connection["totalCount"] = len(connection["nodes"])
    connection["pageInfo"] = {
        **connection["pageInfo"],
        "startCursor": edges[0]["cursor"] if edges else None,
        "endCursor": edges[-1]["cursor"] if edges else None,
    }


def _is_node_id(global_id: str) -> bool:
    return type_of_id(global_id) in TABLES


def actual_errors(body: dict[str, Any]) -> set[tuple[str, tuple[Any, ...]]]:
    return {
        (e.get("extensions", {}).get("code"), tuple(e.get("path") or ()))
        for e in body.get("errors") or []
    }


def masked_of(body: dict[str, Any]) -> list[str]:
    return sorted((body.get("extensions") or {}).get("masked") or [])


def assert_alike(streamed: dict[str, Any], over_http: dict[str, Any], where: str) -> None:
    """An answer streamed (WebSocket, SSE) says what the plain POST says: the same data,
    masked paths and error codes."""
    assert streamed.get("data") == over_http.get("data"), where
    assert masked_of(streamed) == masked_of(over_http), where
    assert _codes(streamed) == _codes(over_http), where


def _codes(body: dict[str, Any]) -> list[str]:
    return sorted(e["extensions"]["code"] for e in body.get("errors") or [])
