"""The access matrix's firm: one per backend, its own database, built once per session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from readmodel.db import create_engine
from tests.access.compiled import TwoPaths, two_paths
from tests.access.world import World, built_world
from tests.conftest import BACKENDS, fresh_database, migrated_template


@pytest.fixture(scope="session", params=BACKENDS)
async def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    backend = str(request.param)
    template = await migrated_template(backend)
    tmp = tmp_path_factory.mktemp("access")
    async with fresh_database(backend, tmp, template=template) as url:
        engine = create_engine(url, pool_size=5)
        try:
            async with built_world(backend, url, engine) as built:
                yield built
        finally:
            await engine.dispose()


@pytest.fixture(scope="session")
async def paths(world: World) -> AsyncIterator[TwoPaths]:
    """Two apps on the world's database, compiled reads off and on (tests/access/compiled.py)."""
    async with two_paths(world) as both:
        yield both
