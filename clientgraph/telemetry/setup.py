"""``observe``: a process's logs and traces, set up once at its start."""

from __future__ import annotations

from clientgraph.settings import Settings
from clientgraph.telemetry.logs import Format, configure_logging
from clientgraph.telemetry.tracing import setup_tracing


def observe(settings: Settings, process: str, default_format: Format) -> None:
    """Logs in ``log.format`` (else ``default_format``) and traces as service ``process``.

    Runs before any engine or HTTP client is made: the instrumentations wrap their creation.
    """
    configure_logging(settings.log_level, process, settings.log.format or default_format)
    setup_tracing(settings.telemetry, process)
