"""The request's span is named after its operation: ``mutation LogTime``, never the document.

OpenTelemetry's ASGI middleware opens the span (``gateway/middleware/telemetry.py``); once
the document is parsed this names it and adds the operation's type and name and the
caller's role. Strawberry's own ``OpenTelemetryExtension`` is not used: it puts the document
on the span and every resolver's arguments (the variables) on a span each.
"""

from __future__ import annotations

from collections.abc import Iterator

from opentelemetry import trace
from starlette.requests import Request
from strawberry.extensions import SchemaExtension

ANONYMOUS = "anonymous"  # an operation without a name


class OperationSpan(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        self._name_span()
        yield

    def _name_span(self) -> None:
        execution = self.execution_context
        context = execution.context
        span = trace.get_current_span()
        if not span.is_recording() or not isinstance(getattr(context, "request", None), Request):
            return  # no tracing, or a WebSocket's operation (its span is the socket's)
        kind = execution.operation_type.value
        name = execution.operation_name or ANONYMOUS
        span.update_name(f"{kind} {name}")
        span.set_attribute("graphql.operation.type", kind)
        span.set_attribute("graphql.operation.name", name)
        principal = getattr(context, "principal", None)
        if principal is not None:
            span.set_attribute("clientgraph.role", principal.role.value)
