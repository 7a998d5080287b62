"""How big an operation may get, measured on the document before anything runs.

- **depth**: the deepest field nesting, root fields at 0 (as graphql-depth-limit counts;
  introspection fields not counted: GraphiQL's own introspection query nests types nine deep);
- **aliases**: aliased fields in the document;
- **firm-wide fields**: how many times it selects a field that sums the whole firm
  (``FIRM_WIDE``), each seconds of work on a large firm whatever it returns;
- **cost**: the most objects the answer can hold. Each field costs 1; a list multiplies its
  selection's cost by how many items it can hold — its ``first`` argument (a literal or a
  variable, else the argument's default), or the list's declared cap. So
  ``accounts(first: 50) { nodes { invoices(first: 10) { number } } }`` costs
  1 + 50 × (1 + 1 + 10 × 1) (connection, nodes, invoices, number). Fragments count where they
  are spread; on an abstract type every branch counts (an upper bound).

An operation over a limit is refused with QUERY_TOO_COMPLEX, the measure and the limit in
``extensions``, before any resolver or SQL runs.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    value_from_ast,
)
from graphql.execution.values import get_variable_values
from graphql.pyutils import Undefined

DEFAULT_LIST_CAP = 10
"""A list with no ``first`` and no declared cap counts as this many items."""
LIST_CAPS: Mapping[tuple[str, str], int] = {
    ("Account", "sourceRefs"): 10,
    ("AccountHealth", "factors"): 10,
    ("Portfolio", "currencies"): 10,
    ("BillingDelays", "aging"): 20,  # 4 buckets × the currencies present
    ("TimeAnomalies", "counts"): 7,  # one per rule
    ("DealReadiness", "issues"): 7,  # one per check at most
    ("ProjectOutlook", "factors"): 4,
    ("Forecast", "currencies"): 10,
    ("CurrencyForecast", "months"): 36,  # the longest period
    ("Handoff", "steps"): 20,
    ("Handoff", "issues"): 50,
    ("Query", "freshness"): 50,
    ("Query", "nodes"): 100,  # its ids, at most MAX_PAGE_SIZE (100 by default)
}
"""Lists whose size the read model bounds without a ``first`` (small by construction)."""
FIRM_WIDE: frozenset[tuple[str, str]] = frozenset(
    {
        ("Query", "portfolio"),  # its KPIs: ten sums over the firm's period
        ("Portfolio", "forecastAccuracy"),
        ("Query", "forecast"),
        ("Forecast", "capacity"),
        ("Query", "billingDelays"),
        ("Query", "timeAnomalies"),
    }
)
"""Fields that sum the whole firm however little they return (seconds on a large firm:
docs/formulas.md, "Forecasts on a large firm"): an operation may hold only so many of them
(``graphql.max_firm_wide_fields``), which the cost, a count of objects, does not bound."""


@dataclass(frozen=True)
class Measure:
    depth: int
    aliases: int
    cost: int
    firm_wide: int = 0  # how many times the operation selects a ``FIRM_WIDE`` field


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    *,
    default_first: int,
) -> Measure:
    """Depth, aliases and cost of the operation that would run (the only one, or the named one).

    ``default_first`` is the page size of a root connection called without ``first``.
    """
    return _measure(schema, document, operation_name, variables, default_first)[0]


def _measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    default_first: int,
) -> tuple[Measure, bool]:
    """``measure``, and whether it read the variables (a ``first`` given as one)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next(
        (o for o in operations if operation_name is None or _named(o, operation_name)), None
    )
    aliases = _aliases(document)
    if chosen is None:
        return Measure(0, aliases, 0), False
    root = schema.get_root_type(chosen.operation)
    walk = _Walk(schema, fragments, lambda: _coerced(schema, chosen, variables), default_first)
    cost, levels = walk.selection(chosen.selection_set, root, 0, frozenset())
    depth = max(levels - 1, 0)  # root fields: depth 0
    return Measure(depth, aliases, cost, walk.firm_wide), walk.read_variables


MEMO_SIZE = 1024
MEMO_VARIABLES_BYTES = 4096
_memo: OrderedDict[tuple[Any, ...], Measure] = OrderedDict()
ANY_VARIABLES = object()
"""The memo's key for a measure that no variable changes (no ``first`` given as one)."""


def measure_text(
    schema: GraphQLSchema,
    query: str | None,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    *,
    default_first: int,
) -> Measure:
    """``measure``, remembered per (schema, document text, operation, default page size) and,
    when a ``first`` is given as a variable, the variables — a pure function of those — for
    the last ``MEMO_SIZE`` of them; variables of more than ``MEMO_VARIABLES_BYTES`` as JSON
    (or not JSON) are measured every time. A measure that reads no variable is found without
    coercing or encoding them (a mutation's input, say)."""
    if query is None:
        return measure(schema, document, operation_name, variables, default_first=default_first)
    found = _remembered((schema, query, operation_name, ANY_VARIABLES, default_first))
    if found is not None:
        return found
    try:
        bound = json.dumps(variables or {}, sort_keys=True)
    except (TypeError, ValueError):
        bound = None
    key = (schema, query, operation_name, bound, default_first)
    found = None if bound is None else _remembered(key)
    if found is None:
        found, read = _measure(schema, document, operation_name, variables, default_first)
        if not read:
            _remember((schema, query, operation_name, ANY_VARIABLES, default_first), found)
        elif bound is not None and len(bound) <= MEMO_VARIABLES_BYTES:
            _remember(key, found)
    return found


def _remembered(key: tuple[Any, ...]) -> Measure | None:
    found = _memo.get(key)
    if found is not None:
        _memo.move_to_end(key)
    return found


def _remember(key: tuple[Any, ...], found: Measure) -> None:
    _memo[key] = found
    if len(_memo) > MEMO_SIZE:
        _memo.popitem(last=False)


def _coerced(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The variables as execution will see them: coerced (``100.0`` for an ``Int`` is 100) and
    with the operation's defaults (``$first: Int = 100``); as sent when they do not coerce
    (execution then refuses them, so nothing runs whatever they cost)."""
    definitions = operation.variable_definitions or ()
    coerced = get_variable_values(schema, definitions, dict(variables or {}))
    return dict(variables or {}) if isinstance(coerced, list) else dict(coerced.coerced)


def _named(operation: OperationDefinitionNode, name: str) -> bool:
    return operation.name is not None and operation.name.value == name


def _aliases(document: DocumentNode) -> int:
    count = 0
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop()
        if isinstance(node, FieldNode) and node.alias is not None:
            count += 1
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)
    return count


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: Callable[[], dict[str, Any]],
        default_first: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self._variables_of = variables
        self._variables: dict[str, Any] | None = None
        self.default_first = default_first
        self.firm_wide = 0

    @property
    def variables(self) -> dict[str, Any]:
        """The coerced variables, made on first use (most operations never need them)."""
        if self._variables is None:
            self._variables = self._variables_of()
        return self._variables

    @property
    def read_variables(self) -> bool:
        return self._variables is not None

    def selection(
        self, selection_set: SelectionSetNode | None, parent: Any, depth: int, seen: frozenset[str]
    ) -> tuple[int, int]:
        """(cost, deepest depth) of a selection set on ``parent``."""
        if selection_set is None:
            return 0, depth
        cost, deepest = 0, depth
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                c, d = self.field(node, parent, depth, seen)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                target = parent if condition is None else self._type(condition.name.value, parent)
                c, d = self.selection(node.selection_set, target, depth, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:  # unknown or cyclic: validation refuses
                    continue
                target = self._type(fragment.type_condition.name.value, parent)
                c, d = self.selection(fragment.selection_set, target, depth, seen | {name})
            else:  # pragma: no cover - there are three kinds of selection
                continue
            cost += c
            deepest = max(deepest, d)
        return cost, deepest

    def field(
        self, node: FieldNode, parent: Any, depth: int, seen: frozenset[str]
    ) -> tuple[int, int]:
        if node.name.value.startswith("__"):  # __typename; introspection has its own rules
            return 1, depth
        definition: GraphQLField | None = getattr(parent, "fields", {}).get(node.name.value)
        if definition is None:  # validation refuses unknown fields
            return 1, depth + 1
        self.firm_wide += (getattr(parent, "name", ""), node.name.value) in FIRM_WIDE
        child = get_named_type(definition.type)
        inner, deepest = self.selection(node.selection_set, child, depth + 1, seen)
        return 1 + self._items(node, parent, definition) * inner, max(deepest, depth + 1)

    def _items(self, node: FieldNode, parent: Any, definition: GraphQLField) -> int:
        """How many times this field's selection can repeat."""
        if "first" in definition.args:
            first = self._argument(node, definition, "first")
            return first if isinstance(first, int) and first >= 0 else self.default_first
        parent_name = getattr(parent, "name", "")
        if not _is_list(definition.type) or parent_name.endswith("Connection"):
            return 1  # a connection's nodes and edges: counted by its ``first``
        return LIST_CAPS.get((parent_name, node.name.value), DEFAULT_LIST_CAP)

    def _argument(self, node: FieldNode, definition: GraphQLField, name: str) -> Any:
        argument_def = definition.args[name]
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            if isinstance(argument.value, VariableNode):
                given = self.variables.get(argument.value.name.value)
                return given if given is not None else _default(argument_def.default_value)
            return value_from_ast(argument.value, argument_def.type)  # a literal: no variable
        return _default(argument_def.default_value)

    def _type(self, name: str, fallback: Any) -> Any:
        return self.schema.get_type(name) or fallback


def _default(value: Any) -> Any:
    return None if value is Undefined else value


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)
