"""Build the per-request ``Context`` (defined in ``resolvers.context``)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from clientgraph.access.principal import Principal
from readmodel.reads.scope import RowScope
from readmodel.request_connection import RequestConnection
from resolvers.context import Context
from resolvers.dataloaders import Loaders


def build_context(
    connection: HTTPConnection, principal: Principal, reads: RequestConnection | None = None
) -> Context:
    """Fresh loaders for every request, reading within the caller's scope; shared engine and
    limits from the app's state. With ``reads`` (an HTTP request's, a connection at a time), the
    loaders, root lists and the compiled statement read through it."""
    state = connection.app.state
    now = state.clock()
    scope = RowScope(accounts=principal.accounts, owner=principal.owner)
    return Context(
        engine=state.engine,
        reads=reads,
        loaders=Loaders(reads or state.engine, now.date(), scope),
        limits=state.settings.graphql,
        sync=state.settings.sync,
        sync_objects=state.sync_objects,
        now=now,
        request=connection,
        principal=principal,
        scope=scope,
        partner_mutations=tuple(state.settings.auth.partner_mutations),
        forecasts=state.settings.forecasts,
    )
