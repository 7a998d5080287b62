"""The request's span is named after the operation and says its type, name and the caller's
role; the document and the variables are nowhere on it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.requests import Request

from clientgraph.access.principal import Principal
from clientgraph.access.roles import Role
from schema.build import build_schema
from tests.conftest import Firm, running_app
from tests.gateway.sockets import socket_messages
from tests.telemetry.recording import attributes, named, record_spans

DOCUMENT = "query Whoami($secret: String!) { __type(name: $secret) { name } }"


def request() -> Request:
    return Request({"type": "http", "method": "POST", "path": "/graphql", "headers": []})


async def test_the_span_is_named_after_the_operation_not_the_document() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    principal = Principal(id="k1", role=Role.FINANCE, accounts=frozenset())
    context = SimpleNamespace(request=request(), principal=principal)

    with provider.get_tracer("test").start_as_current_span("POST /graphql"):
        result = await build_schema().execute(
            DOCUMENT, variable_values={"secret": "hunter2"}, context_value=context
        )

    assert result.errors is None
    (span,) = exporter.get_finished_spans()
    assert span.name == "query Whoami"
    attributes = dict(span.attributes or {})
    assert attributes == {
        "graphql.operation.type": "query",
        "graphql.operation.name": "Whoami",
        "clientgraph.role": "finance",
    }
    assert "hunter2" not in str(attributes) and "__type(" not in str(attributes)


async def test_an_unnamed_operation_and_no_tracing() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    context = SimpleNamespace(request=request(), principal=None)

    with provider.get_tracer("test").start_as_current_span("POST /graphql"):
        await build_schema().execute("{ __typename }", context_value=context)
    untraced = await build_schema().execute("{ __typename }", context_value=context)

    assert [span.name for span in exporter.get_finished_spans()] == ["query anonymous"]
    assert untraced.errors is None  # no span: nothing to name, nothing breaks


async def test_each_websocket_operation_is_a_span_of_its_own(
    firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    spans = record_spans(monkeypatch)
    payloads = [
        {
            "query": "query SocketProbe($n: Int!) { accounts(first: $n) { totalCount } }",
            "variables": {"n": 1},
        },
        {"query": "{ __typename }"},
    ]
    async with running_app(firm.url) as app:
        seen = await socket_messages(app, {}, payloads)

    assert [m["type"] for m in seen] == ["next", "complete", "next", "complete"]
    (probe,) = named(spans, "query SocketProbe")
    (plain,) = named(spans, "query anonymous")
    assert attributes(probe) == {
        "graphql.operation.type": "query",
        "graphql.operation.name": "SocketProbe",
        "clientgraph.transport": "graphql-transport-ws",
        "clientgraph.role": "admin",
        "clientgraph.results": 1,
    }
    (socket,) = [s for s in spans.get_finished_spans() if s.name.endswith("/graphql")]
    for operation in (probe, plain):  # children of the socket's span, in its trace
        assert operation.parent is not None and operation.parent.span_id == socket.context.span_id
    assert "accounts(" not in str(attributes(probe)) and "$n" not in str(attributes(probe))
