"""Refused mutations answer CommandRejected with a code and per-field messages, and log nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import error_codes, graphql
from tests.resolvers.commands.world import (
    command_count,
    gid,
    mutation,
    small_firm,
    writable_gateway,
)

UPDATE = mutation("updateOpportunity", "UpdateOpportunityInput")
LOG_TIME = mutation("logTime", "LogTimeInput")


def _time(ids: dict[str, Any], **changes: Any) -> dict[str, Any]:
    base = {
        "projectId": gid("Project", ids["project"]),
        "personId": gid("Person", ids["ann"]),
        "workDate": "2026-06-29",
        "hours": "8",
        "idempotencyKey": "t-1",
    }
    return {**base, **changes}


def _fields(result: dict[str, Any]) -> dict[str, str]:
    return {f["field"]: f["message"] for f in result["fields"]}


async def test_every_bad_field_is_named_and_no_command_is_logged(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    deal = gid("Opportunity", ids["deal"])
    async with writable_gateway(engine) as client:
        body = await graphql(
            client,
            UPDATE,
            {
                "input": {
                    "opportunityId": deal,
                    "idempotencyKey": "u-1",
                    "probability": 140,
                    "stage": "CLOSED_WON",
                }
            },
        )
        money = await graphql(
            client,
            UPDATE,
            {
                "input": {
                    "opportunityId": deal,
                    "idempotencyKey": "u-2",
                    "amount": {"amount": "-5.001", "currency": "USD"},
                }
            },
        )
        hours = await graphql(
            client,
            LOG_TIME,
            {"input": _time(ids, hours="7.1", personId=gid("Project", 1))},
        )
        # a value the Date scalar cannot read is refused before the mutation runs
        unreadable = await graphql(client, LOG_TIME, {"input": _time(ids, workDate="2026-13-01")})
        too_long = await graphql(client, LOG_TIME, {"input": _time(ids, hours="24.25")})
        huge_hours = await graphql(client, LOG_TIME, {"input": _time(ids, hours="1E+30")})
        squat = await graphql(
            client, LOG_TIME, {"input": _time(ids, idempotencyKey="handoff-7-create_project-1")}
        )
        huge_money = await graphql(
            client,
            UPDATE,
            {
                "input": {
                    "opportunityId": deal,
                    "idempotencyKey": "u-3",
                    "amount": {"amount": "1E+30", "currency": "USD"},
                }
            },
        )

    result = body["data"]["updateOpportunity"]
    assert result["code"] == "VALIDATION_FAILED"
    assert set(_fields(result)) == {"probability", "stage"}
    assert set(_fields(money["data"]["updateOpportunity"])) == {"amount.amount", "amount.currency"}
    assert set(_fields(hours["data"]["logTime"])) == {"hours", "personId"}
    assert unreadable.get("data") is None
    assert error_codes(unreadable) == ["BAD_USER_INPUT"]
    assert ".workDate" in unreadable["errors"][0]["message"]
    assert "quarter hours" in _fields(hours["data"]["logTime"])["hours"]
    assert "0.25 to 24" in _fields(too_long["data"]["logTime"])["hours"]
    # numbers past Decimal's working precision are refused as input, never an internal error
    assert set(_fields(huge_hours["data"]["logTime"])) == {"hours"}
    assert "less than" in _fields(huge_money["data"]["updateOpportunity"])["amount.amount"]
    # the keys the handoff gives its own steps cannot be taken by a client
    assert set(_fields(squat["data"]["logTime"])) == {"idempotencyKey"}
    assert await command_count(engine) == 0


async def test_state_rules_use_the_read_model(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    async with writable_gateway(engine) as client:
        won = await graphql(
            client,
            mutation("markOpportunityWon", "MarkOpportunityWonInput"),
            {"input": {"opportunityId": gid("Opportunity", ids["won"]), "idempotencyKey": "w"}},
        )
        approve = await graphql(
            client,
            mutation("approveTimeEntries", "ApproveTimeEntriesInput"),
            {
                "input": {
                    "idempotencyKey": "a",
                    "timeEntryIds": [
                        gid("TimeEntry", ids["submitted"]),
                        gid("TimeEntry", ids["approved"]),
                    ],
                }
            },
        )
        issue = await graphql(
            client,
            mutation("issueInvoice", "IssueInvoiceInput"),
            {
                "input": {
                    "projectId": gid("Project", ids["project"]),
                    "amount": {"amount": "10", "currency": "USD"},
                    "idempotencyKey": "i",
                }
            },
        )

    assert "already closed (won)" in _fields(won["data"]["markOpportunityWon"])["opportunityId"]
    assert set(_fields(approve["data"]["approveTimeEntries"])) == {"timeEntryIds[1]"}
    assert _fields(issue["data"]["issueInvoice"]) == {
        "amount.currency": "must be EUR, the record's currency"
    }
    assert await command_count(engine) == 0


async def test_unknown_records_and_records_of_another_system(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    async with writable_gateway(engine) as client:
        missing = await graphql(
            client, LOG_TIME, {"input": _time(ids, projectId=gid("Project", 10**6))}
        )
        tryton = await graphql(
            client, LOG_TIME, {"input": _time(ids, projectId=gid("Project", ids["tryton_project"]))}
        )

    assert missing["data"]["logTime"]["code"] == "NOT_FOUND"
    refused = tryton["data"]["logTime"]
    assert refused["code"] == "NOT_OWNED"
    assert "tryton" in refused["message"] and "netsuite" in refused["message"]
    assert await command_count(engine) == 0


async def test_ownership_comes_from_settings(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    ownership = {"opportunity": "salesforce", "change_order": "tryton"}  # no owner of time
    async with writable_gateway(engine, ownership=ownership) as client:
        no_owner = await graphql(client, LOG_TIME, {"input": _time(ids)})
        change = await graphql(
            client,
            mutation("submitChangeOrder", "SubmitChangeOrderInput"),
            {
                "input": {
                    "projectId": gid("Project", ids["tryton_project"]),
                    "reason": "More",
                    "daysDelta": 5,
                    "idempotencyKey": "c",
                }
            },
        )

    assert no_owner["data"]["logTime"]["code"] == "NO_OWNER"
    assert "time_entry" in no_owner["data"]["logTime"]["message"]
    accepted = change["data"]["submitChangeOrder"]
    assert (accepted["status"], accepted["targetSystem"]) == ("ACCEPTED", "tryton")
    assert await command_count(engine) == 1
