"""``clientgraph serve`` logs at ``log_level``, uvicorn's own lines too: its access log is INFO,
so an operator who sets WARNING gets none of it."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import gateway

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("level", "logged"), [("INFO", True), ("WARNING", False)])
def test_the_access_log_follows_the_log_level(tmp_path: Path, level: str, logged: bool) -> None:
    env = {
        **os.environ,
        "CLIENTGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'readmodel.db'}",
        "CLIENTGRAPH_LOG_LEVEL": level,
        "CLIENTGRAPH_LOG__FORMAT": "json",
    }
    log = tmp_path / "gateway.log"
    with gateway(env, log) as base:
        assert httpx.get(f"{base}/healthz").status_code == 200
    assert ('"logger": "uvicorn.access"' in log.read_text()) is logged, log.read_text()[-1500:]
