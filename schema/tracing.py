"""The request's span is named after its operation: ``mutation LogTime``, never the document.

The gateway's middleware opens the span (``gateway/middleware/telemetry.py``); once
the document is parsed this names it and adds the operation's type and name and the
caller's role. Strawberry's own ``OpenTelemetryExtension`` is not used: it puts the document
on the span and every resolver's arguments (the variables) on a span each.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind
from starlette.requests import Request
from strawberry.extensions import SchemaExtension

from clientgraph.telemetry.tracing import tracer

ANONYMOUS = "anonymous"  # an operation without a name
RESULTS = "clientgraph.results"


class OperationSpan(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        self._name_span()
        yield

    def _name_span(self) -> None:
        execution = self.execution_context
        context = execution.context
        if isinstance(getattr(context, "request", None), Request):  # not a WebSocket's
            # operation: its span is the socket's
            kind = execution.operation_type.value
            name_request_span(kind, execution.operation_name, getattr(context, "principal", None))


def name_request_span(kind: str, name: str | None, principal: Any) -> None:
    """The HTTP request's span named and described after its operation (when traced)."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    name = name or ANONYMOUS
    span.update_name(f"{kind} {name}")
    span.set_attribute("graphql.operation.type", kind)
    span.set_attribute("graphql.operation.name", name)
    if principal is not None:
        span.set_attribute("clientgraph.role", principal.role.value)


@contextmanager
def operation_span(kind: str, name: str | None, principal: Any) -> Iterator[Span]:
    """A WebSocket operation's span (``subscription CommandUpdates``), a child of the socket's:
    its type, name, the caller's role and how many results it sent (``clientgraph.results``).
    A subscription's span lasts as long as the subscription."""
    name = name or ANONYMOUS
    attributes: dict[str, str | int] = {
        "graphql.operation.type": kind,
        "graphql.operation.name": name,
        "clientgraph.transport": "graphql-transport-ws",
        RESULTS: 0,
    }
    if principal is not None:
        attributes["clientgraph.role"] = principal.role.value
    with tracer().start_as_current_span(
        f"{kind} {name}", kind=SpanKind.INTERNAL, attributes=attributes
    ) as span:
        yield span


def count_result() -> None:
    """One more result sent by the current WebSocket operation."""
    span = trace.get_current_span()
    if span.is_recording():
        sent = getattr(span, "attributes", {}).get(RESULTS, 0)
        span.set_attribute(RESULTS, int(sent) + 1)
