"""The short path of a mutation (gateway/short_path.py): a document the whole pipeline has
validated for this caller's rules (``schema.proven``) runs on strawberry's executor alone.

What the pipeline does around execution is done here with the same code — the request's
reads a connection at a time, the endpoint's context (``get_context``), the request's deadline,
masked fields noted for ``extensions.masked``, the request's span named after the operation —
and what it does before (documents, parse, validation, limits) was proven by an earlier
request or measured again by the short path. Once a mutation starts, this path answers it,
whatever happens: a mutation is never run twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

from graphql import DocumentNode
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import ExecutionResult

from clientgraph.access.principal import Principal
from readmodel.request_connection import RequestConnection
from schema.access import MASKED
from schema.tracing import name_request_span


async def run(
    endpoint: Any,
    request: Request,
    principal: Principal,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    name: str | None,
) -> ExecutionResult:
    """The mutation's result, as ``ClientGraphSchema.execute`` gives it (within the request's
    deadline: ``timed_out`` past it)."""
    schema = endpoint.schema
    request.state.reads = RequestConnection(request.app.state.engine)  # as gateway/graphql.py
    context = await endpoint.get_context(request, Response())
    request.state.deadline = asyncio.get_running_loop().time() + schema.request_timeout
    name_request_span("mutation", name, principal)
    masked: set[str] = set()
    token = MASKED.set(masked)
    try:
        async with asyncio.timeout_at(request.state.deadline):
            result: ExecutionResult = await schema.execute_validated(
                document, variables, operation_name, context
            )
    except TimeoutError:
        result = schema.timed_out()
    finally:
        MASKED.reset(token)
    if masked:
        result.extensions = {"masked": sorted(masked)}
    return result
