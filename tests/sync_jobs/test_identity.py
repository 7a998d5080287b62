"""Identity resolution: an ERP customer is linked to the CRM's client, never duplicated."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.db import count_statements
from readmodel.tables import (
    Account,
    AccountXref,
    IntegrationException,
    Invoice,
    SyncParked,
    table_of,
)
from sync_jobs.exceptions import ORPHAN_AFTER_ATTEMPTS
from sync_jobs.identity import Candidate, MasterIndex, normalize_domain, normalize_name
from sync_jobs.pull import Page, PullReport, pull_object
from sync_jobs.rows import CanonicalRow, Ref
from tests.sync_jobs.test_apply import NOW, T0, opportunity

XREF, EXC = table_of(AccountXref), table_of(IntegrationException)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Acme Ltd", "acme"),
        ("ACME, Inc.", "acme"),
        ("  Acme   Holdings  plc ", "acme holdings"),
        ("Müller GmbH", "muller"),
        ("Société Générale S.A.", "societe generale"),
        ("A.B.C. Corp.", "abc"),
        ("Smith & Sons LLC", "smith and sons"),
        ("Bauer GmbH & Co. KG", "bauer"),
        ("Northwind Pty Ltd", "northwind"),
        ("O'Neil Consulting", "oneil consulting"),
        ("Inc", "inc"),  # a name that is only a suffix keeps it
        ("Smith &", "smith and"),  # a trailing "and" goes only with a suffix after it
        ("", ""),
        (None, ""),
    ],
)
def test_names_normalize(raw: str | None, normal: str) -> None:
    assert normalize_name(raw) == normal


def test_a_shared_domain_is_narrowed_by_name_and_the_rule_is_named() -> None:
    # Given two master accounts on one domain (a group's subsidiaries), a third by name only
    index = MasterIndex(
        [
            Candidate(1, "001INI", "Initech Ltd", "initech.example"),
            Candidate(2, "001IDR", "Initrode", "https://initech.example"),
            Candidate(3, "001UMB", "Umbrella Corp", None),
        ]
    )

    def how(name: str | None, domain: str | None) -> tuple[str, int | None, int]:
        match = index.match(name, domain)
        return match.rule, match.account_id, len(match.candidates)

    assert how("Initrode LLC", "initech.example") == ("domain", 2, 1)
    assert how("INITECH", "www.initech.example") == ("domain", 1, 1)
    assert how("Someone Else", "initech.example") == ("domain", None, 2)  # name narrows none
    assert how("Umbrella", "umbrella.example") == ("name", 3, 1)  # an unknown domain
    assert how(None, None) == ("name", None, 0)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("acme.example", "acme.example"),
        ("https://www.Acme.example/about?x=1", "acme.example"),
        ("HTTP://acme.example:8080", "acme.example"),
        ("//www.acme.example/", "acme.example"),
        ("billing@acme.example", "acme.example"),
        ("acme.example.", "acme.example"),
        ("", ""),
        (None, ""),
    ],
)
def test_domains_normalize(raw: str | None, normal: str) -> None:
    assert normalize_domain(raw) == normal


# --- scripted sources --------------------------------------------------------------------


def crm_account(source_id: str, name: str, domain: str | None = None) -> CanonicalRow:
    values: dict[str, Any] = {
        "name": name,
        "parent_id": None,
        "industry": "Retail",
        "owner_name": None,
        "currency": "USD",
        "billing_terms_days": 30,
        "status": "active",
        "domain": domain,
    }
    return CanonicalRow("account", "salesforce", source_id, T0, values)


def customer(
    source_id: str,
    name: str,
    *,
    domain: str | None = None,
    external_id: str | None = None,
    minutes: int = 0,
) -> CanonicalRow:
    values = {"name": name, "domain": domain, "currency": "USD"}
    version = T0 + timedelta(minutes=minutes)
    return CanonicalRow("account", "netsuite", source_id, version, values, external_id=external_id)


def invoice(source_id: str, customer_id: str) -> CanonicalRow:
    values: dict[str, Any] = {
        "account_id": Ref("account", "netsuite", customer_id),
        "project_id": None,
        "number": f"INV-{source_id}",
        "currency": "USD",
        "issue_date": date(2026, 6, 1),
        "due_date": date(2026, 7, 1),
        "total_minor": 100_00,
        "balance_minor": 100_00,
        "status": "posted",
    }
    return CanonicalRow("invoice", "netsuite", source_id, T0, values)


class Feed:
    """A source that answers every pull with the same changes (checkpoints are ignored)."""

    objects: tuple[str, ...] = ("customer", "invoice", "account")

    def __init__(self, system: str, *rows: CanonicalRow) -> None:
        self.system, self.rows = system, list(rows)

    async def pull(self, object_type: str, checkpoint: str | None) -> AsyncIterator[Page]:
        if self.rows:
            yield Page(self.rows, None)


async def pull(engine: AsyncEngine, system: str, object_type: str, *rows: Any) -> PullReport:
    return await pull_object(engine, Feed(system, *rows), object_type, clock=lambda: NOW)


async def crm(engine: AsyncEngine, *rows: CanonicalRow) -> None:
    await pull(engine, "salesforce", "account", *rows)


async def links(engine: AsyncEngine) -> dict[str, str]:
    """NetSuite customer id → the Salesforce account id it is linked to."""
    a = table_of(Account)
    stmt = select(XREF.c.source_id, a.c.source_id).join(a, a.c.id == XREF.c.account_id)
    async with engine.connect() as conn:
        return {ns: sf for ns, sf in await conn.execute(stmt)}


async def open_exceptions(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(EXC).where(EXC.c.status == "open"))
        return {r.source_id: r for r in rows}


async def count(engine: AsyncEngine, model: type) -> int:
    stmt = select(func.count()).select_from(table_of(model))
    async with engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


async def given_the_crm(engine: AsyncEngine) -> None:
    await crm(
        engine,
        crm_account("001ACME", "Acme Ltd", "acme.example"),
        crm_account("001GLX1", "Globex GmbH", "globex.de"),
        crm_account("001GLX2", "Globex LLC", "globex.com"),
        crm_account("001UMB", "Umbrella Corp", "umbrella.example"),
    )


# --- matching ----------------------------------------------------------------------------


async def test_a_customer_links_by_external_id_domain_or_name(engine: AsyncEngine) -> None:
    await given_the_crm(engine)

    report = await pull(
        engine,
        "netsuite",
        "customer",
        customer("C1", "Totally Different Name", external_id="001GLX1"),
        customer("C2", "Acme Trading", domain="https://www.ACME.example/contact"),
        customer("C3", "UMBRELLA CORPORATION"),
        customer("C4", "Globex", domain="globex.com"),  # two Globexes; the domain decides
    )

    assert (report.applied, report.parked) == (4, 0)
    assert await links(engine) == {
        "C1": "001GLX1",
        "C2": "001ACME",
        "C3": "001UMB",
        "C4": "001GLX2",
    }
    assert await count(engine, Account) == 4, "no client was duplicated"
    assert await open_exceptions(engine) == {}


async def test_ambiguous_and_unmatched_customers_become_exceptions_not_clients(
    engine: AsyncEngine,
) -> None:
    await given_the_crm(engine)

    report = await pull(
        engine,
        "netsuite",
        "customer",
        customer("C4", "Globex"),  # Globex GmbH and Globex LLC
        customer("C5", "Initech", domain="initech.example"),
    )

    assert (report.applied, report.parked) == (0, 2)
    assert await count(engine, Account) == 4 and await links(engine) == {}
    found = await open_exceptions(engine)
    assert {k: v.kind for k, v in found.items()} == {
        "C4": "identity_ambiguous",
        "C5": "identity_unmatched",
    }
    details = json.loads(found["C4"].details)
    assert sorted(c["sourceId"] for c in details["candidates"]) == ["001GLX1", "001GLX2"]
    assert found["C4"].source_system == "netsuite" and found["C4"].object_type == "customer"
    assert "Globex" in found["C4"].message


async def test_a_repeat_refreshes_the_one_exception_of_a_record(engine: AsyncEngine) -> None:
    await given_the_crm(engine)
    await pull(engine, "netsuite", "customer", customer("C5", "Initech"))
    later = NOW + timedelta(hours=1)

    await pull_object(engine, Feed("netsuite"), "customer", clock=lambda: later)

    found = await open_exceptions(engine)
    assert await count(engine, IntegrationException) == 1
    assert (found["C5"].first_seen_at, found["C5"].last_seen_at) == (NOW, later)


async def test_a_waiting_customer_and_its_invoice_apply_once_the_crm_account_arrives(
    engine: AsyncEngine,
) -> None:
    first = await pull(
        engine, "netsuite", "customer", customer("C9", "Hooli Inc", external_id="001HOOLI")
    )
    second = await pull(engine, "netsuite", "invoice", invoice("INV1", "C9"))
    assert (first.parked, second.parked) == (1, 2)
    assert (await open_exceptions(engine))["C9"].kind == "identity_unmatched"
    assert await count(engine, Invoice) == 0

    await crm(engine, crm_account("001HOOLI", "Hooli", "hooli.example"))
    retry = await pull(engine, "netsuite", "invoice")  # every pull retries what is parked

    assert (retry.applied, retry.parked) == (2, 0)
    assert await links(engine) == {"C9": "001HOOLI"}
    assert await count(engine, SyncParked) == 0 and await count(engine, Account) == 1
    a, i = table_of(Account), table_of(Invoice)
    async with engine.connect() as conn:
        billed = await conn.execute(select(a.c.source_id).join(i, i.c.account_id == a.c.id))
        resolved = (await conn.execute(select(EXC))).one()
    assert billed.scalars().all() == ["001HOOLI"]
    assert (resolved.status, resolved.resolved_at) == ("resolved", NOW)


async def test_a_deleted_customer_loses_its_link(engine: AsyncEngine) -> None:
    await given_the_crm(engine)
    await pull(engine, "netsuite", "customer", customer("C1", "Umbrella", external_id="001UMB"))
    gone = T0 + timedelta(hours=1)

    await pull(
        engine,
        "netsuite",
        "customer",
        CanonicalRow("account", "netsuite", "C1", gone, deleted_at=gone),
    )

    assert await links(engine) == {}
    assert await count(engine, Account) == 4


async def test_an_older_version_never_moves_a_link(engine: AsyncEngine) -> None:
    await given_the_crm(engine)
    await pull(engine, "netsuite", "customer", customer("C1", "X", external_id="001UMB", minutes=5))
    stale = await pull(
        engine, "netsuite", "customer", customer("C1", "X", external_id="001ACME", minutes=1)
    )
    assert stale.applied == 0 and await links(engine) == {"C1": "001UMB"}


async def test_an_orphan_parked_too_long_becomes_an_exception_until_it_applies(
    engine: AsyncEngine,
) -> None:
    await pull(engine, "salesforce", "opportunity", opportunity("006X", "001LATE", T0))
    async with engine.begin() as conn:
        await conn.execute(update(table_of(SyncParked)).values(attempts=ORPHAN_AFTER_ATTEMPTS))

    await pull(engine, "salesforce", "opportunity")
    orphan = (await open_exceptions(engine))["006X"]
    assert orphan.kind == "orphaned" and "account:salesforce:001LATE" in orphan.message

    await crm(engine, crm_account("001LATE", "Late Arrival"))
    assert await open_exceptions(engine) == {}


async def test_linking_costs_the_same_statements_for_3_or_30_customers(
    engine: AsyncEngine,
) -> None:
    await crm(engine, *(crm_account(f"001N{i}", f"Client {i}") for i in range(30)))

    async def statements_for(n: int) -> int:
        rows = [customer(f"C{n}-{i}", f"Client {i} Ltd") for i in range(n)]
        seen = count_statements(engine)
        report = await pull(engine, "netsuite", f"customer{n}", *rows)
        assert report.applied == n
        return len(seen)

    assert await statements_for(3) == await statements_for(30)
