"""The GraphQL endpoint: strawberry's ASGI view with our context."""

from __future__ import annotations

from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from gateway.consistency import freshness, wait_for_tokens
from gateway.context import build_context
from resolvers.context import Context
from schema.errors import classify


class GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(self, schema: strawberry.Schema, *, graphiql: bool) -> None:
        super().__init__(schema, graphql_ide="graphiql" if graphiql else None)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        if isinstance(request, Request):  # hold a read until its writes are in (if asked)
            request.state.consistency = await wait_for_tokens(request)
        return build_context(request)

    async def get_root_value(self, request: Any) -> None:
        return None

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """Every error leaves with a code (parse errors never reach the schema's extensions)."""
        if result.errors:
            result.errors = [classify(error) for error in result.errors]
        response = await super().process_result(request, result)
        consistency = getattr(request.state, "consistency", None)
        extensions = dict(response.get("extensions") or {})
        extensions["freshness"] = await freshness(request, consistency)
        response["extensions"] = extensions
        return response
