"""The request's span: the caller's traceparent is its parent and comes back as the answer's
``traceparent``; the query string (a GET's document and variables) never reaches the span,
but the application still gets it; the correlation id is bound for the request."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from clientgraph.telemetry import context
from gateway.middleware.telemetry import Telemetry, _semconv

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def echo(request: Request) -> JSONResponse:
    return JSONResponse(
        {"query": request.url.query, "correlation_id": context.get("correlation_id")}
    )


def traced() -> tuple[Telemetry, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = Starlette(routes=[Route("/graphql", echo), Route("/healthz", echo)])
    return Telemetry(app, tracer_provider=provider), exporter


async def test_the_callers_trace_continues_and_comes_back() -> None:
    app, exporter = traced()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        answer = await c.get(
            "/graphql", headers={"traceparent": CALLER, "X-Correlation-Id": "abc-123"}
        )

    (span,) = exporter.get_finished_spans()
    assert f"{span.context.trace_id:032x}" == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert span.parent is not None and f"{span.parent.span_id:016x}" == "00f067aa0ba902b7"
    assert (
        answer.headers["traceparent"]
        == f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-01"
    )
    assert answer.json()["correlation_id"] == "abc-123"


async def test_the_query_string_reaches_the_app_but_not_the_span() -> None:
    app, exporter = traced()
    query = "query=%7B%20secretField%20%7D&variables=%7B%22token%22%3A%22s3cr3t%22%7D"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        answer = await c.get(f"/graphql?{query}", headers={"X-Correlation-Id": "bad id!"})

    assert answer.json()["query"] == query
    assert len(answer.json()["correlation_id"]) == 32  # malformed: a new one, not the caller's
    (span,) = exporter.get_finished_spans()
    attributes = str(dict(span.attributes or {}))
    assert "secretField" not in attributes and "s3cr3t" not in attributes
    assert "/graphql" in attributes


async def test_probes_make_no_spans_and_no_header_without_a_valid_span() -> None:
    app, exporter = traced()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        answer = await c.get("/healthz")

    assert answer.status_code == 200 and exporter.get_finished_spans() == ()
    assert "traceparent" not in answer.headers


async def broken(request: Request) -> JSONResponse:
    return JSONResponse({"error": "down"}, status_code=503)


async def test_the_span_has_the_http_server_attributes_and_a_5xx_is_an_error() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    routes = [Route("/graphql", echo, methods=["POST"]), Route("/down", broken)]
    app = Telemetry(Starlette(routes=routes), tracer_provider=provider)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        await c.post("/graphql?x=1", json={}, headers={"User-Agent": "probe/1"})
        await c.get("/down")

    ok, down = exporter.get_finished_spans()
    assert ok.name == "POST /graphql" and ok.kind.name == "SERVER"
    assert dict(ok.attributes or {}) == {
        "http.scheme": "http",
        "http.host": "t",
        "http.flavor": "1.1",
        "http.target": "/graphql",
        "http.url": "http://t/graphql",
        "http.server_name": "t",
        "http.method": "POST",
        "http.user_agent": "probe/1",
        "net.peer.ip": "127.0.0.1",
        "net.peer.port": 123,
        "http.status_code": 200,
    }
    assert ok.status.status_code.name == "UNSET"
    assert down.attributes is not None and down.attributes["http.status_code"] == 503
    assert down.status.status_code.name == "ERROR"


@pytest.mark.parametrize(
    ("opt_in", "method", "status"),
    [
        ("http", ("http.request.method",), ("http.response.status_code",)),
        ("http/dup", ("http.method", "http.request.method"), ("http.status_code",)),
    ],
)
async def test_the_stable_names_when_asked_for(
    monkeypatch: pytest.MonkeyPatch, opt_in: str, method: tuple[str, ...], status: tuple[str, ...]
) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", opt_in)
    _semconv.cache_clear()
    try:
        app, exporter = traced()
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            await c.get("/graphql")
    finally:
        _semconv.cache_clear()
    (span,) = exporter.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert all(attributes[name] == "GET" for name in method)
    assert all(attributes[name] == 200 for name in status)
    assert ("http.method" in attributes) == (opt_in == "http/dup")
