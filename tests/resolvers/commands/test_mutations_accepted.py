"""Every mutation is accepted as one ACCEPTED command routed to the entity's owner."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import command_intake
from readmodel.command_log import IdempotencyKeyReused, NewCommand, input_hash
from readmodel.tables import Opportunity, table_of
from tests.conftest import FIRM_NOW, graphql
from tests.resolvers.commands.world import (
    NS,
    SF,
    command_count,
    command_id,
    command_row,
    gid,
    mutation,
    small_firm,
    writable_gateway,
)


def cases(ids: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], str, str | None, dict]]:
    """(mutation, input type, input, target system, target source id, stored payload)."""
    return [
        (
            "updateOpportunity",
            "UpdateOpportunityInput",
            {
                "opportunityId": gid("Opportunity", ids["deal"]),
                "stage": "NEGOTIATION",
                "closeDate": "2026-08-31",
                "amount": {"amount": "61000.5", "currency": "EUR"},
                "probability": 70,
            },
            SF,
            "006DEAL",
            {
                "opportunity_id": "006DEAL",
                "stage": "negotiation",
                "close_date": "2026-08-31",
                "amount": "61000.50",
                "currency": "EUR",
                "probability": "70",
            },
        ),
        (
            "markOpportunityWon",
            "MarkOpportunityWonInput",
            {"opportunityId": gid("Opportunity", ids["deal"])},
            SF,
            "006DEAL",
            {
                "opportunity_id": "006DEAL",
                "stage": "closed_won",
                "probability": "100",
                "close_date": "2026-06-30",
            },
        ),
        (
            "logTime",
            "LogTimeInput",
            {
                "projectId": gid("Project", ids["project"]),
                "personId": gid("Person", ids["ann"]),
                "workDate": "2026-06-29",
                "hours": "7.75",
                "note": "Workshop",
            },
            NS,
            None,
            {
                "project_id": "job-1",
                "person_id": "emp-7",
                "work_date": "2026-06-29",
                "hours": "7.75",
                "billable": "true",
                "currency": "EUR",
                "note": "Workshop",
            },
        ),
        (
            "approveTimeEntries",
            "ApproveTimeEntriesInput",
            {
                "timeEntryIds": [
                    gid("TimeEntry", ids["submitted"]),
                    gid("TimeEntry", ids["submitted2"]),
                ]
            },
            NS,
            None,
            {"time_entry_ids": ["tb-submitted", "tb-submitted2"]},
        ),
        (
            "completeMilestone",
            "CompleteMilestoneInput",
            {"milestoneId": gid("Milestone", ids["milestone"]), "completedOn": "2026-06-28"},
            NS,
            "task-3",
            {"milestone_id": "task-3", "completed_on": "2026-06-28"},
        ),
        (
            "submitChangeOrder",
            "SubmitChangeOrderInput",
            {
                "projectId": gid("Project", ids["project"]),
                "reason": "Extra phase",
                "budgetDelta": {"amount": "-2500", "currency": "EUR"},
                "hoursDelta": "20.5",
                "daysDelta": 14,
            },
            NS,
            None,
            {
                "project_id": "job-1",
                "budget_delta": "-2500.00",
                "currency": "EUR",
                "hours_delta": "20.50",
                "days_delta": "14",
                "reason": "Extra phase",
            },
        ),
        (
            "issueInvoice",
            "IssueInvoiceInput",
            {
                "projectId": gid("Project", ids["project"]),
                "dueDate": "2026-07-30",
                "amount": {"amount": "1200", "currency": "EUR"},
            },
            NS,
            None,
            {
                "project_id": "job-1",
                "issue_date": "2026-06-30",
                "due_date": "2026-07-30",
                "amount": "1200.00",
                "currency": "EUR",
            },
        ),
    ]


async def test_each_mutation_logs_one_accepted_command_for_the_owner(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    async with writable_gateway(engine) as client:
        for number, (name, input_type, data, system, source_id, payload) in enumerate(
            cases(ids), start=1
        ):
            key = f"k-{name}"
            body = await graphql(
                client, mutation(name, input_type), {"input": {**data, "idempotencyKey": key}}
            )

            result = body["data"][name]
            assert result["__typename"] == "Command", (name, result)
            assert (result["status"], result["targetSystem"]) == ("ACCEPTED", system), name
            assert result["idempotencyKey"] == key and result["attempts"] == 0
            row = await command_row(engine, command_id(result["id"]))
            assert json.loads(row.payload) == payload, name
            assert (row.target_source_id, row.kind) == (source_id, _snake(name))
            assert await command_count(engine) == number
            assert body["extensions"]["freshness"]["stale"] is False


async def test_the_target_is_the_record_as_the_read_model_holds_it(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    name, input_type, data, *_ = cases(ids)[4]
    async with writable_gateway(engine) as client:
        body = await graphql(
            client, mutation(name, input_type), {"input": {**data, "idempotencyKey": "t"}}
        )
    assert body["data"][name]["target"] == {
        "system": NS,
        "objectType": "milestone",
        "sourceId": "task-3",
    }


async def _sync_the_win(engine: AsyncEngine, opportunity: int) -> None:
    t = table_of(Opportunity)
    async with engine.begin() as conn:
        stmt = update(t).where(t.c.id == opportunity).values(is_closed=True, is_won=True)
        await conn.execute(stmt)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


async def test_same_key_same_input_gives_the_same_command(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    won = mutation("markOpportunityWon", "MarkOpportunityWonInput")
    data = {"opportunityId": gid("Opportunity", ids["deal"]), "idempotencyKey": "same"}
    async with writable_gateway(engine) as client:
        first = (await graphql(client, won, {"input": data}))["data"]["markOpportunityWon"]
        await _sync_the_win(engine, ids["deal"])  # a replay is recognised before validation
        again = (await graphql(client, won, {"input": data}))["data"]["markOpportunityWon"]
        other = {**data, "closeDate": "2026-06-01"}
        reused = (await graphql(client, won, {"input": other}))["data"]["markOpportunityWon"]

    assert again["id"] == first["id"]
    assert reused["__typename"] == "CommandRejected"
    assert reused["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await command_count(engine) == 1


async def test_concurrent_twins_make_one_command(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    won = mutation("markOpportunityWon", "MarkOpportunityWonInput")
    data = {"opportunityId": gid("Opportunity", ids["deal"]), "idempotencyKey": "twin"}
    async with writable_gateway(engine) as client:
        bodies = await asyncio.gather(*(graphql(client, won, {"input": data}) for _ in range(6)))

    assert len({b["data"]["markOpportunityWon"]["id"] for b in bodies}) == 1
    assert await command_count(engine) == 1


async def test_the_log_refuses_a_key_reused_with_another_input_naming_the_first_command(
    engine: AsyncEngine,
) -> None:
    """Two requests racing with one key both validate, and the log's unique key decides: the
    loser learns which command holds the key (``accept`` itself, as the loser's request
    calls it)."""
    new = NewCommand(
        kind="log_time", target_system="netsuite", target_object="time_entry",
        target_source_id=None, idempotency_key="raced", input_hash=input_hash("log_time", {}),
        payload={}, correlation_id="c1", principal_id="key:1",
    )  # fmt: skip
    first = await command_intake.accept(engine, new, now=FIRM_NOW)
    other = replace(new, input_hash=input_hash("log_time", {"hours": "1"}), correlation_id="c2")
    try:
        await command_intake.accept(engine, other, now=FIRM_NOW)
    except IdempotencyKeyReused as error:
        refused = error
    else:
        raise AssertionError("a reused key with another input was accepted")
    replayed = await command_intake.accept(engine, new, now=FIRM_NOW)

    assert first.created and not replayed.created and replayed.row.id == first.row.id
    assert refused.existing.id == first.row.id
    assert str(refused) == f"idempotency key already used by command {first.row.id}"
    assert await command_count(engine) == 1
