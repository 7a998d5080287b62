"""The jobs' spans and log context: a command continues the trace of the request that
accepted it; a pull or a webhook's re-read is a trace of its own (docs/operations.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from arq import Retry
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from clientgraph.telemetry import context
from clientgraph.telemetry.tracing import tracer


@contextmanager
def span(
    name: str, *, kind: SpanKind = SpanKind.INTERNAL, root: bool = False, **attributes: Any
) -> Iterator[Span]:
    """A child span of the current one; an ``arq.Retry`` is not an error (it is the plan).

    ``attributes`` are named without their ``clientgraph.`` prefix; ``None`` values are left out.
    ``root``: a trace of its own, whatever the caller's context (an in-process job started
    by a request is not part of that request).
    """
    attrs = {f"clientgraph.{key}": value for key, value in attributes.items() if value is not None}
    with tracer().start_as_current_span(
        name,
        context=Context() if root else None,
        kind=kind,
        attributes=attrs,
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield current
        except Retry as retry:
            current.set_attribute("clientgraph.retry_in_seconds", _seconds(retry))
            raise
        except BaseException as error:
            current.record_exception(error)
            current.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise


@contextmanager
def command_job(ctx: dict[str, Any], command_id: int, command: Any) -> Iterator[Span]:
    """``apply_command``'s span, a child of the accepting request's (``command.trace_context``),
    with the command's id, correlation id and target system bound for its log lines."""
    with ExitStack() as stack:
        if command is not None:
            stack.enter_context(context.continued(command.trace_context))
            stack.enter_context(
                context.bound(correlation_id=command.correlation_id, source=command.target_system)
            )
        stack.enter_context(context.bound(command_id=command_id))
        yield stack.enter_context(job_span("apply_command", ctx, command=command_id))


@contextmanager
def job_span(
    name: str, ctx: dict[str, Any], *, root: bool = False, **attributes: Any
) -> Iterator[Span]:
    """A job's span: CONSUMER of the arq queue, with its try number; with ``source``, its
    log lines name the source."""
    attrs = {f"clientgraph.{key}": value for key, value in attributes.items() if value is not None}
    attrs |= {"messaging.system": "arq", "clientgraph.job_try": int(ctx.get("job_try") or 1)}
    with ExitStack() as stack:
        if "source" in attributes:
            stack.enter_context(context.bound(source=attributes["source"]))
        current = stack.enter_context(span(name, kind=SpanKind.CONSUMER, root=root))
        current.set_attributes(attrs)
        yield current


def report_attributes(report: Any, *names: str) -> dict[str, int]:
    """A report's counts as span attributes (``pages`` → ``clientgraph.pages``, …)."""
    return {f"clientgraph.{name}": int(getattr(report, name)) for name in names}


def _seconds(retry: Retry) -> float:
    defer = getattr(retry, "defer_score", None)
    return round(defer / 1000, 3) if isinstance(defer, int | float) else 0.0
