"""``create_app(settings)``: the gateway as an ASGI application. Nothing connects at import."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from clientgraph.settings import Settings
from gateway.auth.authenticate import Authenticator, jwt_verifier
from gateway.graphql import GraphQLEndpoint
from gateway.health import healthz, readyz
from gateway.webhooks import webhook
from readmodel.db import create_engine
from readmodel.types import utcnow
from schema.build import build_schema
from sync_jobs.commands.relay import command_relay
from sync_jobs.connectors.registry import configured_objects
from sync_jobs.dispatch import job_dispatcher


def create_app(
    settings: Settings | None = None, *, clock: Callable[[], datetime] = utcnow
) -> Starlette:
    """The gateway. ``clock`` gives each request its 'now' (tests pin it to a seeded date)."""
    settings = settings or Settings()
    ide_key = settings.graphql.ide_api_key
    graphql = GraphQLEndpoint(
        build_schema(settings.graphql),
        graphiql=settings.graphql.graphiql,
        ide_key=None if ide_key is None else ide_key.get_secret_value(),
        limits=settings.graphql,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.clock = clock
        app.state.sync_objects = configured_objects(settings)  # each has a freshness state
        app.state.engine = create_engine(
            settings.database_url.get_secret_value(),
            pool_size=settings.database_pool_size,
            statement_timeout_ms=round(settings.graphql.request_timeout_seconds * 1000),
        )
        app.state.authenticator = Authenticator(settings, app.state.engine, jwt_verifier(settings))
        try:
            # app.state.jobs: arq with a Redis URL; embedded, the in-process sync runner
            async with job_dispatcher(settings, app.state.engine) as app.state.jobs:
                # app.state.command_relay: queues accepted commands (issue 4, writes)
                relay = command_relay(settings, app.state.engine, app.state.jobs)
                async with relay as app.state.command_relay:
                    yield
        finally:
            if app.state.authenticator.verifier is not None:
                await app.state.authenticator.verifier.aclose()
            await app.state.engine.dispose()

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/webhooks/{source}", webhook, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
