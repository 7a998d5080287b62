"""`clientgraph demo --erp tryton` as a process: a real Tryton in NetSuite's place.

The firm's Tryton template is built by a fixture first (once per firm and day, then cached
under .cache/tryton/), so the test itself measures what a second demo costs: a file copy,
trytond's start and the first pulls.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from readmodel.seed import SeedConfig, generate_all
from systems.tryton.bootstrap import BootstrapError
from systems.tryton.firm import prepare
from tests.conftest import unreachable
from tests.e2e.test_cli import _env, _free_port, _query, _until

# Slow (processes: the demo with a live Tryton): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

ACCOUNTS = 8
SEED = 42  # clientgraph.demo.SEED
TRYTON_OBJECTS = {"account", "person", "opportunity", "project", "invoice", "time_entry", "payment"}
SYNCED = """
{ accounts(first: 20) { totalCount nodes { name sourceRefs { system }
    projects { sourceRefs { system } } invoices { sourceRefs { system } } } }
  integrationExceptions(filter: {status: [OPEN]}) { totalCount nodes { kind sourceId message } }
  freshness { system objectType status } }
"""


@pytest.fixture(scope="module")
def today() -> date:
    """The firm's day, fixed for the module so the fixture and the demo load the same firm."""
    return datetime.now(UTC).date()


@pytest.fixture(scope="module")
def firm_template(today: date) -> None:
    """The demo firm's Tryton template exists (built now if the cache has none)."""
    with tempfile.TemporaryDirectory() as scratch:
        try:
            prepare(
                Path(scratch), "warm-up", accounts=ACCOUNTS, seed=SEED, today=today, progress=False
            )
        except (BootstrapError, OSError) as error:
            unreachable("a Tryton to build", error)


@contextmanager
def _demo(args: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """Start `clientgraph ARGS` with its output in ``log`` (a pipe nobody reads could fill
    and stall it); wait for /healthz; SIGTERM it afterwards, as a newcomer's Ctrl-C would."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "clientgraph", *args], env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _until(lambda: _started(proc, base, log), 60)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _started(proc: subprocess.Popen[bytes], base: str, log: Path) -> bool:
    assert proc.poll() is None, log.read_text()
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _synced(base: str, parties: int) -> dict[str, Any] | None:
    """The graph once every Tryton party is linked to its Salesforce account."""
    data: dict[str, Any] = _query(base, SYNCED)["data"]
    linked = [a for a in data["accounts"]["nodes"] if _systems(a) == {"salesforce", "tryton"}]
    # every configured object is listed from the start: pulled means OK, not merely listed
    tryton = {f["objectType"] for f in data["freshness"] if f["system"] == "tryton"}
    pulled = all(f["status"] == "OK" for f in data["freshness"] if f["system"] == "tryton")
    done = len(linked) == parties and tryton == TRYTON_OBJECTS and pulled
    return data if done and not data["integrationExceptions"]["totalCount"] else None


def _systems(node: dict[str, Any]) -> set[str]:
    return {ref["system"] for ref in node["sourceRefs"]}


def _tryton_port(log: Path) -> int:
    """The port the demo printed for its Tryton."""
    found = re.search(r"Tryton\s+http://127\.0\.0\.1:(\d+)/", log.read_text())
    assert found, log.read_text()
    return int(found.group(1))


def test_demo_serves_tryton_linked_to_salesforce_accounts(
    tmp_path: Path, today: date, firm_template: None
) -> None:
    # given the demo firm's ERP clients (the accounts with an ERP customer record)
    firm = generate_all(SeedConfig(accounts=ACCOUNTS, seed=SEED, today=today))
    parties = len({x["account_id"] for x in firm["account_xref"]})
    port, log = _free_port(), tmp_path / "demo.log"
    args = ["demo", "--erp", "tryton", "--accounts", str(ACCOUNTS), "--port", str(port)]
    started = time.monotonic()

    # when the demo runs with Tryton as its ERP
    with _demo([*args, "--today", today.isoformat()], _env(tmp_path), port, log) as base:
        data = _until(lambda: _synced(base, parties), 180)  # a loaded 2-core machine
        seconds = time.monotonic() - started
        tryton_port = _tryton_port(log)

    # then the accounts are Salesforce's, with Tryton's records linked to them
    accounts = data["accounts"]
    assert accounts["totalCount"] == ACCOUNTS
    assert any("tryton" in _systems(i) for a in accounts["nodes"] for i in a["invoices"])
    assert any("tryton" in _systems(p) for a in accounts["nodes"] for p in a["projects"])
    assert all(f["status"] == "OK" for f in data["freshness"] if f["system"] == "tryton")
    assert "netsuite" not in {f["system"] for f in data["freshness"]}
    assert (tmp_path / ".clientgraph-demo" / "tryton" / "admin.password").stat().st_mode & 0o77 == 0
    assert seconds < 120, f"synced in {seconds:.1f} s"  # under 60 idle; room for load
    # and trytond stopped with the demo
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{tryton_port}/", timeout=2)
