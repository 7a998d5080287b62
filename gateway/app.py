"""``create_app(settings)``: the gateway as an ASGI application. Nothing connects at import."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute

from clientgraph.metrics import count_sql
from clientgraph.settings import Settings
from clientgraph.telemetry.tracing import sql_traced
from gateway.auth.authenticate import Authenticator, jwt_verifier
from gateway.documents import Documents
from gateway.graphql import GraphQLEndpoint
from gateway.health import healthz, readyz
from gateway.middleware.body_limit import BodyLimit
from gateway.middleware.security_headers import SecurityHeaders
from gateway.middleware.telemetry import Telemetry
from gateway.ops.metrics import queue_client
from gateway.ops.routes import ops_routes
from gateway.ratelimit import rate_limiter
from gateway.repeated import Repeated
from gateway.sse_single import Reservations
from gateway.streams import StreamSlots
from gateway.webhooks import webhook
from readmodel.db import create_engine
from readmodel.raw_reads import RawReads, in_flight
from readmodel.types import utcnow
from resolvers.planner import lease
from resolvers.response_cache import response_cache
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
        trusted_only = frozenset(settings.graphql.trusted_documents_only_roles)
        app.state.documents = Documents(app.state.engine, trusted_only)
        app.state.rate_limiter = rate_limiter(settings)
        streams = settings.subscriptions  # per caller, in this process: gateway/streams.py
        app.state.stream_slots = StreamSlots(streams.max_per_caller, settings.http.trusted_proxies)
        app.state.reservations = Reservations(streams.reservation_seconds, streams.max_per_caller)
        app.state.response_cache = response_cache(settings.graphql.response_cache_mb)
        app.state.repeated_requests = Repeated()  # the short path's: gateway/repeated.py
        app.state.raw_reads = raw_reads(settings, app.state.engine)
        app.state.raw_writes = raw_reads(settings, app.state.engine)  # mutations': their own
        count_sql(app.state.engine)  # statements per operation (/metrics)
        app.state.queue_redis = queue_client(settings)  # queue depth and readiness
        app.state.counter_lease = None
        try:
            app.state.counter_lease = counter_lease(settings, app.state.raw_reads)
            # app.state.jobs: arq with a Redis URL; embedded, the in-process sync runner
            async with job_dispatcher(settings, app.state.engine) as app.state.jobs:
                # app.state.command_relay: queues accepted commands (issue 4, writes)
                relay = command_relay(
                    settings, app.state.engine, app.state.jobs, app.state.raw_writes
                )
                async with relay as app.state.command_relay:
                    yield
        finally:
            if app.state.counter_lease is not None:  # first: its session holds a lock
                await app.state.counter_lease.aclose()
            if app.state.authenticator.verifier is not None:
                await app.state.authenticator.verifier.aclose()
            await app.state.reservations.aclose()  # single-connection streams' operations
            if app.state.rate_limiter is not None:
                await app.state.rate_limiter.aclose()
            if app.state.queue_redis is not None:
                await app.state.queue_redis.aclose()
            for bare in (app.state.raw_reads, app.state.raw_writes):
                if bare is not None:
                    await bare.aclose()
            await app.state.engine.dispose()

    limit = settings.graphql.max_body_bytes
    routes = [
        Route("/graphql", BodyLimit(graphql, limit), methods=["GET", "POST", "PUT", "DELETE"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/webhooks/{source}", webhook, methods=["POST"]),
        *ops_routes(settings),  # /metrics, /ops, GraphiQL's own assets: gateway/ops/
    ]
    return Starlette(routes=routes, middleware=edge_middleware(settings), lifespan=lifespan)


def raw_reads(settings: Settings, engine: AsyncEngine) -> RawReads | None:
    """The compiled statements' own asyncpg connections (readmodel/raw_reads.py), as many as
    ``graphql.compiled_statements_in_flight`` (``in_flight`` by default); none on SQLite, with
    compiled reads off, or when SQL is traced (its statements would make no span). A gateway
    keeps two such sets: the reads', and the mutations' and relay's (so a write never waits
    behind a burst of reads for a connection)."""
    if engine.dialect.name != "postgresql" or not settings.graphql.compiled_reads:
        return None
    if sql_traced():
        return None
    timeout_ms = round(settings.graphql.request_timeout_seconds * 1000)
    size = settings.graphql.compiled_statements_in_flight
    if size is None:
        size = in_flight(engine.url, settings.database_pool_size)
    return RawReads(engine, size, timeout_ms)


def counter_lease(settings: Settings, raw: RawReads | None) -> lease.CounterLease | None:
    """Response-cache hits with no statement (resolvers/planner/lease.py): on PostgreSQL's bare
    connections, with the cache and ``graphql.response_cache_lease`` on."""
    graphql = settings.graphql
    if raw is None or graphql.response_cache_mb == 0 or not graphql.response_cache_lease:
        return None
    return lease.start(raw)


EXPOSED_HEADERS = [
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
    "Retry-After",
    "traceparent",
]
"""What a page of an allowed origin may read of an answer, beyond the CORS-safe headers."""


def edge_middleware(settings: Settings) -> list[Middleware]:
    """A span per request (outermost: it times the rest), security headers on every answer;
    CORS only for the origins ``http.cors_origins`` lists."""
    middleware = [Middleware(Telemetry), Middleware(SecurityHeaders)]
    if settings.http.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.http.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=[
                    "Authorization",
                    "Content-Type",
                    "X-Consistency-Token",
                    "X-Correlation-Id",
                    "traceparent",
                ],
                expose_headers=EXPOSED_HEADERS,
                allow_credentials=False,
                max_age=600,
            )
        )
    return middleware
