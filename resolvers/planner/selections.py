"""Small helpers over a field's nodes (one response key can be asked several times)."""

from __future__ import annotations

from graphql import FieldNode, SelectionSetNode


def selection_sets(nodes: list[FieldNode]) -> list[SelectionSetNode]:
    """The selection sets of every node of one response key (merged by the caller)."""
    return [n.selection_set for n in nodes if n.selection_set is not None]
