"""The log schema: every field on every line, taken from the current request or job, and no
credential in any line."""

from __future__ import annotations

import json
import logging

from opentelemetry.sdk.trace import TracerProvider

from clientgraph.telemetry import context
from clientgraph.telemetry.logs import (
    AccessWithoutQuery,
    ConsoleFormatter,
    JsonFormatter,
    scrub,
)

KEY = "cg_3f9a2b_7d1e6c5b4a39281706f5e4d3c2b1a098"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord(
        "sync_jobs.pull", logging.WARNING, __file__, 1, message, args, exc_info
    )


def test_a_line_carries_the_context_of_its_request() -> None:
    tracer = TracerProvider().get_tracer("test")
    with (
        tracer.start_as_current_span("job") as span,
        context.bound(correlation_id="abc-123", command_id=7, source="netsuite"),
    ):
        line = json.loads(JsonFormatter("worker").format(record("pulled %d rows", 3)))
    ids = span.get_span_context()

    assert line["message"] == "pulled 3 rows" and line["level"] == "WARNING"
    assert line["process"] == "worker" and line["logger"] == "sync_jobs.pull"
    assert (line["correlation_id"], line["command_id"], line["source"]) == (
        "abc-123",
        "7",
        "netsuite",
    )
    assert line["trace_id"] == f"{ids.trace_id:032x}" and line["span_id"] == f"{ids.span_id:016x}"
    assert line["time"].endswith("+00:00")


def test_outside_a_request_the_fields_are_there_and_empty() -> None:
    line = json.loads(JsonFormatter("cli").format(record("hello")))
    assert {
        k: line[k] for k in ("correlation_id", "trace_id", "span_id", "command_id", "source")
    } == {
        "correlation_id": None,
        "trace_id": None,
        "span_id": None,
        "command_id": None,
        "source": None,
    }


def test_credentials_never_reach_a_line() -> None:
    texts = [
        f"calling with Authorization: Bearer {KEY}",
        f"headers {{'authorization': 'Bearer {JWT}'}}",
        f"refused bearer {JWT} at once",
        f"client_secret={KEY}&grant_type=client_credentials",
        f'{{"access_token": "{JWT}", "api_key": "{KEY}"}}',
    ]
    for text in texts:
        for formatter in (JsonFormatter("gateway"), ConsoleFormatter("gateway")):
            line = formatter.format(record(text))
            assert KEY not in line and JWT not in line, line
            assert "[redacted]" in line
        try:
            raise RuntimeError(text)
        except RuntimeError as error:
            line = JsonFormatter("gateway").format(record("broke", exc=error))
        assert KEY not in line and JWT not in line


def test_scrub_leaves_ordinary_text_alone() -> None:
    assert scrub("command 5: SUCCEEDED (token bucket refilled)") == (
        "command 5: SUCCEEDED (token bucket refilled)"
    )


def test_the_access_line_names_the_path_only() -> None:
    access = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/graphql?query=%7Bsecret%7D&variables=x", "1.1", 200), None,
    )  # fmt: skip
    AccessWithoutQuery().filter(access)
    assert access.getMessage() == '127.0.0.1:5000 - "GET /graphql HTTP/1.1" 200'
