"""Workload 4 (hook): sync ingest rate — target ≥ 5,000 records/s.

    python -m bench.sync_ingest --accounts 5000

A full backfill from the Salesforce simulator (systems/salesforce, started here on its own
port with a generated firm) into a fresh PostgreSQL database, through the real connector:
`clientgraph sync --source salesforce --full --quiet`. Records/s = canonical rows written
(accounts, contacts, opportunities) / wall time of the sync command. The simulator runs on the
same 2 cores and its HTTP serving is inside the time, as is the sync command's start-up (Python
imports, OAuth), so the figure is conservative. Standalone results:
bench/results/sync-ingest-<UTC time>.json; `make bench` runs it too (bench/run.py).

Only the Salesforce connector is measured; NetSuite and Tryton ingest are not yet.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench import machine, servers
from readmodel import migrate
from readmodel.db import create_engine

RESULTS = Path(__file__).parent / "results"
DATABASE = "clientgraph_bench_ingest" + os.environ.get("BENCH_DATABASE_SUFFIX", "")
"""``BENCH_DATABASE_SUFFIX``: a database of one's own when several trees share the server."""
TABLES = ("account", "contact", "opportunity")
SECRET = "bench-secret"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    result = measure(args.server, args.accounts, args.port)
    result["command"] = "python -m bench.sync_ingest " + " ".join(sys.argv[1:])
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"sync-ingest-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result), file=sys.stderr)
    return 0


def measure(server: str, accounts: int, port: int) -> dict[str, Any]:
    """A full Salesforce backfill of a firm of ``accounts`` into a fresh database."""
    url = asyncio.run(_fresh_database(server))
    load_before = machine.load_average()
    simulator = [
        sys.executable, "-m", "systems.salesforce", "--port", str(port),
        "--accounts", str(accounts), "--client-secret", SECRET,
    ]  # fmt: skip
    with servers.process("salesforce-simulator", simulator, dict(os.environ), port) as sim:
        env = {
            **os.environ,
            "CLIENTGRAPH_DATABASE_URL": url,
            "CLIENTGRAPH_SALESFORCE__BASE_URL": sim.base,
            "CLIENTGRAPH_SALESFORCE__CLIENT_SECRET": SECRET,
            "CLIENTGRAPH_LOG_LEVEL": "WARNING",
        }
        started = time.perf_counter()
        sync = [sys.executable, "-m", "clientgraph", "sync", "--source", "salesforce"]
        subprocess.run([*sync, "--full", "--quiet"], env=env, check=True, capture_output=True)
        seconds = time.perf_counter() - started
    rows = asyncio.run(_count(servers.plain_url(url)))
    return _result(accounts, rows, seconds, load_before)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.sync_ingest", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--accounts", type=int, default=5000, help="simulated firm's size")
    p.add_argument("--server", default="postgres@127.0.0.1:5432")
    p.add_argument("--port", type=int, default=8841, help="the simulator's port")
    return p


async def _fresh_database(server: str) -> str:
    admin = await asyncpg.connect(f"postgresql://{server}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    url = f"postgresql+asyncpg://{server}/{DATABASE}"
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    return url


async def _count(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        return {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in TABLES}
    finally:
        await conn.close()


def _result(
    accounts: int, rows: dict[str, int], seconds: float, load: list[float]
) -> dict[str, Any]:
    total = sum(rows.values())
    return {
        "workload": "sync_ingest",
        "source": "salesforce (simulator)",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "accounts": accounts,
        "rows": rows,
        "seconds": round(seconds, 2),
        "records_per_s": round(total / seconds, 1),
        "load_average": {"before": load, "after": machine.load_average()},
        "code": machine.code_version(),
    }


if __name__ == "__main__":
    sys.exit(main())
