"""The Salesforce connector against the simulator, into the real read model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import Account, Contact, Opportunity, SyncState, table_of
from sync_jobs.connectors.salesforce.client import SalesforceClient
from sync_jobs.connectors.salesforce.connector import SalesforceConnector
from sync_jobs.errors import PermanentSourceError, QuotaExhausted, TransientSourceError
from sync_jobs.pull import pull_object
from systems.salesforce.app import API, Faults, create_simulator
from systems.salesforce.store import Store
from tests.conftest import FIRM_NOW, gateway_client, graphql
from tests.systems.test_salesforce_simulator import SECRET, seeded_store


@dataclass
class Org:
    store: Store
    faults: Faults
    connector: SalesforceConnector
    http: httpx.AsyncClient
    simulator: Any

    async def as_user(self) -> dict[str, str]:
        """A session of someone editing records in Salesforce itself."""
        token = await self.http.post(
            "http://sf.test/services/oauth2/token", data={"client_secret": SECRET}
        )
        return {"Authorization": f"Bearer {token.json()['access_token']}"}


@pytest.fixture
async def org() -> AsyncIterator[Org]:
    store, faults = seeded_store(), Faults()
    app = create_simulator(store, client_secret=SECRET, batch_size=4, faults=faults)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = SalesforceClient("http://sf.test", "clientgraph", SECRET, http)
        yield Org(store, faults, SalesforceConnector(client), http, app.state.simulator)


async def pull_all(engine: AsyncEngine, org: Org) -> int:
    applied = 0
    for object_type in org.connector.objects:
        applied += (await pull_object(engine, org.connector, object_type)).applied
    return applied


async def count(engine: AsyncEngine, model: type, *, live: bool = True) -> int:
    t = table_of(model)
    stmt = select(func.count()).select_from(t)
    if live:
        stmt = stmt.where(t.c.deleted_at.is_(None))
    async with engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


async def test_a_full_pull_mirrors_the_org(engine: AsyncEngine, org: Org) -> None:
    applied = await pull_all(engine, org)

    sizes = {t: len(org.store.records[t]) for t in ("Account", "Contact", "Opportunity")}
    assert applied == sum(sizes.values())
    assert await count(engine, Account) == sizes["Account"]
    assert await count(engine, Contact) == sizes["Contact"]
    assert await count(engine, Opportunity) == sizes["Opportunity"]
    assert await pull_all(engine, org) == 0  # nothing new: nothing written


async def test_an_edit_and_a_delete_at_the_source_arrive(engine: AsyncEngine, org: Org) -> None:
    await pull_all(engine, org)
    first, second = sorted(org.store.records["Account"])[:2]
    token = await org.as_user()
    await org.http.patch(
        f"http://sf.test{API}/sobjects/Account/{first}",
        json={"Name": "Renamed at the source"},
        headers=token,
    )
    await org.http.delete(f"http://sf.test{API}/sobjects/Account/{second}", headers=token)

    report = await pull_object(engine, org.connector, "account")

    assert report.applied == 2
    t = table_of(Account)
    async with engine.connect() as conn:
        rows = dict(
            (
                await conn.execute(select(t.c.source_id, t.c.name).where(t.c.deleted_at.is_(None)))
            ).all()
        )
    assert rows[first] == "Renamed at the source" and second not in rows


async def test_the_change_is_visible_through_graphql(engine: AsyncEngine, org: Org) -> None:
    await pull_all(engine, org)
    target = sorted(org.store.records["Account"])[0]
    org.store.touch("Account", target, {"Name": "Zephyr Renamed Ltd"}, FIRM_NOW)
    await pull_object(engine, org.connector, "account")

    async with gateway_client(str(engine.url.render_as_string(hide_password=False))) as c:
        body = await graphql(
            c,
            '{ accounts(filter: {nameContains: "zephyr renamed"}) '
            "{ nodes { name sourceRefs { system sourceId } } } }",
        )
    nodes = body["data"]["accounts"]["nodes"]
    assert [n["name"] for n in nodes] == ["Zephyr Renamed Ltd"]
    assert nodes[0]["sourceRefs"][0] == {"system": "salesforce", "sourceId": target}


async def test_an_expired_session_is_renewed_transparently(engine: AsyncEngine, org: Org) -> None:
    await pull_object(engine, org.connector, "account")
    org.simulator.expire_sessions()

    report = await pull_object(engine, org.connector, "contact")

    assert report.applied == len(org.store.records["Contact"])


async def test_a_429_mid_pull_keeps_the_pages_before_it(engine: AsyncEngine, org: Org) -> None:
    await pull_object(engine, org.connector, "account")  # authenticates
    org.faults.fail_next(429, "REQUEST_LIMIT_EXCEEDED", retry_after=7, after=1)  # page 2 fails
    with pytest.raises(TransientSourceError) as raised:
        await pull_object(engine, org.connector, "contact")

    assert raised.value.retry_after == 7
    assert await count(engine, Contact) == 4  # the first page (batch size 4) committed
    t = table_of(SyncState)
    async with engine.connect() as conn:
        last_error = (
            await conn.execute(select(t.c.last_error).where(t.c.object_type == "contact"))
        ).scalar_one()
    assert "429" in last_error
    resumed = await pull_object(engine, org.connector, "contact")
    assert await count(engine, Contact) == len(org.store.records["Contact"])
    assert resumed.error is None


async def test_quota_and_permanent_errors_are_distinct(engine: AsyncEngine, org: Org) -> None:
    org.faults.fail_next(403, "REQUEST_LIMIT_EXCEEDED")
    with pytest.raises(QuotaExhausted):
        await pull_object(engine, org.connector, "account")
    org.faults.fail_next(400, "INVALID_FIELD")
    with pytest.raises(PermanentSourceError) as raised:
        await pull_object(engine, org.connector, "account")
    assert raised.value.code == "INVALID_FIELD"
