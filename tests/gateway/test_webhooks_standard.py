"""POST /webhooks/{source} signed with Standard Webhooks: the ``webhook-id`` is the dedupe id.

Uses the harness of ``test_webhooks`` (the gateway in-process, the Salesforce simulator on a
socket). The deprecated ``X-Clientgraph-Signature`` scheme is covered there.
"""

from __future__ import annotations

import json
import time

import httpx

from sync_jobs.webhooks import standard
from tests.gateway.test_webhooks import (
    WHSEC,
    Harness,
    account_event,
    event_ids,
    names,
    until_named,
)


async def post(harness: Harness, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await harness.client.post("/webhooks/salesforce", content=body, headers=headers)


def signed(body: bytes, msg_id: str, secret: str = WHSEC, at: int = 0) -> dict[str, str]:
    return standard.sign(secret, msg_id, body, int(time.time()) + at)


async def test_a_delivery_is_accepted_once_by_its_webhook_id(harness: Harness) -> None:
    first, second = sorted(harness.store.records["Account"])[:2]
    harness.edit(first, "Standard Ltd")
    body = json.dumps([account_event("evt-std", first)]).encode()

    accepted = await post(harness, body, signed(body, "msg_one"))
    await until_named(harness.engine, first, "Standard Ltd")
    replayed = await post(harness, body, signed(body, "msg_one"))  # re-signed, same id
    harness.edit(second, "Second Standard")
    other = json.dumps([account_event("evt-std", second)]).encode()  # body ids do not dedupe
    next_one = await post(harness, other, signed(other, "msg_two"))
    await until_named(harness.engine, second, "Second Standard")

    assert (accepted.status_code, accepted.json()) == (202, {"accepted": 1, "duplicates": 0})
    assert (replayed.status_code, replayed.json()) == (200, {"accepted": 0, "duplicates": 1})
    assert next_one.status_code == 202
    assert await event_ids(harness.engine) == ["msg_one", "msg_two"]


async def test_refused_standard_deliveries_change_nothing(harness: Harness) -> None:
    target, control = sorted(harness.store.records["Account"])[:2]
    before = await names(harness.engine)
    harness.edit(target, "Must Not Arrive")
    body = json.dumps([account_event("evt-bad", target)]).encode()
    spoiled_id = {**signed(body, "msg_bad"), standard.ID: "msg_relabelled"}
    cases = [
        (signed(body, "msg_bad", secret="whsec_c29tZW9uZSBlbHNl"), 401, "BAD_SIGNATURE"),
        (spoiled_id, 401, "BAD_SIGNATURE"),
        (signed(body, "msg_bad", at=-3600), 400, "STALE_TIMESTAMP"),
        (signed(body, "bad id with spaces"), 400, "MALFORMED_BODY"),
        ({standard.ID: "msg_bad"}, 401, "BAD_SIGNATURE"),
    ]

    for headers, status, code in cases:
        response = await post(harness, body, headers)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)

    harness.edit(control, "Control Arrived")
    control_body = json.dumps([account_event("evt-control", control)]).encode()
    await post(harness, control_body, signed(control_body, "msg_control"))
    await until_named(harness.engine, control, "Control Arrived")
    assert await names(harness.engine) == {**before, control: "Control Arrived"}
    assert await event_ids(harness.engine) == ["msg_control"]
