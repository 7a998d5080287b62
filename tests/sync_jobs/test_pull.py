"""The pull driver: page by page, resumable after a crash, orphans parked and never lost."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import Account, Opportunity, SyncParked, SyncState, table_of
from sync_jobs.pull import Page, pull_object
from sync_jobs.rows import CanonicalRow
from tests.sync_jobs.test_apply import NOW, T0, account, opportunity


class SourceDown(Exception):
    pass


class ScriptedSource:
    """A source whose changes are a fixed list, paged by position; it can fail on a page."""

    system = "salesforce"
    objects = ("account", "opportunity")

    def __init__(self, rows: list[CanonicalRow], page_size: int, fail_at: int | None = None):
        self.rows, self.page_size, self.fail_at = rows, page_size, fail_at
        self.asked_from: list[str | None] = []

    async def pull(self, object_type: str, checkpoint: str | None) -> AsyncIterator[Page]:
        self.asked_from.append(checkpoint)
        position = int(checkpoint or 0)
        while position < len(self.rows):
            if self.fail_at is not None and position >= self.fail_at:
                raise SourceDown("503 from the source")
            end = position + self.page_size
            yield Page(self.rows[position:end], str(min(end, len(self.rows))))
            position = end


async def count(engine: AsyncEngine, model: type) -> int:
    async with engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(table_of(model)))).scalar_one()
        )


async def state(engine: AsyncEngine) -> tuple[str | None, int, int, str | None]:
    """The account's checkpoint, rows applied by the latest pull and in total, last error."""
    t = table_of(SyncState)
    columns = (t.c.checkpoint, t.c.records_applied, t.c.records_applied_total, t.c.last_error)
    async with engine.connect() as conn:
        row = (await conn.execute(select(*columns).where(t.c.object_type == "account"))).one()
    return row.checkpoint, row.records_applied, row.records_applied_total, row.last_error


def accounts(n: int) -> list[CanonicalRow]:
    return [account(f"001{i:04d}", T0 + timedelta(seconds=i), f"Client {i}") for i in range(n)]


async def test_a_crash_between_pages_resumes_from_the_last_commit(engine: AsyncEngine) -> None:
    broken = ScriptedSource(accounts(10), page_size=3, fail_at=6)
    with pytest.raises(SourceDown):
        await pull_object(engine, broken, "account", clock=lambda: NOW)

    assert await count(engine, Account) == 6
    assert await state(engine) == ("6", 6, 6, "SourceDown: 503 from the source")

    healed = ScriptedSource(accounts(10), page_size=3)
    report = await pull_object(engine, healed, "account", clock=lambda: NOW)

    assert healed.asked_from == ["6"]
    assert (report.pages, report.applied, report.error) == (2, 4, None)
    assert await count(engine, Account) == 10
    assert await state(engine) == ("10", 4, 10, None)  # this pull applied 4, 10 in all


async def test_a_child_listed_before_its_parent_on_the_same_page_is_applied(
    engine: AsyncEngine,
) -> None:
    page = [opportunity("006A", "001P", T0), account("001P", T0)]
    report = await pull_object(engine, ScriptedSource(page, page_size=5), "mixed")
    assert (report.applied, report.parked) == (2, 0)
    assert await count(engine, SyncParked) == 0


async def test_a_second_pull_with_nothing_new_writes_nothing(engine: AsyncEngine) -> None:
    await pull_object(engine, ScriptedSource(accounts(4), page_size=2), "account")
    again = await pull_object(engine, ScriptedSource(accounts(4), page_size=2), "account")
    assert (again.pages, again.applied) == (0, 0)
    assert await state(engine) == ("4", 0, 4, None)  # the latest pull applied nothing


async def test_an_orphan_is_parked_then_applied_when_its_parent_arrives(
    engine: AsyncEngine,
) -> None:
    early = ScriptedSource([opportunity("006A", "001P", T0)], page_size=5)
    first = await pull_object(engine, early, "opportunity", clock=lambda: NOW)
    assert (first.applied, first.parked) == (0, 1)
    assert await count(engine, SyncParked) == 1 and await count(engine, Opportunity) == 0

    parent = ScriptedSource([account("001P", T0)], page_size=5)
    second = await pull_object(engine, parent, "account", clock=lambda: NOW)

    assert (second.applied, second.parked) == (2, 0)  # the parent, then the waiting child
    assert await count(engine, SyncParked) == 0 and await count(engine, Opportunity) == 1
