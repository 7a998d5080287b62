"""``Project.outlook``: the project figures (shared loader) and the outlook's own inputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.forecasts.outlook import Outlook, outlook_inputs, outlook_of
from resolvers.context import Context
from resolvers.dataloaders import Batch


def _inputs(ctx: Context) -> Batch:
    today, window = ctx.today, ctx.forecasts.outlook_window_days

    async def fetch(conn: AsyncConnection, keys: Sequence[int]) -> dict[int, Any]:
        return await outlook_inputs(conn, keys, today, window)

    return fetch


async def outlook(ctx: Context, project: Any) -> Outlook | None:
    """The outlook of a project row the caller loaded (None if it has no figures)."""
    figures = await ctx.loaders.project_figures.load(project.id)
    inputs_by_project = ctx.loaders.keyed("outlook_inputs_by_project", lambda: _inputs(ctx))
    inputs = await inputs_by_project.load(project.id)
    if figures is None or inputs is None:
        return None
    return outlook_of(project, figures, inputs, ctx.today)
