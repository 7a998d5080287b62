"""The rule table (``clientgraph.access.policy``) applied to the schema as it is built.

- Root query and subscription fields a role may not use raise FORBIDDEN before they resolve
  (mutations check in ``schema.mutation``, where the refusal is also audited).
- Guarded fields resolve to null for other roles, and their path (list indices left out)
  goes to ``extensions.masked`` of the response.

Names in the table that match no field stop the schema from building: a renamed field
cannot silently drop its rule. A guarded field must be nullable for the same reason.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any

from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField

from clientgraph.access.policy import FIELD_ROLES, QUERY_ROLES, SUBSCRIPTION_ROLES, Roles
from clientgraph.access.roles import ALL_ROLES
from resolvers.access import SCOPED_CALLERS_REFUSED, authorize
from resolvers.context import context_of


class RequireRole(FieldExtension):
    """FORBIDDEN unless the caller's role may use this root field."""

    def __init__(self, operation_type: str) -> None:
        self.operation_type = operation_type

    def resolve(self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any) -> Any:
        authorize(context_of(info), self.operation_type, info.field_name)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        authorize(context_of(info), self.operation_type, info.field_name)
        result = next_(source, info, **kwargs)
        return await result if inspect.isawaitable(result) else result  # a subscription's generator


class Masked(FieldExtension):
    """Null (and its path noted) unless the caller's role is one of ``roles``."""

    def __init__(self, roles: Roles) -> None:
        self.roles = roles

    def _hidden(self, info: Any) -> bool:
        ctx = context_of(info)
        if ctx.principal.role in self.roles:
            return False
        keys = [str(k) for k in info.path.as_list() if not isinstance(k, int)]
        paths = _OPERATION_MASKED.get()
        (ctx.masked if paths is None else paths).add(".".join(keys))
        return True

    def resolve(self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any) -> Any:
        return None if self._hidden(info) else next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        if self._hidden(info):
            return None
        result = next_(source, info, **kwargs)
        return await result if inspect.isawaitable(result) else result


_OPERATION_MASKED: ContextVar[set[str] | None] = ContextVar("masked_paths", default=None)
"""The paths the running operation masked. One context serves every operation of a
WebSocket (some at once), so the paths cannot live on it: one operation's would show up in
the next one's ``extensions.masked``."""


class MaskedPaths(SchemaExtension):
    """``extensions.masked``: the guarded fields this response left null for the caller."""

    def on_execute(self) -> Iterator[None]:
        self._paths: set[str] = set()
        token = _OPERATION_MASKED.set(self._paths)
        try:
            yield
        finally:
            _OPERATION_MASKED.reset(token)

    def get_results(self) -> dict[str, Any]:
        masked = getattr(self, "_paths", None)
        return {"masked": sorted(masked)} if masked else {}


def _fields(cls: Any) -> dict[str, StrawberryField]:
    names = NameConverter()
    definition = cls.__strawberry_definition__
    return {names.get_graphql_name(f): f for f in definition.fields}


def apply_rules(query: Any, subscription: Any, types: dict[str, Any]) -> None:
    """Attach the rule table's extensions to the schema's classes (before the schema is made)."""
    for root, table, operation_type in (
        (query, {**QUERY_ROLES, **dict.fromkeys(SCOPED_CALLERS_REFUSED)}, "query"),
        (subscription, SUBSCRIPTION_ROLES, "subscription"),
    ):
        fields = _fields(root)
        for name, roles in table.items():
            _extend(fields, root.__name__, name, RequireRole(operation_type))
            if roles is not None and roles != ALL_ROLES:
                _note_roles(fields[name], roles, "Only for the roles")
    for (type_name, name), roles in FIELD_ROLES.items():
        fields = _fields(types[type_name])
        field = fields.get(name)
        if field is not None and not isinstance(field.type, StrawberryOptional):
            raise TypeError(f"{type_name}.{name} is guarded, so it must be nullable")
        _extend(fields, type_name, name, Masked(roles))
        _note_roles(fields[name], roles)


def _note_roles(
    field: StrawberryField, roles: Roles, lead: str = "Null unless the role is"
) -> None:
    tail = "" if lead.startswith("Only") else " (see extensions.masked)"
    note = f"{lead} {', '.join(sorted(roles))}{tail}."
    if note not in (field.description or ""):
        field.description = f"{field.description} {note}" if field.description else note


def _extend(fields: dict[str, StrawberryField], owner: str, name: str, ext: Any) -> None:
    field = fields.get(name)
    if field is None:
        raise LookupError(f"the access rules name {owner}.{name}, which the schema lacks")
    if not any(type(e) is type(ext) for e in field.extensions):
        field.extensions.append(ext)
