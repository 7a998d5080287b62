"""The compiled read path: a query operation as one SQL statement whose JSON is the answer's
``data`` (README.md in this package). ``compiled_data`` gives that JSON text, or ``None``
when the operation (or this request of it) must run on the per-field path."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, FragmentDefinitionNode, GraphQLSchema, get_operation_ast
from graphql.execution.values import get_variable_values
from sqlalchemy import TextClause, text
from sqlalchemy.exc import DBAPIError

from clientgraph.access.policy import FIELD_ROLES
from clientgraph.metrics import COMPILED_READS
from resolvers.access import allowed
from resolvers.context import Context
from resolvers.planner.binding import Binding, Fallback
from resolvers.planner.compile import compile_operation
from resolvers.planner.dialect import Dialect, TooWide

CACHE_SIZE = 512
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawJSON:
    """JSON text made by the database, passed through to the response unparsed."""

    text: str


@dataclass(frozen=True)
class _Compiled:
    statement: TextClause
    binders: list[Any]


_NOT_COMPILED = object()
_plans: OrderedDict[Hashable, Any] = OrderedDict()


def _plan(
    schema: GraphQLSchema, document: DocumentNode, key: Hashable, operation: Any, ctx: Context
) -> Any:
    found = _plans.get(key)
    if found is not None:
        _plans.move_to_end(key)
        return found
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    engine_dialect = ctx.engine.dialect
    dialect = Dialect(engine_dialect.name, engine_dialect)
    try:
        role = ctx.principal.role
        plan = compile_operation(
            schema,
            operation,
            fragments,
            dialect,
            ctx.scope,
            lambda n: allowed(ctx, "query", n),
            lambda guarded: role in FIELD_ROLES[guarded],
        )
        found = _Compiled(text(plan.sql), plan.binders)
    except (Fallback, TooWide):
        found = _NOT_COMPILED
    _plans[key] = found
    if len(_plans) > CACHE_SIZE:
        _plans.popitem(last=False)
    return found


def plan_key(query: str, operation_name: str | None, ctx: Context) -> Hashable:
    """(document, operation, dialect, the caller's rule set: role and rows)."""
    scope = ctx.scope
    rules = (ctx.principal.role, ctx.principal.row_scoped, scope.accounts, scope.owner)
    return (query, operation_name, ctx.engine.dialect.name, rules)


async def compiled_data(
    schema: GraphQLSchema,
    document: DocumentNode,
    query: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    ctx: Context,
) -> RawJSON | None:
    """The operation's ``data`` as JSON text from one statement, or ``None`` (per-field).

    Never raises: whatever goes wrong here, the per-field path answers (an unexpected error is
    logged and counted as ``failed``)."""
    try:
        outcome, data = await _compiled(schema, document, query, operation_name, variables, ctx)
    except DBAPIError:  # e.g. a stored value the schema's enum lacks: the per-field path's
        log.info("compiled read failed in the database; answered field by field", exc_info=True)
        outcome, data = "fallback", None
    except Exception:
        log.exception("compiled read failed; answered field by field")
        outcome, data = "failed", None
    COMPILED_READS.labels(outcome).inc()
    return data


async def _compiled(
    schema: GraphQLSchema,
    document: DocumentNode,
    query: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    ctx: Context,
) -> tuple[str, RawJSON | None]:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return "not_compiled", None
    compiled = _plan(schema, document, plan_key(query, operation_name, ctx), operation, ctx)
    if compiled is _NOT_COMPILED:
        return "not_compiled", None
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):  # the per-field path reports the variables' errors
        return "fallback", None
    binding = Binding(coerced, ctx.limits, ctx.today)
    params: dict[str, Any] = {}
    try:
        for bind in compiled.binders:
            bind(binding, params)
    except Fallback:
        return "fallback", None
    async with ctx.engine.connect() as conn:
        row = (await conn.execute(compiled.statement, params)).one()
    if row.fallback:
        return "fallback", None
    return "compiled", RawJSON(row.data)
