"""Projects' time entries: one statement for many projects, filtered, capped per project."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.db import count_statements
from readmodel.reads.time_entries import TimeEntryQuery, time_entries_by_project
from tests.readmodel.firm_builder import FirmBuilder, build

JUNE = [date(2026, 6, day) for day in (1, 2, 3, 4)]


async def _firm(b: FirmBuilder, ids: dict[str, Any]) -> None:
    acme = await b.account("Acme")
    ada = await b.person("Ada")
    ids["busy"] = busy = await b.project(acme, "P-1", "time_and_materials")
    ids["quiet"] = quiet = await b.project(acme, "P-2", "time_and_materials")
    ids["idle"] = await b.project(acme, "P-3", "time_and_materials")
    for day, status in zip(JUNE, ("approved", "submitted", "approved", "submitted"), strict=True):
        ids[day] = await b.time(busy, ada, 800, status, work_date=day)
    ids["gone"] = await b.time(
        busy, ada, 800, "submitted", work_date=date(2026, 6, 5), deleted=True
    )
    ids["quiet_one"] = await b.time(quiet, ada, 400, "draft", work_date=JUNE[0])


async def _read(engine: AsyncEngine, ids: dict[str, Any], query: TimeEntryQuery, limit: int) -> Any:
    projects = [ids["busy"], ids["quiet"], ids["idle"]]
    async with engine.connect() as conn:
        found = await time_entries_by_project(conn, projects, query, limit=limit)
    return {key: [row.id for row in rows] for key, rows in found.items()}


async def test_newest_first_and_capped_per_project(engine: AsyncEngine) -> None:
    ids = await build(engine, _firm)
    statements = count_statements(engine)
    found = await _read(engine, ids, TimeEntryQuery(), limit=2)
    assert found == {ids["busy"]: [ids[JUNE[3]], ids[JUNE[2]]], ids["quiet"]: [ids["quiet_one"]]}
    assert len(statements) == 1


async def test_the_cap_applies_to_the_entries_that_match(engine: AsyncEngine) -> None:
    ids = await build(engine, _firm)
    approved = TimeEntryQuery(statuses=("approved",))
    assert await _read(engine, ids, approved, limit=1) == {ids["busy"]: [ids[JUNE[2]]]}
    window = TimeEntryQuery(work_from=JUNE[0], work_to=JUNE[1])
    assert await _read(engine, ids, window, limit=10) == {
        ids["busy"]: [ids[JUNE[1]], ids[JUNE[0]]],
        ids["quiet"]: [ids["quiet_one"]],
    }
