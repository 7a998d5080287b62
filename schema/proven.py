"""Mutation documents the whole pipeline has validated, per caller's rule set.

A mutation's document is parsed, validated (the schema's rules, one operation, introspection
by role) and measured against the limits the same way whatever its variables. Once the whole
pipeline has gone that far with a (document, operation, dialect, role and row rules) — it
reached execution — the document is *proven*: the gateway's short path (gateway/short_path.py)
runs a later plain POST of it with strawberry's executor alone (``ClientGraphSchema.
execute_validated``), after measuring its limits again. A proof is never withdrawn; the
process keeps the last ``CACHE_SIZE``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator

from starlette.requests import Request
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from resolvers.planner import rules_key

CACHE_SIZE = 512
_proven: OrderedDict[Hashable, None] = OrderedDict()


def proven_mutation(key: Hashable) -> bool:
    """Whether the whole pipeline has run a mutation of ``key`` (``resolvers.planner.
    rules_key``) as far as its execution."""
    if key not in _proven:
        return False
    _proven.move_to_end(key)  # in use: the last to be dropped
    return True


class ProvenMutations(SchemaExtension):
    """Proves an HTTP request's mutation document when it reaches execution (after parse,
    validation and the limits)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        ctx = context.context
        request = getattr(ctx, "request", None)
        if (
            context.operation_type is OperationType.MUTATION
            and context.query is not None
            and isinstance(request, Request)
        ):
            dialect = ctx.engine.dialect.name
            _proven[rules_key(context.query, context.operation_name, dialect, ctx.principal)] = None
            if len(_proven) > CACHE_SIZE:
                _proven.popitem(last=False)
        yield
