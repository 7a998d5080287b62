"""The fault storm: writes through the production shape while everything that can fail fails.

    python -m bench.faults --commands 1100 --rate 11      (``make faults``; not in make test)

Production shape, all real processes on this machine: PostgreSQL (a database of its own), a
private ``redis-server`` (no persistence, as the machine's default), one ``clientgraph serve``,
two ``clientgraph worker``, the Salesforce and NetSuite simulators, and a fault layer
(``systems.fault_proxy``) in front of NetSuite that fails 30% of calls — half before the source
acts, half after it acted (the answer is lost). The read model is filled by ``clientgraph sync``
through the fault layer.

The load is ``logTime`` mutations over HTTP, open loop at ``--rate`` per second, each with its
own idempotency key and note. During the load a worker is SIGKILLed (and restarted) four times
and Redis is stopped for 3 s and restarted empty once, between 15 s and 45 s into the load
(``KILLS_AT``, ``REDIS_OUTAGE_AT``). Then the fault layer stays on and the run waits until
every command is final.

It counts, at the source (SuiteQL over the simulator, not through the fault layer), the time
entries per note: **lost** (accepted, final, no record, not refused), **duplicated** (more than
one record for one command), **dead-lettered but applied**; and the seconds from the last fault
until every command was final, accepted → SUCCEEDED p50/p99 (and per stage: queued, written,
read back), and the same p99 for the commands *outside the fault windows*: those during whose
life (accepted → SUCCEEDED) no worker was killed and Redis was up; the 30% fault layer is on
for all of them. Results:
``bench/results/faults-<UTC time>.json``; docs/benchmarks.md quotes them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from readmodel.command_log import source_key_of
from resolvers.ids import to_global_id
from sync_jobs.connectors.netsuite.m2m import M2MLogin, signer
from systems.netsuite.m2m import new_certificate

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]
SECRET = "storm-secret"
CERT = new_certificate()  # NetSuite's M2M certificate, made per run (never committed)
TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
KILLS_AT = (15.0, 25.0, 35.0, 45.0)
REDIS_OUTAGE_AT, REDIS_OUTAGE_SECONDS = 30.0, 3.0
FINAL = {"SUCCEEDED", "FAILED", "DEAD_LETTERED", "CANCELLED"}
MUTATION = """
mutation Log($input: LogTimeInput!) {
  logTime(input: $input) { __typename ... on Command { id } }
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Storm:
    """The processes of one run, and where they log."""

    def __init__(self, workdir: Path, pg_server: str) -> None:
        self.workdir = workdir
        self.db = f"cg_faults_{uuid.uuid4().hex[:8]}"
        self.pg_server = pg_server
        self.ports = {name: free_port() for name in ("redis", "sf", "ns", "proxy", "gateway")}
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        url = "http://127.0.0.1:{}"
        self.env = {
            **os.environ,
            "CLIENTGRAPH_DATABASE_URL": f"postgresql+asyncpg://{pg_server}/{self.db}",
            "CLIENTGRAPH_REDIS_URL": f"redis://127.0.0.1:{self.ports['redis']}/0",
            "CLIENTGRAPH_SALESFORCE__BASE_URL": url.format(self.ports["sf"]),
            "CLIENTGRAPH_SALESFORCE__CLIENT_SECRET": SECRET,
            "CLIENTGRAPH_NETSUITE__BASE_URL": url.format(self.ports["proxy"]),
            "CLIENTGRAPH_NETSUITE__CERTIFICATE_ID": CERT.certificate_id,
            "CLIENTGRAPH_NETSUITE__PRIVATE_KEY": CERT.private_key_pem,
            "CLIENTGRAPH_SYNC__INTERVAL_SECONDS": "86400",  # no scheduled pull in the run
            "CLIENTGRAPH_SYNC__RECONCILE_INTERVAL_SECONDS": "86400",
            "CLIENTGRAPH_LOG_LEVEL": "WARNING",
            "CLIENTGRAPH_AUTH__ANONYMOUS_ROLE": "admin",  # the storm is about the write path
            "CLIENTGRAPH_RATE_LIMIT__ENABLED": "false",  # one caller storms on purpose
        }

    def limit_netsuite(self, rps: float, concurrency: int) -> None:
        """Each process's limits towards NetSuite (the simulator has none of its own)."""
        self.env["CLIENTGRAPH_NETSUITE__REQUESTS_PER_SECOND"] = str(rps)
        self.env["CLIENTGRAPH_NETSUITE__MAX_CONCURRENCY"] = str(concurrency)

    async def start(self, name: str, *args: str) -> asyncio.subprocess.Process:
        log = (self.workdir / f"{name}.log").open("ab")
        process = await asyncio.create_subprocess_exec(
            *args, cwd=ROOT, env=self.env, stdout=log, stderr=log
        )
        self.processes[name] = process
        return process

    async def redis(self) -> None:
        binary = shutil.which("redis-server") or "redis-server"
        port = str(self.ports["redis"])
        await self.start("redis", binary, "--port", port, "--save", "", "--appendonly", "no")
        await wait_port(self.ports["redis"])

    async def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.get(name)
        if process is not None and process.returncode is None:
            process.send_signal(sig)
            await process.wait()

    async def stop_all(self) -> None:
        for name in list(self.processes):
            await self.stop(name)


async def wait_port(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


async def run(
    commands: int, rate: float, accounts: int, pg_server: str, limits: tuple[float, int]
) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="cg-faults-"))
    storm = Storm(workdir, pg_server)
    storm.limit_netsuite(*limits)
    admin = await asyncpg.connect(f"postgresql://{pg_server}/postgres")
    await admin.execute(f'CREATE DATABASE "{storm.db}"')
    try:
        return await _run(storm, commands, rate, accounts)
    finally:
        await storm.stop_all()
        await admin.execute(f'DROP DATABASE IF EXISTS "{storm.db}" WITH (FORCE)')
        await admin.close()
        print(f"logs in {workdir}", file=sys.stderr)


async def _run(storm: Storm, commands: int, rate: float, accounts: int) -> dict[str, Any]:
    py, p = sys.executable, storm.ports
    await storm.redis()
    common = ["--accounts", str(accounts), "--today", "2026-06-30"]
    sf_args = [*common, "--client-secret", SECRET]
    await storm.start("sf", py, "-m", "systems.salesforce", "--port", str(p["sf"]), *sf_args)
    cert_file = storm.workdir / "netsuite-certificate.pem"
    cert_file.write_text(CERT.certificate_pem)
    ns_args = [
        *common,
        *("--certificate", f"{CERT.certificate_id}={cert_file}"),
        *("--audience", f"http://127.0.0.1:{p['proxy']}{TOKEN_PATH}"),  # reached via the proxy
    ]
    await storm.start("ns", py, "-m", "systems.netsuite", "--port", str(p["ns"]), *ns_args)
    ns_direct = f"http://127.0.0.1:{p['ns']}"
    await storm.start(
        "proxy", py, "-m", "systems.fault_proxy", "--upstream", ns_direct,
        "--port", str(p["proxy"]), "--rate", "0.3",
    )  # fmt: skip
    for port in (p["sf"], p["ns"], p["proxy"]):
        await wait_port(port)
    cli = [py, "-m", "clientgraph"]
    await _cli(storm, "migrate", *cli, "migrate")
    pulls = {s: await _sync(storm, cli, s) for s in ("salesforce", "netsuite")}
    await storm.start("gateway", *cli, "serve", "--port", str(p["gateway"]))
    workers = {f"worker-{n}": await storm.start(f"worker-{n}", *cli, "worker") for n in (1, 2)}
    await wait_port(p["gateway"])
    projects, people = await _targets(storm)
    print(f"load: {commands} logTime at {rate}/s; faults 30% throughout", file=sys.stderr)
    keys = [f"storm-{n}-{uuid.uuid4().hex[:8]}" for n in range(commands)]
    faults = asyncio.create_task(_faults(storm, list(workers)))
    accepted = await _load(storm, keys, rate, projects, people)
    windows = await faults
    final_after = await _until_final(storm, len(accepted), timeout=600)
    counts = await _count_at_source(ns_direct)
    rows = await _commands(storm)
    return _report(accepted, rows, counts, windows, final_after, pulls, commands, rate)


async def _cli(storm: Storm, name: str, *args: str) -> int:
    process = await storm.start(name, *args)
    return await process.wait()


async def _sync(storm: Storm, cli: list[str], source: str) -> int:
    """Pull ``source``; the runs it took (a pull resumes from its checkpoint)."""
    for attempt in range(1, 6):
        if await _cli(storm, f"sync-{source}", *cli, "sync", "--source", source) == 0:
            return attempt
    raise RuntimeError(f"clientgraph sync --source {source} failed 5 times")


async def _targets(storm: Storm) -> tuple[list[str], list[str]]:
    conn = await asyncpg.connect(f"postgresql://{storm.pg_server}/{storm.db}")
    try:
        projects = await conn.fetch("SELECT id FROM project WHERE status = 'active' LIMIT 50")
        people = await conn.fetch("SELECT id FROM person LIMIT 50")
    finally:
        await conn.close()
    return (
        [to_global_id("Project", r["id"]) for r in projects],
        [to_global_id("Person", r["id"]) for r in people],
    )


async def _load(
    storm: Storm, keys: list[str], rate: float, projects: list[str], people: list[str]
) -> dict[str, float]:
    """Open loop: mutation i is due at start + i / rate; the keys accepted, with their time."""
    accepted: dict[str, float] = {}
    url = f"http://127.0.0.1:{storm.ports['gateway']}/graphql"
    start = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(i: int, key: str) -> None:
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            variables = {
                "input": {
                    "idempotencyKey": key,
                    "projectId": projects[i % len(projects)],
                    "personId": people[i % len(people)],
                    "workDate": "2026-06-29",
                    "hours": "0.25",
                    "note": key,
                },
            }
            for _ in range(5):  # a gateway answer lost in transit: the same key again
                try:
                    r = await client.post(url, json={"query": MUTATION, "variables": variables})
                    if r.json()["data"]["logTime"]["__typename"] == "Command":
                        accepted[key] = time.monotonic() - start
                    return
                except (httpx.HTTPError, KeyError, TypeError, ValueError):
                    await asyncio.sleep(0.5)

        await asyncio.gather(*(one(i, key) for i, key in enumerate(keys)))
    return accepted


Window = tuple[datetime, datetime]  # a fault event, from its start to its end (UTC)


async def _faults(storm: Storm, workers: list[str]) -> list[Window]:
    """SIGKILL a worker (and start a new one) at each ``KILLS_AT``, restart Redis once;
    when each of these happened."""
    start, windows = time.monotonic(), []
    events = sorted([(t, "kill") for t in KILLS_AT] + [(REDIS_OUTAGE_AT, "redis")])
    for n, (at, what) in enumerate(events):
        await asyncio.sleep(max(0.0, start + at - time.monotonic()))
        began = datetime.now(UTC)
        if what == "kill":
            victim = workers[n % len(workers)]
            await storm.stop(victim, signal.SIGKILL)
            await storm.start(victim, sys.executable, "-m", "clientgraph", "worker")
            print(f"{at:5.1f}s SIGKILL {victim}, restarted", file=sys.stderr)
        else:
            await storm.stop("redis")
            await asyncio.sleep(REDIS_OUTAGE_SECONDS)
            await storm.redis()
            print(f"{at:5.1f}s Redis stopped {REDIS_OUTAGE_SECONDS:.0f}s, restarted empty",
                  file=sys.stderr)  # fmt: skip
        windows.append((began, datetime.now(UTC)))
    return windows


async def _until_final(storm: Storm, expected: int, timeout: float) -> float:
    """Seconds until every command is final, measured from now (the caller's last fault)."""
    conn = await asyncpg.connect(f"postgresql://{storm.pg_server}/{storm.db}")
    start = time.monotonic()
    try:
        while time.monotonic() - start < timeout:
            total = await conn.fetchval("SELECT count(*) FROM command WHERE kind = 'log_time'")
            open_ = await conn.fetchval(
                "SELECT count(*) FROM command WHERE kind = 'log_time' AND status <> ALL($1)",
                list(FINAL),
            )
            if total >= expected and open_ == 0:
                return time.monotonic() - start
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    return float("inf")


async def _count_at_source(ns_url: str) -> dict[str, int]:
    """Time entries per memo at NetSuite itself (SuiteQL, paged, no fault layer)."""
    counts: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=ns_url, timeout=60) as client:
        login = M2MLogin("clientgraph", CERT.certificate_id, CERT.private_key_pem)
        form = signer(login).form(ns_url + TOKEN_PATH, int(time.time()))
        token = await client.post(TOKEN_PATH, data=form)
        headers = {"Authorization": f"Bearer {token.json()['access_token']}", "Prefer": "transient"}
        offset = 0
        while True:
            page = await client.post(
                "/services/rest/query/v1/suiteql",
                params={"limit": 1000, "offset": offset},
                json={"q": "SELECT * FROM timebill ORDER BY id"},
                headers=headers,
            )
            body = page.json()
            if "items" not in body:
                raise RuntimeError(f"counting at the source failed: {body}")
            for item in body["items"]:
                if (memo := item.get("memo")) and memo.startswith("storm-"):
                    counts[memo] = counts.get(memo, 0) + 1
            if not body.get("hasMore"):
                return counts
            offset += len(body["items"])


async def _commands(storm: Storm) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(f"postgresql://{storm.pg_server}/{storm.db}")
    try:
        return await conn.fetch(
            "SELECT idempotency_key, status, created_at, dispatched_at, applied_at, completed_at, "
            "attempts, source_key "
            "FROM command WHERE kind = 'log_time'"
        )
    finally:
        await conn.close()


def _report(
    accepted: dict[str, float],
    rows: list[asyncpg.Record],
    at_source: dict[str, int],
    windows: list[Window],
    final_after: float,
    pulls: dict[str, int],
    commands: int,
    rate: float,
) -> dict[str, Any]:
    by_key = {r["idempotency_key"]: r for r in rows}
    lost = [k for k in accepted if k not in by_key or _lost(by_key[k], at_source.get(k, 0))]
    duplicated = [k for k, n in at_source.items() if n > 1]
    dead_applied = [
        k for k, r in by_key.items() if r["status"] == "DEAD_LETTERED" and at_source.get(k)
    ]
    latencies, calm = [], []
    for row in rows:
        if row["status"] != "SUCCEEDED":
            continue
        seconds = (row["completed_at"] - row["created_at"]).total_seconds()
        latencies.append(seconds)
        life = (row["created_at"], row["completed_at"])
        if not any(_overlap(life, window) for window in windows):  # no kill, no outage
            calm.append(seconds)
    stages = _stages([r for r in rows if r["status"] == "SUCCEEDED"])
    keys_match = all(r["source_key"] == source_key_of(k) for k, r in by_key.items())
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    return {
        "commands_sent": commands,
        "rate_per_second": rate,
        "accepted": len(accepted),
        "statuses": statuses,
        "lost": len(lost),
        "duplicated": len(duplicated),
        "dead_lettered_but_applied": len(dead_applied),
        "all_final_seconds_after_last_fault": round(final_after, 1),
        "accepted_to_succeeded_p50_s": _q(latencies, 0.5),
        "accepted_to_succeeded_p99_s": _q(latencies, 0.99),
        "outside_fault_windows_p99_s": _q(calm, 0.99),
        "outside_fault_windows_count": len(calm),
        "stages_p50_p99_s": stages,
        "attempts": _histogram(r["attempts"] for r in rows),
        "source_keys_derive_from_idempotency_keys": keys_match,
        "sync_runs_needed": pulls,
        "faults": {
            "layer": "30% of NetSuite calls (15% before the source acts, 15% after)",
            "worker_sigkills_at_s": list(KILLS_AT),
            "redis_restart_at_s": REDIS_OUTAGE_AT,
        },
        "examples": {"lost": lost[:5], "duplicated": duplicated[:5]},
    }


def _overlap(a: Window, b: Window) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _stages(rows: list[asyncpg.Record]) -> dict[str, list[float | None]]:
    """Where a succeeded command's time went: queued, written, read back (p50, p99)."""
    spans = {
        "accepted_to_dispatched": ("created_at", "dispatched_at"),
        "dispatched_to_applied": ("dispatched_at", "applied_at"),
        "applied_to_succeeded": ("applied_at", "completed_at"),
    }
    result: dict[str, list[float | None]] = {}
    for name, (start, end) in spans.items():
        seconds = [(r[end] - r[start]).total_seconds() for r in rows if r[start] and r[end]]
        result[name] = [_q(seconds, 0.5), _q(seconds, 0.99)]
    return result


def _histogram(values: Iterable[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def _lost(row: asyncpg.Record, records: int) -> bool:
    """Accepted and final, but no record at the source, and not a refusal the caller saw."""
    return row["status"] not in FINAL or (row["status"] == "SUCCEEDED" and records == 0)


def _q(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1], 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--commands", type=int, default=1100, help="logTime mutations to send")
    parser.add_argument("--rate", type=float, default=11.0, help="mutations per second")
    parser.add_argument("--accounts", type=int, default=20, help="size of the simulated firm")
    parser.add_argument("--server", default="postgres@127.0.0.1:5432", help="PostgreSQL")
    parser.add_argument(
        "--source-rps",
        type=float,
        default=100.0,
        help="each process's request-rate cap towards NetSuite (CLIENTGRAPH_NETSUITE__"
        "REQUESTS_PER_SECOND; the default 25 of a real account would make the cap, not the "
        "faults, what the run measures)",
    )
    parser.add_argument(
        "--source-concurrency", type=int, default=8, help="each process's requests in flight"
    )
    args = parser.parse_args(argv)
    limits = (args.source_rps, args.source_concurrency)
    result = asyncio.run(run(args.commands, args.rate, args.accounts, args.server, limits))
    result["netsuite_limits_per_process"] = {"rps": limits[0], "concurrency": limits[1]}
    result["command"] = "python -m bench.faults " + " ".join(sys.argv[1:] if argv is None else argv)
    result["machine"] = f"{os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d}"
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"faults-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))
    print(f"wrote {path}", file=sys.stderr)
    ok = result["lost"] == 0 and result["duplicated"] == 0
    return 0 if ok and result["dead_lettered_but_applied"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
