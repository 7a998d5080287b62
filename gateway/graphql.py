"""The GraphQL endpoint: strawberry's ASGI view with our context and authentication.

HTTP: every request but the GraphiQL page (a GET asking for HTML, which holds no data) is
authenticated before it is parsed; a refusal is HTTP 401 (or 403) with a GraphQL error whose
``extensions.code`` is UNAUTHENTICATED (or FORBIDDEN) and a ``WWW-Authenticate`` header.
WebSocket (graphql-transport-ws only): the credentials come in ``connection_init``
(``{"Authorization": "Bearer …"}``; the upgrade request's header is the fallback); a refusal
closes the socket with 4403 before any operation runs.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from clientgraph.access.principal import Principal
from clientgraph.access.roles import Role
from clientgraph.settings import GraphQLSettings
from gateway import short_path, sse, sse_single
from gateway.auth.authenticate import Refused, bearer_of
from gateway.consistency import freshness, wait_for_tokens
from gateway.context import build_context
from gateway.documents import DocumentRefused, Documents
from gateway.encoded import compact
from gateway.http_input import Refused as HTTPRefused
from gateway.http_input import StrictGraphQL, content_type_of, error_response
from gateway.middleware.body_limit import replay
from gateway.ops.graphiql import offline
from gateway.ops.request_metrics import observed
from gateway.ratelimit import admit
from gateway.socket import SocketHandler
from gateway.streams import StreamSlots
from readmodel.request_connection import RequestConnection
from resolvers.context import Context
from resolvers.planner import RawJSON
from schema.errors import classify

PRINCIPAL = "principal"  # where the request's principal waits in its ASGI state
READS = "reads"  # its reads, one pooled connection at a time (readmodel/request_connection.py)
IDE_CSP = "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'"
"""The GraphiQL page's policy: it runs inline code (and loads from unpkg what ``make install``
did not vendor, see ``gateway.ops.graphiql``), so only what cannot break it (framing, base URL,
forms, plugins) is shut."""


class GraphQLEndpoint(StrictGraphQL):
    graphql_transport_ws_handler_class = SocketHandler  # rate-limited, classified, masked

    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        graphiql: bool,
        ide_key: str | None = None,
        limits: GraphQLSettings | None = None,
    ) -> None:
        limits = limits or GraphQLSettings()
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL),
            max_subscriptions_per_connection=limits.max_operations_per_socket,
        )
        self.request_timeout = limits.request_timeout_seconds  # read by SocketHandler
        self.max_tokens = limits.max_tokens
        self._ide_key = ide_key if graphiql else None

    async def render_graphql_ide(self, request: Request) -> Response:
        html = offline(self.graphql_ide_html)  # GraphiQL's assets from the package
        html = html if self._ide_key is None else _with_key(html, self._ide_key)
        return HTMLResponse(html, headers={"Content-Security-Policy": IDE_CSP})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            events = _asks_for_events(request)
            if not self._asks_for_ide(request):
                try:
                    principal = await _authenticate(request, request.headers.get("authorization"))
                except Refused as refused:
                    await _refusal(refused, content_type_of(request))(scope, receive, send)
                    return
                scope.setdefault("state", {})[PRINCIPAL] = principal
                admission = await admit(request, principal)  # rate limits: gateway/ratelimit.py
                if not admission.allowed:
                    await admission.refusal()(scope, receive, send)
                    return
                send = admission.with_headers(send)
                if sse_single.addresses(request):  # graphql-sse's single connection mode
                    answer = await sse_single.handle(request, principal, self._start_single)
                    await answer(scope, receive, send)
                    return
                if not events:  # a plan already proven: gateway/short_path.py
                    short = await short_path.answer(self, request, principal)
                    if short is not None:
                        await short(scope, receive, send)
                        return
                    receive = replay(await request.body(), receive)  # read: the pipeline's again
            if not events:
                # the request's reads, a connection at a time; an event stream lasts as long as its
                # subscription, so its reads take a pooled connection each, as they go
                scope.setdefault("state", {})[READS] = RequestConnection(request.app.state.engine)
        await super().__call__(scope, receive, send)

    def should_render_graphql_ide(self, request: Any) -> bool:
        """Strawberry's rule, except that a GET naming a document (``documentId``, or a persisted
        query in ``extensions``) runs it."""
        params = request.query_params
        names_a_document = params.get("documentId") or params.get("extensions")
        return not names_a_document and super().should_render_graphql_ide(request)

    def _asks_for_ide(self, request: Request) -> bool:
        """A browser's GET of the IDE page itself: no document in it, so nothing runs (any GET
        that names a query, a document or an extension is authenticated like a POST)."""
        if self.graphql_ide is None or request.method != "GET":
            return False
        params = request.query_params
        names_nothing = not any(params.get(n) for n in ("query", "documentId", "extensions"))
        return "text/html" in request.headers.get("accept", "") and names_nothing

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        if isinstance(request, Request):  # hold a read until its writes are in (if asked)
            request.state.consistency = await wait_for_tokens(request)
            principal = getattr(request.state, PRINCIPAL, None) or NOBODY  # NOBODY: the IDE page
            context = build_context(request, principal, getattr(request.state, READS, None))
            settings = request.app.state.settings.graphql  # the short path may have tried it
            tried = getattr(request.state, "compiled_tried", False)
            context.compiled_reads = settings.compiled_reads and not tried
            context.response_cache = getattr(request.app.state, "response_cache", None)
            context.raw_reads = getattr(request.app.state, "raw_reads", None)
            context.raw_writes = getattr(request.app.state, "raw_writes", None)
            return context
        return build_context(request, NOBODY)  # until connection_init is authenticated

    async def on_ws_connect(self, context: Context) -> Any:
        """Authenticate ``connection_init``; the socket's context becomes the caller's."""
        socket = context.request
        params = getattr(context, "connection_params", None)
        authorization = bearer_of(params) or socket.headers.get("authorization")
        try:
            principal = await _authenticate(socket, authorization)
        except Refused as refused:
            raise ConnectionRejectionError({"reason": refused.reason}) from None
        fresh = build_context(socket, principal)
        for name in ("principal", "scope", "partner_mutations"):
            setattr(context, name, getattr(fresh, name))
        context.renew = _renew
        return None

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: Any,
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        """An event stream (``gateway.sse``) runs the document the request names, as
        ``execute_single`` does for a plain answer."""
        if sse.streams(request_data):
            if not isinstance(request_data.operation_name, str | None):
                raise HTTPRefused(400, "operationName must be a string or null")
            request_data = await _with_document(request, request_data, context)
            if request_data.query is None:
                raise HTTPRefused(400, 'the request has no "query"')
            request.state.streamed_query = request_data.query
            context.compiled_reads = False  # an event's data is encoded field by field
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    async def _create_streaming_response(
        self, request: Request, result: Any, protocol: Any, sub_response: Response
    ) -> Response:
        """graphql-sse's events, or a 4xx JSON answer for a document refused before it ran."""
        transport = self._get_stream_transport(protocol)
        assert transport is not None  # only the transports listed in ``protocols`` stream
        started = await self._started(request, result)
        if isinstance(started, Response):
            return started
        stream = sse.events(
            started.first, started.opened, transport, started.process, self.encode_json_string
        )
        response = await self.create_streaming_response(
            request, stream, sub_response, headers=transport.headers
        )
        assert isinstance(response, StreamingResponse)  # strawberry's, for Starlette
        return sse.ClosingStream(response, started.opened)

    async def _started(self, request: Request, result: Any) -> sse_single.Started | Response:
        """A streamed operation under way (a subscription holding one of its caller's slots,
        ``gateway.streams``), or the answer refusing it: over the cap (429), or refused
        before it ran (4xx JSON)."""
        query = request.state.streamed_query
        deadline = sse.deadline_of(query, self.request_timeout, self.max_tokens)
        release = None
        if deadline is None:
            slots: StreamSlots = request.app.state.stream_slots
            caller = slots.caller(request, getattr(request.state, PRINCIPAL))
            if not slots.take(caller):
                await result.aclose()  # never started: nothing ran
                return slots.refusal()
            release = partial(slots.release, caller)
        opened = sse.Opened(aiter(result), deadline, release)
        first = await opened.first()
        if sse.refused(first):
            await opened.close()
            return sse.refusal(await self.process_result(request, first), first.errors)
        return sse_single.Started(first, opened, partial(self.process_result, request))

    async def _start_single(
        self, request: Request, body: dict[str, Any], operation_id: str
    ) -> sse_single.Started | Response:
        """One operation of a single-connection reservation, run as the distinct mode runs
        its own (documents, context, limits, masking), its results kept for the stream."""
        try:
            request_data = _single_request_data(body)
            sub_response = await self.get_sub_response(request)
            context = await self.get_context(request, sub_response)
            adapter = self.request_adapter_class(request)
            result = await self.execute_operation(
                request, adapter, request_data, context, None, sub_response
            )
        except HTTPRefused as refused:
            return error_response(refused.status_code, refused.reason, refused.code)
        return await self._started(request, result)

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Run the request's document: its query, a trusted document or a persisted query."""
        request_data = await _with_document(request, request_data, context)
        run = super().execute_single  # timed and counted by operation name (/metrics)
        return await observed(
            request_data.operation_name,
            request_data.query,
            lambda: run(request, request_adapter, sub_response, context, root_value, request_data),
        )

    def encode_json(self, data: object) -> str | bytes:
        """Strawberry's encoding, except that ``data`` made by the compiled read path is the
        database's JSON text, put in the body as it is (never parsed and encoded again)."""
        if isinstance(data, dict) and isinstance(data.get("data"), RawJSON):
            parts = [f'"data":{data["data"].text}']
            parts += [f"{json.dumps(k)}:{compact(v)}" for k, v in data.items() if k != "data"]
            return "{" + ",".join(parts) + "}"
        return super().encode_json(data)

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


def _single_request_data(body: dict[str, Any]) -> GraphQLRequestData:
    """A single-connection POST body as the distinct mode's request (checked as strictly)."""
    query, variables, name = body.get("query"), body.get("variables"), body.get("operationName")
    if not isinstance(query, str | None) or not isinstance(variables, dict | None):
        raise HTTPRefused(400, "query must be a string and variables an object")
    if not isinstance(name, str | None):
        raise HTTPRefused(400, "operationName must be a string or null")
    extensions = body.get("extensions")
    return GraphQLRequestData(query, variables, name, extensions, protocol="sse")


NOBODY = Principal(id="anonymous", role=Role.PARTNER, accounts=frozenset())
"""The context before authentication: the narrowest there is (no rows, no guarded fields)."""


async def _authenticate(connection: Request | WebSocket, authorization: str | None) -> Principal:
    state = connection.app.state
    principal: Principal = await state.authenticator.principal(authorization, state.clock())
    return principal


async def _with_document(
    request: Request, request_data: GraphQLRequestData, context: Context
) -> GraphQLRequestData:
    """``request_data`` with the text it runs: its query, a trusted document or a persisted
    query (``gateway.documents``)."""
    documents: Documents = request.app.state.documents
    try:
        query = await documents.query_of(
            request_data.query,
            await _document_id(request),
            request_data.extensions,
            context.principal.role.value,
        )
    except DocumentRefused as refused:
        raise HTTPRefused(refused.status, refused.message, code=refused.code) from None
    return replace(request_data, query=query)


async def _document_id(request: Request) -> Any:
    """``documentId`` of the request (a POST body field, or a GET parameter)."""
    if request.method == "GET":
        return request.query_params.get("documentId")
    raw = await request.body()  # read and checked already: kept by Starlette
    if b"documentId" not in raw:  # most requests: no second parse of the body
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body.get("documentId") if isinstance(body, dict) else None


def _renew(context: Context) -> None:
    """A WebSocket operation's own 'now' and loaders (nothing cached from the last one)."""
    fresh = build_context(context.request, context.principal)
    context.now, context.loaders = fresh.now, fresh.loaders
    if hasattr(context, "handoff_loaders"):
        delattr(context, "handoff_loaders")


def _refusal(refused: Refused, media_type: str) -> Response:
    error = "invalid_token" if refused.status == 401 and "required" not in refused.reason else None
    challenge = 'Bearer realm="clientgraph"' + (f', error="{error}"' if error else "")
    headers = {"WWW-Authenticate": challenge} if refused.status == 401 else {}
    return error_response(
        refused.status, refused.reason, refused.code, headers=headers, media_type=media_type
    )


def _with_key(html: str, key: str) -> str:
    """The GraphiQL page with ``Authorization: Bearer <key>`` preset (the demo's own key)."""
    headers = json.dumps(json.dumps({"Authorization": f"Bearer {key}"}, indent=2))
    html = html.replace(
        "React.useState(parameters.headers)", f"React.useState(parameters.headers || {headers})"
    )
    params = json.dumps({"Authorization": f"Bearer {key}"})
    return html.replace(
        "subscriptionUrl,\n", f"subscriptionUrl,\n        wsConnectionParams: {params},\n"
    )


def _asks_for_events(request: Request) -> bool:
    """Whether the client accepts an event stream (graphql-sse's distinct connections mode)."""
    return "text/event-stream" in request.headers.get("accept", "")
