"""What sync jobs need at hand, built once per process: the arq worker and the embedded runner.

Jobs are plain ``async def job(ctx, ...)``; their dependencies live in ``ctx["deps"]`` (a
``SyncDeps``), put there by the arq worker's ``on_startup`` or by the in-process runner. Each
configured source gets its own HTTP client (with that source's limits, shared through Redis
by every process when a Redis URL is set) and its connector.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import Settings
from readmodel.db import create_engine
from readmodel.types import utcnow
from sync_jobs.connectors.base import Connector
from sync_jobs.connectors.registry import (
    NotConfigured,
    build_source,
    configured_sources,
    open_http,
    open_shared_limits,
)
from sync_jobs.shared_limits import SharedLimits

DEPS_KEY = "deps"


@dataclass
class SyncDeps:
    """The engine, one connector per configured source, the settings and the clock."""

    settings: Settings
    engine: AsyncEngine
    sources: dict[str, Connector]
    clock: Callable[[], datetime] = utcnow
    http: list[httpx.AsyncClient] = field(default_factory=list)
    owns_engine: bool = False
    shared_limits: SharedLimits | None = None

    def source(self, name: str) -> Connector:
        """The connector of source ``name``; ``NotConfigured`` if it has no base URL."""
        try:
            return self.sources[name]
        except KeyError:
            raise NotConfigured(f"source {name!r} is not configured") from None


def scheduled_sources(settings: Settings) -> list[str]:
    """Connectors pulled on a schedule: ``sync.sources`` if given, else every configured one.

    Raises ``NotConfigured`` when ``sync.sources`` names a source without a base URL, so a
    typo fails at start-up rather than leaving a source silently unsynced.
    """
    configured = configured_sources(settings)
    missing = [name for name in settings.sync.sources if name not in configured]
    if missing:
        raise NotConfigured(f"CLIENTGRAPH_SYNC__SOURCES names unconfigured sources: {missing}")
    return list(settings.sync.sources) or configured


async def open_deps(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    clock: Callable[[], datetime] = utcnow,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> SyncDeps:
    """Build the jobs' dependencies; ``engine`` is shared (not disposed) when given.

    ``transports`` replaces a source's network transport (tests use ``httpx.ASGITransport``).
    """
    deps = SyncDeps(
        settings=settings,
        engine=engine
        or create_engine(
            settings.database_url.get_secret_value(), pool_size=settings.database_pool_size
        ),
        sources={},
        clock=clock,
        owns_engine=engine is None,
        shared_limits=open_shared_limits(settings),
    )
    for name in configured_sources(settings):
        inner = (transports or {}).get(name)
        http = open_http(name, settings, inner=inner, shared=deps.shared_limits)
        deps.http.append(http)
        deps.sources[name] = build_source(name, settings, http)
    return deps


async def close_deps(deps: SyncDeps) -> None:
    """Close the HTTP clients and, if this process created it, the engine."""
    for http in deps.http:
        await http.aclose()
    if deps.shared_limits is not None:
        await deps.shared_limits.aclose()
    if deps.owns_engine:
        await deps.engine.dispose()


@asynccontextmanager
async def sync_deps(settings: Settings, **options: Any) -> AsyncIterator[SyncDeps]:
    """``open_deps`` … ``close_deps`` as a context manager."""
    deps = await open_deps(settings, **options)
    try:
        yield deps
    finally:
        await close_deps(deps)


def deps_of(ctx: Mapping[str, Any]) -> SyncDeps:
    """The ``SyncDeps`` of a job's ``ctx``, typed."""
    deps: SyncDeps = ctx[DEPS_KEY]
    return deps
