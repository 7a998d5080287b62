"""linkIdentity / createIdentityAccount / ignoreIdentity: an operator's answer to an identity
exception, given over GraphQL, recorded (who, when, what) and applied by the record's syncs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import Account, IdentityDecision, Invoice, SyncParked, table_of
from tests.conftest import graphql
from tests.resolvers.commands.world import gid, mutation, writable_gateway
from tests.sync_jobs.test_identity import (
    count,
    customer,
    given_the_crm,
    invoice,
    links,
    open_exceptions,
    pull,
)

LINK = mutation("linkIdentity", "LinkIdentityInput")
CREATE = mutation("createIdentityAccount", "IdentityActionInput")
IGNORE = mutation("ignoreIdentity", "IdentityActionInput")
EXCEPTIONS = """query { integrationExceptions(first: 20) { nodes { id sourceId status
  candidates { accountId sourceId }
  decision { action accountId accountName decidedBy decidedRole decidedAt appliedAt commandId }
} } }"""


async def _exceptions(client: httpx.AsyncClient) -> dict[str, Any]:
    body = await graphql(client, EXCEPTIONS)
    return {n["sourceId"]: n for n in body["data"]["integrationExceptions"]["nodes"]}


async def _act(client: httpx.AsyncClient, query: str, **input: str) -> dict[str, Any]:
    body = await graphql(client, query, {"input": input})
    assert "errors" not in body, body
    return dict(next(iter(body["data"].values())))


async def _account_id(engine: AsyncEngine, source_id: str) -> str:
    a = table_of(Account)
    async with engine.connect() as conn:
        key = (await conn.execute(select(a.c.id).where(a.c.source_id == source_id))).scalar_one()
    return gid("Account", key)


async def test_a_link_is_recorded_applied_by_the_next_sync_and_holds_across_resyncs(
    engine: AsyncEngine,
) -> None:
    await given_the_crm(engine)
    await pull(engine, "netsuite", "customer", customer("C4", "Globex"))  # two Globexes
    async with writable_gateway(engine) as client:
        before = (await _exceptions(client))["C4"]
        target = next(c for c in before["candidates"] if c["sourceId"] == "001GLX2")
        linked = await _act(
            client,
            LINK,
            integrationExceptionId=before["id"],
            accountId=target["accountId"],
            idempotencyKey="link-1",
        )
        replayed = await _act(
            client,
            LINK,
            integrationExceptionId=before["id"],
            accountId=target["accountId"],
            idempotencyKey="link-1",
        )
        decided = (await _exceptions(client))["C4"]

        report = await pull(engine, "netsuite", "customer")  # retries what is parked
        applied = (await _exceptions(client))["C4"]
        # a newer version that names the other Globex by external id: the operator's link holds
        await pull(
            engine,
            "netsuite",
            "customer",
            customer("C4", "Globex", external_id="001GLX1", minutes=5),
        )

    assert (linked["kind"], linked["status"], linked["targetSystem"]) == (
        "link_identity",
        "SUCCEEDED",
        "clientgraph",
    )
    assert replayed["id"] == linked["id"]
    assert len(before["candidates"]) == 2 and before["decision"] is None
    decision = decided["decision"]
    assert (decision["action"], decision["accountId"], decision["accountName"]) == (
        "LINK",
        target["accountId"],
        "Globex LLC",
    )
    assert (decision["decidedBy"], decision["decidedRole"], decision["commandId"]) == (
        "anonymous",
        "admin",
        linked["id"],
    )
    assert decided["status"] == "OPEN" and decision["appliedAt"] is None
    assert report.applied == 1
    assert applied["status"] == "RESOLVED" and applied["decision"]["appliedAt"] is not None
    assert await links(engine) == {"C4": "001GLX2"}
    assert await open_exceptions(engine) == {}


async def test_create_makes_the_record_an_account_and_its_invoices_follow(
    engine: AsyncEngine,
) -> None:
    await given_the_crm(engine)
    initech = customer("C5", "Initech", domain="initech.io")
    initech.values["status"] = "active"  # what NetSuite's mapping gives every customer
    await pull(engine, "netsuite", "customer", initech)
    await pull(engine, "netsuite", "invoice", invoice("INV5", "C5"))
    async with writable_gateway(engine) as client:
        exception = (await _exceptions(client))["C5"]
        created = await _act(
            client, CREATE, integrationExceptionId=exception["id"], idempotencyKey="create-1"
        )
        retry = await pull(engine, "netsuite", "invoice")
        after = (await _exceptions(client))["C5"]

    assert created["kind"] == "create_identity_account"
    assert (retry.applied, retry.parked) == (2, 0)
    a, i = table_of(Account), table_of(Invoice)
    async with engine.connect() as conn:
        own = (await conn.execute(select(a).where(a.c.source_system == "netsuite"))).one()
        billed = (await conn.execute(select(i.c.account_id))).scalar_one()
    assert (own.source_id, own.name, own.domain, billed) == ("C5", "Initech", "initech.io", own.id)
    assert await links(engine) == {"C5": "C5"}  # linked to itself: one client, no duplicate
    assert after["status"] == "RESOLVED" and after["decision"]["action"] == "CREATE"


@pytest.mark.parametrize("backend", ["postgresql"])  # the SQL is the link test's
async def test_ignore_stops_parking_and_raising_and_refusals_are_typed(
    engine: AsyncEngine,
) -> None:
    await given_the_crm(engine)
    await pull(engine, "netsuite", "customer", customer("C6", "Test Customer Do Not Use"))
    later = customer("C6", "Test Customer Do Not Use", minutes=10)
    async with writable_gateway(engine) as client:
        exception = (await _exceptions(client))["C6"]
        bad_id = await _act(client, IGNORE, integrationExceptionId="nope", idempotencyKey="i-0")
        no_account = await _act(
            client,
            LINK,
            integrationExceptionId=exception["id"],
            accountId=gid("Account", 10**9),
            idempotencyKey="i-1",
        )
        ignored = await _act(
            client, IGNORE, integrationExceptionId=exception["id"], idempotencyKey="i-2"
        )
        await pull(engine, "netsuite", "customer", later)
        await pull(engine, "netsuite", "customer", later)  # and again: still nothing raised
        after = (await _exceptions(client))["C6"]
        unknown = gid("IntegrationException", 10**6)
        late = await _act(client, IGNORE, integrationExceptionId=unknown, idempotencyKey="i-3")

    assert bad_id["code"] == "VALIDATION_FAILED"
    assert no_account["code"] == "NOT_FOUND" and "accountId" in no_account["message"]
    assert late["code"] == "NOT_FOUND"
    assert ignored["kind"] == "ignore_identity"
    assert after["status"] == "RESOLVED" and after["decision"]["action"] == "IGNORE"
    assert await open_exceptions(engine) == {}
    assert await count(engine, SyncParked) == 0 and await links(engine) == {}
    d = table_of(IdentityDecision)
    async with engine.connect() as conn:
        row = (await conn.execute(select(d))).one()
    assert (row.action, row.decided_by, row.applied_at is not None) == ("ignore", "anonymous", True)
