"""`clientgraph sync` as a process, against the Salesforce simulator served on a real socket."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import gateway_client, graphql
from tests.e2e import processes

# Slow (processes: clientgraph sync): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

SECRET = "cli-test-secret"


@pytest.fixture
def simulator() -> Iterator[str]:
    args = ["--accounts", "15", "--today", "2026-06-30", "--client-secret", SECRET]
    with processes.simulator("salesforce", *args, "--batch-size", "7") as base:
        yield base


def _sync(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clientgraph", "sync", "--source", "salesforce", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_sync_pulls_the_crm_into_the_graph(simulator: str, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cg.db'}"
    env = {
        **os.environ,
        "CLIENTGRAPH_DATABASE_URL": url,
        "CLIENTGRAPH_SALESFORCE__BASE_URL": simulator,
        "CLIENTGRAPH_SALESFORCE__CLIENT_SECRET": SECRET,
    }
    subprocess.run(
        [sys.executable, "-m", "clientgraph", "migrate"], env=env, check=True, capture_output=True
    )

    first, again, full = _sync(env), _sync(env, "--quiet"), _sync(env, "--full", "--quiet")

    assert first.returncode == 0, first.stderr
    assert "sync salesforce" in first.stderr  # the progress bar
    assert "account: 15 applied" in first.stderr
    assert again.returncode == 0 and "account: 0 applied" in again.stderr
    assert full.returncode == 0 and "account: 0 applied, 15 unchanged" in full.stderr
    assert SECRET not in first.stderr + first.stdout
    async with gateway_client(url) as client:
        body = await graphql(
            client,
            "{ accounts { totalCount } "
            "freshness { system objectType recordsApplied recordsAppliedTotal } }",
        )
    assert body["data"]["accounts"]["totalCount"] == 15
    account = {"system": "salesforce", "objectType": "account"}
    # the latest sync (--full) applied nothing; the first one applied all 15
    assert {**account, "recordsApplied": 0, "recordsAppliedTotal": 15} in (
        body["data"]["freshness"]
    )


def test_an_unconfigured_source_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "CLIENTGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    env.pop("CLIENTGRAPH_SALESFORCE__BASE_URL", None)
    result = _sync(env)
    assert result.returncode == 1
    assert "CLIENTGRAPH_SALESFORCE__BASE_URL" in result.stderr and "Traceback" not in result.stderr
