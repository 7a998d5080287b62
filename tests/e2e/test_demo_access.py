"""`clientgraph demo` without anonymous access: a key per role, printed, each seeing its share."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e import processes

pytestmark = pytest.mark.slow  # a demo process

QUERY = "{ accounts { totalCount nodes { projects { costToDate { amount } } } } }"


def _ask(base: str, key: str | None) -> httpx.Response:
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    return httpx.post(f"{base}/graphql", json={"query": QUERY}, headers=headers, timeout=30)


def test_the_demo_prints_a_key_per_role_and_graphiql_starts_with_one(tmp_path: Path) -> None:
    port = processes.free_port()
    env = {k: v for k, v in os.environ.items() if k != "CLIENTGRAPH_AUTH__ANONYMOUS_ROLE"}
    env["CLIENTGRAPH_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cg.db'}"
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "clientgraph", "demo", "--port", str(port), "--accounts", "12"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        keys: dict[str, str] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(keys) < 6:
            assert proc.poll() is None, log.read_text()
            keys = dict(re.findall(r"^  (\w+)\s+(cg_\S+)$", log.read_text(), re.MULTILINE))
            time.sleep(0.3)
        admin_seen: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                admin_seen = _ask(base, keys["admin"]).json()["data"]["accounts"]
            except httpx.TransportError:
                admin_seen = {}
            projects = [p for a in admin_seen.get("nodes", []) for p in a["projects"]]
            if admin_seen.get("totalCount") == 12 and projects:  # the CRM and the ERP pulled
                break
            time.sleep(0.3)
        anonymous = _ask(base, None)
        partner = _ask(base, keys["partner"]).json()
        delivery = _ask(base, keys["delivery"]).json()
        page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"}, timeout=10).text
    finally:
        proc.terminate()
        proc.wait(timeout=20)

    assert set(keys) == {"account_team", "delivery", "finance", "operator", "admin", "partner"}
    assert admin_seen["totalCount"] == 12
    assert anonymous.status_code == 401
    assert partner["data"]["accounts"]["totalCount"] == 1
    costs = [p["costToDate"] for a in delivery["data"]["accounts"]["nodes"] for p in a["projects"]]
    assert costs and all(c is None for c in costs)
    assert delivery["extensions"]["masked"] == ["accounts.nodes.projects.costToDate"]
    assert f"Bearer {keys['admin']}" in page
