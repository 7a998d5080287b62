"""`clientgraph apikey create | list | revoke` as a person runs them, then the key at work."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import AuthSettings, Settings
from gateway.app import create_app
from readmodel.audit import AUDIT
from tests.conftest import FIRM_NOW, http_client
from tests.resolvers.commands.world import url_of

pytestmark = pytest.mark.slow  # processes (each CLI call starts Python)


def cli(engine: AsyncEngine, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLIENTGRAPH_DATABASE_URL": url_of(engine)}
    return subprocess.run(
        [sys.executable, "-m", "clientgraph", "apikey", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_a_key_is_shown_once_works_and_stops_when_revoked(engine: AsyncEngine) -> None:
    made = cli(
        engine,
        "create",
        "--name",
        "acme portal",
        "--role",
        "partner",
        "--account",
        "salesforce:001ACME",
    )
    key = made.stdout.strip()
    key_id = key.split("_")[1]
    listed = cli(engine, "list")

    settings = Settings(database_url=url_of(engine), auth=AuthSettings(anonymous_role=None))
    app = create_app(settings, clock=lambda: FIRM_NOW)
    query = {"query": "{ accounts { totalCount } }"}
    headers = {"Authorization": f"Bearer {key}"}
    async with app.router.lifespan_context(app), http_client(app) as client:
        before = await client.post("/graphql", json=query, headers=headers)
        revoked = cli(engine, "revoke", key_id)
        after = await client.post("/graphql", json=query, headers=headers)
    listed_after = cli(engine, "list")
    async with engine.connect() as conn:
        audit = [
            (r.operation, r.outcome, r.credential_id)
            for r in await conn.execute(select(AUDIT).order_by(AUDIT.c.id))
        ]

    assert made.returncode == 0 and key.startswith("cg_") and len(key) == 3 + 12 + 1 + 43
    assert "not shown again" in made.stderr and key not in made.stderr
    assert key_id in listed.stdout and "partner" in listed.stdout
    assert key not in listed.stdout and key.split("_", 2)[2] not in listed.stdout
    assert before.status_code == 200 and before.json()["data"]["accounts"]["totalCount"] == 0
    assert revoked.returncode == 0
    assert after.status_code == 401
    assert "revoked" in listed_after.stdout
    assert audit == [("apikey create", "CREATED", key_id), ("apikey revoke", "REVOKED", key_id)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--name", "p", "--role", "partner"], "a partner key needs --account"),
        (["create", "--name", "p", "--role", "finance", "--account", "1 OR 1=1"], "--account"),
        (["create", "--name", "p", "--role", "root"], "invalid choice"),
        (["revoke", "nosuchkey123"], "no key nosuchkey123"),
    ],
)
def test_bad_requests_say_what_is_wrong(engine: AsyncEngine, args: list[str], message: str) -> None:
    done = cli(engine, *args)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr
