"""What the counters' lease costs a writer (resolvers/planner/lease.py): the time one write
transaction of a counted table takes to commit, with 0, 1, 2… gateway processes holding the
lease, each its own process (as gateways are), on a PostgreSQL read model.

    python -m bench.lease_writes --database postgresql+asyncpg://postgres@127.0.0.1:5432/DB

Each write is one ``UPDATE account SET name = name WHERE id = <lowest id>`` in its own
transaction (the counters' trigger records it, as a sync page's change). ``--spacing-ms``
apart (default 100: the gateways have taken the lease again before each write, so every write
asks them to let go) and back to back (0: one write in a burst asks, the next ones find it
free until the gateways take it again 50 ms later). Prints, and writes to
``bench/results/lease-writes-<time>.json``, the commit times (p50, p99, max, in ms) per case.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from readmodel.db import create_engine

RESULTS = Path(__file__).parent / "results"
HOLDERS = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND granted "
    "AND mode = 'ShareLock' AND relation = 'cg_cache_guard'::regclass "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
GATEWAY = """
import asyncio, sys
from readmodel.db import create_engine
from readmodel.raw_reads import RawReads
from resolvers.planner import lease

async def main() -> None:
    engine = create_engine(sys.argv[1])
    raw = RawReads(engine, 1, None)
    held = lease.start(raw)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until closed
    await held.aclose()
    await raw.aclose()
    await engine.dispose()

asyncio.run(main())
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _held_by(url: str, gateways: int, timeout: float = 20.0) -> None:
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            async with engine.connect() as conn:
                if (await conn.execute(HOLDERS)).scalar_one() >= gateways:
                    return
            if time.monotonic() > deadline:
                raise SystemExit(f"{gateways} gateways did not take the lease in {timeout:g} s")
            await asyncio.sleep(0.05)
    finally:
        await engine.dispose()


async def _writes(url: str, count: int, spacing: float) -> list[float]:
    engine = create_engine(url)
    update = text("UPDATE account SET name = name WHERE id = (SELECT min(id) FROM account)")
    times = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            async with engine.begin() as conn:
                await conn.execute(update)
            times.append((time.perf_counter() - started) * 1000)
            if spacing:
                await asyncio.sleep(spacing)
    finally:
        await engine.dispose()
    return times


def measure(url: str, gateways: int, count: int, spacing: float) -> dict[str, Any]:
    processes = [
        subprocess.Popen([sys.executable, "-c", GATEWAY, url], stdin=subprocess.PIPE)
        for _ in range(gateways)
    ]
    try:
        if gateways:
            asyncio.run(_held_by(url, gateways))
        times = asyncio.run(_writes(url, count, spacing))
    finally:
        for process in processes:
            assert process.stdin is not None
            process.stdin.close()
        for process in processes:
            process.wait(timeout=20)
    return {
        "gateways": gateways,
        "spacing_ms": round(spacing * 1000),
        "writes": count,
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(percentile(times, 0.99), 2),
        "max_ms": round(max(times), 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.lease_writes",
        description="Commit time of a counted write with gateways holding the counters' lease.",
    )
    parser.add_argument("--database", required=True, help="a migrated PostgreSQL read model")
    parser.add_argument("--gateways", default="0,1,2", help="gateway processes, per case")
    parser.add_argument("--writes", type=int, default=200, help="writes per case")
    parser.add_argument("--spacing-ms", type=int, default=100, help="between spaced writes")
    args = parser.parse_args(argv)
    cases = []
    for gateways in (int(n) for n in args.gateways.split(",")):
        for spacing in (args.spacing_ms / 1000, 0.0):
            case = measure(args.database, gateways, args.writes, spacing)
            print(json.dumps(case))
            cases.append(case)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"lease-writes-{stamp}.json"
    out.write_text(json.dumps({"database": args.database.split("@")[-1], "cases": cases}, indent=1))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
