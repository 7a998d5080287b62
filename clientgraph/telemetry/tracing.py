"""OpenTelemetry's SDK for one process: a tracer provider, its exporter, the instrumentations.

Called once at start-up by ``clientgraph serve``, ``worker`` and ``demo`` (service names
gateway, worker, gateway); nothing is set up at import. Every process makes trace ids, so
logs, ``Command.traceId`` and the ``traceparent`` header work with the exporter ``none``;
SQL, HTTP and Redis calls are instrumented only when spans go somewhere.

A SQL statement, HTTP call or Redis command outside any request or job (arq polling its
queue, the relay's idle sweeps) would be a trace of its own: the sampler drops such root
client spans, so every trace starts at a business transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import Attributes

from clientgraph.settings_ops import TelemetrySettings
from clientgraph.telemetry.files import JsonLinesSpanExporter

TRACER_NAME = "clientgraph"
_installed: TracerProvider | None = None
_sql_traced = False


class BusinessRoots(Sampler):
    """Records a root span unless it is a client call (SQL, HTTP, Redis) outside any
    request or job; children follow their parent (``ParentBased``)."""

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        decision = Decision.DROP if kind == SpanKind.CLIENT else Decision.RECORD_AND_SAMPLE
        return SamplingResult(decision, attributes if decision != Decision.DROP else None)

    def get_description(self) -> str:
        return "BusinessRoots"


def setup_tracing(settings: TelemetrySettings, service: str) -> TracerProvider:
    """Install the process's tracer provider (once; later calls return the first)."""
    global _installed
    if _installed is not None:
        return _installed
    processor = span_processor(settings)
    provider = make_provider(settings, service, processor)
    if processor is not None:
        instrument(provider)
    trace.set_tracer_provider(provider)
    _installed = provider
    return provider


def make_provider(
    settings: TelemetrySettings, service: str, processor: SpanProcessor | None
) -> TracerProvider:
    """The process's tracer provider (not installed), its spans going to ``processor``.

    With the exporter ``none`` nothing would read a span, so none is recorded: the root
    sampler drops them all. Their contexts are still made (trace and span ids, for the logs,
    ``Command.traceId`` and the ``traceparent`` header, whose flags then say *not sampled*);
    recording them cost 3–14% of a cached answer's throughput (bench/analysis.md, stop 33).
    A caller's sampled ``traceparent`` is followed as before (``ParentBased``). Give every
    process the same exporter: a worker that exports spans does not record the jobs of a
    request its gateway did not sample (their parent says *not sampled*)."""
    resource = Resource.create(
        {"service.name": service, "service.namespace": settings.service_namespace}
    )
    root: Sampler = BusinessRoots() if processor is not None else ALWAYS_OFF
    provider = TracerProvider(resource=resource, sampler=ParentBased(root=root))
    if processor is not None:
        provider.add_span_processor(processor)
    return provider


def span_processor(settings: TelemetrySettings) -> SpanProcessor | None:
    """Where finished spans go; ``None`` for the exporter ``none``."""
    if settings.exporter == "file":
        return SimpleSpanProcessor(JsonLinesSpanExporter(settings.file_path))
    if settings.exporter == "console":
        return SimpleSpanProcessor(ConsoleSpanExporter())
    if settings.exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        headers = {name: value.get_secret_value() for name, value in settings.otlp_headers.items()}
        exporter = OTLPSpanExporter(endpoint=settings.otlp_endpoint, headers=headers or None)
        return BatchSpanProcessor(exporter)
    return None


def instrument(provider: TracerProvider) -> None:
    """SQL statements (SQLAlchemy), HTTP calls (httpx) and Redis commands (redis-py).

    Engines made before this call are not traced: it runs before any engine is created.
    None of them records values: SQL keeps its placeholders, Redis only command names,
    httpx no headers.
    """
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # 0.66b2 declares "sqlalchemy < 2.1" but its engine events are unchanged in 2.1 (the
    # process test, tests/e2e/test_telemetry.py, checks the statements are traced)
    global _sql_traced
    SQLAlchemyInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
    _sql_traced = True
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    RedisInstrumentor().instrument(tracer_provider=provider)


def sql_traced() -> bool:
    """Does this process trace SQL statements (``instrument`` ran)? Statements run beside
    SQLAlchemy (readmodel/raw_reads.py) would make no span, so they are not run beside it."""
    return _sql_traced


def tracer() -> trace.Tracer:
    """clientgraph's own spans (the global provider's, a no-op one until set up)."""
    return trace.get_tracer(TRACER_NAME)
