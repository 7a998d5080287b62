"""A backfill killed with SIGKILL between pages resumes where it stopped and loses nothing.

`clientgraph sync` runs as a process against the NetSuite simulator on a real socket, made
slow (every answer stalls) and paged small, so the kill lands in the middle of the pull.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from systems.netsuite.m2m import new_certificate
from tests.e2e import processes

# Slow (processes: a killed backfill): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

SLOW = ["--page-size", "4", "--delay", "0.15"]  # small pages, each answer stalls 150 ms
EMPLOYEES_SQL = "SELECT count(*), count(DISTINCT source_id) FROM person"
STATE_SQL = "SELECT checkpoint, records_applied FROM sync_state WHERE object_type = 'employee'"


CERT = new_certificate()


@pytest.fixture
def slow_netsuite(tmp_path: Path) -> Iterator[str]:
    uploaded = processes.certificate_args(CERT, tmp_path)
    args = ["--accounts", "10", "--today", "2026-06-30", *uploaded, *SLOW]
    with processes.simulator("netsuite", *args) as base:
        yield base


def _employees(db: Path) -> tuple[int, int]:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute(EMPLOYEES_SQL).fetchone()  # type: ignore[no-any-return]
    except sqlite3.OperationalError:  # not migrated yet, or the writer holds the lock
        return (0, 0)


def test_a_killed_backfill_resumes_from_its_last_page(slow_netsuite: str, tmp_path: Path) -> None:
    db = tmp_path / "cg.db"
    env = {
        **os.environ,
        "CLIENTGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "CLIENTGRAPH_NETSUITE__BASE_URL": slow_netsuite,
        "CLIENTGRAPH_NETSUITE__CERTIFICATE_ID": CERT.certificate_id,
        "CLIENTGRAPH_NETSUITE__PRIVATE_KEY": CERT.private_key_pem,
    }
    sync = [sys.executable, "-m", "clientgraph", "sync", "--source", "netsuite"]
    sync += ["--object", "employee", "--quiet"]
    subprocess.run([sys.executable, "-m", "clientgraph", "migrate"], env=env, check=True)

    first = subprocess.Popen(sync, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while _employees(db)[0] < 8 and time.monotonic() < deadline:  # two pages committed
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    before_kill = _employees(db)[0]
    with sqlite3.connect(db) as conn:
        checkpoint, counted = conn.execute(STATE_SQL).fetchone()

    resumed = subprocess.run(sync, env=env, capture_output=True, text=True, timeout=120)

    total, distinct = _employees(db)
    assert first.returncode == -signal.SIGKILL
    assert 0 < before_kill < total, "the kill must land mid-pull"
    assert resumed.returncode == 0, resumed.stderr
    # the rows and the checkpoint after them were committed together, page by page
    assert checkpoint is not None and counted == before_kill
    assert total == distinct  # nothing twice
    complete = subprocess.run([*sync, "--full"], env=env, capture_output=True, text=True)
    assert "employee: 0 applied" in complete.stderr  # a full re-read finds nothing missing
