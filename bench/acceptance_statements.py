"""What one round trip saves a command's acceptance on PostgreSQL, without HTTP around it.

    python -m bench.acceptance_statements --scale L --commands 2000

Logs ``updateOpportunity``-shaped commands on the bench's read model one after another, each
way in turn on the gateway's own bare connections (readmodel/raw_reads.py): **one statement**
(the deal's checks inside the statement that logs the command: readmodel/command_targets.py)
and **read first** (the deal's read, then the command's statement: what
``writes.checks_in_statement=false`` and SQLite do). Prints, and writes to
``bench/results/acceptance-statements-<time>.json``, the wall time per acceptance (p50, p90,
mean, in ms; the first 10% of each way left out as warm-up). The commands are deleted again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench import database, machine, servers
from readmodel import command_intake
from readmodel.command_log import NewCommand
from readmodel.command_targets import Col, Expect, Guard, Target
from readmodel.db import create_engine
from readmodel.raw_reads import RawReads
from resolvers.commands.ownership import live_records

RESULTS = Path(__file__).parent / "results"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url, _ = database.run(args.server, args.scale, reseed=False)
    result = asyncio.run(_measure(url, args.commands))
    result["command"] = "python -m bench.acceptance_statements " + " ".join(sys.argv[1:])
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"acceptance-statements-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["ways"]), file=sys.stderr)
    print(f"wrote {path}", file=sys.stderr)
    return 0


async def _measure(url: str, commands: int) -> dict[str, Any]:
    engine = create_engine(url)
    raw = RawReads(engine, size=1, statement_timeout_ms=None)
    try:
        async with engine.connect() as conn:
            deals = (
                await conn.execute(
                    text(
                        "SELECT id, source_id FROM opportunity WHERE NOT is_closed AND "
                        "deleted_at IS NULL AND source_system = 'salesforce' ORDER BY id LIMIT 500"
                    )
                )
            ).all()
        if not deals:
            raise SystemExit("no open Salesforce opportunity")
        times: dict[str, list[float]] = {"one_statement": [], "read_first": []}
        ways: dict[str, Callable[[int, str], Awaitable[None]]] = {
            "one_statement": lambda key, _: _one_statement(engine, raw, key),
            "read_first": lambda key, _: _read_first(engine, raw, key),
        }
        for n in range(commands):
            key, source_id = deals[n % len(deals)]
            for way, run in ways.items():
                start = time.perf_counter()
                await run(key, source_id)
                times[way].append(time.perf_counter() - start)
        return {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{machine.cpu()}, {os.cpu_count()} cores",
            "code": machine.code_version(),
            "database": servers.plain_url(url).rsplit("/", 1)[-1],
            "commands_each_way": commands,
            "ways": {way: _summary(values[commands // 10 :]) for way, values in times.items()},
        }
    finally:
        async with engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM command WHERE idempotency_key LIKE 'bench-acceptance-%'")
            )
        await raw.aclose()
        await engine.dispose()


def _new(payload: dict[str, Any], target: Any) -> NewCommand:
    return NewCommand(
        kind="update_opportunity",
        target_system="salesforce",
        target_object="opportunity",
        target_source_id=target,
        idempotency_key=f"bench-acceptance-{uuid.uuid4()}",
        input_hash="0" * 64,
        payload=payload,
        correlation_id="bench",
        principal_id="bench",
        principal_role="admin",
    )


async def _one_statement(engine: Any, raw: RawReads, key: int) -> None:
    deal = Col(0, "source_id")
    guard = Guard((Target("opportunity", (key,), "salesforce"),), (Expect(0, "is_closed", False),))
    new = _new({"opportunity_id": deal, "probability": "40"}, deal)
    await command_intake.accept(engine, new, now=datetime.now(UTC), raw=raw, guard=guard)


async def _read_first(engine: Any, raw: RawReads, key: int) -> None:
    async with raw.connect() as bare:
        row = (await live_records(bare, "opportunity", [key]))[key]
    assert row.source_system == "salesforce" and not row.is_closed
    new = _new({"opportunity_id": row.source_id, "probability": "40"}, row.source_id)
    await command_intake.accept(engine, new, now=datetime.now(UTC), raw=raw)


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(1000 * ordered[len(ordered) // 2], 3),
        "p90_ms": round(1000 * ordered[int(len(ordered) * 0.9)], 3),
        "mean_ms": round(1000 * statistics.mean(ordered), 3),
    }


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.acceptance_statements", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--scale", choices=sorted(database.SCALES), default="L")
    p.add_argument("--commands", type=int, default=2000, help="each way (default 2000)")
    p.add_argument("--server", default="postgres@127.0.0.1:5432")
    return p


if __name__ == "__main__":
    raise SystemExit(main())
