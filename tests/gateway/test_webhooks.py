"""POST /webhooks/{source} over HTTP: refusals change nothing; accepted events re-read.

The gateway runs in-process (ASGI, with its lifespan); the Salesforce simulator it re-reads
from serves on a real socket, because the gateway's jobs reach sources by their base URL.
Every refusal is checked the same way: no ``webhook_event`` row, and the record it names,
which was edited at the source, is unchanged in the read model, even after a good delivery
posted afterwards has been fully processed (so a wrongly accepted one would have landed).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from clientgraph.settings import SalesforceSettings, Settings, SyncSettings
from gateway.app import create_app
from gateway.webhooks import MAX_BODY_BYTES
from readmodel.tables import Account, SyncState, WebhookEvent, table_of
from sync_jobs.connectors.salesforce.client import SalesforceClient
from sync_jobs.connectors.salesforce.connector import SalesforceConnector
from sync_jobs.pull import pull_object
from sync_jobs.webhooks.signature import HEADER, sign
from systems.salesforce.app import create_simulator
from systems.salesforce.cdc import change_event
from systems.salesforce.store import Store
from tests.conftest import http_client
from tests.e2e.test_cli import _free_port
from tests.systems.test_salesforce_simulator import SECRET, seeded_store

WHSEC = "whsec-gateway-test"
WAIT_SECONDS = 30.0  # a deadline for conditions, generous for a loaded machine


@contextmanager
def serve_in_thread(app: Starlette, port: int | None = None) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a local port (free if not given) in a thread; yield its
    base URL. The lifespan runs in the server's own thread and event loop."""
    port = port or _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def database_url(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


def gateway_settings(engine: AsyncEngine, simulator: str) -> Settings:
    """Salesforce configured, webhooks on; scheduled pulls once at start, then rarely."""
    return Settings(
        database_url=database_url(engine),
        salesforce=SalesforceSettings(
            base_url=simulator, client_secret=SECRET, webhook_secret=WHSEC
        ),
        sync=SyncSettings(interval_seconds=3600, reconcile_interval_seconds=3600),
    )


async def pull_all(engine: AsyncEngine, simulator: str) -> None:
    async with httpx.AsyncClient() as http:
        connector = SalesforceConnector(SalesforceClient(simulator, "cg", SECRET, http))
        for object_type in connector.objects:
            await pull_object(engine, connector, object_type)


async def settle(engine: AsyncEngine, since: datetime) -> None:
    """Wait for the gateway's start-up pull (if its lifespan schedules one) to finish, so a
    change made afterwards can only arrive through a webhook."""
    t = table_of(SyncState)
    stmt = select(t.c.last_success_at).where(t.c.object_type == "opportunity")
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        async with engine.connect() as conn:
            done = (await conn.execute(stmt)).scalar_one_or_none()
        if done is not None and done >= since:
            return
        await asyncio.sleep(0.02)


async def names(engine: AsyncEngine) -> dict[str, str]:
    t = table_of(Account)
    async with engine.connect() as conn:
        return dict((await conn.execute(select(t.c.source_id, t.c.name))).all())


async def event_ids(engine: AsyncEngine) -> list[str]:
    t = table_of(WebhookEvent)
    async with engine.connect() as conn:
        return list((await conn.execute(select(t.c.event_id).order_by(t.c.id))).scalars())


async def checkpoint(engine: AsyncEngine, object_type: str) -> str | None:
    t = table_of(SyncState)
    async with engine.connect() as conn:
        stmt = select(t.c.checkpoint).where(t.c.object_type == object_type)
        return (await conn.execute(stmt)).scalar_one_or_none()


async def until_named(engine: AsyncEngine, source_id: str, name: str) -> float:
    """Seconds until the read model shows ``name`` for account ``source_id``."""
    started = time.monotonic()
    while (await names(engine)).get(source_id) != name:
        assert time.monotonic() - started < WAIT_SECONDS, f"{source_id} never became {name!r}"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


@dataclass
class Harness:
    client: httpx.AsyncClient
    store: Store
    engine: AsyncEngine

    def edit(self, account_id: str, name: str) -> None:
        """A user edit in Salesforce, which publishes nothing by itself here."""
        self.store.touch("Account", account_id, {"Name": name}, datetime.now(UTC))

    async def post(
        self, events: Any, *, secret: str = WHSEC, at: float | None = None, **headers: str
    ) -> httpx.Response:
        body = json.dumps(events).encode()
        stamp = sign(secret, body, int(time.time() if at is None else at))
        return await self.client.post(
            "/webhooks/salesforce", content=body, headers={HEADER: stamp, **headers}
        )


@pytest.fixture
async def harness(engine: AsyncEngine) -> AsyncIterator[Harness]:
    store = seeded_store(accounts=4)
    with serve_in_thread(create_simulator(store, client_secret=SECRET)) as simulator:
        await pull_all(engine, simulator)
        started = datetime.now(UTC)
        app = create_app(gateway_settings(engine, simulator))
        async with app.router.lifespan_context(app), http_client(app) as client:
            await settle(engine, started)
            yield Harness(client, store, engine)


def account_event(event_id: str, *ids: str) -> dict[str, Any]:
    return {
        **change_event("Account", ids[0], "UPDATE", datetime.now(UTC)),
        "eventId": event_id,
        "recordIds": list(ids),
    }


async def test_accepted_events_re_read_and_redeliveries_are_duplicates(harness: Harness) -> None:
    first, second = sorted(harness.store.records["Account"])[:2]
    before = await checkpoint(harness.engine, "account")
    harness.edit(first, "Hooked Ltd")

    accepted = await harness.post([account_event("evt-a", first)])
    await until_named(harness.engine, first, "Hooked Ltd")
    again = await harness.post([account_event("evt-a", first)])
    harness.edit(second, "Second Edit plc")
    mixed = await harness.post(
        [
            account_event("evt-a", first),
            account_event("evt-b", second),
            account_event("evt-b", second),
        ]
    )
    await until_named(harness.engine, second, "Second Edit plc")

    assert (accepted.status_code, accepted.json()) == (202, {"accepted": 1, "duplicates": 0})
    assert (again.status_code, again.json()) == (200, {"accepted": 0, "duplicates": 1})
    assert (mixed.status_code, mixed.json()) == (202, {"accepted": 1, "duplicates": 2})
    assert await event_ids(harness.engine) == ["evt-a", "evt-b"]
    assert await checkpoint(harness.engine, "account") == before  # re-reads, not a pull


REFUSALS: list[tuple[str, dict[str, Any], int, str]] = [
    ("no signature", {"header": None}, 401, "BAD_SIGNATURE"),
    ("wrong secret", {"secret": "not-the-secret"}, 401, "BAD_SIGNATURE"),
    ("tampered body", {"tamper": True}, 401, "BAD_SIGNATURE"),
    ("malformed header", {"header": "t=now,v1=zz"}, 401, "BAD_SIGNATURE"),
    ("non-ASCII signature", {"header": b"t=1,v1=\xe9"}, 401, "BAD_SIGNATURE"),
    ("stale timestamp", {"at": -3600}, 400, "STALE_TIMESTAMP"),
    ("future timestamp", {"at": 3600}, 400, "STALE_TIMESTAMP"),
    ("not JSON", {"raw": b"{nope"}, 400, "MALFORMED_BODY"),
    ("wrong shape", {"raw": b'{"eventId": "evt-bad"}'}, 400, "MALFORMED_BODY"),
    ("too large", {"raw": b"[" + b" " * (1024 * 1024) + b"]"}, 413, "BODY_TOO_LARGE"),
    ("unknown source", {"source": "sugarcrm"}, 404, "UNKNOWN_SOURCE"),
    ("no webhooks (polled)", {"source": "tryton"}, 404, "UNKNOWN_SOURCE"),
    ("no secret configured", {"source": "netsuite", "secret": ""}, 401, "BAD_SIGNATURE"),
]


async def refused(harness: Harness, target: str, how: dict[str, Any]) -> httpx.Response:
    """A delivery naming ``target``, spoiled as ``how`` says."""
    body = how.get("raw") or json.dumps([account_event("evt-bad", target)]).encode()
    at = int(time.time()) + how.get("at", 0)
    header = how["header"] if "header" in how else sign(how.get("secret", WHSEC), body, at)
    if how.get("tamper"):
        body = body.replace(b"evt-bad", b"evt-bae")
    headers = {} if header is None else {HEADER: header}
    path = f"/webhooks/{how.get('source', 'salesforce')}"
    return await harness.client.post(path, content=body, headers=headers)


def counted_as(source: str) -> str:
    """The ``source`` label of ``clientgraph_webhook_rejects_total`` (docs/operations.md)."""
    return source if source in ("salesforce", "hubspot", "netsuite") else "unknown"


def rejects(labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value("clientgraph_webhook_rejects_total", labels) or 0.0


async def test_a_refused_delivery_changes_nothing(harness: Harness) -> None:
    target, control = sorted(harness.store.records["Account"])[:2]
    before = await names(harness.engine)
    harness.edit(target, "Must Not Arrive")

    for case, how, status, code in REFUSALS:
        labels = {"source": counted_as(how.get("source", "salesforce")), "reason": code}
        before_count = rejects(labels)
        response = await refused(harness, target, how)
        assert response.status_code == status, (case, response.text)
        assert response.json()["error"]["code"] == code, case
        assert WHSEC not in response.text
        assert rejects(labels) == before_count + 1, case  # the source's own count

    harness.edit(control, "Control Arrived")  # a good delivery after the bad ones
    await harness.post([account_event("evt-control", control)])
    await until_named(harness.engine, control, "Control Arrived")
    assert await names(harness.engine) == {**before, control: "Control Arrived"}
    assert await event_ids(harness.engine) == ["evt-control"]


async def chunked(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """``body`` as a stream: httpx sends it chunked, without a Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_a_delivery_is_read_up_to_its_limit_with_or_without_content_length(
    harness: Harness,
) -> None:
    """A small body streamed without Content-Length is read and accepted (not a 500 from the
    missing header); a body of exactly the limit is accepted both declared and streamed (a
    redelivery the second time); one byte more, streamed, is cut off with a 413."""
    first, second = sorted(harness.store.records["Account"])[:2]
    harness.edit(first, "Streamed Ltd")
    harness.edit(second, "At The Limit plc")
    small = json.dumps([account_event("evt-chunked", first)]).encode()
    event = json.dumps([account_event("evt-limit", second)]).encode()
    at_limit = event[:-1] + b" " * (MAX_BODY_BYTES - len(event)) + b"]"
    over = at_limit[:-1] + b" ]"
    now = int(time.time())

    async def post(body: bytes, stream: bool) -> httpx.Response:
        content = chunked(body) if stream else body
        headers = {HEADER: sign(WHSEC, body, now)}
        return await harness.client.post("/webhooks/salesforce", content=content, headers=headers)

    answers = [
        await post(small, stream=True),
        await post(at_limit, stream=False),
        await post(at_limit, stream=True),
        await post(over, stream=True),
    ]
    await until_named(harness.engine, first, "Streamed Ltd")
    await until_named(harness.engine, second, "At The Limit plc")

    assert len(at_limit) == MAX_BODY_BYTES
    assert [(a.status_code, a.json()) for a in answers[:3]] == [
        (202, {"accepted": 1, "duplicates": 0}),
        (202, {"accepted": 1, "duplicates": 0}),
        (200, {"accepted": 0, "duplicates": 1}),
    ]
    assert (answers[3].status_code, answers[3].json()["error"]["code"]) == (413, "BODY_TOO_LARGE")
    assert await event_ids(harness.engine) == ["evt-chunked", "evt-limit"]


async def test_events_that_cannot_be_queued_are_forgotten_so_a_retry_is_accepted(
    engine: AsyncEngine,
) -> None:
    """No source configured: nothing runs jobs, so the gateway answers 503 and keeps no
    event id of its own (a retry after the fix must not be taken for a duplicate); another
    source's event of the same id stays recorded (dedupe is per source)."""
    settings = Settings(
        database_url=database_url(engine), salesforce=SalesforceSettings(webhook_secret=WHSEC)
    )
    app = create_app(settings)
    labels = {"source": "salesforce", "reason": "QUEUE_UNAVAILABLE"}
    before = rejects(labels)
    async with engine.begin() as conn:  # HubSpot's event of the same id, accepted before
        row = {"source_system": "hubspot", "event_id": "evt-q", "received_at": datetime.now(UTC)}
        await conn.execute(table_of(WebhookEvent).insert().values(row))
    async with app.router.lifespan_context(app), http_client(app) as client:
        harness = Harness(client, Store(), engine)
        response = await harness.post([account_event("evt-q", "001Q")])
    assert response.status_code == 503
    assert response.json()["error"] == {
        "code": "QUEUE_UNAVAILABLE",
        "message": "re-reads could not be queued; retry later",
    }
    assert rejects(labels) == before + 1
    assert await event_ids(engine) == ["evt-q"]  # HubSpot's, not forgotten with Salesforce's
