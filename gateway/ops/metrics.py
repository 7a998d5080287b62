"""``GET /metrics``: this process's counters and histograms (``clientgraph.metrics``) and the
readings taken when the scrape comes (``gateway.ops.readings``), in Prometheus' text format."""

from __future__ import annotations

import asyncio

from prometheus_client import CONTENT_TYPE_LATEST
from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import Response

from clientgraph.access.principal import Principal
from clientgraph.access.scrape import scrape_refusal
from clientgraph.metrics import exposition
from clientgraph.settings import Settings
from gateway.auth.authenticate import Refused
from gateway.ops.readings import (
    Readings,
    ReadingsCollector,
    bounded,
    queue_depths,
    read_sources,
    read_work,
)

QUEUE_CONNECT_TIMEOUT_SECONDS = 2.0


def queue_client(settings: Settings) -> Redis | None:
    """A Redis client for reading queue depths and readiness (it connects on first use)."""
    if settings.redis_url is None:
        return None
    return Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_connect_timeout=QUEUE_CONNECT_TIMEOUT_SECONDS,
        socket_timeout=QUEUE_CONNECT_TIMEOUT_SECONDS,
    )


async def metrics(request: Request) -> Response:
    """The scrape (``clientgraph.access.scrape`` says who may read it)."""
    state = request.app.state

    async def principal_of(authorization: str | None) -> Principal | str:
        try:
            principal: Principal = await state.authenticator.principal(
                authorization, state.clock()
            )
        except Refused as refused:
            return refused.reason
        return principal

    authorization = request.headers.get("authorization")
    token = state.settings.ops.metrics_token
    if (refused := await scrape_refusal(authorization, token, principal_of)) is not None:
        return refused
    readings = await take_readings(request)
    return Response(exposition(ReadingsCollector(readings)), media_type=CONTENT_TYPE_LATEST)


async def take_readings(request: Request) -> Readings:
    state = request.app.state
    redis: Redis | None = state.queue_redis
    sources, work, queues = await asyncio.gather(
        bounded("sources", read_sources(state.engine, state.sync_objects)),
        bounded("open work", read_work(state.engine)),
        bounded("queues", queue_depths(redis)) if redis is not None else _nothing(),
    )
    return Readings(
        now=state.clock(),
        interval_seconds=state.settings.sync.interval_seconds,
        sources=sources,
        work=work,
        queues=queues,
        queued=redis is not None,
    )


async def _nothing() -> None:
    return None
