"""Targeted re-reads: applied like a pulled page, in one transaction, checkpoint untouched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import Account, Contact, SyncState, table_of
from sync_jobs.errors import TransientSourceError
from sync_jobs.refresh import refresh_records
from tests.sync_jobs.connectors.salesforce.test_connector import Org, pull_all
from tests.sync_jobs.connectors.salesforce.test_fetch import open_org

EDITED_AT = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def org() -> AsyncIterator[Org]:
    async with open_org() as o:
        yield o


async def checkpoints(engine: AsyncEngine) -> dict[str, str | None]:
    t = table_of(SyncState)
    async with engine.connect() as conn:
        return dict((await conn.execute(select(t.c.object_type, t.c.checkpoint))).all())


async def live(engine: AsyncEngine, model: type) -> dict[str, str]:
    t = table_of(model)
    name = t.c.name if "name" in t.c else t.c.last_name
    async with engine.connect() as conn:
        stmt = select(t.c.source_id, name).where(t.c.deleted_at.is_(None))
        return dict((await conn.execute(stmt)).all())


async def test_a_refresh_applies_edits_and_deletes_without_moving_checkpoints(
    engine: AsyncEngine, org: Org
) -> None:
    await pull_all(engine, org)
    before = await checkpoints(engine)
    edited, gone = sorted(org.store.records["Account"])[:2]
    contact = sorted(org.store.records["Contact"])[0]
    org.store.touch("Account", edited, {"Name": "Refreshed Ltd"}, EDITED_AT)
    org.store.delete("Account", gone, EDITED_AT)
    org.store.touch("Contact", contact, {"LastName": "Adeyemi"}, EDITED_AT)

    accounts = await refresh_records(engine, org.connector, "account", [edited, gone])
    contacts = await refresh_records(engine, org.connector, "contact", [contact])
    again = await refresh_records(engine, org.connector, "account", [edited, gone])

    assert (accounts.asked, accounts.applied, accounts.skipped) == (2, 2, 0)
    assert (contacts.applied, again.applied, again.skipped) == (1, 0, 2)
    names = await live(engine, Account)
    assert names[edited] == "Refreshed Ltd" and gone not in names
    assert (await live(engine, Contact))[contact] == "Adeyemi"
    assert await checkpoints(engine) == before


async def test_a_failed_read_writes_nothing(engine: AsyncEngine, org: Org) -> None:
    await pull_all(engine, org)
    first, second = sorted(org.store.records["Account"])[:2]
    org.store.touch("Account", first, {"Name": "Never Seen"}, EDITED_AT)
    org.faults.fail_next(503, "SERVER_UNAVAILABLE", after=1)  # the second GET fails

    with pytest.raises(TransientSourceError):
        await refresh_records(engine, org.connector, "account", [first, second])

    assert "Never Seen" not in (await live(engine, Account)).values()
