"""The compiled read path: a query operation as one SQL statement whose JSON is the answer's
``data`` (README.md in this package). ``compiled_data`` gives that JSON text, or ``None``
when the operation (or this request of it) must run on the per-field path."""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Hashable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, Protocol

from asyncpg import PostgresError
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    get_operation_ast,
)
from graphql.execution.values import get_variable_values
from sqlalchemy import TextClause, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from clientgraph.access.policy import FIELD_ROLES
from clientgraph.metrics import COMPILED_READS
from clientgraph.settings import GraphQLSettings
from readmodel.db import autocommit
from readmodel.raw_reads import RawReads
from readmodel.request_connection import Reads
from resolvers.access import allowed
from resolvers.context import Context
from resolvers.planner import sync_states
from resolvers.planner.binding import Binding, Fallback
from resolvers.planner.compile import compile_operation
from resolvers.planner.dialect import Dialect, TooWide
from resolvers.planner.hit_check import shared_check
from resolvers.planner.lease import leased
from resolvers.planner.nodes import NodeTypes, keyed
from resolvers.planner.shapes import Shapes
from resolvers.planner.turns import turns
from resolvers.response_cache import (
    Counters,
    Entry,
    ResponseCache,
    counted_lookup,
    counters_for,
    entry_key,
)

CACHE_SIZE = 512
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawJSON:
    """JSON text made by the database, passed through to the response unparsed, and the paths
    of the guarded fields it masked (for ``extensions.masked``, as ``schema.access`` notes
    them on the per-field path)."""

    text: str
    masked: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Statements:
    """A plan's statements for one shape of its pages (shapes.py)."""

    plain: TextClause  # the plan's, with ``cg_sync`` (sync_states.py)
    counted: TextClause | None  # with its tables' counters too (same snapshot)


@dataclass
class _Compiled:
    operation: OperationDefinitionNode
    statements: Shapes[_Statements]
    binders: list[Any]
    counters: Counters | None  # None: it reads a table no change counter follows
    check: TextClause | None  # a cache hit's statement: the counters and ``cg_sync``
    digest: bytes  # the plan's key, hashed once: the response cache keys by it and the values
    masked: tuple[tuple[str, int], ...]  # a masked path and its flag in the ``masked`` column
    proven: bool = field(default=False, compare=False)  # answered through the whole pipeline

    def answer(self, row: Any) -> RawJSON:
        """The answer of the statement's row: its data, and the masked paths that occurred."""
        if not self.masked:
            return RawJSON(row.data)
        flags = row.masked
        return RawJSON(row.data, tuple(path for path, i in self.masked if flags[i] == "1"))


_NOT_COMPILED = object()
_plans: OrderedDict[Hashable, Any] = OrderedDict()


def _plan(
    schema: GraphQLSchema,
    document: DocumentNode,
    key: Hashable,
    node_types: NodeTypes,
    operation: Any,
    ctx: Context,
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
            node_types,
        )
        sync = sync_states.column(dialect)
        counters = counters_for(plan.sql)
        check = None if counters is None else text(f"SELECT {counters.columns}, {sync}")

        def statements(sql: str) -> _Statements:
            if counters is None:
                return _Statements(text(f"{sql}, {sync}"), None)
            return _Statements(text(f"{sql}, {sync}"), text(f"{sql}, {counters.columns}, {sync}"))

        shapes = Shapes(plan.sql, plan.shapes, dialect.postgres, statements)
        digest = hashlib.sha256(repr(key).encode()).digest()
        found = _Compiled(operation, shapes, plan.binders, counters, check, digest, plan.masked)
    except (Fallback, TooWide):
        found = _NOT_COMPILED
    _plans[key] = found
    if len(_plans) > CACHE_SIZE:
        _plans.popitem(last=False)
    return found


def rules_key(query: str, operation_name: str | None, dialect: str, principal: Any) -> Hashable:
    """(document, operation, dialect, the caller's rule set): a context's row scope is its
    principal's accounts and owner (gateway/context.py), so its role and those name the set."""
    return (query, operation_name, dialect, (principal.role, principal.accounts, principal.owner))


def proven(key: Hashable) -> _Compiled | None:
    """The plan of ``key`` (``rules_key``) once the whole pipeline (documents, parse,
    validation, limits, access) has answered a request of it with this plan; ``None``
    otherwise. The gateway's short path (gateway/short_path.py) answers only such plans."""
    found = _plans.get(key)
    if not isinstance(found, _Compiled) or not found.proven:
        return None
    _plans.move_to_end(key)  # in use: the last to be dropped
    return found


@dataclass(frozen=True)
class PlanRun:
    """What running a plan needs of its request."""

    reader: Reads
    limits: GraphQLSettings
    today: date
    outlook_window: int
    cache: ResponseCache | None
    state: Any  # the request's ASGI state: the answer's ``sync_state`` text is kept there
    raw: RawReads | None = None  # the bare driver's connections, where they run the statement

    @classmethod
    def of(cls, ctx: Context) -> PlanRun:
        window = ctx.forecasts.outlook_window_days
        state = getattr(ctx.request, "state", None)
        cache, raw = ctx.response_cache, ctx.raw_reads
        return cls(ctx.reader, ctx.limits, ctx.today, window, cache, state, raw)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[OneRow]:
        """A connection for the plan's statements: the bare driver's (readmodel/raw_reads.py)
        when there is one, else the request's reads, each statement its own transaction."""
        if self.raw is not None:
            async with self.raw.connect() as conn:
                yield conn
            return
        engine = getattr(self.reader, "engine", self.reader)  # a request's reads, or an engine
        slots = turns(engine, self.limits.compiled_statements_in_flight)  # SQLite: turns.py
        # no BEGIN / ROLLBACK: one statement is one snapshot (answer, counters, sync_state)
        async with slots or nullcontext(), autocommit(self.reader) as conn:
            yield _OneRow(conn)


class OneRow(Protocol):
    async def one(self, statement: TextClause, params: dict[str, Any]) -> Any: ...


@dataclass(frozen=True)
class _OneRow:
    conn: AsyncConnection

    async def one(self, statement: TextClause, params: dict[str, Any]) -> Any:
        return (await self.conn.execute(statement, params)).one()


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
    return await _counted(_compiled(schema, document, query, operation_name, variables, ctx))


async def bound_data(bound: Bound, run: PlanRun) -> RawJSON | None:
    """``compiled_data`` of a proven plan (``proven``) whose values are bound (``bind``), for
    the gateway's short path: the same statement and checks; ``None`` when the whole pipeline
    must answer. Counted by the short path's own outcomes (``clientgraph_graphql_short_path``),
    not as an offer to the planner."""
    return await _counted(run_bound(bound, run), offered=False)


async def _counted(
    answering: Awaitable[tuple[str, RawJSON | None]], *, offered: bool = True
) -> RawJSON | None:
    try:
        outcome, data = await answering
    except (DBAPIError, PostgresError) as error:  # a guard failing on purpose (stale figures,
        # a bad cursor, a stored value the schema's enum lacks): expected, so one line at debug
        refused = error.orig if isinstance(error, DBAPIError) else error
        log.debug(
            "compiled read refused by the database (%s); answered field by field",
            type(refused).__name__,
        )
        outcome, data = "fallback", None
    except Exception:
        log.exception("compiled read failed; answered field by field")
        outcome, data = "failed", None
    if offered:
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
    key = rules_key(query, operation_name, ctx.engine.dialect.name, ctx.principal)
    planned = keyed(key, operation, variables)
    if planned is None:  # a root node's id names no type: the per-field path says why
        return "not_compiled", None
    compiled = _plan(schema, document, *planned, operation, ctx)
    if compiled is _NOT_COMPILED:
        return "not_compiled", None
    outcome, data = await run_plan(schema, compiled, variables, PlanRun.of(ctx))
    if outcome == "compiled":
        compiled.proven = True
    return outcome, data


class Bound:
    """A plan with one request's values bound: its parameters (never changed once made, so a
    request with the same values may use them again) and its response cache key."""

    def __init__(self, compiled: _Compiled, params: dict[str, Any]) -> None:
        self.compiled, self.params = compiled, params

    @cached_property
    def cache_key(self) -> Hashable:
        """Not the document's text again per request: the plan's digest and the values."""
        return entry_key(self.compiled.digest, self.params)


def bind(
    schema: GraphQLSchema,
    compiled: _Compiled,
    variables: dict[str, Any] | None,
    limits: GraphQLSettings,
    today: date,
    outlook_window: int,
) -> Bound | None:
    """The plan's parameters for these variables (coerced as execution coerces them), the
    limits' page sizes, today and the trend window; ``None`` when this request needs the
    per-field path (a variable that does not coerce, a value it must refuse)."""
    definitions = compiled.operation.variable_definitions or ()
    coerced = get_variable_values(schema, definitions, variables or {})
    if isinstance(coerced, list):  # the per-field path reports the variables' errors
        return None
    binding = Binding(coerced, limits, today, outlook_window)
    params: dict[str, Any] = {}
    try:
        for binder in compiled.binders:
            binder(binding, params)
    except Fallback:
        return None
    return Bound(compiled, params)


async def run_plan(
    schema: GraphQLSchema, compiled: _Compiled, variables: dict[str, Any] | None, run: PlanRun
) -> tuple[str, RawJSON | None]:
    """One request of a compiled plan: its variables bound, its statement run (through the
    response cache when there is one); ``fallback`` when this request needs the per-field path.
    Raises what the database raises."""
    bound = bind(schema, compiled, variables, run.limits, run.today, run.outlook_window)
    if bound is None:
        return "fallback", None
    return await run_bound(bound, run)


async def run_bound(bound: Bound, run: PlanRun) -> tuple[str, RawJSON | None]:
    """``run_plan`` with its values bound."""
    compiled, params = bound.compiled, bound.params
    if run.cache is None or compiled.counters is None:
        held = sync_states.held(run.reader)
        known = {**params, sync_states.KNOWN: held.version}
        async with run.connect() as conn:
            row = await conn.one(compiled.statements.of(params).plain, known)
        if row.fallback:
            return "fallback", None
        _keep_sync_states(run, held, row)
        return "compiled", compiled.answer(row)
    return await _cached(compiled, bound.cache_key, params, run)


async def _cached(
    compiled: _Compiled, key: Hashable, params: dict[str, Any], run: PlanRun
) -> tuple[str, RawJSON | None]:
    """Through the response cache (resolvers/response_cache.py): a kept answer whose tables'
    counters are unchanged costs one statement on ``change_counter`` (which also reads the
    answer's freshness) — on PostgreSQL's bare connections one shared by the hits asking at
    the same time (hit_check.py); otherwise the statement runs with the counters read in its
    snapshot, and a compiled answer is kept."""
    cache, counters = run.cache, compiled.counters
    assert cache is not None and counters is not None
    counted = compiled.statements.of(params).counted
    assert compiled.check is not None and counted is not None
    entry = cache.get(key)
    held = sync_states.held(run.reader)  # for both statements: one request, one known text
    if entry is not None:
        if run.raw is not None:
            snapshot = leased(run.raw) or await shared_check(run.raw).started_after_now()
            now, sync_text = snapshot.of(counters.tables), snapshot.sync_text
        else:
            async with run.connect() as conn:
                checked = await conn.one(compiled.check, {sync_states.KNOWN: held.version})
            now, sync_text = counters.of(checked), sync_states.text_of(run.reader, held, checked)
        if now == entry.counters:
            counted_lookup(True)
            if run.state is not None:
                sync_states.keep(run.state, sync_text)
            return "compiled", RawJSON(entry.data, entry.masked)
    counted_lookup(False)  # none kept, or its tables changed since: read again
    async with run.connect() as conn:
        row = await conn.one(counted, {**params, sync_states.KNOWN: held.version})
    if row.fallback:
        cache.discard(key)
        return "fallback", None
    answer = compiled.answer(row)
    values = counters.of(row)
    if counters.kept_by(values):
        cache.put(key, Entry(answer.text, values, answer.masked))
    else:
        cache.discard(key)
    _keep_sync_states(run, held, row)
    return "compiled", answer


def _keep_sync_states(run: PlanRun, held: sync_states.Held, row: Any) -> None:
    """The answer's ``sync_state`` rows (JSON text), for its ``extensions.freshness`` (same
    snapshot): ``sync_states.states`` reads them."""
    text = sync_states.text_of(run.reader, held, row)
    if run.state is not None:
        sync_states.keep(run.state, text)
