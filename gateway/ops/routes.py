"""The operators' routes: ``/metrics`` (and, next, the console)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from clientgraph.settings import Settings
from gateway.ops.metrics import metrics


def ops_routes(settings: Settings) -> list[BaseRoute]:
    return [Route("/metrics", metrics)]
