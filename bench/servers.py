"""The servers under load, each started as its own process: the clientgraph gateway, the peer
(PostGraphile v5 on Node 22, installed from npm into bench/peer/) and the plain-Starlette ceiling.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

PEER = Path(__file__).parent / "peer"
NODE = PEER / "node_modules" / ".bin" / "node"
READY_SECONDS = 60


@dataclass(frozen=True)
class Server:
    """A running server: where to POST GraphQL and which process to measure."""

    name: str
    base: str
    pid: int

    @property
    def url(self) -> str:
        return f"{self.base}/graphql"


def ensure_peer() -> None:
    """Install Node 22 and PostGraphile from bench/peer/package-lock.json unless present."""
    if NODE.exists() and (PEER / "node_modules" / "postgraphile").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("make bench needs npm to install the peer (apt-get install npm)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PEER, check=True)


def node_version() -> str:
    return subprocess.run([NODE, "--version"], capture_output=True, text=True).stdout.strip()


def postgraphile_version() -> str:
    import json

    package = PEER / "node_modules" / "postgraphile" / "package.json"
    return str(json.loads(package.read_text())["version"])


@contextmanager
def gateway(
    database_url: str, port: int, *, response_cache_mb: int = 0, redis_url: str | None = None
) -> Iterator[Server]:
    """``clientgraph serve``: one process, as users run it, with the bench's pool size. The
    response cache is off unless ``response_cache_mb`` says otherwise: wrk repeats one request,
    so with it on every answer after the first is a hit (the *warm* target measures that).
    ``redis_url``: the production setup's job queue (the commands' relay queues into it)."""
    queue = {} if redis_url is None else {"CLIENTGRAPH_REDIS_URL": redis_url}
    env = {
        **queue,
        **os.environ,
        "CLIENTGRAPH_DATABASE_URL": database_url,
        "CLIENTGRAPH_GRAPHQL__RESPONSE_CACHE_MB": str(response_cache_mb),
        "CLIENTGRAPH_LOG_LEVEL": "WARNING",
        "CLIENTGRAPH_DATABASE_POOL_SIZE": "20",
        # the peer runs without authentication, so the gateway does too (as an admin): the
        # comparison is of the read path; docs/benchmarks.md names the cost of a key check
        "CLIENTGRAPH_AUTH__ANONYMOUS_ROLE": "admin",
        # one caller at hundreds of requests a second: rate limits would measure themselves
        "CLIENTGRAPH_RATE_LIMIT__ENABLED": "false",
    }
    cmd = [sys.executable, "-m", "clientgraph", "serve", "--port", str(port)]
    with process("clientgraph", cmd, env, port, ready="/readyz") as server:
        yield server


@contextmanager
def peer(database_url: str, port: int) -> Iterator[Server]:
    """PostGraphile v5 (bench/peer/server.mjs) in production mode over the same database."""
    env = {
        **os.environ,
        "NODE_ENV": "production",
        "BENCH_PEER_DATABASE_URL": plain_url(database_url),
        "BENCH_PEER_PORT": str(port),
    }
    cmd = [str(NODE), "server.mjs"]
    with process("postgraphile", cmd, env, port, ready=None, cwd=PEER) as server:
        yield server


@contextmanager
def ceiling(database_url: str, port: int, response: bytes, account_id: int) -> Iterator[Server]:
    """bench/ceiling.py under uvicorn: the canned response and the one-statement JSON."""
    env = {
        **os.environ,
        "BENCH_CEILING_DATABASE_URL": plain_url(database_url),
        "BENCH_CEILING_ACCOUNT_ID": str(account_id),
        "BENCH_CEILING_RESPONSE": response.decode(),
    }
    cmd = [
        sys.executable, "-m", "uvicorn", "bench.ceiling:app", "--port", str(port),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    with process("ceiling", cmd, env, port, ready="/readyz") as server:
        yield server


def plain_url(database_url: str) -> str:
    """``postgresql+asyncpg://…`` as libpq / node-postgres / asyncpg spell it."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://")


def peak_memory_mb(pid: int) -> float:
    """The process's resident-set high-water mark (VmHWM) so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


@contextmanager
def process(
    name: str,
    cmd: list[str],
    env: dict[str, str],
    port: int,
    *,
    ready: str | None = "/",
    cwd: Path | None = None,
) -> Iterator[Server]:
    """Run ``cmd`` until the block ends, once ``ready`` (default /graphql) answers below 500."""
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-{name}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, url + (ready or "/graphql"), name, log.name)
        yield Server(name, url, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _wait_ready(proc: subprocess.Popen[bytes], url: str, name: str, log: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited with {proc.returncode}; see {log}")
        try:
            # The peer answers GET /graphql with 405 once its schema is built: that is ready too.
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{name} did not become ready in {READY_SECONDS} s; see {log}")
