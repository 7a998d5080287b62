"""`make bench`: seed a PostgreSQL read model, serve it, load it with wrk, write the results.

    python -m bench.run --scale S --seconds 10 --concurrency 1,16,64

Results go to bench/results/<scale>-<UTC time>.json and the table in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import database, load, measure, report

QUERIES = Path(__file__).parent / "queries"
RESULTS = Path(__file__).parent / "results"
WORKLOADS = ("unified_client_view", "portfolio_list", "overdue_invoices")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url, seed_seconds = database.run(args.server, args.scale, reseed=args.reseed)
    bodies = _bodies(url)
    statements = measure.statements_per_request(url, bodies)
    rows = []
    with _gateway(url, args.port) as (base, pid):
        for name in WORKLOADS:
            load.wrk(f"{base}/graphql", bodies[name], connections=4, seconds=2)  # warm-up
            for connections in args.concurrency:
                result = load.wrk(
                    f"{base}/graphql", bodies[name], connections=connections, seconds=args.seconds
                )
                rows.append(
                    {
                        "workload": name,
                        "concurrency": connections,
                        **result,
                        "statements_per_request": statements[name],
                    }
                )
                print(
                    f"{name:22} c={connections:<3} {result['rps']:>8} req/s  "
                    f"p50 {result['p50_ms']:.1f} ms  p99 {result['p99_ms']:.1f} ms",
                    file=sys.stderr,
                )
        peak_mb = _peak_memory_mb(pid)
    out = _write(args, url, seed_seconds, rows, peak_mb)
    report.render(out)
    print(f"wrote {out} and docs/benchmarks.md", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--scale",
        choices=sorted(database.SCALES),
        default="S",
        help="S = 500 accounts, L = 10,000 accounts",
    )
    p.add_argument("--seconds", type=int, default=10, help="per run (default %(default)s)")
    p.add_argument(
        "--concurrency",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 16, 64],
        help="connections, comma-separated (default 1,16,64)",
    )
    p.add_argument(
        "--server", default="postgres@127.0.0.1:5432", help="PostgreSQL user@host:port (trust auth)"
    )
    p.add_argument("--port", type=int, default=8811, help="gateway port")
    p.add_argument("--reseed", action="store_true", help="drop and seed the database again")
    return p


def _bodies(url: str) -> dict[str, str]:
    text = {name: (QUERIES / f"{name}.graphql").read_text() for name in WORKLOADS}
    return {
        "unified_client_view": measure.body(
            text["unified_client_view"], measure.unified_view_variables(url)
        ),
        "portfolio_list": measure.body(text["portfolio_list"]),
        "overdue_invoices": measure.body(text["overdue_invoices"]),
    }


@contextmanager
def _gateway(url: str, port: int) -> Iterator[tuple[str, int]]:
    env = {
        **os.environ,
        "CLIENTGRAPH_DATABASE_URL": url,
        "CLIENTGRAPH_LOG_LEVEL": "WARNING",
        "CLIENTGRAPH_DATABASE_POOL_SIZE": "20",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "clientgraph", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise SystemExit("the gateway did not become ready")
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _write(
    args: argparse.Namespace, url: str, seed_seconds: float | None, rows: list[dict], peak_mb: float
) -> Path:
    now = datetime.now(UTC)
    result = {
        "scale": args.scale,
        "accounts": database.SCALES[args.scale],
        "measured_at": now.isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": _cpu(),
            "python": platform.python_version(),
            "host": socket.gethostname(),
        },
        "command": f"python -m bench.run --scale {args.scale} --seconds {args.seconds} "
        f"--concurrency {','.join(map(str, args.concurrency))}",
        "seed_seconds": seed_seconds,
        "gateway_peak_memory_mb": peak_mb,
        "runs": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{args.scale}-{now:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
