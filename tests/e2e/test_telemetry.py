"""Traces and logs in the production shape: a ``clientgraph serve`` process and a
``clientgraph worker`` process on PostgreSQL and a private Redis, the NetSuite simulator as a
process, each writing spans to a JSON-lines file and JSON log lines to its output.

One ``logTime`` sent with a caller's ``traceparent`` and ``X-Correlation-Id: abc-123`` must
make one trace that runs from the gateway's request through SQL, the relay and Redis to the
worker's job, its HTTP calls to NetSuite, the read-back and the read-model update; and log
lines in both processes carrying the correlation id, the trace id and the command id; and no
credential, document or variable in any span or log line.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import api_keys
from readmodel.tables import metadata
from tests.conftest import migrated_engine
from tests.e2e.processes import certificate_args, gateway, simulator
from tests.resolvers.commands.world import command_id as command_id_of
from tests.resolvers.commands.world import gid
from tests.sync_jobs.commands.conftest import ACCOUNTS, command
from tests.sync_jobs.commands.test_worker_crash import (
    PrivateRedis,
    pulled,
    start_worker,
    until,
    worker_env,
)
from tests.systems.test_netsuite_simulator import CERT, seeded_rows

pytestmark = pytest.mark.slow

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
SECRET_NOTE = "variable-value-that-must-not-leak"
DOCUMENT = """mutation LogHours($input: LogTimeInput!) {
  logTime(input: $input) { __typename ... on Command { id status traceId correlationId } }
}"""
BOGUS_TOKEN = "eyJhbGciOiJIUzI1NiJ9.bogus-token-that-must-not-leak.c2lnbmF0dXJl"


@pytest.fixture
async def pg(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with migrated_engine("postgresql", tmp_path) as engine:
        yield engine


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(tmp_path, persist=False)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def log_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON log lines of a process's output (every line must be one)."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(parsed) == len(lines), [line for line in lines if not line.startswith("{")]
    return parsed


async def _key_of_project(pg: AsyncEngine, source_id: str, table: str) -> int:
    t = metadata.tables[table]
    async with pg.connect() as conn:
        return int((await conn.execute(select(t.c.id).where(t.c.source_id == source_id))).one()[0])


async def test_one_mutation_is_one_trace_across_gateway_and_worker_with_logs_in_both(
    pg: AsyncEngine, redis: PrivateRedis, tmp_path: Path
) -> None:
    rows = seeded_rows(ACCOUNTS)
    db_url = pg.url.render_as_string(hide_password=False)
    ns_args = ["--accounts", str(ACCOUNTS), "--seed", "3", "--today", "2026-06-30"]
    with simulator("netsuite", *ns_args, *certificate_args(CERT, tmp_path)) as ns_url:
        # given a read model pulled from the sources, and an admin's API key
        payload = await pulled(pg, rows, ns_url)
        project = await _key_of_project(pg, payload["project_id"], "project")
        person = await _key_of_project(pg, payload["person_id"], "person")
        key, _ = await api_keys.create(pg, name="ops", role="admin", now=datetime.now(UTC))
        env = worker_env(db_url, redis.url, ns_url) | {"CLIENTGRAPH_LOG__FORMAT": "json"}
        env.pop("CLIENTGRAPH_AUTH__ANONYMOUS_ROLE", None)  # the key is what lets us in
        spans = {name: tmp_path / f"{name}-spans.jsonl" for name in ("gateway", "worker")}
        logs = {name: tmp_path / f"{name}.log" for name in ("gateway", "worker")}

        def env_of(name: str) -> dict[str, str]:
            return env | {
                "CLIENTGRAPH_TELEMETRY__EXPORTER": "file",
                "CLIENTGRAPH_TELEMETRY__FILE_PATH": str(spans[name]),
            }

        worker = await start_worker(env_of("worker"), logs["worker"])
        try:
            with gateway(env_of("gateway"), logs["gateway"]) as base:
                # when a caller sends logTime with its own trace and correlation id
                async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                    refused = await client.post(
                        "/graphql",
                        json={"query": "{ __typename }"},
                        headers={"Authorization": f"Bearer {BOGUS_TOKEN}"},
                    )
                    variables = {
                        "input": {
                            "projectId": gid("Project", project),
                            "personId": gid("Person", person),
                            "workDate": "2026-06-29",
                            "hours": "2.5",
                            "note": SECRET_NOTE,
                            "idempotencyKey": "telemetry-1",
                        }
                    }
                    # a first request proves the document: the traced one takes the gateway's
                    # short path (gateway/short_path.py), and must be traced as the pipeline's
                    proving = {"input": {**variables["input"], "idempotencyKey": "telemetry-0"}}
                    first = await client.post(
                        "/graphql",
                        json={"query": DOCUMENT, "variables": proving},
                        headers={"Authorization": f"Bearer {key}"},
                    )
                    assert first.json()["data"]["logTime"]["__typename"] == "Command", first.text
                    answer = await client.post(
                        "/graphql",
                        json={"query": DOCUMENT, "variables": variables},
                        headers={
                            "Authorization": f"Bearer {key}",
                            "X-Correlation-Id": "abc-123",
                            "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
                        },
                    )
                    accepted = answer.json()["data"]["logTime"]
                    metrics = (
                        await client.get("/metrics", headers={"Authorization": f"Bearer {key}"})
                    ).text
                    assert 'clientgraph_graphql_short_path_total{outcome="answered"} 1.0' in metrics
                    command_id = command_id_of(accepted["id"])

                    async def succeeded() -> bool:
                        return (await command(pg, command_id))["status"] == "SUCCEEDED"

                    await until(succeeded, "the command to succeed", seconds=60)

                    async def worker_spans_written() -> bool:
                        names = {s["name"] for s in read_lines(spans["worker"])}
                        return "apply_command" in names

                    await until(worker_spans_written, "the worker's spans", seconds=10)
                    follow = await client.post(
                        "/graphql",
                        json={
                            "query": "query($id: ID!) { command(id: $id) { traceId } }",
                            "variables": {"id": accepted["id"]},
                        },
                        headers={"Authorization": f"Bearer {key}"},
                    )
        finally:
            worker.send_signal(signal.SIGTERM)
            await asyncio.wait_for(worker.wait(), timeout=30)

    # then the answer says the trace back, and the command and the graph carry it
    assert refused.status_code == 401
    assert answer.headers["traceparent"].split("-")[1] == CALLER_TRACE
    assert accepted["traceId"] == CALLER_TRACE and accepted["correlationId"] == "abc-123"
    assert follow.json()["data"]["command"]["traceId"] == CALLER_TRACE
    row = await command(pg, command_id)
    assert row["trace_context"].split("-")[1] == CALLER_TRACE

    # one trace: every span of it links to a parent inside it (or to the caller's span)
    everything = read_lines(spans["gateway"]) + read_lines(spans["worker"])
    trace = [s for s in everything if s["trace_id"] == CALLER_TRACE]
    by_id = {s["span_id"]: s for s in trace}
    orphans = [s for s in trace if s["parent_span_id"] not in by_id]
    assert [s["name"] for s in orphans] == ["mutation LogHours"], orphans
    request = orphans[0]
    assert request["parent_span_id"] == CALLER_SPAN and request["kind"] == "SERVER"
    assert request["service"] == "gateway"
    assert request["attributes"]["graphql.operation.type"] == "mutation"
    assert request["attributes"]["graphql.operation.name"] == "LogHours"
    assert request["attributes"]["clientgraph.role"] == "admin"
    served = [s for s in read_lines(spans["gateway"]) if s["kind"] == "SERVER"]
    named = [s["attributes"].get("graphql.operation.name") for s in served]
    assert named.count("LogHours") == 2  # the pipeline's request, then the short path's

    def chain(span: dict[str, Any]) -> list[str]:
        names = []
        while span is not None:
            names.append(span["name"])
            span = by_id.get(span["parent_span_id"])
        return names

    def one(name: str) -> dict[str, Any]:
        found = [s for s in trace if s["name"] == name]
        assert len(found) == 1, (name, [s["name"] for s in trace])
        return found[0]

    relay, job = one("command.relay"), one("apply_command")
    write, read_back, applied = (
        one("command.write"),
        one("command.read_back"),
        one("readmodel.apply"),
    )
    assert relay["service"] == "gateway" and "mutation LogHours" in chain(relay)
    assert job["service"] == "worker" and job["kind"] == "CONSUMER"
    assert job["attributes"]["clientgraph.command"] == command_id
    assert job["attributes"]["clientgraph.outcome"] == "SUCCEEDED"
    assert chain(job)[-1] == "mutation LogHours"  # the worker's job continues the request
    for step in (write, read_back, applied):
        assert "apply_command" in chain(step), chain(step)
    assert read_back["attributes"]["clientgraph.records"] >= 1

    def under(parent: dict[str, Any], scope_part: str) -> list[dict[str, Any]]:
        return [
            s for s in trace if scope_part in (s["scope"] or "") and parent["name"] in chain(s)[1:]
        ]

    gateway_sql = [s for s in under(request, "sqlalchemy") if s["service"] == "gateway"]
    assert gateway_sql, "the request's SQL statements"
    assert under(relay, "redis"), "the relay's Redis commands"
    assert under(write, "httpx"), "the write's HTTP call to NetSuite"
    assert under(read_back, "httpx"), "the read-back's HTTP call"
    assert under(applied, "sqlalchemy"), "the read-model update's SQL"
    assert all(ns_url.split("//")[1] in str(s["attributes"]) for s in under(write, "httpx"))

    # nothing a partner must not see: no document, variable or credential in any span
    spans_text = "".join(path.read_text() for path in spans.values())
    for secret in (key, BOGUS_TOKEN, SECRET_NOTE, "logTime(input", "telemetry-1"):
        assert secret not in spans_text, secret

    # logs: JSON lines in both processes, with the correlation id, trace and command
    gateway_lines, worker_lines = log_lines(logs["gateway"]), log_lines(logs["worker"])
    ours = [line for line in gateway_lines if line["correlation_id"] == "abc-123"]
    assert any(f"command {command_id} accepted" in line["message"] for line in ours), ours
    assert all(line["trace_id"] == CALLER_TRACE and line["process"] == "gateway" for line in ours)
    theirs = [line for line in worker_lines if line["correlation_id"] == "abc-123"]
    assert theirs and all(line["process"] == "worker" for line in theirs)
    assert all(line["trace_id"] == CALLER_TRACE for line in theirs), theirs
    assert {line["command_id"] for line in theirs} == {str(command_id)}
    assert {line["source"] for line in theirs} == {"netsuite"}
    assert any(line["message"] == f"command {command_id}: SUCCEEDED" for line in theirs)
    for line in gateway_lines + worker_lines:
        assert set(line) >= {
            "time", "level", "process", "logger", "message", "correlation_id",
            "trace_id", "span_id", "command_id", "source",
        }  # fmt: skip
        assert line["time"].endswith("+00:00")
    logs_text = "".join(path.read_text() for path in logs.values())
    for secret in (key, BOGUS_TOKEN, SECRET_NOTE, "logTime(input"):
        assert secret not in logs_text, secret
    assert os.environ.get("CLIENTGRAPH_AUTH__ANONYMOUS_ROLE") == "admin"  # untouched for others
