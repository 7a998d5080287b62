"""`make bench`: clientgraph and the peer a user would pick instead, side by side.

    python -m bench.run --scale S                 # what `make bench` runs (SCALE=S by default)
    python -m bench.run --scale L --reseed        # 10,000 accounts, seeding timed again

What one run does, in order:
  1. waits (up to --max-wait s) for the 1-minute load average to fall below --quiet-load, and
     records it: numbers taken on a busy machine say so in the results;
  2. seeds the scale's PostgreSQL database with `clientgraph seed` unless it exists (or
     --reseed), timing it; an existing database is reused;
  3. refreshes the stored figures as of today (the daily job's work), then starts the servers
     on the same database: the clientgraph gateway (`clientgraph serve`, response cache off:
     *cold*), a second one with its response cache on (*clientgraph_warm*), PostGraphile v5 on
     Node 22 (bench/peer/, installed from npm by `npm ci` the first time), the ceiling
     (bench/ceiling.py: plain Starlette returning workload 1's bytes from memory, or from one
     SQL statement that builds the JSON), and the embedded default (*clientgraph_sqlite*: the
     same firm seeded into a SQLite file, cache off; --no-embedded skips it);
  4. checks each workload answers without errors on both, records response sizes and rows,
     and counts SQL statements per request (clientgraph's own counter, plus a wire count for
     both servers through a counting proxy);
  5. runs wrk for each workload x concurrency, --rounds times, alternating the servers
     (clientgraph, peer, [ceilings], then the reverse order) so that drift hits both;
  6. profiles the gateway with py-spy under workload 1 at concurrency 16 (--no-profile: skip);
     then workloads 5 and 4, whose paths are still being built (--no-hooks: skip): mutation
     acceptance at 100/s (bench/mutations.py) and sync ingest (bench/sync_ingest.py);
  7. writes bench/results/<scale>-<UTC time>.json (+ profile-<scale>-<UTC time>.txt) and
     renders docs/benchmarks.md (`python -m bench.report` renders it again from the files).

Workloads (bench/queries/*.graphql, the peer's equivalents in bench/queries/postgraphile/):
  unified_client_view  the account with the most projects, nested 3 levels, health, figures
  portfolio_list       accounts(first: 50) with health and open invoices
  overdue_invoices     a deep page (--deep-pages pages in) of 100 overdue invoices

Needs: wrk, npm (for Node 22 and PostGraphile), PostgreSQL with trust auth, py-spy (profile),
Redis for workload 5 (BENCH_REDIS_URL, default redis://127.0.0.1:6379/11: emptied by the run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import checks as check
from bench import (
    database,
    load,
    machine,
    measure,
    mutations,
    report,
    servers,
    sweep,
    sync_ingest,
    workloads,
)
from bench import profile as profiling
from bench.workloads import CLIENTGRAPH, PEER, SQLITE, WARM, Request
from clientgraph.settings import Settings
from clientgraph.tasks import refresh_figures

RESULTS = Path(__file__).parent / "results"
CEILING_BYTES, CEILING_SQL = "ceiling_bytes", "ceiling_sql"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.monotonic()
    servers.ensure_peer()
    load_before, quiet = machine.wait_quiet(args.quiet_load, args.max_wait)
    url, seeding = database.run(args.server, args.scale, reseed=args.reseed)
    embedded = database.run_sqlite(args.scale, reseed=args.reseed) if args.embedded else None
    for database_url in (url, *([embedded[0]] if embedded else [])):
        # what the daily job does: the seed stores health as of BENCH_TODAY, the gateways'
        # today is the real one, and the compiled path reads stored health only as of today
        asyncio.run(refresh_figures(Settings(database_url=database_url), today=None, progress=True))
    account_id = measure.busiest_account(url)
    if waiting := measure.waiting_commands(url):
        print(
            f"warning: {waiting:,} commands wait in {url.rsplit('/', 1)[-1]}: the gateways' relays"
            " will sweep them while the reads are measured (bench/mutations.py removes its own)",
            file=sys.stderr,
        )
    with ExitStack() as stack:
        gateway = stack.enter_context(servers.gateway(url, args.port))
        peer = stack.enter_context(servers.peer(url, args.port + 1))
        warm = stack.enter_context(servers.gateway(url, args.port + 3, response_cache_mb=64))
        requests = {
            CLIENTGRAPH: workloads.build(
                CLIENTGRAPH, gateway.url, account_id, args.deep_pages, gateway.pid
            ),
            PEER: workloads.build(PEER, peer.url, account_id, args.deep_pages, peer.pid),
            WARM: workloads.build(CLIENTGRAPH, warm.url, account_id, args.deep_pages, warm.pid),
        }
        pids = {CLIENTGRAPH: gateway.pid, PEER: peer.pid, WARM: warm.pid}
        if embedded:
            sqlite = stack.enter_context(servers.gateway(embedded[0], args.port + 4))
            requests[SQLITE] = workloads.build(
                CLIENTGRAPH, sqlite.url, measure.busiest_account(embedded[0]), args.deep_pages,
                sqlite.pid,
            )  # fmt: skip
            pids[SQLITE] = sqlite.pid
        canned = workloads.fetch(gateway.url, requests[CLIENTGRAPH]["unified_client_view"].body)
        ceiling = stack.enter_context(servers.ceiling(url, args.port + 2, canned, account_id))
        requests.update(_ceiling_requests(ceiling, requests[CLIENTGRAPH]))
        checks = check.run(args, url, requests)
        runs = sweep.run(args, requests, url.rsplit("/", 1)[1])
        memory = {target: servers.peak_memory_mb(pid) for target, pid in pids.items()}
        prof = _profile(args, gateway.pid, requests[CLIENTGRAPH]["unified_client_view"])
    hooks = _hooks(args, url)
    load_after = machine.load_average()
    result = {
        "scale": args.scale,
        "accounts": database.SCALES[args.scale],
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine.info(
            servers.plain_url(url), servers.node_version(), servers.postgraphile_version()
        ),
        "command": "python -m bench.run " + " ".join(sys.argv[1:] if argv is None else argv),
        "code": machine.code_version(),
        "options": {k: v for k, v in vars(args).items()},
        "load_average": {"before": load_before, "after": load_after, "quiet": quiet},
        "wall_seconds": round(time.monotonic() - started),
        "seed_seconds": seeding["seed_seconds"],
        "seeding": seeding,
        "embedded_seeding": embedded[1] if embedded else None,
        "account_id": account_id,
        "peak_memory_mb": memory,
        "workloads": checks,
        "runs": runs,
        "summary": sweep.summarise(runs),
        "profile": prof,
        **hooks,
    }
    out = _write(result)
    report.render()
    print(f"wrote {out} and docs/benchmarks.md", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--scale", choices=sorted(database.SCALES), default="S",
        help="S = 500 accounts, L = 10,000 accounts (default %(default)s)",
    )  # fmt: skip
    p.add_argument("--seconds", type=int, default=10, help="per wrk run (default %(default)s)")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds (default %(default)s)")
    p.add_argument(
        "--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 16, 64],
        help="wrk connections, comma-separated (default 1,16,64)",
    )  # fmt: skip
    p.add_argument(
        "--workloads", type=lambda s: s.split(","), default=list(workloads.NAMES),
        help="comma-separated subset (default: all three)",
    )  # fmt: skip
    p.add_argument(
        "--deep-pages", type=int, default=10,
        help="overdue_invoices asks for the page after this many pages of 100 (default 10)",
    )  # fmt: skip
    p.add_argument(
        "--server", default="postgres@127.0.0.1:5432", help="PostgreSQL user@host:port (trust)"
    )
    p.add_argument("--port", type=int, default=8811, help="gateway port; peer +1, ceiling +2")
    p.add_argument("--reseed", action="store_true", help="drop and seed the database again")
    p.add_argument(
        "--no-embedded", dest="embedded", action="store_false",
        help="skip the embedded default (a SQLite file of the same firm, BENCH_SQLITE_DIR)",
    )  # fmt: skip
    p.add_argument("--no-profile", dest="profile", action="store_false", help="skip py-spy")
    p.add_argument(
        "--no-hooks", dest="hooks", action="store_false",
        help="skip workload 5 (mutation acceptance, 100/s for 20 s) and workload 4 (sync "
        "ingest: a 5,000-account Salesforce backfill from the simulator)",
    )  # fmt: skip
    p.add_argument("--profile-seconds", type=int, default=15, help="default %(default)s")
    p.add_argument(
        "--quiet-load", type=float, default=1.0,
        help="wait until the 1-minute load average is below this (default %(default)s)",
    )  # fmt: skip
    p.add_argument(
        "--max-wait", type=float, default=600,
        help="give up waiting after this many seconds and measure anyway (default 600)",
    )  # fmt: skip
    return p


def _ceiling_requests(
    ceiling: servers.Server, cg: dict[str, Request]
) -> dict[str, dict[str, Request]]:
    body, root = cg["unified_client_view"].body, ceiling.base
    return {
        CEILING_BYTES: {"unified_client_view": Request(f"{root}/bytes", body, ceiling.pid)},
        CEILING_SQL: {"unified_client_view": Request(f"{root}/sql", body, ceiling.pid)},
    }


def _profile(args: argparse.Namespace, pid: int, request: Request) -> dict[str, Any] | None:
    if not args.profile:
        return None
    try:
        recording = profiling.Recording(pid, args.profile_seconds)
        load.wrk(request.url, request.body, connections=16, seconds=args.profile_seconds + 1)
        summary = profiling.summarise(recording.stacks())
    except (Exception, SystemExit) as error:  # the measurements so far are kept regardless
        print(f"no profile: {error}", file=sys.stderr)
        return None
    return {"workload": "unified_client_view", "concurrency": 16, **summary}


def _hooks(args: argparse.Namespace, url: str) -> dict[str, Any]:
    """Workloads 4 and 5, whose paths are still being built: a failure is recorded, not fatal."""
    if not args.hooks:
        return {}
    out: dict[str, Any] = {}
    for key, run in (
        (
            "mutations",
            lambda: mutations.measure(url, 100.0, 20.0, args.port + 20, profile=args.profile),
        ),
        ("sync_ingest", lambda: sync_ingest.measure(args.server, 5000, args.port + 21)),
    ):
        try:
            out[key] = run()
        except (Exception, SystemExit) as error:
            out[key] = {"error": f"{type(error).__name__}: {error}"[:500]}
        print(f"{key}: {json.dumps(out[key])[:300]}", file=sys.stderr)
    return out


def _write(result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.fromisoformat(result["measured_at"]).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{result['scale']}-{stamp}.json"
    if result["profile"]:
        text = RESULTS / f"profile-{result['scale']}-{stamp}.txt"
        title = (
            f"# py-spy profile of the clientgraph gateway: unified_client_view, "
            f"scale {result['scale']}, wrk c=16, {result['options']['profile_seconds']} s "
            f"({result['measured_at']}); raw results: {path.name}"
        )
        profiling.write(result["profile"], text, title)
        result["profile"]["file"] = text.name
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


if __name__ == "__main__":
    sys.exit(main())
