"""What the numbers were measured on, and waiting for a quiet machine before measuring."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def info(database_url: str, node: str, postgraphile: str) -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu(),
        "memory_gib": _memory_gib(),
        "python": platform.python_version(),
        "node": node,
        "postgraphile": postgraphile,
        "postgresql": _postgresql(database_url),
        "wrk": _wrk(),
        "host": socket.gethostname(),
    }


def load_average() -> list[float]:
    """1-, 5- and 15-minute load averages."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def wait_quiet(threshold: float, max_wait: float) -> tuple[list[float], bool]:
    """Wait (up to ``max_wait`` s) until the 1-minute load is below ``threshold``."""
    deadline = time.monotonic() + max_wait
    while True:
        load = load_average()
        if load[0] < threshold:
            return load, True
        if time.monotonic() >= deadline:
            return load, False
        print(f"load {load[0]:.2f} >= {threshold}: waiting", file=sys.stderr)
        time.sleep(min(20.0, max(1.0, deadline - time.monotonic())))


def cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024**2, 1)
    return float("nan")


def _postgresql(database_url: str) -> str:
    import asyncio

    import asyncpg

    async def version() -> str:
        conn = await asyncpg.connect(database_url)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    return asyncio.run(version())


def _wrk() -> str:
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return (out.stdout or out.stderr).split("\n")[0].split(" Copyright")[0].strip()


def code_version() -> dict[str, Any]:
    """The commit measured and how many files differed from it (the tree is shared and live)."""
    root = Path(__file__).parent.parent

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return out.stdout.strip()

    changed = [line for line in git("status", "--porcelain").splitlines() if line]
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted_files": len(changed)}


def pg_sessions(server: str, database: str) -> int | None:
    """Sessions PostgreSQL has opened on ``database`` so far (pg_stat_database.sessions).

    Read through psql on the ``postgres`` database, so reading it opens no session on
    ``database`` itself; None without psql.
    """
    user, _, hostport = server.rpartition("@")
    host, _, port = hostport.partition(":")
    sql = f"SELECT sessions FROM pg_stat_database WHERE datname = '{database}'"
    try:
        out = subprocess.run(
            ["psql", "-h", host, "-p", port or "5432", "-U", user or "postgres", "-d",
             "postgres", "-Atc", sql],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    except FileNotFoundError:
        return None
    return int(out.stdout) if out.stdout.strip().isdigit() else None
