"""The NetSuite simulator speaks SuiteTalk REST: tokens, SuiteQL and record paging, writes,
the error envelope, faults, and a store whose stamps only move forward."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from readmodel.seed import SeedConfig, generate_all
from sync_jobs.connectors.netsuite.m2m import M2MLogin
from systems.netsuite.app import RECORDS, Simulator, create_simulator
from systems.netsuite.faults import Faults
from systems.netsuite.m2m import new_certificate
from systems.netsuite.store import Store, from_seed

SECRET = "test-secret"  # a Salesforce client secret, for tests that run both simulators
# The integration's M2M certificate, made at run time (no private key is ever committed).
CERT = new_certificate()
CERTIFICATES = {CERT.certificate_id: CERT.certificate_pem}
LOGIN = M2MLogin("clientgraph", CERT.certificate_id, CERT.private_key_pem)
SUITEQL = "/services/rest/query/v1/suiteql"
TOKEN = "/services/rest/auth/oauth2/v1/token"
TRANSIENT = {"Prefer": "transient"}


def seeded_rows(accounts: int = 10) -> dict[str, list[dict[str, Any]]]:
    """The firm `clientgraph seed --accounts 10 --seed 3` would write, as of 2026-06-30."""
    return generate_all(SeedConfig(accounts=accounts, seed=3, today=date(2026, 6, 30)))


@dataclass
class NS:
    http: httpx.AsyncClient
    faults: Faults
    store: Store
    sim: Simulator


@pytest.fixture
async def ns() -> AsyncIterator[NS]:
    store, faults = from_seed(seeded_rows()), Faults()
    app = create_simulator(store, certificates=CERTIFICATES, page_size=7, faults=faults)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ns") as c:
        c.headers["Authorization"] = f"Bearer {app.state.simulator.user_token()}"
        yield NS(c, faults, store, app.state.simulator)


def m2m_settings() -> dict[str, Any]:
    """The NetSuite settings of the integration above (spread into ``NetSuiteSettings``)."""
    return {"certificate_id": CERT.certificate_id, "private_key": SecretStr(CERT.private_key_pem)}


def decoded(response: httpx.Response) -> Any:
    return json.loads(response.text, parse_float=Decimal)


async def suiteql(http: httpx.AsyncClient, q: str, **params: Any) -> httpx.Response:
    return await http.post(SUITEQL, params=params, json={"q": q}, headers=TRANSIENT)


async def every_row(http: httpx.AsyncClient, q: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        body = decoded(await suiteql(http, q, offset=len(rows)))
        assert body["count"] == len(body["items"]) and body["offset"] == len(rows)
        rows += body["items"]
        if not body["hasMore"]:
            assert len(rows) == body["totalResults"]
            return rows


def assert_envelope(response: httpx.Response, status: int, code: str) -> None:
    body = response.json()
    assert response.status_code == body["status"] == status
    assert {"type", "title", "o:errorDetails"} <= set(body)
    assert body["o:errorDetails"][0]["o:errorCode"] == code
    assert body["o:errorDetails"][0]["detail"]


async def test_suiteql_pages_every_row_once_in_stamp_order(ns: NS) -> None:
    q = (
        "SELECT * FROM timebill WHERE lastmodifieddate >= '1970-01-01T00:00:00Z' "
        "ORDER BY lastmodifieddate, id"
    )
    first = decoded(await suiteql(ns.http, q))
    rows = await every_row(ns.http, q)

    assert first["count"] == 7 and first["hasMore"] and first["links"][1]["rel"] == "next"
    assert sorted(r["id"] for r in rows) == sorted(ns.store.records["timebill"])
    keys = [(r["lastmodifieddate"], int(r["id"])) for r in rows]
    assert keys == sorted(keys)
    assert isinstance(rows[0]["hours"], Decimal) and rows[0]["isbillable"] in ("T", "F")
    assert isinstance(rows[0]["employee"], str)  # a reference is a bare id in SuiteQL


async def test_suiteql_filters_by_stamp_and_selects_columns(ns: NS) -> None:
    stamps = sorted(r["lastModifiedDate"] for r in ns.store.rows("invoice"))
    middle = stamps[len(stamps) // 2].isoformat().replace("+00:00", "Z")
    q = f"SELECT id, lastmodifieddate FROM invoice WHERE lastmodifieddate >= '{middle}'"
    rows = await every_row(ns.http, q)
    assert len(rows) == sum(1 for s in stamps if s >= stamps[len(stamps) // 2])
    assert set(rows[0]) == {"links", "id", "lastmodifieddate"}


async def test_suiteql_filters_by_equality_and_a_reference_by_its_id(ns: NS) -> None:
    job = next(j for j in ns.store.rows("job") if j["custentity_cg_opportunity"])
    deal, engagement = job["custentity_cg_opportunity"], job["custentity_cg_engagement"]["id"]

    by_deal = await every_row(
        ns.http, f"SELECT id FROM job WHERE custentity_cg_opportunity = '{deal}' ORDER BY id"
    )
    by_ref = await every_row(
        ns.http, f"SELECT id FROM job WHERE custentity_cg_engagement = '{engagement}'"
    )

    assert job["id"] in {r["id"] for r in by_deal} & {r["id"] for r in by_ref}
    assert all(
        ns.store.records["job"][r["id"]]["custentity_cg_opportunity"] == deal for r in by_deal
    )
    unknown = await suiteql(ns.http, "SELECT id FROM job WHERE custentity_cg_nothing = 'x'")
    assert_envelope(unknown, 400, "INVALID_PARAMETER")


@pytest.mark.parametrize(
    ("q", "params"),
    [
        ("SELECT * FROM invoice WHERE total > 5", {}),
        ("DELETE FROM invoice", {}),
        ("SELECT * FROM nosuchtable", {}),
        ("SELECT id, nosuchcolumn FROM invoice", {}),
        ("SELECT * FROM invoice WHERE lastmodifieddate >= 'yesterday'", {}),
        ("SELECT * FROM invoice", {"limit": 1001}),
    ],
)
async def test_suiteql_refuses_what_it_does_not_support(
    ns: NS, q: str, params: dict[str, Any]
) -> None:
    assert_envelope(await suiteql(ns.http, q, **params), 400, "INVALID_PARAMETER")


async def test_suiteql_needs_prefer_transient(ns: NS) -> None:
    response = await ns.http.post(SUITEQL, json={"q": "SELECT * FROM invoice"})
    assert_envelope(response, 400, "INVALID_HEADER")


async def test_the_record_list_filters_by_whole_days(ns: NS) -> None:
    day = date(2026, 6, 1)
    q = 'lastModifiedDate ON_OR_AFTER "6/1/2026"'
    ids: list[str] = []
    while True:
        response = await ns.http.get(f"{RECORDS}/invoice", params={"q": q, "offset": len(ids)})
        body = response.json()
        ids += [item["id"] for item in body["items"]]
        if not body["hasMore"]:
            break
    expected = {r["id"] for r in ns.store.rows("invoice") if r["lastModifiedDate"].date() >= day}
    assert set(ids) == expected and len(ids) == len(expected) == body["totalResults"]
    bad = await ns.http.get(f"{RECORDS}/invoice", params={"q": "tranDate AFTER 2026"})
    assert_envelope(bad, 400, "INVALID_PARAMETER")


async def test_a_record_has_references_exact_numbers_and_a_utc_stamp(ns: NS) -> None:
    seeded = ns.store.rows("invoice")[0]
    body = decoded(await ns.http.get(f"{RECORDS}/invoice/{seeded['id']}"))

    assert body["id"] == seeded["id"] and body["entity"] == seeded["entity"]
    assert body["total"] == seeded["total"] and isinstance(body["total"], Decimal)
    assert body["lastModifiedDate"].endswith("Z")
    missing = await ns.http.get(f"{RECORDS}/invoice/999999")
    assert_envelope(missing, 404, "NONEXISTENT_ID")
    customer = ns.store.rows("customer")[0]
    by_eid = (await ns.http.get(f"{RECORDS}/customer/eid:{customer['externalId']}")).json()
    assert by_eid["id"] == customer["id"]


async def test_writes_move_the_stamp_and_are_heard(ns: NS) -> None:
    heard: list[tuple[str, str, str, datetime]] = []
    ns.store.listeners.append(lambda *event: heard.append(event))
    target = ns.store.rows("job")[0]
    before = target["lastModifiedDate"]

    patched = await ns.http.patch(f"{RECORDS}/job/{target['id']}", json={"companyName": "New"})
    created = await ns.http.post(
        f"{RECORDS}/customer", json={"companyName": "Fresh Co", "currency": {"id": "1"}}
    )
    upserted = await ns.http.put(f"{RECORDS}/customer/eid:SF-NEW", json={"companyName": "U"})
    again = await ns.http.put(f"{RECORDS}/customer/eid:SF-NEW", json={"companyName": "U2"})
    deleted = await ns.http.delete(f"{RECORDS}/job/{target['id']}")

    assert {r.status_code for r in (patched, created, upserted, again, deleted)} == {204}
    assert created.headers["Location"].startswith(f"http://ns{RECORDS}/customer/")
    assert target["companyName"] == "New" and target["lastModifiedDate"] > before
    assert ns.store.find_external("customer", "SF-NEW")["companyName"] == "U2"  # type: ignore[index]
    assert [(kind, change) for kind, _, change, _ in heard] == [
        ("job", "update"),
        ("customer", "create"),
        ("customer", "create"),
        ("customer", "update"),
        ("job", "delete"),
    ]
    stamps = [stamp for *_, stamp in heard]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    gone = await ns.http.get(f"{RECORDS}/job/{target['id']}")
    assert_envelope(gone, 404, "NONEXISTENT_ID")
    unknown = await ns.http.patch(f"{RECORDS}/job/{ns.store.rows('job')[0]['id']}", json={"x": 1})
    assert_envelope(unknown, 400, "USER_ERROR")


async def test_faults_limits_outages_expired_tokens_and_deletions(ns: NS) -> None:
    q = "SELECT id FROM employee"
    ns.faults.concurrency_limit(retry_after=4)
    limited = await suiteql(ns.http, q)
    assert_envelope(limited, 429, "CONCURRENCY_LIMIT_EXCEEDED")
    assert limited.headers["Retry-After"] == "4"

    ns.faults.outage(times=2)
    statuses = [(await suiteql(ns.http, q)).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]

    victim = ns.store.rows("employee")[0]["id"]
    ns.faults.delete_before_next_call("employee", victim)
    ids = {r["id"] for r in (await suiteql(ns.http, q)).json()["items"]}
    assert victim not in ids and ns.store.get("employee", victim) is None

    ns.sim.expire_tokens()
    assert_envelope(await suiteql(ns.http, q), 401, "INVALID_LOGIN")


def test_two_changes_never_share_a_stamp() -> None:
    frozen = datetime(2026, 7, 1, tzinfo=UTC)
    store = Store(now=lambda: frozen)
    first = store.create("employee", {"entityId": "A"})["lastModifiedDate"]
    second = store.create("employee", {"entityId": "B"})["lastModifiedDate"]
    assert frozen == first < second


def test_the_store_holds_the_seeded_erp_half() -> None:
    rows = seeded_rows()
    store = from_seed(rows)
    assert len(store.rows("customer")) == len(rows["account_xref"])
    assert len(store.rows("timebill")) == len(rows["time_entry"])
    assert len(store.rows("customrecord_cg_engagement")) == len(rows["engagement"])
    sf_accounts = {a["source_id"] for a in rows["account"]}
    assert {c["externalId"] for c in store.rows("customer")} <= sf_accounts
    total = sum((r["total"] for r in store.rows("invoice")), Decimal(0))
    assert total == Decimal(sum(i["total_minor"] for i in rows["invoice"])) / 100
