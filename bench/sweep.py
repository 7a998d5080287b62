"""The measured load: wrk per workload x concurrency x server, rounds alternating the servers."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from bench import load, machine
from bench.workloads import Request

STAT_KEYS = ("rps", "p50_ms", "p95_ms", "p99_ms", "max_ms")
CPU_KEYS = (
    "server_cpu_percent",
    "server_cpu_ms_per_request",
    "machine_cpu_ms_per_request",
    "new_sessions_per_request",
)
SESSION_STATS_SETTLE = 1.0


def run(
    args: argparse.Namespace, requests: dict[str, dict[str, Request]], database_name: str
) -> list[dict[str, Any]]:
    """Every workload x concurrency x server, ``args.rounds`` times, alternating the order."""
    runs = []
    for name in args.workloads:
        targets = [t for t in requests if name in requests[t]]
        for target in targets:  # warm-up: JIT, pools, caches
            r = requests[target][name]
            load.wrk(r.url, r.body, connections=4, seconds=2)
        for connections in args.concurrency:
            for round_ in range(args.rounds):
                for target in targets if round_ % 2 == 0 else targets[::-1]:
                    labels = {"workload": name, "concurrency": connections, "target": target}
                    label = f"{name} {target}"
                    result = _one(args, database_name, requests[target][name], connections, label)
                    runs.append({**labels, "round": round_, **result})
    return runs


def _one(
    args: argparse.Namespace, database_name: str, r: Request, connections: int, label: str
) -> dict[str, Any]:
    before = machine.pg_sessions(args.server, database_name)
    result: dict[str, Any] = load.wrk(
        r.url, r.body, connections=connections, seconds=args.seconds, pid=r.pid
    )
    result.update(_new_sessions(args, database_name, before, result))
    result["load_average_after"] = machine.load_average()
    print(
        f"{label:36} c={connections:<3} {result['rps']:>8} req/s  "
        f"p50 {result['p50_ms']:.1f}  p99 {result['p99_ms']:.1f} ms  "
        f"errors {result['errors'] + result['non_2xx']}",
        file=sys.stderr,
    )
    return result


def _new_sessions(
    args: argparse.Namespace, database_name: str, before: int | None, result: dict[str, Any]
) -> dict[str, float]:
    """New PostgreSQL sessions per request during the run: a pool that churns connections."""
    if before is None or not result["requests"]:
        return {}
    time.sleep(SESSION_STATS_SETTLE)  # backends report their stats within about a second
    after = machine.pg_sessions(args.server, database_name)
    if after is None:
        return {}
    return {"new_sessions_per_request": round((after - before) / result["requests"], 3)}


def summarise(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per workload x concurrency x server: medians over rounds, errors summed."""
    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["workload"], run["concurrency"], run["target"]), []).append(run)
    out = []
    for (name, connections, target), rs in groups.items():
        row: dict[str, Any] = {"workload": name, "concurrency": connections, "target": target}
        for key in STAT_KEYS + CPU_KEYS:
            values = [r[key] for r in rs if key in r]
            if values:
                row[key] = round(statistics.median(values), 2)
        row["errors"] = sum(r["errors"] + r["non_2xx"] for r in rs)
        row["rounds"] = len(rs)
        out.append(row)
    return out
