"""The short path: a query the whole pipeline has already answered with one compiled
statement, or a mutation it has already validated, is answered again without strawberry's
per-request machinery.

The first request of a (document, operation, dialect, rule set) goes the whole way (documents,
parse, validation, limits, access, ``schema/compiled.py``); when the planner answered it, its
plan is *proven* (``resolvers.planner.proven``). A later request with the same key, as a plain
JSON POST (``query``, ``variables``, ``operationName`` and nothing else; no consistency token;
not an event stream; a role not held to trusted documents), is answered here:

  limits measured for its variables (``schema.limits.over_limits``, the same measure and
  budget) → the plan's variables coerced and bound → one statement (``bound_data``: the same
  code, response cache and counts) → ``process_result`` and ``encode_json`` of the endpoint
  (masked paths, freshness, media type, status) → the same bytes.

A body answered here before, for a caller with the same role and row rules on the same day,
is answered from what was worked out then (gateway/repeated.py): its parse, limits and bound
values; the request's own checks (method, content type, token), authentication and rate
limits before, and the statement or the response cache's check, run every time.

Whatever it does not answer — any limit over, a variable that does not coerce, values or rows
that need the per-field path — it leaves to the whole pipeline, untouched (the body is
replayed), which then gives the error or the per-field answer; after a statement of its own,
the pipeline answers per field without running it again, within the same deadline
(``request.state.deadline``, kept by ``schema.build.ClientGraphSchema.execute``). A proof is
never withdrawn: one caller's values cannot slow the plan down for the others. Authentication
and rate limits run before either path (``gateway/graphql.py``); the operation's span name
and its metrics (latency, statements, errors by operation name) are the pipeline's; a
statement of the short path that the pipeline then answers is not in them.

A mutation (``graphql.short_mutations``) is proven when the whole pipeline has run one of the
same key as far as its execution (``schema.proven``). A later plain POST of it, within its
limits, is executed by strawberry's executor alone (gateway/short_mutation.py: the same
context, resolvers, deadline, masked fields, span name and metrics) and answered by the
endpoint's ``process_result``; its variables' errors are graphql-core's, as in the pipeline.
Once it runs, it is answered here: a mutation never runs twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from typing import Any

from graphql import DocumentNode, GraphQLError, OperationType, get_operation_ast
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import ExecutionResult

from clientgraph.access.principal import Principal
from clientgraph.metrics import SHORT_PATH, counting_sql
from gateway import short_mutation
from gateway.consistency import HEADER as CONSISTENCY_HEADER
from gateway.http_input import as_negotiated
from gateway.ops.request_metrics import answered
from gateway.repeated import Repeated
from readmodel.request_connection import RequestConnection
from resolvers.planner import Bound, PlanRun, bind, bound_data, proven, rules_key
from resolvers.planner.nodes import keyed
from schema.caches import cached_parse
from schema.complexity import measure_text
from schema.limits import over_limits
from schema.proven import proven_mutation
from schema.tracing import name_request_span

ANSWERED = SHORT_PATH.labels("answered")
log = logging.getLogger(__name__)
KEYS = frozenset({"query", "variables", "operationName"})
"""What a body may hold to take the short path (``extensions``, ``documentId``: the pipeline)."""


@dataclass(frozen=True)
class Asked:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


def plain_post(request: Request) -> bool:
    """A JSON POST without a consistency token: what the short path may answer."""
    headers = request.headers
    if request.method != "POST" or headers.get(CONSISTENCY_HEADER):
        return False
    return headers.get("content-type", "").split(";", 1)[0].strip().lower() == "application/json"


def asked(body: bytes) -> Asked | None:
    """The body's document, variables and operation name, when it may take the short path."""
    try:
        value = json.loads(body.decode("utf-8"))  # as strictly as the pipeline: UTF-8 only
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or not value.keys() <= KEYS:
        return None
    query, variables, name = value.get("query"), value.get("variables"), value.get("operationName")
    if not isinstance(query, str) or not isinstance(variables, dict | None):
        return None
    if not isinstance(name, str | None):
        return None
    return Asked(query, variables, name)


@dataclass(frozen=True)
class Known:
    """A query body answered here before (gateway/repeated.py): parsed, within its limits,
    its plan's values bound, for the caller's rule set and the day in its key."""

    found: Asked
    document: DocumentNode
    name: str | None
    bound: Bound


async def answer(endpoint: Any, request: Request, principal: Principal) -> Response | None:
    """The answer to ``request`` by the short path, or ``None``: the pipeline answers it.

    ``endpoint`` is the GraphQL endpoint (its schema, ``process_result`` and ``encode_json``
    make the answer exactly as for the pipeline)."""
    started = time.perf_counter()
    state = request.app.state
    limits = state.settings.graphql
    if not limits.compiled_reads or principal.role.value in state.documents.trusted_only_roles:
        return None
    if not plain_post(request):
        return None
    body = await request.body()
    today = state.clock().date()
    repeated: Repeated[Known] = state.repeated_requests
    seen = repeated.key(body, principal, today)
    known = repeated.get(seen)
    if known is not None:
        again = Asking(
            endpoint, request, principal, known.found, known.document, known.name, started
        )
        return await _run(again, known.bound, today)
    found = asked(body)
    if found is None:
        return None
    try:
        document = cached_parse(found.query, limits.max_tokens)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, found.operation_name)
    if operation is None:
        return None
    name = None if operation.name is None else operation.name.value  # as execution names it
    key = rules_key(found.query, name, state.engine.dialect.name, principal)
    asking = Asking(endpoint, request, principal, found, document, name, started)
    if operation.operation is OperationType.MUTATION:
        if not limits.short_mutations or endpoint.schema.resolves_through_extensions:
            return None  # (an extension around every resolver: the executor alone skips it)
        return await _mutation(asking) if proven_mutation(key) else None
    planned = keyed(key, operation, found.variables)
    compiled = None if planned is None else proven(planned[0])
    return None if compiled is None else await _query(asking, compiled, today, seen)


@dataclass(frozen=True)
class Asking:
    """A request the short path may answer, parsed."""

    endpoint: Any
    request: Request
    principal: Principal
    found: Asked
    document: DocumentNode
    name: str | None  # the operation's, as execution names it
    started: float

    def within_limits(self) -> bool:
        """The limits, measured for these variables as the pipeline measures them (the same
        remembered measure and budgets); over one, the pipeline answers (with the error)."""
        limits = self.request.app.state.settings.graphql
        measured = measure_text(
            self.endpoint.schema._schema,
            self.found.query,
            self.document,
            self.name,
            self.found.variables,
            default_first=limits.default_page_size,
        )
        if over_limits(measured, limits, self.principal.role.value) is None:
            return True
        SHORT_PATH.labels("pipeline").inc()
        return False

    async def answered(self, statements: int, result: ExecutionResult) -> Response:
        answered(self.found.operation_name, self.found.query, self.started, statements, result)
        ANSWERED.inc()
        return await respond(self.endpoint, self.request, result)


async def _mutation(asking: Asking) -> Response | None:
    if not asking.within_limits():
        return None
    found = asking.found
    with counting_sql() as statements:
        result = await short_mutation.run(
            asking.endpoint,
            asking.request,
            asking.principal,
            asking.document,
            found.variables,
            found.operation_name,
            asking.name,
        )
    return await asking.answered(statements[0], result)


async def _query(
    asking: Asking, compiled: Any, today: date, seen: Hashable | None
) -> Response | None:
    if not asking.within_limits():
        return None
    request = asking.request
    state = request.app.state
    window = state.settings.forecasts.outlook_window_days
    variables = asking.found.variables
    schema = asking.endpoint.schema._schema
    try:
        bound = bind(schema, compiled, variables, state.settings.graphql, today, window)
    except Exception:  # as for the statement (planner._counted): the pipeline answers
        log.exception("compiled read failed; answered field by field")
        bound = None
    if bound is None:  # these values need the per-field path
        _to_pipeline(request)
        return None
    known = Known(asking.found, asking.document, asking.name, bound)
    state.repeated_requests.put(seen, known)
    return await _run(asking, bound, today)


async def _run(asking: Asking, bound: Bound, today: date) -> Response | None:
    """The bound plan's answer (the response cache's, or its statement's)."""
    request, schema = asking.request, asking.endpoint.schema
    state = request.app.state
    limits = state.settings.graphql
    request.state.reads = RequestConnection(state.engine)
    window = state.settings.forecasts.outlook_window_days
    run = PlanRun(
        request.state.reads,
        limits,
        today,
        window,
        state.response_cache,
        request.state,
        getattr(state, "raw_reads", None),
    )
    # the request's one deadline: the pipeline keeps it if it has to answer after all
    request.state.deadline = asyncio.get_running_loop().time() + schema.request_timeout
    with counting_sql() as statements:
        try:
            async with asyncio.timeout_at(request.state.deadline):
                data = await bound_data(bound, run)
        except TimeoutError:
            result = schema.timed_out()
        else:
            if data is None:  # these rows need the per-field path
                _to_pipeline(request)
                return None
            masked = {"masked": sorted(set(data.masked))} if data.masked else None
            result = ExecutionResult(data=data, errors=None, extensions=masked)  # type: ignore[arg-type]
    name_request_span("query", asking.name, asking.principal)
    return await asking.answered(statements[0], result)


def _to_pipeline(request: Request) -> None:
    request.state.compiled_tried = True  # the pipeline answers per field, without a second try
    SHORT_PATH.labels("pipeline").inc()


async def respond(endpoint: Any, request: Request, result: ExecutionResult) -> Response:
    """The endpoint's answer to ``result``, as the pipeline makes it (freshness, error codes,
    media type)."""
    body = endpoint.encode_json(await endpoint.process_result(request, result))
    response = Response(body, media_type="application/json")
    as_negotiated(request, response)
    return response
