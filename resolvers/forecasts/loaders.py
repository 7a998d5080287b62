"""Per-request DataLoaders of the forecast fields, made on first use.

They hang off the request's ``Context`` (as the handoff loaders do: ``resolvers.dataloaders``
is shared by every domain), tagged with the request's ``loaders`` so a WebSocket operation,
which renews those, gets new ones too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from resolvers.context import Context

ATTRIBUTE = "forecast_loaders"
Fetch = Callable[[AsyncConnection, Sequence[int]], Awaitable[dict[int, Any]]]


class BatchLoader(DataLoader):  # type: ignore[misc]
    """Runs ``fetch(conn, keys)`` once per batch; a key it does not return loads as None."""

    def __init__(self, engine: AsyncEngine, fetch: Fetch) -> None:
        super().__init__()
        self._engine, self._fetch = engine, fetch

    async def batch_load_fn(self, keys: Sequence[int]) -> list[Any]:
        async with self._engine.connect() as conn:
            found = await self._fetch(conn, keys)
        return [found.get(k) for k in keys]


def loader(ctx: Context, name: str, fetch: Callable[[], Fetch]) -> BatchLoader:
    """This request's loader ``name``, made with ``fetch()`` the first time it is asked for."""
    tagged = getattr(ctx, ATTRIBUTE, None)
    if tagged is None or tagged[0] is not ctx.loaders:
        tagged = (ctx.loaders, {})
        setattr(ctx, ATTRIBUTE, tagged)
    found: dict[str, BatchLoader] = tagged[1]
    if name not in found:
        found[name] = BatchLoader(ctx.engine, fetch())
    return found[name]
