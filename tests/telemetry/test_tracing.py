"""The sampler keeps business transactions and drops stray client calls; the file exporter
writes one JSON line per span with its parent."""

from __future__ import annotations

import json
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased
from opentelemetry.trace import SpanKind

from clientgraph.settings_ops import TelemetrySettings
from clientgraph.telemetry.context import continued, trace_id_of, traceparent
from clientgraph.telemetry.files import JsonLinesSpanExporter
from clientgraph.telemetry.tracing import BusinessRoots, make_provider, span_processor


def provider_writing_to(path: Path) -> TracerProvider:
    provider = TracerProvider(sampler=ParentBased(root=BusinessRoots()))
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(path)))
    return provider


def test_stray_client_calls_are_dropped_but_a_requests_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    tracer = provider_writing_to(path).get_tracer("test")
    with tracer.start_as_current_span("SELECT 1", kind=SpanKind.CLIENT):
        pass  # arq polling, an idle sweep: no trace of its own
    with (
        tracer.start_as_current_span("mutation LogHours", kind=SpanKind.SERVER),
        tracer.start_as_current_span("SELECT 2", kind=SpanKind.CLIENT),
    ):
        pass

    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["name"] for line in lines] == ["SELECT 2", "mutation LogHours"]
    child, parent = lines
    assert child["parent_span_id"] == parent["span_id"] and parent["parent_span_id"] is None
    assert child["trace_id"] == parent["trace_id"] and child["kind"] == "CLIENT"


def test_a_traceparent_carries_the_trace_into_another_process(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    tracer = provider_writing_to(path).get_tracer("test")
    with tracer.start_as_current_span("mutation LogHours"):
        carried = traceparent()
    with continued(carried), tracer.start_as_current_span("apply_command", kind=SpanKind.CONSUMER):
        pass

    request, job = (json.loads(line) for line in path.read_text().splitlines())
    assert job["trace_id"] == request["trace_id"] == trace_id_of(carried)
    assert job["parent_span_id"] == request["span_id"]


def test_trace_id_of_refuses_what_is_not_a_traceparent() -> None:
    assert trace_id_of(None) is None and trace_id_of("garbage") is None
    assert trace_id_of("00-" + "0" * 32 + "-00f067aa0ba902b7-01") is None


def test_the_exporter_none_exports_nothing() -> None:
    assert span_processor(TelemetrySettings()) is None
    assert span_processor(TelemetrySettings(exporter="file", file_path="x")) is not None


def test_with_the_exporter_none_spans_are_not_recorded_but_have_their_ids(
    tmp_path: Path,
) -> None:
    """Nothing reads them, so nothing records them; logs, Command.traceId and the traceparent
    header still get the trace's ids (not sampled). A caller's sampled trace is followed."""
    tracer = make_provider(TelemetrySettings(), "gateway", None).get_tracer("test")
    with tracer.start_as_current_span("POST /graphql", kind=SpanKind.SERVER) as span:
        assert not span.is_recording()
        ids = span.get_span_context()
        assert ids.is_valid
        header = traceparent() or ""
        assert header.startswith(f"00-{ids.trace_id:032x}-{ids.span_id:016x}-")
        assert not int(header[-2:], 16) & 1  # its flags: not sampled
    caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with continued(caller), tracer.start_as_current_span("POST /graphql") as followed:
        assert followed.is_recording()  # the caller samples it: kept as before
    settings = TelemetrySettings(exporter="file", file_path=str(tmp_path / "spans.jsonl"))
    exporting = make_provider(settings, "gateway", span_processor(settings)).get_tracer("test")
    with exporting.start_as_current_span("POST /graphql", kind=SpanKind.SERVER) as recorded:
        assert recorded.is_recording()


def test_the_otlp_exporter_takes_its_endpoint_and_secret_headers() -> None:
    settings = TelemetrySettings.model_validate(
        {
            "exporter": "otlp",
            "otlp_endpoint": "http://collector:4318/v1/traces",
            "otlp_headers": {"x-api-key": "collector-secret"},
        }
    )
    processor = span_processor(settings)
    assert "collector-secret" not in repr(settings)  # a secret of the settings
    exporter = processor.span_exporter  # type: ignore[union-attr]
    assert exporter._endpoint == "http://collector:4318/v1/traces"
    processor.shutdown()  # type: ignore[union-attr]
