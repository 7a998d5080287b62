"""Drive the gateway with wrk and read back throughput and latency percentiles."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).parent / "report.lua"


def wrk(
    url: str, body: str, *, connections: int, seconds: int, pid: int | None = None
) -> dict[str, float]:
    """One wrk run; returns requests/s, p50/p95/p99/max in ms and error counts.

    With ``pid``, also the CPU the server process used per request and the whole machine's
    (PostgreSQL, wrk and the server together), in ms: is the server saturated, or waiting?
    """
    threads = max(1, min(2, connections))
    before = _cpu(pid)
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
    if pid is not None and result["requests"]:
        after = _cpu(pid)
        seconds_run = result["duration_us"] / 1e6
        result["server_cpu_percent"] = round(100 * (after[0] - before[0]) / seconds_run, 1)
        result["server_cpu_ms_per_request"] = round(
            1000 * (after[0] - before[0]) / result["requests"], 2
        )
        result["machine_cpu_ms_per_request"] = round(
            1000 * (after[1] - before[1]) / result["requests"], 2
        )
    return result


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) ``pid`` has used so far."""
    return _cpu(pid)[0]


def _cpu(pid: int | None) -> tuple[float, float]:
    """CPU seconds used so far by ``pid`` (user + system) and by the whole machine (busy)."""
    tick = os.sysconf("SC_CLK_TCK")
    process = 0.0
    if pid is not None:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        process = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(cpu[:8]) - cpu[3] - cpu[4]  # all but idle and iowait (guest is in user)
    return process, busy / tick
