"""Shared fixtures: real databases, one per backend.

Every database test runs on SQLite and on PostgreSQL. PostgreSQL tests create a database of
their own (and drop it afterwards), so they never see another test's rows. Under ``CI=true`` a
test that cannot reach PostgreSQL or Redis fails; elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import migrate
from readmodel.db import create_engine

POSTGRES_SERVER = os.environ.get("CLIENTGRAPH_TEST_POSTGRES", "postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("CLIENTGRAPH_TEST_REDIS", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = ["sqlite", "postgresql"]


def unreachable(what: str, error: BaseException) -> None:
    """Fail under CI, skip elsewhere: a missing server is never a silent pass in CI."""
    message = f"{what} is not reachable ({error!r})"
    if IN_CI:
        pytest.fail(message + "; CI=true requires it", pytrace=False)
    pytest.skip(message)


@asynccontextmanager
async def fresh_database(backend: str, tmp_dir: Path) -> AsyncIterator[str]:
    """Yield the URL of a new, empty database; remove it afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_dir / f'rm-{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"cg_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(f"postgresql://{POSTGRES_SERVER}/postgres", timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        unreachable(f"PostgreSQL at {POSTGRES_SERVER}", error)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+asyncpg://{POSTGRES_SERVER}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def migrated_engine(backend: str, tmp_dir: Path) -> AsyncIterator[AsyncEngine]:
    """A fresh database at the newest migration, with an engine on it."""
    async with fresh_database(backend, tmp_dir) as url:
        engine = create_engine(url, pool_size=5)
        try:
            await migrate.upgrade(engine)
            yield engine
        finally:
            await engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def engine(backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty, migrated read model of its own for one test."""
    async with migrated_engine(backend, tmp_path) as eng:
        yield eng
