"""The per-request context every resolver receives as ``info.context``.

It lives here, below the gateway, so that dependencies point one way (gateway → schema →
resolvers → readmodel); ``gateway.context`` builds it for each request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.access.principal import ADMIN, Principal
from clientgraph.settings import GraphQLSettings, SyncSettings
from clientgraph.settings_forecasts import ForecastSettings
from readmodel.raw_reads import RawReads
from readmodel.reads.scope import EVERYTHING, RowScope
from readmodel.request_connection import Reads
from resolvers.dataloaders import Loaders
from resolvers.response_cache import ResponseCache


@dataclass
class Context:
    engine: AsyncEngine
    loaders: Loaders
    limits: GraphQLSettings
    now: datetime
    request: Any = None
    sync: SyncSettings = field(default_factory=SyncSettings)  # the yardstick of freshness
    # (source, object type) of every configured source: NEVER until its first pull
    sync_objects: tuple[tuple[str, str], ...] = ()
    principal: Principal = ADMIN  # who calls (the gateway authenticates every request)
    scope: RowScope = EVERYTHING  # the principal's rows, as SQL predicates
    partner_mutations: tuple[str, ...] = ()  # mutations this deployment opened to partners
    connection_params: Any = None  # a WebSocket's connection_init payload (its credentials)
    forecasts: ForecastSettings = field(default_factory=ForecastSettings)  # warning thresholds
    compiled_reads: bool = False  # may a query be answered by one statement's JSON (HTTP)
    response_cache: ResponseCache | None = None  # the compiled path's answers (the process's)
    raw_reads: RawReads | None = None  # the compiled path's bare-driver connections, if any
    raw_writes: RawReads | None = None  # mutations' own (resolvers/commands/accept.py), if any
    reads: Reads | None = None  # an HTTP request's reads, one connection at a time
    renew: Callable[[Context], None] | None = None  # per operation (a WebSocket's context
    # lives as long as the socket: its clock and loaders are renewed for each operation)

    @property
    def reader(self) -> Reads:
        """Where this request's reads run: its reads (a connection at a time), else the pool."""
        return self.engine if self.reads is None else self.reads

    @property
    def today(self) -> date:
        """The UTC date the request runs on: the 'today' of overdue and slipped figures."""
        return self.now.date()


def context_of(info: Any) -> Context:
    """``info.context``, typed."""
    return cast(Context, info.context)
