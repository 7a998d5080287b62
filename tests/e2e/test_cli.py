"""The real command line: `clientgraph demo` and `serve` as processes, over a real socket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

TWENTY_ACCOUNTS = """
{ accounts(first: 20) { totalCount nodes { id name
    engagements { soldValue { amount currency } backlog { amount }
      projects { code budgetBurn milestones { name status } invoices { number } } }
    invoices { number status total { amount currency } balance { amount } daysOverdue }
    health { score status factors { name value weight penalty explanation } asOf } } } }
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def test_demo_serves_a_coherent_firm(tmp_path: Path) -> None:
    port = _free_port()
    args = ["demo", "--port", str(port), "--accounts", "40"]
    with _process(args, _env(tmp_path), port) as base:
        ready = httpx.get(f"{base}/readyz", timeout=5)
        response = httpx.post(f"{base}/graphql", json={"query": TWENTY_ACCOUNTS}, timeout=30)
        page = httpx.get(f"{base}/graphql", headers={"accept": "text/html"}, timeout=5)
    assert ready.status_code == 200
    assert "graphiql" in page.text.lower()
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    accounts = body["data"]["accounts"]
    assert accounts["totalCount"] == 40 and len(accounts["nodes"]) == 20
    assert any(a["engagements"] for a in accounts["nodes"])
    assert all(0 <= a["health"]["score"] <= 100 for a in accounts["nodes"])


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
    assert body == {"data": {"accounts": {"totalCount": 12}}}


def test_schema_export_writes_the_sdl(tmp_path: Path) -> None:
    target = tmp_path / "out.graphql"
    result = _cli("schema", "export", "--output", str(target), env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert "type Query" in target.read_text()
