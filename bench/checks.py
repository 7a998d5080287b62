"""Before the load: each workload answers on every server, with the same nested rows, and how
many SQL statements one request runs (clientgraph's own count, and both servers' on the wire).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bench import measure, pgcount, servers, workloads
from bench.workloads import CLIENTGRAPH, PEER, WARM, Request

WIRE_REQUESTS = 5


def run(
    args: argparse.Namespace, url: str, requests: dict[str, dict[str, Request]]
) -> dict[str, Any]:
    out: dict[str, Any] = {name: {} for name in workloads.NAMES}
    for target, reqs in requests.items():
        for name, check in workloads.check(reqs).items():
            out[name][target] = check
    for by_target in out.values():
        keys = by_target[CLIENTGRAPH].pop("keys")
        for target in by_target.keys() - {CLIENTGRAPH}:
            by_target[target]["same_rows_as_clientgraph"] = by_target[target].pop("keys") == keys
    in_process = measure.statements_per_request(
        url, {n: r.body for n, r in requests[CLIENTGRAPH].items()}
    )
    hits = measure.statements_per_request(
        url, {n: r.body for n, r in requests[CLIENTGRAPH].items()}, response_cache_mb=64
    )
    wire = {
        CLIENTGRAPH: _wire(args, url, requests[CLIENTGRAPH], servers.gateway),
        PEER: _wire(args, url, requests[PEER], servers.peer),
    }
    for name in workloads.NAMES:
        out[name][CLIENTGRAPH]["statements_per_request"] = len(in_process[name])
        out[name][CLIENTGRAPH]["statements"] = [s[:160] for s in in_process[name]]
        for target in (CLIENTGRAPH, PEER):
            out[name][target]["wire_statements_per_request"] = wire[target][name]
        if WARM in out[name]:
            out[name][WARM]["statements_per_request"] = len(hits[name])
            out[name][WARM]["statements"] = [s[:160] for s in hits[name]]
        brief = {t: {k: v for k, v in c.items() if k != "statements"} for t, c in out[name].items()}
        print(f"{name:22} {json.dumps(brief)}", file=sys.stderr)
    return out


def _wire(
    args: argparse.Namespace, url: str, requests: dict[str, Request], start: Any
) -> dict[str, float]:
    """Statements per request as PostgreSQL receives them (incl. BEGIN/ROLLBACK), by proxy."""
    host, pg_port = args.server.rsplit("@", 1)[-1].split(":")
    proxy_port = args.port + 10
    proxied = url.replace(f"{host}:{pg_port}", f"127.0.0.1:{proxy_port}")
    counts = {}
    with (
        pgcount.counting_proxy(host, int(pg_port), proxy_port) as counter,
        start(proxied, args.port + 11) as server,
    ):
        for name, request in requests.items():
            moved = {name: Request(server.url, request.body)}
            workloads.check(moved)  # warm: pools open their connections
            counter.statements = 0
            for _ in range(WIRE_REQUESTS):
                workloads.check(moved)
            counts[name] = round(counter.statements / WIRE_REQUESTS, 1)
    return counts
