"""Applying canonical rows: idempotent, version-ordered, with parents resolved by source id."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import Account, Opportunity, Person, table_of
from sync_jobs.apply import apply_rows
from sync_jobs.checkpoints import load_checkpoint, save_page
from sync_jobs.rows import CanonicalRow, Ref

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def account(source_id: str, version: datetime, name: str = "Acme Ltd") -> CanonicalRow:
    values: dict[str, Any] = {
        "name": name,
        "parent_id": None,
        "industry": "Retail",
        "owner_name": "Alex Morgan",
        "currency": "USD",
        "billing_terms_days": 30,
        "status": "active",
        "domain": "acme.example",
    }
    return CanonicalRow("account", "salesforce", source_id, version, values)


def opportunity(source_id: str, account_id: str, version: datetime) -> CanonicalRow:
    values: dict[str, Any] = {
        "account_id": Ref("account", "salesforce", account_id),
        "name": "Acme Cloud 2026",
        "stage": "proposal",
        "probability": 50,
        "amount_minor": 12_345_600,
        "currency": "USD",
        "close_date": date(2026, 9, 30),
        "owner_name": None,
        "service_line": "Cloud Migration",
        "is_won": False,
        "is_closed": False,
        "closed_at": None,
    }
    return CanonicalRow("opportunity", "salesforce", source_id, version, values)


async def names(engine: AsyncEngine) -> dict[str, tuple[str, Any]]:
    t = table_of(Account)
    async with engine.connect() as conn:
        rows = await conn.execute(select(t.c.source_id, t.c.name, t.c.deleted_at))
        return {r.source_id: (r.name, r.deleted_at) for r in rows}


async def apply(engine: AsyncEngine, *rows: CanonicalRow) -> Any:
    async with engine.begin() as conn:
        return await apply_rows(conn, list(rows), NOW)


async def test_new_rows_are_inserted_and_repeats_write_nothing(engine: AsyncEngine) -> None:
    first = await apply(engine, account("001A", T0), account("001B", T0, "Beta GmbH"))
    again = await apply(engine, account("001A", T0), account("001B", T0, "Beta GmbH"))

    assert (first.applied, first.skipped) == (2, 0)
    assert (again.applied, again.skipped) == (0, 2)
    assert await names(engine) == {"001A": ("Acme Ltd", None), "001B": ("Beta GmbH", None)}


async def test_an_older_version_never_overwrites_a_newer_one(engine: AsyncEngine) -> None:
    await apply(engine, account("001A", T0 + timedelta(hours=2), "Acme (new)"))

    late = await apply(engine, account("001A", T0, "Acme (old)"))

    assert late.applied == 0
    assert (await names(engine))["001A"][0] == "Acme (new)"


async def test_a_newer_version_with_new_content_is_applied(engine: AsyncEngine) -> None:
    await apply(engine, account("001A", T0))
    newer = await apply(engine, account("001A", T0 + timedelta(minutes=1), "Acme Renamed"))
    same_content = await apply(engine, account("001A", T0 + timedelta(minutes=2), "Acme Renamed"))

    assert newer.applied == 1 and same_content.applied == 0
    assert (await names(engine))["001A"][0] == "Acme Renamed"


async def test_parents_resolve_by_source_id_and_orphans_wait(engine: AsyncEngine) -> None:
    early = await apply(engine, opportunity("006X", "001A", T0))
    assert early.applied == 0 and [r.source_id for r in early.deferred] == ["006X"]

    await apply(engine, account("001A", T0))
    later = await apply(engine, opportunity("006X", "001A", T0))

    assert later.applied == 1 and not later.deferred
    o, a = table_of(Opportunity), table_of(Account)
    async with engine.connect() as conn:
        joined = await conn.execute(
            select(a.c.source_id, o.c.amount_minor).join(o, o.c.account_id == a.c.id)
        )
        assert joined.all() == [("001A", 12_345_600)]


async def test_deletions_tombstone_unless_a_newer_version_exists(engine: AsyncEngine) -> None:
    await apply(engine, account("001A", T0), account("001B", T0 + timedelta(hours=5)))
    gone = T0 + timedelta(hours=1)

    result = await apply(
        engine,
        CanonicalRow("account", "salesforce", "001A", gone, deleted_at=gone),
        CanonicalRow("account", "salesforce", "001B", gone, deleted_at=gone),
    )

    assert result.applied == 1
    state = await names(engine)
    assert state["001A"][1] == gone and state["001B"][1] is None


def person(system: str, source_id: str, version: datetime) -> CanonicalRow:
    values = {"name": f"{system} {source_id}", "email": None, "role": "Consultant", "active": True}
    return CanonicalRow("person", system, source_id, version, values)


async def test_a_deletion_tombstones_only_the_record_of_its_own_system(
    engine: AsyncEngine,
) -> None:
    # Given two systems whose records share a source id (ids are only unique per system)
    await apply(engine, person("netsuite", "7", T0), person("tryton", "7", T0))
    gone = T0 + timedelta(hours=1)

    result = await apply(engine, CanonicalRow("person", "tryton", "7", gone, deleted_at=gone))

    assert result.applied == 1
    t = table_of(Person)
    async with engine.connect() as conn:
        rows = await conn.execute(select(t.c.source_system, t.c.deleted_at))
        assert dict(rows.all()) == {"netsuite": None, "tryton": gone}


async def test_a_second_edit_in_the_same_second_is_applied(engine: AsyncEngine) -> None:
    """Salesforce stamps whole seconds: a workflow edit right after a save shares its stamp."""
    await apply(engine, account("001A", T0, "Acme (saved)"))

    second = await apply(engine, account("001A", T0, "Acme (workflow)"))
    repeat = await apply(engine, account("001A", T0, "Acme (workflow)"))

    assert (second.applied, repeat.applied) == (1, 0)
    assert (await names(engine))["001A"][0] == "Acme (workflow)"


async def test_a_read_taken_before_a_delete_cannot_revive_it(engine: AsyncEngine) -> None:
    await apply(engine, account("001A", T0))
    deleted = T0 + timedelta(minutes=10)
    await apply(engine, CanonicalRow("account", "salesforce", "001A", deleted, deleted_at=deleted))

    stale = await apply(engine, account("001A", T0 + timedelta(minutes=5), "Acme (stale read)"))

    assert stale.applied == 0
    assert (await names(engine))["001A"] == ("Acme Ltd", deleted)


async def test_checkpoint_commits_with_its_rows_or_not_at_all(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        result = await apply_rows(conn, [account("001A", T0)], NOW)
        await save_page(conn, "salesforce", "account", "cursor-1", result.applied, NOW)

    with pytest.raises(RuntimeError):
        async with engine.begin() as conn:
            await apply_rows(conn, [account("001B", T0)], NOW)
            await save_page(conn, "salesforce", "account", "cursor-2", 1, NOW)
            raise RuntimeError("killed between the rows and the commit")

    async with engine.connect() as conn:
        assert await load_checkpoint(conn, "salesforce", "account") == "cursor-1"
    assert set(await names(engine)) == {"001A"}


async def test_any_delivery_order_converges_to_the_newest_version(engine: AsyncEngine) -> None:
    """At-least-once, out-of-order delivery: duplicates and reorders never change the outcome."""
    import random

    versions = [account("001A", T0 + timedelta(minutes=m), f"Acme v{m}") for m in range(6)]
    rng = random.Random(2026)
    for trial in range(8):
        deliveries = versions + rng.choices(versions, k=4)  # every version once, some twice
        rng.shuffle(deliveries)
        for row in deliveries:
            await apply(engine, CanonicalRow(**{**row.__dict__, "source_id": f"001-{trial}"}))
    final = await names(engine)
    assert {name for name, _ in final.values()} == {"Acme v5"}
    assert len(final) == 8
