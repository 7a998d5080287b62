"""Strict HTTP input for /graphql: what is not a GraphQL request is a typed 4xx, never a 500.

Strawberry's view answers a refused request with plain text, and answers some bad input with a
500 (a JSON body that is not an object, invalid UTF-8, a subscription over POST). ``StrictGraphQL``
sits between strawberry's ``GraphQL`` view and our endpoint and changes only that:

- every refusal before execution is JSON in GraphQL's shape:
  ``{"errors": [{"message": …, "extensions": {"code": "BAD_REQUEST"}}]}``;
- a body (or a ``variables`` / ``extensions`` query parameter) that is not UTF-8, not JSON, or
  not a JSON object is 400 (batches, a JSON list, are not served);
- GET runs queries only: a mutation is 405 with ``Allow: POST`` (GraphQL over HTTP);
- a subscription is served over WebSocket, or as an event stream when ``Accept`` names
  ``text/event-stream`` (``gateway.sse``): one sent over plain HTTP is 400;
- answers take the media type the client's ``Accept`` asks for:
  ``application/graphql-response+json`` (request errors 4xx without ``data``) or
  ``application/json`` (gateway/media_types.py).

The body's size is bounded before it is read, by ``gateway.middleware.body_limit``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from gateway.media_types import (
    GRAPHQL_RESPONSE,
    JSON,
    answer_type,
    content_type,
    request_error_status,
)
from resolvers.context import Context

BAD_REQUEST = "BAD_REQUEST"
HTTP_OPERATIONS: Mapping[str, frozenset[OperationType]] = {
    "GET": frozenset({OperationType.QUERY}),
    "POST": frozenset({OperationType.QUERY, OperationType.MUTATION}),
}
"""What each method may run (strawberry also lets subscriptions through, and 500s on them)."""


class Refused(HTTPException):
    """A request refused before it runs, with the headers its answer needs."""

    def __init__(
        self,
        status: int,
        reason: str,
        headers: Mapping[str, str] | None = None,
        *,
        code: str = BAD_REQUEST,
    ) -> None:
        super().__init__(status, reason)
        self.headers = dict(headers or {})
        self.code = code


def error_response(
    status: int,
    message: str,
    code: str = BAD_REQUEST,
    *,
    headers: Mapping[str, str] | None = None,
    media_type: str = JSON,
    **extensions: Any,
) -> Response:
    """An answer without data: one GraphQL error with its code (and any more extensions)."""
    body = {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    return Response(json.dumps(body), status_code=status, media_type=media_type, headers=headers)


def media_type_of(request: Request | WebSocket) -> str:
    """The media type of this request's answer (gateway/media_types.py)."""
    return answer_type(request.headers.get("accept"))


def content_type_of(request: Request | WebSocket) -> str:
    """The Content-Type of this request's answer."""
    return content_type(media_type_of(request))


class StrictGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with the refusals above."""

    async def run(
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        try:
            response = await super().run(request, context, root_value)
        except HTTPException as refused:
            headers = {**getattr(refused, "headers", {}), "Vary": "Accept"}
            code = getattr(refused, "code", BAD_REQUEST)
            media_type = content_type_of(request)
            return error_response(
                refused.status_code, refused.reason, code, headers=headers, media_type=media_type
            )
        if isinstance(request, Request) and isinstance(response, Response):
            as_negotiated(request, response)
        return response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """A request error answered as graphql-response+json has no ``data`` and a 4xx."""
        response = await super().process_result(request, result)
        if media_type_of(request) == GRAPHQL_RESPONSE:
            status = request_error_status(result.data is not None, result.errors)
            if status is not None:
                response.pop("data", None)
                request.state.graphql_status = status
        return response

    def parse_json(self, data: str | bytes) -> Any:
        """Strawberry says "Unable to parse request body as JSON" of query parameters too."""
        try:
            return self.decode_json(data)
        except json.JSONDecodeError as error:
            raise Refused(400, f"not valid JSON: {error.msg} at {error.pos}") from None

    def decode_json(self, data: str | bytes) -> object:
        """A JSON object from UTF-8 text; a 400 for anything else."""
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
        except UnicodeDecodeError:
            raise Refused(400, "the request is not valid UTF-8") from None
        try:
            value = json.loads(text)
        except RecursionError:
            raise Refused(400, "the JSON is nested too deeply") from None
        if not isinstance(value, dict):
            kind = (
                "a list (batched requests are not served)"
                if isinstance(value, list)
                else (type(value).__name__ if value is not None else "null")
            )
            raise Refused(400, f"expected a JSON object, got {kind}")
        return value

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Strawberry's, with ``HTTP_OPERATIONS`` and a typed refusal for each wrong kind."""
        method = request_adapter.method
        if not isinstance(request_data.operation_name, str | None):
            raise Refused(400, "operationName must be a string or null")
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=HTTP_OPERATIONS[method],
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as error:
            raise Refused(400, error.as_http_error_reason()) from None
        except MissingQueryError:
            raise Refused(400, 'the request has no "query"') from None
        except InvalidOperationTypeError as error:
            raise _wrong_operation(error.operation_type, method) from None


def as_negotiated(request: Request, response: Response) -> None:
    """A GraphQL answer (not the IDE's page) in the negotiated media type, with its status."""
    if response.media_type != JSON and response.headers.get("content-type") != JSON:
        return
    response.headers["vary"] = "Accept"
    response.headers["content-type"] = content_type_of(request)
    status = getattr(request.state, "graphql_status", None)
    if status is not None:
        response.status_code = status


def _wrong_operation(kind: OperationType, method: str) -> Refused:
    if kind is OperationType.SUBSCRIPTION:
        return Refused(
            400,
            "subscriptions are served over WebSocket (graphql-transport-ws) and, with "
            "Accept: text/event-stream, Server-Sent Events (graphql-sse)",
        )
    return Refused(405, f"{kind.value}s need POST (GET runs queries only)", {"Allow": "POST"})
