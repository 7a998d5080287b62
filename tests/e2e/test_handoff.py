# ruff: noqa: F811 - `sources` is the simulators' fixture, imported, and each test's argument
"""The handoff through the graph: win with data over HTTP, see what is missing and who owns
it, resume, follow the steps to a project, read the KPIs; list fields stay N+1-free.

The simulators stand behind the write path; the test plays the worker (``drive``), as the
other write-path end-to-end tests do, while the gateway sees everything through the database.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from readmodel.db import count_statements
from readmodel.tables import Opportunity, table_of
from readmodel.types import utcnow
from sync_jobs.handoff import state
from sync_jobs.handoff.orchestrator import advance
from tests.conftest import graphql, http_client
from tests.resolvers.commands.world import command_id, gid, mutation, writable_app
from tests.sync_jobs.commands.conftest import (
    run_to_the_end,
    sources,  # noqa: F401 - the fixture
)
from tests.sync_jobs.handoff.conftest import Sources, drive, handoff_of, open_deal

WON = mutation("markOpportunityWon", "MarkOpportunityWonInput")
RESUME = mutation("resumeHandoff", "ResumeHandoffInput")
HANDOFF = """
  id status readinessScore missing trigger manualIntervention projectSourceId
  issues { field owner }
  steps { name status attempt startedAt completedAt error { code } command { kind status } }
"""
BY_DEAL = f"query($id: ID!) {{ opportunity(id: $id) {{ handoff {{ {HANDOFF} }} }} }}"
BY_ID = f"query($id: ID!) {{ handoff(id: $id) {{ {HANDOFF} }} }}"
QUEUE = f"""query($first: Int!) {{ handoffs(first: $first) {{ {HANDOFF}
  project {{ code }} opportunity {{ name projects {{ code }} }} }} }}"""
DELIVERED = """query($id: ID!) { handoff(id: $id) {
  projectSourceId project { code sourceRefs { sourceId } engagement { name }
                            budget { amount currency } }
  opportunity { projects { code } } } }"""
KPIS = """query($start: Date!, $end: Date!) { portfolio(periodStart: $start, periodEnd: $end) {
  handoffs { completed withoutIntervention shareWithoutIntervention averageSetupCycleHours } } }"""


async def _deal_key(sources: Sources, deal: dict[str, Any]) -> int:
    """The read model's id of a generated deal (ids are assigned by the pull)."""
    o = table_of(Opportunity).c
    async with sources.engine.connect() as conn:
        stmt = select(o.id).where(o.source_id == deal["source_id"])
        return int((await conn.execute(stmt)).scalar_one())


async def _deal_gid(sources: Sources, deal: dict[str, Any]) -> str:
    return gid("Opportunity", await _deal_key(sources, deal))


async def _win(client: httpx.AsyncClient, deal_id: str, data: dict[str, Any]) -> int:
    body = await graphql(
        client, WON, {"input": {"opportunityId": deal_id, "idempotencyKey": deal_id, **data}}
    )
    result = body["data"]["markOpportunityWon"]
    assert result["__typename"] == "Command", result
    return command_id(result["id"])


async def test_win_wait_resume_complete_over_the_graph(sources: Sources) -> None:
    deal = open_deal(sources)
    deal_id = await _deal_gid(sources, deal)
    sold = f"{deal['amount_minor'] / 100:.2f}"
    async with writable_app(sources.engine) as app, http_client(app) as client:
        won = await _win(
            client,
            deal_id,
            {"handoff": {"billingMethod": "MILESTONE", "startDate": "2026-07-06"}},
        )
        await run_to_the_end(sources, won)  # the worker: Salesforce, then the handoff opens

        waiting = (await graphql(client, BY_DEAL, {"id": deal_id}))["data"]["opportunity"]
        found = waiting["handoff"]
        assert (found["status"], found["readinessScore"], found["trigger"]) == (
            "WAITING_FOR_DATA",
            86,
            "mutation",
        )
        assert found["missing"] == [
            "milestones: milestone billing needs milestones (owner: Sales (opportunity owner: "
            f"{deal['owner_name']}))"
        ]
        assert [s["status"] for s in found["steps"]] == ["PENDING"] * 5
        queue = (await graphql(client, QUEUE, {"first": 10}))["data"]["handoffs"]
        assert [h["id"] for h in queue] == [found["id"]]

        milestone = {"name": "Go-live", "dueDate": "2026-09-30"}
        milestone["amount"] = {"amount": sold, "currency": deal["currency"]}  # type: ignore[assignment]
        data = {"handoffId": found["id"], "idempotencyKey": "resume-1"}
        data["data"] = {"milestones": [milestone]}  # type: ignore[assignment]
        resumed = (await graphql(client, RESUME, {"input": data}))["data"]["resumeHandoff"]
        assert (resumed["kind"], resumed["status"]) == ("resume_handoff", "SUCCEEDED")

        assert await drive(sources, await handoff_of(sources, deal["source_id"])) == "COMPLETED"
        done = (await graphql(client, BY_ID, {"id": found["id"]}))["data"]["handoff"]
        assert done["status"] == "COMPLETED" and done["projectSourceId"]
        assert [s["command"]["status"] for s in done["steps"]] == ["SUCCEEDED"] * 5
        delivered = (await graphql(client, DELIVERED, {"id": found["id"]}))["data"]["handoff"]
        project = delivered["project"]  # the deal had no engagement: the handoff made one
        assert project["sourceRefs"][0]["sourceId"] == delivered["projectSourceId"]
        assert project["engagement"] is not None
        assert project["budget"] == {"amount": sold, "currency": deal["currency"]}
        assert delivered["opportunity"]["projects"] == [{"code": project["code"]}]
        today = utcnow().date().isoformat()
        kpis = await graphql(client, KPIS, {"start": today, "end": today})
        figures = kpis["data"]["portfolio"]["handoffs"]
        assert (figures["completed"], figures["withoutIntervention"]) == (1, 0)
        assert figures["shareWithoutIntervention"] == 0.0
        assert figures["averageSetupCycleHours"] is not None


async def test_the_exception_queue_costs_the_same_statements_for_1_and_3(sources: Sources) -> None:
    deals = [o for o in sources.rows["opportunity"] if not o["is_closed"]][:3]
    for deal in deals:  # won, no billing data: three handoffs waiting
        key = await _deal_key(sources, deal)
        handoff_id, _ = await state.open_handoff(
            sources.engine, key, trigger="sync", won_at=utcnow(), inputs=None, now=utcnow()
        )
        await advance(sources.engine, handoff_id, utcnow())
    async with writable_app(sources.engine) as app, http_client(app) as client:
        counts = []
        for first in (1, 3):
            seen = count_statements(app.state.engine)
            body = await graphql(client, QUEUE, {"first": first})
            assert len(body["data"]["handoffs"]) == first, body
            counts.append(len(seen))
    assert counts[0] == counts[1], counts


RETRY = mutation("retryHandoffStep", "RetryHandoffStepInput")
CANCEL = mutation("cancelHandoff", "CancelHandoffInput")


async def test_operators_actions_are_typed_and_replay_safe(sources: Sources) -> None:
    deal = open_deal(sources)
    key = await _deal_key(sources, deal)
    handoff_id, _ = await state.open_handoff(
        sources.engine, key, trigger="sync", won_at=utcnow(), inputs=None, now=utcnow()
    )
    await advance(sources.engine, handoff_id, utcnow())  # waiting for data
    hid = (await graphql_handoff_id(sources, deal))["id"]
    async with writable_app(sources.engine) as app, http_client(app) as client:
        retry = {"handoffId": hid, "step": "create_project", "idempotencyKey": "r1"}
        refused = (await graphql(client, RETRY, {"input": retry}))["data"]["retryHandoffStep"]
        assert (refused["__typename"], refused["code"]) == ("CommandRejected", "INVALID_TRANSITION")

        cancel = {"handoffId": hid, "idempotencyKey": "c1"}
        first = (await graphql(client, CANCEL, {"input": cancel}))["data"]["cancelHandoff"]
        again = (await graphql(client, CANCEL, {"input": cancel}))["data"]["cancelHandoff"]
        assert first["id"] == again["id"] and first["kind"] == "cancel_handoff"
        status = (await graphql(client, BY_ID, {"id": hid}))["data"]["handoff"]["status"]
        assert status == "CANCELLED"
        bad = await graphql(client, BY_ID, {"id": gid("Opportunity", key)})
        assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def graphql_handoff_id(sources: Sources, deal: dict[str, Any]) -> dict[str, Any]:
    """The handoff of ``deal`` as the graph names it."""
    async with writable_app(sources.engine) as app, http_client(app) as client:
        body = await graphql(client, BY_DEAL, {"id": await _deal_gid(sources, deal)})
    return dict(body["data"]["opportunity"]["handoff"])


async def test_bad_handoff_data_is_refused_field_by_field(sources: Sources) -> None:
    deal = open_deal(sources)
    milestone = {"name": "Go-live", "dueDate": "2026-09-30"}
    milestone["amount"] = {"amount": "1.001", "currency": "JPY"}  # type: ignore[assignment]
    data = {"opportunityId": await _deal_gid(sources, deal), "idempotencyKey": "bad-1"}
    data["handoff"] = {"startDate": "2026-07-01", "milestones": [milestone]}  # type: ignore[assignment]
    unreadable = {**data, "handoff": {"startDate": "soon", "milestones": [milestone]}}
    async with writable_app(sources.engine) as app, http_client(app) as client:
        body = await graphql(client, WON, {"input": data})
        not_a_date = await graphql(client, WON, {"input": unreadable})
    refused = body["data"]["markOpportunityWon"]
    assert refused["code"] == "VALIDATION_FAILED"
    assert {f["field"] for f in refused["fields"]} == {
        "handoff.milestones[0].amount.amount",
        "handoff.milestones[0].amount.currency",
    }
    # a value the Date scalar cannot read is refused before the mutation runs
    assert not_a_date.get("data") is None
    assert [e["extensions"]["code"] for e in not_a_date["errors"]] == ["BAD_USER_INPUT"]
