"""One request's values for a plan's parameters, checked as the per-field path checks them.

Where the per-field path would answer an error (a malformed id, ``first`` out of range, a
cursor of another list), binding raises ``Fallback`` instead: that path then gives the error,
with its exact message and code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from graphql import FieldNode, GraphQLError, GraphQLField
from graphql.execution.values import VariableValues, get_argument_values
from sqlalchemy import Table

from clientgraph.settings import GraphQLSettings
from readmodel.reads.pages import BadKey, Ordering
from resolvers.errors import BadUserInput
from resolvers.ids import key_of
from resolvers.pagination import page_request


class Fallback(Exception):
    """This operation (or this request of it) runs on the per-field path."""


@dataclass
class Binding:
    variables: VariableValues | None
    limits: GraphQLSettings
    today: date
    outlook_window: int = 28  # forecasts.outlook_window_days: the stored outlook's must match
    pages: dict[str, tuple[int, tuple[Any, ...] | None]] = field(default_factory=dict)
    _arguments: dict[int, dict[str, Any]] = field(default_factory=dict)

    def argument(self, definition: GraphQLField, node: FieldNode, name: str) -> Any:
        """The argument's value as execution would coerce it (variables, defaults)."""
        found = self._arguments.get(id(node))
        if found is None:
            try:
                found = get_argument_values(definition, node, self.variables)
            except GraphQLError:
                raise Fallback("an argument that does not coerce") from None
            self._arguments[id(node)] = found
        return found.get(name)

    def nested_first(self, definition: GraphQLField, node: FieldNode) -> int:
        """``first`` of a nested list, as ``schema.common.types.many`` checks it."""
        first = self.argument(definition, node, "first")
        if not isinstance(first, int) or not 0 <= first <= self.limits.max_page_size:
            raise Fallback("first out of range")
        return first

    def nested_after(self, definition: GraphQLField, node: FieldNode, type_name: str) -> int | None:
        """``after`` of a nested list: the key of the child it names, or None when absent."""
        after = self.argument(definition, node, "after")
        if after is None:
            return None
        try:
            return key_of(after, type_name, argument="after")
        except BadUserInput:
            raise Fallback("after is not an id of this list's type") from None

    def record_key(self, definition: GraphQLField, node: FieldNode, type_name: str) -> int:
        try:
            return key_of(self.argument(definition, node, "id"), type_name)
        except BadUserInput:
            raise Fallback("not an id of this type") from None

    def page(
        self, definition: GraphQLField, node: FieldNode, spec: Any, table: Table
    ) -> tuple[int, tuple[Any, ...] | None]:
        """(rows, key after which they start) as ``resolvers.connections.page_of`` reads."""
        try:
            request = page_request(
                self.argument(definition, node, "first"),
                self.argument(definition, node, "after"),
                ordering=spec.ordering_name,
                default=self.limits.default_page_size,
                maximum=self.limits.max_page_size,
            )
        except BadUserInput:
            raise Fallback("first or after refused") from None
        if request.after is None:
            return request.first, None
        ordering = Ordering(name=spec.ordering_name, columns=spec.ordering)
        try:
            return request.first, ordering.coerce(table, request.after)
        except BadKey:
            raise Fallback("a cursor that does not fit") from None
