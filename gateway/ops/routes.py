"""The operators' routes: ``/metrics``, the console (``/ops``) and GraphiQL's own assets."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from clientgraph.settings import Settings
from gateway.ops.graphiql import ASSETS, PREFIX
from gateway.ops.metrics import metrics

CONSOLE = Path(__file__).parent / "console"
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
"""The console runs only its own files (no inline script, no other host), so an injected
value could not run even if one slipped past its escaping."""


async def console(_request: Request) -> Response:
    """The console's page: it holds no data (that comes from /graphql with the operator's key)."""
    return FileResponse(CONSOLE / "ops.html", headers={"Content-Security-Policy": CONSOLE_CSP})


def ops_routes(settings: Settings) -> list[BaseRoute]:
    routes: list[BaseRoute] = [Route("/metrics", metrics)]
    if settings.ops.console:
        routes += [
            Route("/ops", console),
            Mount("/ops/assets", StaticFiles(directory=CONSOLE), name="ops-assets"),
        ]
    if settings.graphql.graphiql:
        assets = StaticFiles(directory=ASSETS, check_dir=False)
        routes.append(Mount(PREFIX.rstrip("/"), assets, name="graphiql-assets"))
    return routes
