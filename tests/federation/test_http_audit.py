"""GraphQL over HTTP, to the letter: graphql-http's own server audit (npm, tests/federation/
audit.mjs) against clientgraph on a real socket, with credentials required and an API key sent.
Every audit, MUST and SHOULD alike, must pass: no error, no warning."""

from __future__ import annotations

import asyncio
import json

import pytest

from clientgraph.settings import AuthSettings, Settings
from gateway.app import create_app
from tests.conftest import FIRM_NOW, Firm
from tests.federation.live import finance_key, serving
from tests.federation.npm import HERE, node

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("firm", ["postgresql"], indirect=True)]
AUDITS_AT_LEAST = 50  # graphql-http 1.23 has 61: a broken run must not pass by running none


async def test_graphql_http_audit_passes_with_no_warnings(firm: Firm) -> None:
    settings = Settings(database_url=firm.url, auth=AuthSettings(anonymous_role=None))
    app = create_app(settings, clock=lambda: FIRM_NOW)
    async with app.router.lifespan_context(app), finance_key(firm) as key, serving(app) as url:
        process = await asyncio.create_subprocess_exec(
            node(), str(HERE / "audit.mjs"), url, key, stdout=asyncio.subprocess.PIPE, cwd=HERE
        )
        out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0
    results = json.loads(out)
    assert len(results) >= AUDITS_AT_LEAST, results
    failing = [f"{r['status']} {r['id']} {r['name']}: {r['reason']}" for r in results
               if r["status"] != "ok"]  # fmt: skip
    assert not failing, "\n".join(failing)
