"""People, staffing and time through GraphQL over HTTP: team, timeEntries and node(id:)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import tables
from resolvers.ids import key_of, to_global_id
from tests.conftest import Firm, error_codes, graphql
from tests.readmodel.firm_builder import FirmBuilder, build
from tests.resolvers.commands.world import mutation, small_firm, writable_gateway

PERSON = "id name email role active weeklyCapacityHours sourceRefs { objectType sourceId }"
TEAM = f"""
query {{ projects(first: 60, filter: {{status: [ACTIVE, SETUP]}}) {{ nodes {{ id
  team {{ role scheduledHours billRate {{ amount currency }} costRate {{ amount currency }}
         startDate endDate status person {{ {PERSON} }} }} }} }} }}
"""
ENTRY = """id workDate hours billable status role billRate { amount currency } submittedAt
  sourceRefs { objectType sourceId } person { id } project { id } invoice { id }"""
TIME = f"query {{ projects(first: 60) {{ nodes {{ id timeEntries {{ {ENTRY} }} }} }} }}"


async def _children(firm: Firm, model: Any, keys: list[int], order: tuple[Any, ...]) -> dict:
    t = tables.table_of(model)
    stmt = select(t).where(t.c.project_id.in_(keys), t.c.deleted_at.is_(None)).order_by(*order)
    grouped: dict[int, list[Row[Any]]] = defaultdict(list)
    async with firm.engine.connect() as conn:
        for row in await conn.execute(stmt):
            grouped[row.project_id].append(row)
    return grouped


async def _people(firm: Firm) -> dict[int, Row[Any]]:
    async with firm.engine.connect() as conn:
        return {p.id: p for p in await conn.execute(select(tables.table_of(tables.Person)))}


def _money(value: dict[str, str]) -> tuple[int, str]:
    return int(Decimal(value["amount"]) * 100), value["currency"]


def _hundredths(value: str) -> int:
    return int(Decimal(value) * 100)


def _expected_person(p: Row[Any]) -> dict[str, Any]:
    return {
        "id": to_global_id("Person", p.id),
        "name": p.name,
        "email": p.email,
        "role": p.role,
        "active": p.active,
        "weeklyCapacityHours": f"{Decimal(p.weekly_capacity_hours_x100) / 100:.2f}",
        "sourceRefs": [{"objectType": "person", "sourceId": p.source_id}],
    }


async def _project_nodes(client: httpx.AsyncClient, query: str) -> list[dict[str, Any]]:
    body = await graphql(client, query)
    assert "errors" not in body, body
    return list(body["data"]["projects"]["nodes"])


async def test_team_is_the_projects_assignments(client: httpx.AsyncClient, firm: Firm) -> None:
    nodes = await _project_nodes(client, TEAM)
    t = tables.table_of(tables.Assignment)
    keys = [key_of(n["id"], "Project") for n in nodes]
    rows = await _children(firm, tables.Assignment, keys, (t.c.start_date, t.c.id))
    people = await _people(firm)
    assert sum(len(n["team"]) for n in nodes) > len(nodes), "the seeded teams are there"
    for node, key in zip(nodes, keys, strict=True):
        assert len(node["team"]) == len(rows[key])
        for got, row in zip(node["team"], rows[key], strict=True):
            assert (got["role"], got["status"]) == (row.role, row.status.upper())
            assert _hundredths(got["scheduledHours"]) == row.scheduled_hours_x100
            assert _money(got["billRate"]) == (row.bill_rate_minor, row.currency)
            assert _money(got["costRate"]) == (row.cost_rate_minor, row.currency)
            assert got["startDate"] == row.start_date.isoformat()
            assert got["endDate"] == (row.end_date and row.end_date.isoformat())
            assert got["person"] == _expected_person(people[row.person_id])


def _check_entry(got: dict[str, Any], row: Row[Any]) -> None:
    assert got["id"] == to_global_id("TimeEntry", row.id)
    assert (got["workDate"], got["billable"]) == (row.work_date.isoformat(), row.billable)
    assert (got["status"], got["role"]) == (row.status.upper(), row.role)
    assert _hundredths(got["hours"]) == row.hours_x100
    assert _money(got["billRate"]) == (row.bill_rate_minor, row.currency)
    submitted = got["submittedAt"] and datetime.fromisoformat(got["submittedAt"])
    assert submitted == row.submitted_at
    assert got["sourceRefs"] == [{"objectType": "time_entry", "sourceId": row.source_id}]
    assert got["person"] == {"id": to_global_id("Person", row.person_id)}
    assert got["project"] == {"id": to_global_id("Project", row.project_id)}
    invoice = row.invoice_id and {"id": to_global_id("Invoice", row.invoice_id)}
    assert got["invoice"] == invoice


async def test_time_entries_are_the_projects_time(client: httpx.AsyncClient, firm: Firm) -> None:
    nodes = await _project_nodes(client, TIME)
    t = tables.table_of(tables.TimeEntry)
    keys = [key_of(n["id"], "Project") for n in nodes]
    rows = await _children(firm, tables.TimeEntry, keys, (t.c.work_date.desc(), t.c.id.desc()))
    entries = [e for n in nodes for e in n["timeEntries"]]
    assert entries and any(e["invoice"] for e in entries) and any(e["submittedAt"] for e in entries)
    for node, key in zip(nodes, keys, strict=True):
        assert len(node["timeEntries"]) == len(rows[key])
        for got, row in zip(node["timeEntries"], rows[key], strict=True):
            _check_entry(got, row)


FILTERED = """
{ projects(first: 100) { nodes {
    all: timeEntries { id status workDate }
    pending: timeEntries(status: [SUBMITTED]) { id status workDate }
    spring: timeEntries(status: [APPROVED, INVOICED], from: "2026-03-01", to: "2026-05-31") {
      id status workDate } } } }
"""


def _spring(entry: dict[str, str]) -> bool:
    in_window = date(2026, 3, 1) <= date.fromisoformat(entry["workDate"]) <= date(2026, 5, 31)
    return in_window and entry["status"] in {"APPROVED", "INVOICED"}


async def test_status_and_work_date_filters(client: httpx.AsyncClient) -> None:
    nodes = await _project_nodes(client, FILTERED)
    for node in nodes:
        assert node["pending"] == [e for e in node["all"] if e["status"] == "SUBMITTED"]
        assert node["spring"] == [e for e in node["all"] if _spring(e)]
    assert any(n["pending"] for n in nodes) and any(n["spring"] for n in nodes)
    assert any(len(n["pending"]) < len(n["all"]) for n in nodes)


PROJECTS_WITH_PEOPLE = """{ projects(first: 20, filter: {status: [ACTIVE]}) { nodes { id
  team { person { id name role active } } timeEntries { id hours status person { id } } } } }"""
NODE = """
query($person: ID!, $entry: ID!) {
  person: node(id: $person) { __typename id ... on Person { name role active } }
  entry: node(id: $entry) { __typename id ... on TimeEntry { hours status
    person { id } project { id } } }
}
"""


async def test_node_resolves_a_person_and_a_time_entry(client: httpx.AsyncClient) -> None:
    nodes = await _project_nodes(client, PROJECTS_WITH_PEOPLE)
    project = next(p for p in nodes if p["timeEntries"])
    person, entry = project["team"][0]["person"], project["timeEntries"][0]
    body = await graphql(client, NODE, {"person": person["id"], "entry": entry["id"]})
    assert "errors" not in body, body
    assert body["data"]["person"] == {"__typename": "Person", **person}
    assert body["data"]["entry"] == {
        "__typename": "TimeEntry",
        **entry,
        "project": {"id": project["id"]},
    }


ONE_PROJECT = "{ projects(first: 1) { nodes { timeEntries(%s) { id } } } }"
BAD_FILTERS = [
    ("status: [APPROVE]", "GRAPHQL_VALIDATION_FAILED", None),
    ('from: "30/06/2026"', "GRAPHQL_VALIDATION_FAILED", None),
    ("status: []", "BAD_USER_INPUT", "status"),
    ('from: "2026-06-01", to: "2026-05-01"', "BAD_USER_INPUT", "from"),
]


@pytest.mark.parametrize(("arguments", "code", "argument"), BAD_FILTERS)
async def test_a_bad_filter_is_a_typed_error(
    client: httpx.AsyncClient, arguments: str, code: str, argument: str | None
) -> None:
    body = await graphql(client, ONE_PROJECT % arguments)
    assert error_codes(body) == [code], body
    if argument is not None:
        assert body["errors"][0]["extensions"]["argument"] == argument


@pytest.mark.parametrize("type_name", ["Person", "TimeEntry"])
async def test_an_unknown_person_or_entry_is_not_found(
    client: httpx.AsyncClient, type_name: str
) -> None:
    body = await graphql(client, f'{{ node(id: "{to_global_id(type_name, 10**9)}") {{ id }} }}')
    assert error_codes(body) == ["NOT_FOUND"] and body["data"] == {"node": None}


# --- The ids the graph gives are the ids the mutations take ---------------------------------

IDS = """{ projects(first: 10) { nodes { id code
  team { person { id } } timeEntries(status: [SUBMITTED]) { id } } } }"""


async def test_graph_ids_are_accepted_by_log_time_and_approve(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    await build(engine, lambda b, _: _staff(b, ids))
    async with writable_gateway(engine) as client:
        nodes = await _project_nodes(client, IDS)
        project = next(p for p in nodes if p["code"] == "P-1")
        log_time = {
            "projectId": project["id"],
            "personId": project["team"][0]["person"]["id"],
            "workDate": "2026-06-29",
            "hours": "7.5",
            "idempotencyKey": "log",
        }
        approve = {
            "timeEntryIds": [e["id"] for e in project["timeEntries"]],
            "idempotencyKey": "approve",
        }
        logged = await graphql(client, mutation("logTime", "LogTimeInput"), {"input": log_time})
        approved = await graphql(
            client, mutation("approveTimeEntries", "ApproveTimeEntriesInput"), {"input": approve}
        )
    assert len(approve["timeEntryIds"]) == 2
    for body, name in ((logged, "logTime"), (approved, "approveTimeEntries")):
        result = body["data"][name]
        assert (result["__typename"], result["status"]) == ("Command", "ACCEPTED"), result


async def _staff(b: FirmBuilder, ids: dict[str, Any]) -> None:
    """Ann on the NetSuite project (the writable firm has time but no assignments)."""
    await b.add(
        tables.Assignment,
        project_id=ids["project"],
        person_id=ids["ann"],
        role="consultant",
        scheduled_hours_x100=16_000,
        bill_rate_minor=15_000,
        cost_rate_minor=8_000,
        currency="EUR",
        start_date=date(2026, 6, 1),
        status="active",
    )
