"""Each HTTP request (and WebSocket) is a SERVER span whose context its log lines carry; the
caller's ``traceparent`` is its parent, and the answer says ``traceparent`` back.

The span has OpenTelemetry's HTTP server attributes (``http.method``, ``http.scheme``,
``http.host``, ``net.host.port``, ``http.flavor``, ``http.target``, ``http.url``,
``http.server_name``, ``http.user_agent``, ``net.peer.ip``, ``net.peer.port``,
``http.status_code``; status ERROR for a 5xx), named ``POST /graphql`` until the operation
names it (schema/tracing.py). It never holds the query string (a GET's document and
variables): ``http.target`` and ``http.url`` are the path alone.

Written here rather than taken from ``opentelemetry-instrumentation-asgi``: that middleware
wrapped every ASGI message, collected attributes twice and recorded duration histograms for a
meter provider the gateway never installs — about a tenth of the CPU of a compiled read
(py-spy on the bench's unified view, 2026-12-07). Probes (``/healthz``, ``/readyz``) make no
span: one each would drown the traces.
"""

from __future__ import annotations

import os
import re
import uuid
from functools import lru_cache
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clientgraph.telemetry import context

CORRELATION_HEADERS = ("x-correlation-id", "x-request-id")
CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
UNTRACED = frozenset({"healthz", "readyz"})  # the last segment of a probe's path
PROPAGATED = frozenset({b"traceparent", b"tracestate", b"baggage"})
SCOPE = "clientgraph.gateway"


class Telemetry:
    def __init__(self, app: ASGIApp, tracer_provider: TracerProvider | None = None) -> None:
        self.app = app
        # the process's provider (clientgraph.telemetry) if None: a proxy until it is set up
        self.tracer = trace.get_tracer(SCOPE, tracer_provider=tracer_provider)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        with context.bound(correlation_id=correlation_id_of(headers)):
            if scope["path"].rstrip("/").rsplit("/", 1)[-1] in UNTRACED:
                await self.app(scope, receive, send)
                return
            carrier = {
                name.decode("latin-1"): value.decode("latin-1")
                for name, value in scope["headers"]
                if name in PROPAGATED
            }
            method = scope.get("method", "GET") if scope["type"] == "http" else "websocket"
            span = self.tracer.start_span(
                f"{method} {scope['path']}",
                context=propagate.extract(carrier) if carrier else None,
                kind=SpanKind.SERVER,
            )
            if span.is_recording():  # (not with the exporter none: clientgraph.telemetry)
                span.set_attributes(request_attributes(scope, headers))
            with trace.use_span(span, end_on_exit=True):
                await self.app(scope, receive, _answered(send, span))


def request_attributes(scope: Scope, headers: Headers) -> dict[str, Any]:
    """The request's span attributes (OpenTelemetry's HTTP server conventions), without the
    query string, under the names ``OTEL_SEMCONV_STABILITY_OPT_IN`` asks for (the old ones by
    default, as the other instrumentations)."""
    old = _old_attributes(scope, headers)
    mode = _semconv()
    if mode == "old":
        return old
    new = {NEW[k]: v for k, v in old.items() if k in NEW}
    return new if mode == "new" else {**old, **new}


NEW = {
    "http.scheme": "url.scheme",
    "http.flavor": "network.protocol.version",
    "http.target": "url.path",
    "http.method": "http.request.method",
    "http.server_name": "server.address",
    "net.host.port": "server.port",
    "http.user_agent": "user_agent.original",
    "net.peer.ip": "client.address",
    "net.peer.port": "client.port",
    "http.status_code": "http.response.status_code",
}
"""The stable HTTP conventions' names of the old ones (``http.host``, ``http.url``: none)."""


@lru_cache(maxsize=1)
def _semconv() -> str:
    """``old``, ``new`` (``http``) or ``both`` (``http/dup``), as OpenTelemetry reads
    ``OTEL_SEMCONV_STABILITY_OPT_IN`` (once per process)."""
    opted = {v.strip() for v in os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN", "").split(",")}
    return "both" if "http/dup" in opted else "new" if "http" in opted else "old"


def _old_attributes(scope: Scope, headers: Headers) -> dict[str, Any]:
    scheme = scope.get("scheme", "http")
    server = scope.get("server") or ("", None)
    host = headers.get("host") or f"{server[0]}:{server[1]}"
    path = scope["path"]
    attributes: dict[str, Any] = {
        "http.scheme": scheme,
        "http.host": host,
        "http.flavor": scope.get("http_version", "1.1"),
        "http.target": path,
        "http.url": f"{scheme}://{host}{scope.get('root_path', '')}{path}",
        "http.server_name": host,
    }
    if "method" in scope:  # (a WebSocket's scope has none)
        attributes["http.method"] = scope["method"]
    if server[1] is not None:
        attributes["net.host.port"] = server[1]
    agent = headers.get("user-agent")
    if agent:
        attributes["http.user_agent"] = agent
    client = scope.get("client")
    if client:
        attributes["net.peer.ip"], attributes["net.peer.port"] = client[0], client[1]
    return attributes


def correlation_id_of(headers: Headers) -> str:
    """The caller's ``X-Correlation-Id`` (or ``X-Request-Id``) if well formed, else a new one."""
    for name in CORRELATION_HEADERS:
        value = headers.get(name)
        if value and CORRELATION_ID.match(value):
            return value
    return uuid.uuid4().hex


STATUS = {
    "old": ("http.status_code",),
    "new": ("http.response.status_code",),
    "both": ("http.status_code", "http.response.status_code"),
}


def _answered(send: Send, span: trace.Span) -> Send:
    """``send``, noting the answer's status on the span and saying ``traceparent`` back."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            status = message["status"]
            for name in STATUS[_semconv()]:
                span.set_attribute(name, status)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            value = context.traceparent()
            if value is not None:
                MutableHeaders(scope=message)["traceparent"] = value
        await send(message)

    return sending
