"""Small helpers over a field's nodes (one response key can be asked several times)."""

from __future__ import annotations

from graphql import FieldNode, SelectionSetNode, VariableNode


def selection_sets(nodes: list[FieldNode]) -> list[SelectionSetNode]:
    """The selection sets of every node of one response key (merged by the caller)."""
    return [n.selection_set for n in nodes if n.selection_set is not None]


def fixed(node: FieldNode, argument: str) -> bool:
    """The document alone gives ``argument``'s value (absent, or no variable): every request
    of the plan has the same, so it may be written in as a constant (shapes.py)."""
    for given in node.arguments or ():
        if given.name.value == argument:
            return not isinstance(given.value, VariableNode)
    return True
