"""Drive the gateway with wrk and read back throughput and latency percentiles."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).parent / "report.lua"


def wrk(url: str, body: str, *, connections: int, seconds: int) -> dict[str, float]:
    """One wrk run; returns requests/s, p50/p95/p99/max in ms and error counts."""
    threads = max(1, min(2, connections))
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(SCRIPT), url],
        env={**os.environ, "BENCH_BODY": body},
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("BENCH_JSON "))
    result: dict[str, float] = json.loads(line.removeprefix("BENCH_JSON "))
    result["rps"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
    return result
