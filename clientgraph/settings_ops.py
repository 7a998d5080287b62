"""Settings of what operators see and use: traces (``telemetry``), logs (``log``), ``/metrics``
and the console (``ops``). Kept apart so ``clientgraph/settings.py`` stays small;
docs/operations.md says how each is used."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator


class TelemetrySettings(BaseModel):
    """OpenTelemetry traces: where finished spans go (docs/operations.md)."""

    exporter: Literal["none", "console", "otlp", "file"] = Field(
        "none",
        description="none: trace ids are made (logs, Command.traceId, the traceparent header) "
        "but no span leaves the process; console: spans as JSON on stdout; otlp: OTLP/HTTP to "
        "otlp_endpoint; file: one JSON object per line, appended to file_path.",
    )
    otlp_endpoint: str = Field(
        "http://127.0.0.1:4318/v1/traces",
        description="The collector's OTLP/HTTP traces URL (exporter otlp).",
    )
    otlp_headers: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Headers sent to the collector (JSON), e.g. its API key; never logged.",
    )
    file_path: str = Field(
        "clientgraph-spans.jsonl",
        description="Where exporter file appends spans; gateway and worker may share it "
        "(each line is written whole).",
    )
    service_namespace: str = Field(
        "clientgraph", description="service.namespace; service.name is gateway, worker or cli."
    )

    @model_validator(mode="after")
    def _endpoint_when_otlp(self) -> TelemetrySettings:
        if self.exporter == "otlp" and not self.otlp_endpoint:
            raise ValueError("telemetry.otlp_endpoint is required with exporter otlp")
        return self


class LogSettings(BaseModel):
    """How every process writes its log lines (stderr)."""

    format: Literal["json", "console"] | None = Field(
        None,
        description="json: one JSON object per line (the schema in docs/operations.md); "
        "console: plain text for people. Unset: json for serve and worker, console for the "
        "demo and the other commands.",
    )


class OpsSettings(BaseModel):
    """Who may scrape ``/metrics``, and whether the console is served."""

    metrics_token: SecretStr | None = Field(
        None,
        description="A bearer token for Prometheus to scrape /metrics with (gateway and "
        "worker). Unset: only an operator or admin credential may scrape.",
    )
    console: bool = Field(True, description="Serve the operations console on GET /ops.")
