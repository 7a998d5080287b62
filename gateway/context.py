"""Build the per-request ``Context`` (defined in ``resolvers.context``)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from resolvers.context import Context
from resolvers.dataloaders import Loaders


def build_context(connection: HTTPConnection) -> Context:
    """Fresh loaders for every request; shared engine and limits from the app's state."""
    state = connection.app.state
    now = state.clock()
    return Context(
        engine=state.engine,
        loaders=Loaders(state.engine, now.date()),
        limits=state.settings.graphql,
        sync=state.settings.sync,
        sync_objects=state.sync_objects,
        now=now,
        request=connection,
    )
