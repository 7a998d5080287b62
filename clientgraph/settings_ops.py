"""Settings of what operators use: ``/metrics`` and the console (``CLIENTGRAPH_OPS__*``).

A section of ``Settings`` kept apart so ``clientgraph/settings.py`` stays small;
docs/operations.md says how each is used.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class OpsSettings(BaseModel):
    """Who may scrape ``/metrics``, and whether the console is served."""

    metrics_token: SecretStr | None = Field(
        None,
        description="A bearer token for Prometheus to scrape /metrics with (gateway and "
        "worker). Unset: only an operator or admin credential may scrape.",
    )
    console: bool = Field(True, description="Serve the operations console on GET /ops.")
