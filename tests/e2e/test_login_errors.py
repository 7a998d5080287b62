"""A wrong credential or database name is a sentence that names the setting to fix.

``clientgraph sync`` runs as a process against the live Tryton (wrong password, wrong
database) and the Salesforce and NetSuite simulators (wrong client secret); its message and
the ``lastError`` that GraphQL's ``freshness`` shows afterwards both name the
``CLIENTGRAPH_<SOURCE>__...`` settings, quote no HTML and never the secret. The source's
every object type is FAILING, not only the first one the sync tried.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sync_jobs.connectors.netsuite.connector import NetSuiteConnector
from sync_jobs.connectors.salesforce.connector import SalesforceConnector
from sync_jobs.connectors.tryton.connector import TrytonConnector
from systems.netsuite.m2m import new_certificate
from tests.conftest import fresh_database, gateway_client, graphql
from tests.e2e import processes
from tests.sync_jobs.connectors.tryton.conftest import PASSWORD, LiveTryton
from tests.sync_jobs.connectors.tryton.test_writes import fresh_tryton

# Slow (processes: the CLI against refusing sources): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

SECRET = "login-test-secret"
CERT = new_certificate()
WRONG = "not-the-secret-4711"
FRESHNESS = "{ freshness { system objectType status lastError } }"
OBJECTS = {
    "salesforce": set(SalesforceConnector.objects),
    "netsuite": set(NetSuiteConnector.objects),
    "tryton": set(TrytonConnector.objects),
}


@pytest.fixture(scope="module")
def live_tryton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveTryton]:
    with fresh_tryton(tmp_path_factory.mktemp("tryton")) as live:
        yield live


@pytest.fixture(scope="module")
def salesforce() -> Iterator[str]:
    args = ["--accounts", "3", "--today", "2026-06-30", "--client-secret", SECRET]
    with processes.simulator("salesforce", *args) as base:
        yield base


@pytest.fixture(scope="module")
def netsuite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    uploaded = processes.certificate_args(CERT, tmp_path_factory.mktemp("netsuite"))
    args = ["--accounts", "3", "--today", "2026-06-30", *uploaded]
    with processes.simulator("netsuite", *args) as base:
        yield base


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "clientgraph", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)


async def sync_with(
    backend: str, tmp_path: Path, source: str, settings: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    """Migrate a new read model, run ``clientgraph sync``, read ``freshness`` back."""
    async with fresh_database(backend, tmp_path) as url:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("CLIENTGRAPH_")}
        env = {**clean, "CLIENTGRAPH_DATABASE_URL": url, **settings}
        assert _cli(env, "migrate").returncode == 0
        result = _cli(env, "sync", "--source", source, "--quiet")
        async with gateway_client(url) as client:
            body = await graphql(client, FRESHNESS)
    return result, [r for r in body["data"]["freshness"] if r["system"] == source]


def assert_explained(
    result: subprocess.CompletedProcess[str],
    rows: list[dict[str, Any]],
    source: str,
    settings: list[str],
    secret: str,
) -> None:
    """Exit 1 with one line naming the settings; every object FAILING with the same words."""
    assert result.returncode == 1, result.stderr
    printed = result.stdout + result.stderr
    assert "Traceback" not in printed and "<" not in printed and secret not in printed
    assert all(name in result.stderr for name in settings), result.stderr
    assert {r["objectType"] for r in rows} == OBJECTS[source]
    assert {r["status"] for r in rows} == {"FAILING"}
    for row in rows:
        error = row["lastError"]
        assert all(name in error for name in settings), error
        assert "<" not in error and secret not in error and len(error) <= 300


async def test_a_wrong_tryton_password(
    backend: str, tmp_path: Path, live_tryton: LiveTryton
) -> None:
    settings = {
        "CLIENTGRAPH_TRYTON__BASE_URL": live_tryton.base_url,
        "CLIENTGRAPH_TRYTON__DATABASE": live_tryton.server.site.database,
        "CLIENTGRAPH_TRYTON__PASSWORD": WRONG,
    }
    result, rows = await sync_with(backend, tmp_path, "tryton", settings)

    names = ["CLIENTGRAPH_TRYTON__LOGIN", "CLIENTGRAPH_TRYTON__PASSWORD"]
    assert_explained(result, rows, "tryton", names, WRONG)
    assert "wrong login or password" in result.stderr


async def test_a_wrong_tryton_database(
    backend: str, tmp_path: Path, live_tryton: LiveTryton
) -> None:
    settings = {
        "CLIENTGRAPH_TRYTON__BASE_URL": live_tryton.base_url,
        "CLIENTGRAPH_TRYTON__DATABASE": "no_such_database",
        "CLIENTGRAPH_TRYTON__PASSWORD": PASSWORD,
    }
    result, rows = await sync_with(backend, tmp_path, "tryton", settings)

    assert_explained(result, rows, "tryton", ["CLIENTGRAPH_TRYTON__DATABASE"], PASSWORD)
    assert "'no_such_database'" in result.stderr


async def test_a_wrong_client_secret(backend: str, tmp_path: Path, salesforce: str) -> None:
    prefix = "CLIENTGRAPH_SALESFORCE__"
    settings = {f"{prefix}BASE_URL": salesforce, f"{prefix}CLIENT_SECRET": WRONG}
    result, rows = await sync_with(backend, tmp_path, "salesforce", settings)

    names = [f"{prefix}CLIENT_ID", f"{prefix}CLIENT_SECRET"]
    assert_explained(result, rows, "salesforce", names, WRONG)
    assert "refused the client credentials" in result.stderr


@pytest.mark.parametrize("wrong", ["key", "certificate id"])
async def test_a_wrong_netsuite_key_or_certificate(
    backend: str, tmp_path: Path, netsuite: str, wrong: str
) -> None:
    """NetSuite answers a bad assertion with a bare invalid_grant: the message names every
    setting that makes the assertion, and quotes no part of the key."""
    key = new_certificate().private_key_pem if wrong == "key" else CERT.private_key_pem
    prefix = "CLIENTGRAPH_NETSUITE__"
    settings = {
        f"{prefix}BASE_URL": netsuite,
        f"{prefix}CERTIFICATE_ID": CERT.certificate_id if wrong == "key" else "not-uploaded",
        f"{prefix}PRIVATE_KEY": key,
    }
    result, rows = await sync_with(backend, tmp_path, "netsuite", settings)

    names = [f"{prefix}CLIENT_ID", f"{prefix}CERTIFICATE_ID", f"{prefix}PRIVATE_KEY"]
    assert_explained(result, rows, "netsuite", names, key.splitlines()[1])
    assert "refused the client assertion (invalid_grant)" in result.stderr
