"""The real command line: `clientgraph demo` and `serve` as processes, over a real socket."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e import processes

# Slow (processes: the CLI's migrate, seed, serve, demo): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

TWENTY_ACCOUNTS = """
{ accounts(first: 20) { totalCount nodes { id name
    engagements { soldValue { amount currency } backlog { amount }
      projects { code budgetBurn milestones { name status } invoices { number } } }
    invoices { number status total { amount currency } balance { amount } daysOverdue }
    health { score status factors { name value weight penalty explanation } asOf } } } }
"""


_free_port = processes.free_port  # kept for the tests that import it from here


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clientgraph", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@contextmanager
def _process(args: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    """Start `clientgraph ARGS`, wait until /healthz answers, stop it afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "clientgraph", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            raise AssertionError("the gateway did not start in 120 s")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "CLIENTGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cg.db'}"}


def test_help_explains_every_command() -> None:
    out = _cli("--help", env=dict(os.environ)).stdout
    for command in ("serve", "migrate", "seed", "schema", "demo"):
        assert command in out
    assert "CLIENTGRAPH_DATABASE_URL" in out


def _query(base: str, query: str) -> dict[str, Any]:
    response = httpx.post(f"{base}/graphql", json={"query": query}, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


def _until(check: Callable[[], Any], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        if result := check():
            return result
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.2)


SYNCED = "{ accounts { totalCount } invoices { totalCount } freshness { system status } }"


def test_demo_is_filled_by_sync_and_shows_a_change_made_at_the_source(tmp_path: Path) -> None:
    port, secret = _free_port(), "demo-test-secret"
    env = {**_env(tmp_path), "CLIENTGRAPH_SALESFORCE__CLIENT_SECRET": secret}
    args = ["demo", "--port", str(port), "--accounts", "40"]
    with _process(args, env, port) as base:
        ready = httpx.get(f"{base}/readyz", timeout=5)
        page = httpx.get(f"{base}/graphql", headers={"accept": "text/html"}, timeout=5)

        def synced() -> dict[str, Any] | None:
            data = _query(base, SYNCED)["data"]
            both = {f["system"] for f in data["freshness"]} == {"salesforce", "netsuite"}
            # every configured object is listed from the start (NEVER until pulled)
            pulled = all(f["status"] == "OK" for f in data["freshness"])
            filled = data["accounts"]["totalCount"] == 40 and data["invoices"]["totalCount"]
            return data if both and pulled and filled else None

        data = _until(synced, 60)
        accounts = _query(base, TWENTY_ACCOUNTS)["data"]["accounts"]
        renamed = _rename_at_salesforce(f"{base}/simulators/salesforce", secret)
        seen = _until(
            lambda: renamed in str(_query(base, "{ accounts(first: 100) { nodes { name } } }")), 10
        )

    assert ready.status_code == 200 and "graphiql" in page.text.lower()
    assert all(f["status"] == "OK" for f in data["freshness"])
    assert len(accounts["nodes"]) == 20 and any(a["engagements"] for a in accounts["nodes"])
    assert any(a["invoices"] for a in accounts["nodes"])  # the ERP half, linked to the clients
    assert all(0 <= a["health"]["score"] <= 100 for a in accounts["nodes"])
    assert seen


RECENT_WINS = """{ accounts(first: 100) { nodes {
  opportunities { isWon closeDate projects { code } } } } }"""
EVERY_HANDOFF = """{ handoffs(first: 100, filter: {status: [WAITING_FOR_DATA, READY, IN_PROGRESS,
  COMPLETED, FAILED, HALTED, CANCELLED]}) { trigger status projectSourceId } }"""


def test_the_demo_start_up_hands_off_none_of_the_firms_history(tmp_path: Path) -> None:
    """200 clients, whose recent wins already have projects: the first syncs of both
    sources, and the sweeps after them, open no handoff and create no project."""
    port = _free_port()
    args = ["demo", "--port", str(port), "--accounts", "200"]
    with _process(args, _env(tmp_path), port) as base:

        def synced() -> bool:
            states = _query(base, "{ freshness { system status } }")["data"]["freshness"]
            systems = {f["system"] for f in states}
            return systems == {"salesforce", "netsuite"} and all(
                f["status"] == "OK" for f in states
            )

        _until(synced, 120)
        time.sleep(12)  # two more 5-second pulls of each source, each with its sweep
        handoffs = _query(base, EVERY_HANDOFF)["data"]["handoffs"]
        deals = _query(base, RECENT_WINS)["data"]["accounts"]["nodes"]

    since = (date.today() - timedelta(days=30)).isoformat()
    won = [o for a in deals for o in a["opportunities"] if o["isWon"]]
    recent = [o for o in won if o["closeDate"] >= since]
    assert sum(bool(o["projects"]) for o in recent) >= 5  # the history that once tempted it
    assert handoffs == []


def _rename_at_salesforce(salesforce: str, secret: str) -> str:
    """Change a client's name through Salesforce's own API, as the demo tells a newcomer to."""
    form = {"grant_type": "client_credentials", "client_id": "clientgraph", "client_secret": secret}
    token = httpx.post(f"{salesforce}/services/oauth2/token", data=form).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    api = f"{salesforce}/services/data/v60.0"
    soql = {
        "q": "SELECT Id, Name, SystemModstamp FROM Account WHERE SystemModstamp >= "
        "1970-01-01T00:00:00Z ORDER BY SystemModstamp, Id"
    }
    first = httpx.get(f"{api}/query", params=soql, headers=headers).json()["records"][0]["Id"]
    name = "Renamed At The Source Ltd"
    patched = httpx.patch(f"{api}/sobjects/Account/{first}", json={"Name": name}, headers=headers)
    assert patched.status_code == 204, patched.text
    return name


def test_migrate_seed_then_serve(tmp_path: Path) -> None:
    env = _env(tmp_path)
    migrated = _cli("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    seeded = _cli("seed", "--accounts", "12", "--quiet", env=env)
    assert seeded.returncode == 0, seeded.stderr
    port = _free_port()
    with _process(["serve", "--port", str(port)], env, port) as base:
        body = httpx.post(
            f"{base}/graphql", json={"query": "{ accounts { totalCount } }"}, timeout=10
        ).json()
    assert body["data"] == {"accounts": {"totalCount": 12}}
    assert body["extensions"]["freshness"]["stale"] is False


def test_schema_export_writes_the_sdl(tmp_path: Path) -> None:
    target = tmp_path / "out.graphql"
    result = _cli("schema", "export", "--output", str(target), env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert "type Query" in target.read_text()


def test_several_gateway_processes_need_redis(tmp_path: Path) -> None:
    env = {k: v for k, v in _env(tmp_path).items() if k != "CLIENTGRAPH_REDIS_URL"}
    result = _cli("serve", "--workers", "2", env=env)
    assert result.returncode == 2
    assert "CLIENTGRAPH_REDIS_URL" in result.stderr and "Traceback" not in result.stderr
