"""Workload 5 (hook): mutation acceptance latency at a fixed rate — issue 14: p99 < 10 ms at 100/s.

    python -m bench.mutations --scale S --rate 100 --seconds 20

Open loop, so a slow answer does not slow the sender (no coordinated omission): request i is
due at ``start + i / rate`` and its latency runs from when it was due to when its answer
arrived. Each request is ``updateOpportunity`` with a fresh idempotency key on one of the
open opportunities (probability cycling), so every one is a new command: the mutation
validates, logs one command row and hands it to the relay; the downstream write to the CRM is
not part of acceptance. The gateway runs as in production, with Redis: its relay queues each
command into arq (``BENCH_REDIS_URL``, default Redis database 11: the bench's own, emptied
before and after; no worker runs, so the jobs only wait there) and marks it DISPATCHED, off
the answer's path. It writes command rows into the bench database (never into the read
model's tables). Results: bench/results/mutations-<scale>-<UTC time>.json. The client is
bench/http_client.py (kept-alive HTTP/1.1, ~0.6 ms of this process's CPU per request, where
httpx took ~1.9 ms: that time counted in the latencies and was taken from the gateway's cores).

`make bench` runs it too (bench/run.py, after the read workloads, on its own gateway process).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from redis.asyncio import Redis

from bench import database, http_client, load, machine, servers
from bench import profile as profiling
from resolvers.ids import to_global_id
from sync_jobs.dispatch import COMMAND_QUEUE_NAME

RESULTS = Path(__file__).parent / "results"
QUEUE = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
"""The bench's own Redis database (see the docstring): emptied before and after each run."""
MUTATION = """
mutation Update($input: UpdateOpportunityInput!) {
  updateOpportunity(input: $input) {
    __typename
    ... on Command { id status }
    ... on CommandRejected { code message }
  }
}
"""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url, _ = database.run(args.server, args.scale, reseed=False)
    if not args.checks_in_statement:  # the gateway inherits this process's environment
        os.environ["CLIENTGRAPH_WRITES__CHECKS_IN_STATEMENT"] = "false"
    measured = measure(url, args.rate, args.seconds, args.port, profile=args.profile)
    result = {"scale": args.scale, "checks_in_statement": args.checks_in_statement, **measured}
    result["command"] = "python -m bench.mutations " + " ".join(sys.argv[1:])
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"mutations-{args.scale}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "rejections"}), file=sys.stderr)
    print(f"wrote {path}", file=sys.stderr)
    return 0


def measure(
    url: str, rate: float, seconds: float, port: int, *, profile: bool = True
) -> dict[str, Any]:
    """Drive a fresh gateway on ``url`` at ``rate`` mutations/s for ``seconds``; then, with
    ``profile``, for half as long again under py-spy (the measured pass runs without it)."""
    cleared = asyncio.run(_clear_earlier_runs(servers.plain_url(url)))
    ids = asyncio.run(_open_opportunities(servers.plain_url(url)))
    asyncio.run(_empty_queue())
    load_before = machine.load_average()
    with servers.gateway(url, port, redis_url=QUEUE) as gateway:
        asyncio.run(_drive(gateway.url, ids, rate, 2.0))  # warm-up: pools, caches
        cpu_before = load.process_cpu(gateway.pid)
        counted = _statements_counted(gateway.base)
        outcomes = asyncio.run(_drive(gateway.url, ids, rate, seconds))
        cpu = (load.process_cpu(gateway.pid) - cpu_before) / seconds
        now = _statements_counted(gateway.base)
        sums = [after - before for before, after in zip(counted, now, strict=True)]
        peak = servers.peak_memory_mb(gateway.pid)
        stacks = None
        if profile:  # a pass of its own: the sampler's cost is not in the latencies above
            recording = profiling.Recording(gateway.pid, int(seconds / 2))
            asyncio.run(_drive(gateway.url, ids, rate, seconds / 2))
            stacks = recording.stacks()
    queued = asyncio.run(_empty_queue())
    asyncio.run(_clear_earlier_runs(servers.plain_url(url)))  # nor a backlog for the next gateway
    result = _result(rate, seconds, outcomes, peak, load_before)
    result["jobs_queued"] = queued
    result["gateway_cpu_percent"] = round(100 * cpu, 1)
    result["statements_per_acceptance"] = round(sums[0] / sums[1], 3) if sums[1] else None
    result["earlier_bench_commands_cleared"] = cleared
    if stacks is not None:
        result["profile"] = profiling.summarise(stacks)
    return result


def _statements_counted(base: str) -> tuple[float, float]:
    """The gateway's own count of the SQL statements its ``Update`` operations ran, and of
    those operations (``/metrics``: ``clientgraph_graphql_sql_statements``; the relay's
    DISPATCHED marks run off the answer's path and are not among them)."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
        text = response.read().decode()
    found = {"sum": 0.0, "count": 0.0}
    for line in text.splitlines():
        for part in found:
            if line.startswith(f"clientgraph_graphql_sql_statements_{part}{{") and (
                'operation="Update"' in line
            ):
                found[part] += float(line.rsplit(" ", 1)[1])
    return found["sum"], found["count"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.mutations", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--scale", choices=sorted(database.SCALES), default="S")
    p.add_argument("--rate", type=float, default=100.0, help="mutations/s (default 100)")
    p.add_argument("--seconds", type=float, default=20.0, help="default %(default)s")
    p.add_argument("--server", default="postgres@127.0.0.1:5432")
    p.add_argument("--port", type=int, default=8831)
    p.add_argument(
        "--read-first",
        dest="checks_in_statement",
        action="store_false",
        help="the gateway reads a command's records before logging it (two round trips: "
        "writes.checks_in_statement=false), for comparison with the one statement",
    )
    p.add_argument(
        "--no-profile", dest="profile", action="store_false",
        help="skip the py-spy pass (run after the measured one, half as long)",
    )  # fmt: skip
    return p


async def _clear_earlier_runs(dsn: str) -> int:
    """Delete the commands (and their audit entries) bench runs left: no worker runs here, so
    each run would add 2,000 to the backlog a gateway's relay sweeps, and the next run would
    measure the sweep as well (a run after one left 2,000: p50 1.7 s → 11.8 s). Called before
    and after each run: a read workload's gateway (embedded, no Redis) after a mutation run
    would otherwise take the 2,000 DISPATCHED commands for lost after 15 s and sweep them."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute(
                "DELETE FROM audit_entry WHERE command_id IN "
                "(SELECT id FROM command WHERE idempotency_key LIKE 'bench-%')"
            )
            done = await conn.execute("DELETE FROM command WHERE idempotency_key LIKE 'bench-%'")
    finally:
        await conn.close()
    return int(done.rsplit(" ", 1)[-1])


async def _empty_queue() -> int:
    """Empty the bench's Redis database; how many jobs the commands' queue held."""
    redis = Redis.from_url(QUEUE)
    try:
        held = int(await redis.zcard(COMMAND_QUEUE_NAME))
        await redis.flushdb()
    finally:
        await redis.aclose()
    return held


async def _open_opportunities(dsn: str) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT id FROM opportunity WHERE NOT is_closed AND deleted_at IS NULL "
            "ORDER BY id LIMIT 500"
        )
    finally:
        await conn.close()
    if not rows:
        raise SystemExit("no open opportunity to update")
    return [r["id"] for r in rows]


async def _drive(url: str, ids: list[int], rate: float, seconds: float) -> list[dict[str, Any]]:
    """Send the requests; this process's garbage collector is off meanwhile, since one of its
    full collections (60–100 ms, measured) would count as the gateway's latency."""
    gc.disable()
    try:
        return await _send(url, ids, rate, seconds)
    finally:
        gc.enable()


async def _send(url: str, ids: list[int], rate: float, seconds: float) -> list[dict[str, Any]]:
    count = int(rate * seconds)
    client = http_client.Client(url, timeout=10)
    try:
        await _one(client, ids[0], 0, time.perf_counter())  # warm-up
        start = time.perf_counter() + 0.1
        tasks = []
        for i in range(count):
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(_one(client, ids[i % len(ids)], i, due)))
        return list(await asyncio.gather(*tasks))
    finally:
        client.close()


async def _one(client: http_client.Client, opportunity: int, i: int, due: float) -> dict[str, Any]:
    variables = {
        "input": {
            "opportunityId": to_global_id("Opportunity", opportunity),
            "idempotencyKey": f"bench-{uuid.uuid4()}",
            "probability": 10 + i % 80,
        }
    }
    body = json.dumps({"query": MUTATION, "variables": variables}).encode()
    try:
        _, content = await client.post_json(body)
        answer = json.loads(content)
    except (http_client.HTTPFailure, OSError, ValueError) as error:
        return {"ms": (time.perf_counter() - due) * 1000, "outcome": f"error: {error}"}
    ms = (time.perf_counter() - due) * 1000
    data = (answer.get("data") or {}).get("updateOpportunity")
    if data is None:
        return {"ms": ms, "outcome": f"error: {answer.get('errors', answer)}"[:300]}
    return {"ms": ms, "outcome": data["__typename"], "code": data.get("code")}


def _result(
    rate: float, seconds: float, outcomes: list[dict[str, Any]], peak: float, load: list[float]
) -> dict[str, Any]:
    ms = sorted(o["ms"] for o in outcomes)
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    kinds: dict[str, int] = {}
    for o in outcomes:
        kinds[o["outcome"][:40]] = kinds.get(o["outcome"][:40], 0) + 1
    return {
        "workload": "mutation_acceptance",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rate_per_s": rate,
        "seconds": seconds,
        "requests": len(ms),
        "outcomes": kinds,
        "p50_ms": round(q[49], 2),
        "p95_ms": round(q[94], 2),
        "p99_ms": round(q[98], 2),
        "max_ms": round(ms[-1], 2),
        "gateway_peak_memory_mb": peak,
        "load_average": {"before": load, "after": machine.load_average()},
        "code": machine.code_version(),
        "rejections": [o for o in outcomes if o["outcome"] != "Command"][:5],
    }


if __name__ == "__main__":
    sys.exit(main())
