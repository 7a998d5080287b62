"""What the current request or job is about, for its log lines and spans (contextvars).

A ``traceparent`` (W3C Trace Context) is how a trace crosses processes: the gateway stores
it on the command row, the worker continues the trace from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

FIELDS = ("correlation_id", "command_id", "source")
"""The log fields that come from the request or job, not from the log call."""

_values: dict[str, ContextVar[str | None]] = {
    name: ContextVar(f"clientgraph_{name}", default=None) for name in FIELDS
}
_propagator = TraceContextTextMapPropagator()


def current() -> dict[str, str | None]:
    """The fields of the current request or job (``None`` where unset)."""
    return {name: var.get() for name, var in _values.items()}


def get(name: str) -> str | None:
    return _values[name].get()


@contextmanager
def bound(**fields: object) -> Iterator[None]:
    """Set fields (``correlation_id=…``, ``command_id=…``, ``source=…``) for the block."""
    tokens = [
        (_values[name], _values[name].set(None if value is None else str(value)))
        for name, value in fields.items()
    ]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def traceparent() -> str | None:
    """The current span as a ``traceparent`` header value (``None`` outside a valid span)."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def trace_id_of(traceparent_value: str | None) -> str | None:
    """The 32 hex digits of a ``traceparent``'s trace id (``None`` if it is not one)."""
    parts = (traceparent_value or "").split("-")
    if len(parts) != 4 or len(parts[1]) != 32 or parts[1] == "0" * 32:
        return None
    return parts[1]


@contextmanager
def continued(traceparent_value: str | None) -> Iterator[None]:
    """Make ``traceparent_value`` the parent of the spans started in the block."""
    if not traceparent_value:
        yield
        return
    ctx = _propagator.extract({"traceparent": traceparent_value})
    token = otel_context.attach(ctx)
    try:
        yield
    finally:
        otel_context.detach(token)


def span_ids() -> tuple[str | None, str | None]:
    """The current trace id and span id in hex (``None`` outside a span)."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None, None
    return f"{span_context.trace_id:032x}", f"{span_context.span_id:016x}"
