"""Each HTTP request is a span (OpenTelemetry's ASGI middleware) whose context its log lines
carry; the caller's ``traceparent`` is its parent, and the answer says ``traceparent`` back.

The span never sees the query string (a GET's document and variables): the middleware is
handed the request without it, and the application gets it back underneath.
"""

from __future__ import annotations

import re
import uuid

from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.trace import TracerProvider
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clientgraph.telemetry import context

CORRELATION_HEADERS = ("x-correlation-id", "x-request-id")
CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
QUERY = "clientgraph.query_string"  # where the query string waits below the span
UNTRACED = "healthz,readyz"  # probes: a span each would drown the traces


class Telemetry:
    def __init__(self, app: ASGIApp, tracer_provider: TracerProvider | None = None) -> None:
        self.traced = OpenTelemetryMiddleware(
            _InSpan(app),
            excluded_urls=UNTRACED,
            exclude_spans=["receive", "send"],
            tracer_provider=tracer_provider,  # the process's (clientgraph.telemetry) if None
        )
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        hidden = {**scope, "query_string": b"", QUERY: scope.get("query_string", b"")}
        await self.traced(hidden, receive, send)


class _InSpan:
    """Inside the request's span: the query string back, the correlation id bound, and
    ``traceparent`` on the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope = {**scope, "query_string": scope.pop(QUERY, b"")}
        with context.bound(correlation_id=correlation_id_of(Headers(scope=scope))):
            await self.app(scope, receive, _with_traceparent(send))


def correlation_id_of(headers: Headers) -> str:
    """The caller's ``X-Correlation-Id`` (or ``X-Request-Id``) if well formed, else a new one."""
    for name in CORRELATION_HEADERS:
        value = headers.get(name)
        if value and CORRELATION_ID.match(value):
            return value
    return uuid.uuid4().hex


def _with_traceparent(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            value = context.traceparent()
            if value is not None:
                MutableHeaders(scope=message)["traceparent"] = value
        await send(message)

    return sending
