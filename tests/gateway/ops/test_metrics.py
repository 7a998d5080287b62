"""``/metrics``: per-operation latency, errors and SQL statements; the readings taken at scrape
time (commands, dead letters, sync lag, queues); who may scrape (gateway and worker)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import AuthSettings, SalesforceSettings, Settings
from clientgraph.settings_http import RateLimitSettings
from clientgraph.settings_ops import OpsSettings
from gateway.app import create_app
from readmodel import api_keys
from readmodel.tables import Command, SyncState, table_of
from sync_jobs.worker_health import health_app
from tests.conftest import FIRM_NOW, REDIS_URL, Firm, gateway_client, http_client
from tests.gateway.edge import edge_app
from tests.resolvers.commands.world import url_of

NAMED = "query OpsMetricsProbe { accounts(first: 3) { nodes { id name } } }"
BROKEN = "query OpsMetricsBroken { noSuchField }"
TYPENAME = {"query": "{ __typename }"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by name and sorted labels (the text must parse)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, tuple(sorted(labels.items()))))


@asynccontextmanager
async def gateway(engine: AsyncEngine, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=url_of(engine), **settings), clock=lambda: FIRM_NOW)
    async with app.router.lifespan_context(app), http_client(app) as client:
        yield client


async def test_operations_are_timed_and_their_statements_and_errors_counted(firm: Firm) -> None:
    # no response cache: a hit under the counters' lease runs no statement to count
    async with gateway_client(firm.url, response_cache_mb=0) as client:
        before = (await client.get("/metrics")).text
        for _ in range(2):
            await client.post("/graphql", json={"query": NAMED})
        await client.post("/graphql", json={"query": BROKEN})
        after = (await client.get("/metrics")).text

    op = {"operation": "OpsMetricsProbe"}
    runs = value(after, "clientgraph_graphql_request_seconds_count", **op) or 0.0
    assert runs - (value(before, "clientgraph_graphql_request_seconds_count", **op) or 0) == 2
    statements = value(after, "clientgraph_graphql_sql_statements_sum", **op) or 0.0
    assert statements - (value(before, "clientgraph_graphql_sql_statements_sum", **op) or 0) >= 2
    broken = {"operation": "OpsMetricsBroken", "code": "GRAPHQL_VALIDATION_FAILED"}
    errors = value(after, "clientgraph_graphql_request_errors_total", **broken) or 0.0
    assert errors - (value(before, "clientgraph_graphql_request_errors_total", **broken) or 0) == 1


async def test_cache_lookups_are_counted_as_hits_and_misses(firm: Firm) -> None:
    document = "query OpsCacheProbe { accounts(first: 1) { nodes { id } } } # " + str(id(firm))
    digest = hashlib.sha256(document.encode()).hexdigest()
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    async with gateway_client(firm.url) as client:
        before = (await client.get("/metrics")).text
        unknown = await client.post("/graphql", json={"extensions": persisted})
        for _ in range(2):  # the first parses and validates, the second finds both cached
            await client.post("/graphql", json={"query": document, "extensions": persisted})
        known = await client.post("/graphql", json={"extensions": persisted})
        after = (await client.get("/metrics")).text

    def moved(cache: str, result: str) -> float:
        labels = {"cache": cache, "result": result}
        name = "clientgraph_cache_lookups_total"
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert "errors" not in known.json()
    assert (moved("parse", "miss"), moved("validation", "miss")) == (1, 1)
    assert moved("parse", "hit") >= 2 and moved("validation", "hit") >= 2
    assert (moved("persisted_query", "miss"), moved("persisted_query", "hit")) == (1, 1)


async def test_a_scrape_reads_open_commands_dead_letters_and_each_source_lag(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(table_of(Command)), [_command(i, s) for i, s in enumerate(
            ["DEAD_LETTERED", "DEAD_LETTERED", "FAILED", "ACCEPTED", "SUCCEEDED"]
        )])
        await conn.execute(insert(table_of(SyncState)).values(
            system="salesforce", object_type="account", records_applied=4,
            records_applied_total=40, last_success_at=FIRM_NOW - timedelta(seconds=90),
            last_attempt_at=FIRM_NOW - timedelta(seconds=90),
        ))
    sf = SalesforceSettings(base_url="http://sf.test")
    async with gateway(engine, salesforce=sf) as client:
        text = (await client.get("/metrics")).text

    assert value(text, "clientgraph_command_dead_letters") == 2
    assert value(text, "clientgraph_commands", status="FAILED") == 1
    assert value(text, "clientgraph_commands", status="ACCEPTED") == 1
    assert value(text, "clientgraph_command_oldest_accepted_seconds") == 600
    account = {"system": "salesforce", "object_type": "account"}
    assert value(text, "clientgraph_sync_lag_seconds", **account) == 90
    assert value(text, "clientgraph_sync_records_total", **account) == 40
    assert value(text, "clientgraph_sync_status", **account, status="ok") == 1
    never = {"system": "salesforce", "object_type": "opportunity", "status": "never"}
    assert value(text, "clientgraph_sync_status", **never) == 1
    assert value(text, "clientgraph_scrape_read_ok", part="work") == 1
    assert ("clientgraph_queue_depth", (("queue", "clientgraph:queue"),)) not in samples(text)


async def test_with_redis_the_scrape_has_each_queue_depth(engine: AsyncEngine) -> None:
    async with gateway(engine, redis_url=REDIS_URL) as client:
        text = (await client.get("/metrics")).text

    assert value(text, "clientgraph_scrape_read_ok", part="queues") == 1
    for queue in ("clientgraph:queue", "clientgraph:commands"):
        assert (value(text, "clientgraph_queue_depth", queue=queue) or 0) >= 0
        assert ("clientgraph_queue_depth", (("queue", queue),)) in samples(text)


async def test_webhook_rejects_are_counted_by_source_and_reason(firm: Firm) -> None:
    labels = {"source": "unknown", "reason": "UNKNOWN_SOURCE"}
    before = REGISTRY.get_sample_value("clientgraph_webhook_rejects_total", labels) or 0.0
    async with gateway_client(firm.url) as client:
        answer = await client.post("/webhooks/nowhere", content=b"{}")
    assert answer.status_code == 404
    after = REGISTRY.get_sample_value("clientgraph_webhook_rejects_total", labels)
    assert after == before + 1


async def test_only_operators_admins_and_the_scrape_token_may_scrape(engine: AsyncEngine) -> None:
    keys = {role: await _key(engine, role) for role in ("operator", "admin", "finance")}
    ops = OpsSettings(metrics_token="scrape-secret-0123456789")
    async with gateway(engine, auth=AuthSettings(anonymous_role=None), ops=ops) as client:
        answers = {
            who: (await client.get("/metrics", headers=_bearer(credential))).status_code
            for who, credential in [*keys.items(), ("token", "scrape-secret-0123456789"),
                                    ("wrong token", "scrape-secret-x"), ("nobody", None)]
        }
    assert answers == {
        "operator": 200, "admin": 200, "finance": 403, "token": 200, "wrong token": 401,
        "nobody": 401,
    }


async def test_the_worker_serves_its_metrics_to_the_same_credentials(engine: AsyncEngine) -> None:
    operator, finance = await _key(engine, "operator"), await _key(engine, "finance")
    settings = Settings(database_url=url_of(engine), ops=OpsSettings(metrics_token="tok-12345"))
    app = health_app([], engine, settings)
    async with http_client(app) as client:
        scraped = await client.get("/metrics", headers=_bearer(operator))
        by_token = await client.get("/metrics", headers=_bearer("tok-12345"))
        refused = await client.get("/metrics", headers=_bearer(finance))
        anonymous = await client.get("/metrics")

    assert scraped.status_code == by_token.status_code == 200
    assert "clientgraph_command_attempts_total" in scraped.text
    assert (refused.status_code, anonymous.status_code) == (403, 401)


def _bearer(credential: str | None) -> dict[str, str]:
    return {} if credential is None else {"Authorization": f"Bearer {credential}"}


async def _key(engine: AsyncEngine, role: str) -> str:
    key, _ = await api_keys.create(engine, name=f"metrics {role}", role=role, now=FIRM_NOW)
    return key


def _command(n: int, status: str) -> dict[str, Any]:
    at = FIRM_NOW - timedelta(minutes=10)
    return {
        "kind": "log_time", "status": status, "target_system": "tryton",
        "target_object": "timesheet", "idempotency_key": f"metrics-{n}", "input_hash": "x",
        "payload": "{}", "correlation_id": f"c-{n}", "attempts": 8, "created_at": at,
        "updated_at": at,
    }


async def test_rate_limit_refusals_are_counted_by_role_and_window(engine: AsyncEngine) -> None:
    labels = {"role": "admin", "window": "minute"}
    before = REGISTRY.get_sample_value("clientgraph_rate_limit_refusals_total", labels) or 0.0
    budget = RateLimitSettings(enabled=True, per_minute={"admin": 2}, burst={})
    async with edge_app(engine, rate_limit=budget) as app, http_client(app) as client:
        answers = [await client.post("/graphql", json=TYPENAME) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 429, 429]
    after = REGISTRY.get_sample_value("clientgraph_rate_limit_refusals_total", labels)
    assert after == before + 2
