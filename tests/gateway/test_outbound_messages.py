"""Salesforce Outbound Messages at POST /webhooks/salesforce, end to end.

The Salesforce simulator serves its REST API on a socket (the gateway's re-reads go there)
and sends Outbound Messages through ``OutboundMessenger`` into the gateway in-process (ASGI):
an edit at the source → a SOAP message → an Ack → the record re-read into the read model.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from clientgraph.settings import SalesforceSettings, Settings, SyncSettings
from gateway.app import create_app
from systems.salesforce.app import create_simulator
from systems.salesforce.outbound import Notification, OutboundMessenger
from systems.salesforce.store import Store
from tests.conftest import http_client
from tests.gateway.test_webhooks import (
    database_url,
    event_ids,
    names,
    pull_all,
    serve_in_thread,
    settle,
    until_named,
)
from tests.sync_jobs.webhooks.test_outbound import BILLION_LAUGHS, XXE
from tests.systems.test_salesforce_simulator import SECRET, seeded_store

ORG = "00D000000000042AAA"
TOKEN = "outbound-test-token-7f3a"
ENDPOINT = f"http://gateway.test/webhooks/salesforce?token={TOKEN}"


@dataclass
class Org:
    app: Starlette
    client: httpx.AsyncClient
    store: Store
    engine: AsyncEngine

    def messenger(self, transport: httpx.AsyncBaseTransport | None = None) -> OutboundMessenger:
        """Salesforce's Outbound Message action, pointed at the gateway, subscribed to edits."""
        sender = OutboundMessenger(
            ENDPOINT,
            ORG,
            transport=transport or httpx.ASGITransport(app=self.app),
            backoff_seconds=0.05,
            max_backoff_seconds=0.2,
        )
        self.store.listeners.append(sender.listener())
        return sender

    def edit(self, account_id: str, name: str) -> None:
        self.store.touch("Account", account_id, {"Name": name}, datetime.now(UTC))

    async def post(self, body: bytes, url: str = ENDPOINT, **headers: str) -> httpx.Response:
        kind = {"Content-Type": "text/xml; charset=utf-8", **headers}
        return await self.client.post(url, content=body, headers=kind)


@pytest.fixture
async def org(engine: AsyncEngine) -> AsyncIterator[Org]:
    store = seeded_store(accounts=4)
    with serve_in_thread(create_simulator(store, client_secret=SECRET)) as simulator:
        await pull_all(engine, simulator)
        started = datetime.now(UTC)
        salesforce = SalesforceSettings(
            base_url=simulator,
            client_secret=SECRET,
            organization_id=ORG[:15],  # the 15-character form matches the 18
            outbound_message_secret=TOKEN,
        )
        settings = Settings(
            database_url=database_url(engine),
            salesforce=salesforce,
            sync=SyncSettings(interval_seconds=3600, reconcile_interval_seconds=3600),
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app), http_client(app) as client:
            await settle(engine, started)
            yield Org(app, client, store, engine)


def soap(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("text/xml")
    return response.text


async def test_an_edit_is_sent_acked_and_re_read(org: Org) -> None:
    target = sorted(org.store.records["Account"])[0]
    sender = org.messenger()

    org.edit(target, "Outbound Ltd")
    waited = await until_named(org.engine, target, "Outbound Ltd")
    await sender.drain()

    assert sender.attempts == [("200", 1)] and sender.pending == []
    assert await event_ids(org.engine) == sender.acknowledged  # the notification ids
    assert waited < 10


async def test_a_replayed_batch_is_acked_as_a_duplicate_and_changes_nothing(org: Org) -> None:
    first, second = sorted(org.store.records["Account"])[:2]
    sender = OutboundMessenger(ENDPOINT, ORG)
    batch = [Notification("04l000000000777AAA", "Account", first)]
    org.edit(first, "Once Ltd")

    accepted = await org.post(sender.message(batch))
    await until_named(org.engine, first, "Once Ltd")
    org.edit(first, "Must Not Arrive By Replay")
    replayed = await org.post(sender.message(batch))
    org.edit(second, "Control Ltd")  # a new notification after the replay goes through
    control = [Notification("04l000000000778AAA", "Account", second)]
    await org.post(sender.message(control))
    await until_named(org.engine, second, "Control Ltd")

    assert accepted.status_code == replayed.status_code == 200
    assert "<Ack>true</Ack>" in soap(accepted) and "<Ack>true</Ack>" in soap(replayed)
    assert (await names(org.engine))[first] == "Once Ltd"
    assert await event_ids(org.engine) == ["04l000000000777AAA", "04l000000000778AAA"]


async def test_refused_messages_get_a_soap_fault_and_change_nothing(org: Org) -> None:
    target = sorted(org.store.records["Account"])[0]
    before = await names(org.engine)
    org.edit(target, "Must Not Arrive")
    good = OutboundMessenger(ENDPOINT, ORG).message(
        [Notification("04l000000000900AAA", "Account", target)]
    )
    other_org = OutboundMessenger(ENDPOINT, "00D000000000099AAA").message(
        [Notification("04l000000000901AAA", "Account", target)]
    )
    cases = [
        ("no token", good, ENDPOINT.split("?")[0], 401, "BAD_SIGNATURE"),
        ("wrong token", good, ENDPOINT.replace(TOKEN, "guess"), 401, "BAD_SIGNATURE"),
        ("another org", other_org, ENDPOINT, 403, "WRONG_ORGANIZATION"),
        ("billion laughs", BILLION_LAUGHS, ENDPOINT, 400, "MALFORMED_BODY"),
        ("xxe", XXE, ENDPOINT, 400, "MALFORMED_BODY"),
        ("not xml", b"\xff\xfe<<", ENDPOINT, 400, "MALFORMED_BODY"),
        ("too large", b"<a>" + b" " * (1024 * 1024) + b"</a>", ENDPOINT, 413, "BODY_TOO_LARGE"),
    ]

    for case, body, url, status, code in cases:
        response = await org.post(body, url)
        assert response.status_code == status, (case, response.text)
        assert "<soapenv:Fault>" in soap(response) and f"{code}:" in response.text, case
        assert "Ack" not in response.text and TOKEN not in response.text, case

    assert await event_ids(org.engine) == []
    assert await names(org.engine) == before


async def test_a_json_delivery_still_takes_the_json_path(org: Org) -> None:
    response = await org.client.post(
        "/webhooks/salesforce", content=json.dumps([]), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401 and response.json()["error"]["code"] == "BAD_SIGNATURE"


class FailingFirst(httpx.AsyncBaseTransport):
    """The gateway unreachable, then answering 503, then itself: Salesforce must retry."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.calls = inner, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls == 1:
            raise httpx.ConnectError("refused", request=request)
        if self.calls == 2:
            return httpx.Response(503, text="busy")
        return await self.inner.handle_async_request(request)


@pytest.mark.slow
async def test_unacknowledged_batches_of_up_to_100_are_retried_until_acked(org: Org) -> None:
    accounts = sorted(org.store.records["Account"])
    transport = FailingFirst(httpx.ASGITransport(app=org.app))
    sender = org.messenger(transport)

    for n in range(130):  # 130 edits queued in one go: a batch of 100, then one of 30
        org.edit(accounts[n % len(accounts)], f"Edit {n:03d}")
    await sender.drain()
    for account_id in accounts:
        last = max(n for n in range(130) if accounts[n % len(accounts)] == account_id)
        await until_named(org.engine, account_id, f"Edit {last:03d}")

    answers = [answer for answer, _ in sender.attempts]
    assert answers == ["ConnectError", "503", "200", "200"]
    assert [size for _, size in sender.attempts] == [100, 100, 100, 30]
    assert len(sender.acknowledged) == len(set(sender.acknowledged)) == 130
    assert sorted(await event_ids(org.engine)) == sorted(sender.acknowledged)


async def test_no_ack_until_the_re_reads_are_queued(engine: AsyncEngine) -> None:
    """No source configured, so nothing runs jobs: a 503 fault, no Ack, no notification id
    kept (Salesforce's retry after the fix must not be taken for a duplicate)."""
    salesforce = SalesforceSettings(organization_id=ORG, outbound_message_secret=TOKEN)
    app = create_app(Settings(database_url=database_url(engine), salesforce=salesforce))
    batch = [Notification("04l000000000555AAA", "Account", "001000000000555AAA")]
    async with app.router.lifespan_context(app), http_client(app) as client:
        org = Org(app, client, Store(), engine)
        response = await org.post(OutboundMessenger(ENDPOINT, ORG).message(batch))

    assert response.status_code == 503 and "QUEUE_UNAVAILABLE" in soap(response)
    assert "Ack" not in response.text
    assert await event_ids(engine) == []
