"""Shared fixtures: real databases, one per backend.

Every database test runs on SQLite and on PostgreSQL. PostgreSQL tests create a database of
their own (and drop it afterwards), so they never see another test's rows. Under ``CI=true`` a
test that cannot reach PostgreSQL or Redis fails; elsewhere it is skipped with the reason.

Migrations run once per session and backend, into a template (a PostgreSQL database, a SQLite
file); each migrated database of a test is a copy of it (``CREATE DATABASE … TEMPLATE``, a
file copy), which costs a fraction of migrating it again.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from readmodel import migrate
from readmodel.db import create_engine
from tests.pg_copies import Copies

POSTGRES_SERVER = os.environ.get("CLIENTGRAPH_TEST_POSTGRES", "postgres@127.0.0.1:5432")
# Tests of other behaviour call the gateway as an anonymous admin (``auth.anonymous_role``, off
# by default); the access tests (tests/access) switch it off and use real credentials.
os.environ.setdefault("CLIENTGRAPH_AUTH__ANONYMOUS_ROLE", "admin")
# Likewise partners may send any query here; tests/gateway/test_documents.py restores the
# default (registered documents only).
os.environ.setdefault("CLIENTGRAPH_GRAPHQL__TRUSTED_DOCUMENTS_ONLY_ROLES", "[]")
# Likewise without rate limits (on by default): tests/gateway/test_ratelimit.py turns them on.
os.environ.setdefault("CLIENTGRAPH_RATE_LIMIT__ENABLED", "false")

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
async def fresh_database(
    backend: str, tmp_dir: Path, *, template: str | None = None
) -> AsyncIterator[str]:
    """Yield the URL of a new database, empty or a copy of ``template``; remove it afterwards."""
    if backend == "sqlite":
        path = tmp_dir / f"rm-{uuid.uuid4().hex[:8]}.db"
        if template is not None:
            shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    if template is not None:
        if template not in _COPIES:
            _COPIES[template] = Copies(POSTGRES_SERVER, template)
        copies = _COPIES[template]
        name = await copies.take()
        try:
            yield f"postgresql+asyncpg://{POSTGRES_SERVER}/{name}"
        finally:
            copies.give_back(name)
        return
    name = f"cg_test_{uuid.uuid4().hex[:12]}"
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+asyncpg://{POSTGRES_SERVER}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(f"postgresql://{POSTGRES_SERVER}/postgres", timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        unreachable(f"PostgreSQL at {POSTGRES_SERVER}", error)
        raise  # unreachable() fails or skips


_TEMPLATES: dict[str, str] = {}  # backend → this session's migrated template (name or path)
_COPIES: dict[str, Copies] = {}  # PostgreSQL template → its copies, made ahead, dropped behind


async def migrated_template(backend: str) -> str:
    """This session's database at the newest migration, made on first use."""
    if backend not in _TEMPLATES:
        if backend == "sqlite":
            # a file of this session's own: mutmut forks its children from one process that
            # imported this module once, and with one shared path two children at once
            # migrated into the same file ("table account already exists") or one's teardown
            # deleted the other's template, each failure counting as a killed mutant
            name = f"cg-template-{os.getpid()}-{uuid.uuid4().hex[:8]}.db"
            path = Path(tempfile.gettempdir()) / name
            url, template = f"sqlite+aiosqlite:///{path}", str(path)
        else:
            template = f"cg_template_{uuid.uuid4().hex[:12]}"
            admin = await _admin()
            try:
                await admin.execute(f'CREATE DATABASE "{template}"')
            finally:
                await admin.close()
            url = f"postgresql+asyncpg://{POSTGRES_SERVER}/{template}"
        engine = create_engine(url, pool_size=1)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()  # a template must have no connections to be copied
        _TEMPLATES[backend] = template
    return _TEMPLATES[backend]


@pytest.fixture(scope="session", autouse=True)
async def _drop_templates() -> AsyncIterator[None]:
    yield
    # Forget both: mutmut runs several pytest sessions in one process, on these globals.
    if (sqlite := _TEMPLATES.pop("sqlite", None)) is not None:
        Path(sqlite).unlink(missing_ok=True)
    for copies in _COPIES.values():
        copies.close()
    _COPIES.clear()
    if (template := _TEMPLATES.pop("postgresql", None)) is not None:
        admin = await _admin()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def migrated_engine(backend: str, tmp_dir: Path) -> AsyncIterator[AsyncEngine]:
    """A fresh database at the newest migration (a copy of the session's template), with an
    engine on it."""
    template = await migrated_template(backend)
    async with fresh_database(backend, tmp_dir, template=template) as url:
        engine = create_engine(url, pool_size=5)
        try:
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


# --- A seeded firm behind the real gateway -------------------------------------------------

FIRM_TODAY = date(2026, 6, 30)
FIRM_NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
FIRM_ACCOUNTS = 300


@dataclass
class Firm:
    """A seeded read model: its URL and an engine on it (shared, read-only for tests)."""

    backend: str
    url: str
    engine: AsyncEngine


@pytest.fixture(scope="session", params=BACKENDS)
async def firm(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Firm]:
    """A synthetic firm of 300 accounts as of 2026-06-30, seeded once per backend."""
    from readmodel.seed import SeedConfig, seed_firm

    backend = str(request.param)
    async with fresh_database(backend, tmp_path_factory.mktemp("firm")) as url:
        engine = create_engine(url, pool_size=5)
        try:
            await migrate.upgrade(engine)
            config = SeedConfig(accounts=FIRM_ACCOUNTS, seed=7, today=FIRM_TODAY)
            await seed_firm(engine, config, progress=False)
            yield Firm(backend, url, engine)
        finally:
            await engine.dispose()


@asynccontextmanager
async def running_app(url: str, **graphql: Any) -> AsyncIterator[Starlette]:
    """The gateway app on ``url`` with its lifespan running, its clock pinned to FIRM_NOW."""
    from clientgraph.settings import GraphQLSettings, Settings
    from gateway.app import create_app

    graphql.setdefault("trusted_documents_only_roles", [])  # as the environment above says
    settings = Settings(database_url=url, graphql=GraphQLSettings(**graphql))
    app = create_app(settings, clock=lambda: FIRM_NOW)
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def http_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@asynccontextmanager
async def gateway_client(url: str, **graphql: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to a gateway app on ``url``."""
    async with running_app(url, **graphql) as app, http_client(app) as client:
        yield client


@pytest.fixture
async def client(firm: Firm) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(firm.url) as c:
        yield c


async def graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST a GraphQL request; the HTTP layer must answer 200 with JSON."""
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the PostgreSQL leg of every test run on both backends ``postgres``, so that
    ``make test-fast`` (``-m "not slow and not postgres"``) can leave it to ``make test``."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgresql" in callspec.params.values():
            item.add_marker(pytest.mark.postgres)
