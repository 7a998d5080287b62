"""``node(id:)`` at the root: compiled for the type its id names.

``Query.node`` returns the ``Node`` interface; which object it is follows from the id alone
(``resolvers.ids``). So a plan is made per (document, operation, dialect, rule set) *and* the
types of its root ``node`` fields, read from this request's ids: for each, the field is the
record root of that type (``catalog.NODES``), its selection's fragments applied as for that
object (on the type, on ``Node``, on a union it belongs to). One document asked with ids of
three types has three plans (``CACHE_SIZE`` bounds them all). An id that does not decode, of a
type the catalog does not hold (a ``Command``), given other than as a string, or a ``node``
inside a fragment on ``Query``: the per-field path answers, as for any field not compiled.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from graphql import FieldNode, OperationDefinitionNode, StringValueNode, VariableNode

from resolvers.errors import BadUserInput
from resolvers.ids import from_global_id

NodeTypes = tuple[tuple[str, str], ...]
"""(response key, type name) of each root ``node`` field, in document order."""


def node_types(
    operation: OperationDefinitionNode, variables: dict[str, Any] | None
) -> NodeTypes | None:
    """The types the root ``node`` fields' ids name; ``None`` when one cannot be read."""
    out: list[tuple[str, str]] = []
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.name.value != "node":
            continue
        given = next((a.value for a in selection.arguments or () if a.name.value == "id"), None)
        if isinstance(given, VariableNode):
            value = (variables or {}).get(given.name.value)
        elif isinstance(given, StringValueNode):
            value = given.value
        else:
            return None
        if not isinstance(value, str):
            return None
        try:
            type_name, _ = from_global_id(value)
        except BadUserInput:
            return None
        out.append((selection.alias.value if selection.alias else "node", type_name))
    return tuple(out)


def keyed(
    key: Hashable, operation: OperationDefinitionNode, variables: dict[str, Any] | None
) -> tuple[Hashable, NodeTypes] | None:
    """``key`` (``rules_key``) with the types of the operation's root ``node`` fields when it
    has any, and those types; ``None`` when one cannot be read (the per-field path answers)."""
    types = node_types(operation, variables)
    if types is None:
        return None
    return (key, types) if types else key, types
