"""Introspection and field suggestions, by role (partners get neither by default).

A partner's code is written against the published schema (``schema/schema.graphql``, or the
SDL the firm hands over); letting an outside caller map the graph or fish for field names with
"Did you mean …?" helps an attacker more than a client. ``__typename`` is always allowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, GraphQLError
from strawberry.extensions import SchemaExtension

from clientgraph.settings import GraphQLSettings
from resolvers.errors import Forbidden

SUGGESTION = re.compile(r"\s*Did you mean .*\?$")


class IntrospectionRules(SchemaExtension):
    """Refuse ``__schema`` / ``__type`` and strip suggestions for roles not allowed them."""

    def __init__(self, limits: GraphQLSettings) -> None:
        self.limits = limits

    def _role(self) -> str:
        principal = getattr(self.execution_context.context, "principal", None)
        return str(getattr(getattr(principal, "role", None), "value", ""))

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        role = self._role()
        refused = role not in self.limits.introspection_roles
        if refused and document is not None and _introspects(document):
            raise Forbidden(
                f"introspection is not available to the {role} role: use the published schema",
                operation="__schema",
            )
        # runs after ValidationCache (see schema.build): its errors are known, and replaced
        # by a new list here — the cached one is shared with other callers
        errors = context.pre_execution_errors
        if role not in self.limits.suggestion_roles and errors:
            context.pre_execution_errors = [_plain(e) for e in errors]
        yield


def _introspects(document: Any) -> bool:
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop()
        if isinstance(node, FieldNode) and node.name.value in ("__schema", "__type"):
            return True
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)
    return False


def _plain(error: GraphQLError) -> GraphQLError:
    message = SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(message, nodes=error.nodes, extensions=error.extensions)
