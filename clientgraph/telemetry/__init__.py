"""Traces and structured logs of every process (docs/operations.md).

``tracing.setup_tracing`` installs OpenTelemetry's SDK once per process (service gateway,
worker or cli) with the exporter ``telemetry.exporter`` names; ``logs.configure_logging``
makes every log line one schema (JSON or console); ``context`` holds what both read from the
current request or job (correlation id, command id, source) and carries a trace across
processes as a W3C ``traceparent``.
"""
