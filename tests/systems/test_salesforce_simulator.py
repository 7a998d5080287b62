"""The Salesforce simulator speaks Salesforce REST: auth, SOQL paging, writes, errors, limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from readmodel.seed import SeedConfig, generate_all
from systems.salesforce.app import API, Faults, create_simulator
from systems.salesforce.store import Store, from_seed

SECRET = "test-secret"
SF = tuple[httpx.AsyncClient, Faults, Store]


def seeded_store(accounts: int = 12) -> Store:
    """The CRM half of the firm `clientgraph seed --accounts 12 --seed 3` would write."""
    return from_seed(generate_all(SeedConfig(accounts=accounts, seed=3, today=date(2026, 6, 30))))


@pytest.fixture
async def sf() -> AsyncIterator[SF]:
    store, faults = seeded_store(), Faults()
    app = create_simulator(store, client_secret=SECRET, batch_size=5, faults=faults)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sf") as client:
        token = (
            await client.post(
                "/services/oauth2/token",
                data={"grant_type": "client_credentials", "client_secret": SECRET},
            )
        ).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        yield client, faults, store


async def query(client: httpx.AsyncClient, soql: str, path: str = "query") -> list[dict]:
    records, response = [], await client.get(f"{API}/{path}", params={"q": soql})
    while True:
        body = response.json()
        assert response.status_code == 200, body
        records += body["records"]
        if body["done"]:
            return records
        response = await client.get(body["nextRecordsUrl"])


async def test_paging_returns_every_record_once_in_modstamp_order(sf: SF) -> None:
    client, _, store = sf
    records = await query(
        client, "SELECT Id, Name, SystemModstamp FROM Account ORDER BY SystemModstamp"
    )
    assert len(records) == len(store.records["Account"]) == 12
    stamps = [(r["SystemModstamp"], r["Id"]) for r in records]
    assert stamps == sorted(stamps)
    assert records[0]["attributes"]["type"] == "Account"


async def test_incremental_query_sees_an_edit_and_query_all_sees_deletes(sf: SF) -> None:
    client, _, _ = sf
    first = await query(client, "SELECT Id, SystemModstamp FROM Account ORDER BY SystemModstamp")
    cursor = first[-1]["SystemModstamp"].replace(".000+0000", "Z")
    target, gone = first[0]["Id"], first[1]["Id"]

    patched = await client.patch(f"{API}/sobjects/Account/{target}", json={"Name": "Renamed"})
    deleted = await client.delete(f"{API}/sobjects/Account/{gone}")
    soql = f"SELECT Id, Name, IsDeleted FROM Account WHERE SystemModstamp > {cursor}"

    assert patched.status_code == deleted.status_code == 204
    assert [r["Name"] for r in await query(client, soql)] == ["Renamed"]
    everything = await query(client, soql, path="queryAll")
    assert {r["Id"]: r["IsDeleted"] for r in everything} == {target: False, gone: True}


async def test_errors_come_in_salesforce_shapes(sf: SF) -> None:
    client, faults, _ = sf
    bad = await client.get(f"{API}/query", params={"q": "SELEKT Id FROM Account"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "MALFORMED_QUERY"
    unknown = await client.patch(f"{API}/sobjects/Account/nope", json={"Name": "x"})
    assert unknown.status_code == 404 and unknown.json()[0]["errorCode"] == "NOT_FOUND"

    faults.fail_next(429, "REQUEST_LIMIT_EXCEEDED", retry_after=3)
    limited = await client.get(f"{API}/query", params={"q": "SELECT Id FROM Account"})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert limited.headers["Sforce-Limit-Info"].startswith("api-usage=")

    client.headers["Authorization"] = "Bearer expired"
    expired = await client.get(f"{API}/query", params={"q": "SELECT Id FROM Account"})
    assert expired.status_code == 401 and expired.json()[0]["errorCode"] == "INVALID_SESSION_ID"


async def test_the_store_mirrors_the_seeded_crm(sf: SF) -> None:
    client, _, store = sf
    children = await query(client, "SELECT Id, ParentId FROM Account")
    assert any(r["ParentId"] in store.records["Account"] for r in children)
    deals = await query(client, "SELECT Id, AccountId, Amount, StageName FROM Opportunity")
    assert deals and all(d["AccountId"] in store.records["Account"] for d in deals)
    assert {"Closed Won"} <= {d["StageName"] for d in deals}
