"""POST /webhooks/hubspot: HubSpot's native webhooks, signed with X-HubSpot-Signature-v3.

The gateway runs in-process; the HubSpot simulator it re-reads from serves on a real socket.
A good delivery re-reads the deal it names; a bad signature, a stale timestamp or missing
headers are refused and record nothing (the edit they name never arrives, while a good
delivery posted after them does).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.app import create_app
from readmodel.tables import Opportunity, table_of
from sync_jobs.pull import pull_object
from sync_jobs.webhooks.hubspot_signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign_v3,
    verify_v3,
)
from sync_jobs.webhooks.signature import BadSignature, StaleTimestamp
from systems.hubspot.events import change_event
from systems.hubspot.store import Store
from tests.conftest import http_client
from tests.gateway.test_webhooks import WAIT_SECONDS, database_url, event_ids, settle
from tests.sync_jobs.connectors.hubspot.conftest import (
    HubSpot,
    hubspot_connector,
    hubspot_settings,
    serve_hubspot,
)

APP_SECRET = "hubspot-app-client-secret"
URL = "http://test/webhooks/hubspot"  # as the in-process client calls it


@dataclass
class Harness:
    client: httpx.AsyncClient
    store: Store
    engine: AsyncEngine

    async def post(
        self,
        events: Any,
        *,
        secret: str = APP_SECRET,
        age_ms: int = 0,
        drop: str = "",
        **headers: str | bytes,
    ) -> httpx.Response:
        """``events`` signed as HubSpot would; ``headers`` replace the signed ones, ``drop``
        leaves one out."""
        body = json.dumps(events).encode()
        stamp = int(time.time() * 1000) - age_ms
        signed = {
            SIGNATURE_HEADER: sign_v3(secret, "POST", URL, body, stamp),
            TIMESTAMP_HEADER: str(stamp),
        }
        # latin-1, as HTTP header bytes are read (httpx encodes str headers as ASCII only)
        sent = {
            k: v.encode("latin-1") if isinstance(v, str) else v
            for k, v in {**signed, **headers}.items()
            if k != drop
        }
        return await self.client.post("/webhooks/hubspot", content=body, headers=sent)


@pytest.fixture
async def harness(engine: AsyncEngine) -> AsyncIterator[Harness]:
    with serve_hubspot() as hubspot:
        await pull_everything(engine, hubspot)
        settings = hubspot_settings(
            hubspot.url,
            database_url=database_url(engine),
            webhook_secret=APP_SECRET,
            interval=3600,  # the start-up pull only: later edits arrive by webhook or not
        )
        started = datetime.now(UTC)
        app = create_app(settings)
        async with app.router.lifespan_context(app), http_client(app) as client:
            await settle(engine, started)
            yield Harness(client, hubspot.store, engine)


async def pull_everything(engine: AsyncEngine, hubspot: HubSpot) -> None:
    async with hubspot_connector(hubspot.url) as connector:
        for object_type in connector.objects:
            await pull_object(engine, connector, object_type, account_master="hubspot")


async def deal_name(engine: AsyncEngine, deal_id: str) -> str:
    t = table_of(Opportunity)
    async with engine.connect() as conn:
        stmt = select(t.c.name).where(t.c.source_id == deal_id)
        return str((await conn.execute(stmt)).scalar_one())


async def until_named(engine: AsyncEngine, deal_id: str, name: str) -> None:
    started = time.monotonic()
    while await deal_name(engine, deal_id) != name:
        assert time.monotonic() - started < WAIT_SECONDS, f"{deal_id} never became {name!r}"
        await asyncio.sleep(0.01)


def rename(store: Store, deal_id: str, name: str) -> dict[str, Any]:
    """A user renames a deal in HubSpot; the event HubSpot would send for it."""
    now = datetime.now(UTC)
    store.update("deals", deal_id, {"dealname": name}, now)
    return change_event("deals", deal_id, "propertyChange", now)


async def test_a_signed_event_is_accepted_and_its_deal_re_read(harness: Harness) -> None:
    deal_id = sorted(harness.store.objects["deals"])[0]
    event = rename(harness.store, deal_id, "Renamed in HubSpot")

    accepted = await harness.post([event])
    again = await harness.post([event])  # HubSpot retries until it hears a 2xx
    await until_named(harness.engine, deal_id, "Renamed in HubSpot")

    assert (accepted.status_code, accepted.json()) == (202, {"accepted": 1, "duplicates": 0})
    assert (again.status_code, again.json()) == (200, {"accepted": 0, "duplicates": 1})
    assert await event_ids(harness.engine) == [str(event["eventId"])]


REFUSED = [
    ("bad signature", {"secret": "another-apps-secret"}, 401, "BAD_SIGNATURE"),
    ("stale timestamp", {"age_ms": 6 * 60 * 1000}, 400, "STALE_TIMESTAMP"),
    ("no signature", {SIGNATURE_HEADER: ""}, 401, "BAD_SIGNATURE"),
    ("wrong object", {"kind": "ticket"}, 400, "MALFORMED_BODY"),
]


@pytest.mark.parametrize(("case", "how", "status", "code"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_a_refused_delivery_changes_nothing(
    harness: Harness, case: str, how: dict[str, Any], status: int, code: str
) -> None:
    target, control = sorted(harness.store.objects["deals"])[:2]
    before = await deal_name(harness.engine, target)
    event = rename(harness.store, target, "Must Not Arrive")
    how = dict(how)  # the parameters are shared by both backends
    if kind := how.pop("kind", None):
        event["subscriptionType"] = f"{kind}.propertyChange"

    response = await harness.post([event], **how)
    control_event = rename(harness.store, control, "Control Arrived")
    await harness.post([control_event])
    await until_named(harness.engine, control, "Control Arrived")

    assert (response.status_code, response.json()["error"]["code"]) == (status, code), case
    assert APP_SECRET not in response.text
    assert await deal_name(harness.engine, target) == before
    assert await event_ids(harness.engine) == [str(control_event["eventId"])]


MISSING = f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER}"
MALFORMED = [
    ("no signature header", {"drop": SIGNATURE_HEADER}, MISSING),
    ("no timestamp header", {"drop": TIMESTAMP_HEADER}, MISSING),
    ("a timestamp not in digits", {TIMESTAMP_HEADER: "1.767e12"}, MISSING),
    ("a timestamp in non-ASCII digits", {TIMESTAMP_HEADER: "\u00b2\u00b9"}, MISSING),  # ²¹
    (
        "an oversized signature",
        {SIGNATURE_HEADER: "A" * 129},
        "malformed HubSpot signature headers",
    ),
    ("an oversized timestamp", {TIMESTAMP_HEADER: "1" * 17}, "malformed HubSpot signature headers"),
    ("another app's signature", {"secret": "another"}, "signature does not match the request"),
]


@pytest.mark.parametrize(("case", "how", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_malformed_signature_headers_are_refused_saying_why(
    harness: Harness, case: str, how: dict[str, str], message: str
) -> None:
    """Each is a 401 that names what is wrong (never a 500 from reading a header that is not
    there or not a number); oversized headers are refused before any HMAC is computed."""
    target = sorted(harness.store.objects["deals"])[0]
    before = await deal_name(harness.engine, target)

    response = await harness.post([rename(harness.store, target, "Must Not Arrive")], **how)

    assert response.status_code == 401, (case, response.text)
    assert response.json()["error"] == {"code": "BAD_SIGNATURE", "message": message}, case
    assert await event_ids(harness.engine) == []
    assert await deal_name(harness.engine, target) == before


def test_the_signature_is_hubspots_v3_computed_independently() -> None:
    """HubSpot's recipe, written out with hmac here: a sign_v3 wrong in the same way as
    verify_v3 (the method's case, the order) would pass every round trip."""
    body, stamp, uri = b'[{"eventId": 1}]', 1_767_000_000_000, "https://h.example/w?a=1"
    text = b"POST" + uri.encode() + body + str(stamp).encode()
    expected = base64.b64encode(hmac.new(b"s", text, hashlib.sha256).digest()).decode()
    assert sign_v3("s", "post", uri, body, stamp) == expected


def test_the_signature_covers_method_uri_body_and_timestamp() -> None:
    body, stamp = b'[{"eventId": 1}]', 1_767_000_000_000
    signature = sign_v3("s", "POST", "https://h.example/webhooks/hubspot?a=1", body, stamp)
    now = datetime.fromtimestamp(stamp / 1000, UTC)
    check = {"method": "POST", "body": body, "signature": signature, "now": now}
    assert verify_v3(
        "s", uri="https://h.example/webhooks/hubspot?a=1", timestamp=str(stamp), **check
    )
    # HubSpot decodes %3A, %2F … before signing: the encoded form is the same URI
    assert verify_v3(
        "s", uri="https://h.example/webhooks/hubspot%3Fa=1", timestamp=str(stamp), **check
    )
    assert verify_v3(  # in either case
        "s", uri="https://h.example/webhooks/hubspot%3fa=1", timestamp=str(stamp), **check
    )
    for changed in ({"uri": "https://h.example/other"}, {"timestamp": str(stamp + 1)}):
        with pytest.raises(BadSignature):
            verify_v3(
                "s",
                **{
                    "uri": "https://h.example/webhooks/hubspot?a=1",
                    "timestamp": str(stamp),
                    **check,
                    **changed,
                },
            )
    with pytest.raises(BadSignature):
        verify_v3("s", uri="x", timestamp=str(stamp), **{**check, "method": "PUT"})
    with pytest.raises(BadSignature, match=r"^webhooks are not enabled for this source$"):
        verify_v3("", uri="x", timestamp=str(stamp), **check)  # no secret configured
    later = datetime.fromtimestamp(stamp / 1000 + 301, UTC)
    with pytest.raises(StaleTimestamp):
        verify_v3(
            "s",
            uri="https://h.example/webhooks/hubspot?a=1",
            timestamp=str(stamp),
            **{**check, "now": later},
        )
