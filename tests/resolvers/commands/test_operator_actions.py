"""retryCommand / cancelCommand: guarded moves, refused from other statuses, idempotent."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import graphql
from tests.resolvers.commands.world import (
    command_id,
    command_row,
    gid,
    mutation,
    set_status,
    small_firm,
    writable_gateway,
)

RETRY = mutation("retryCommand", "CommandActionInput")
CANCEL = mutation("cancelCommand", "CommandActionInput")


async def _accepted(client: httpx.AsyncClient, ids: dict[str, Any], key: str) -> str:
    body = await graphql(
        client,
        mutation("completeMilestone", "CompleteMilestoneInput"),
        {"input": {"milestoneId": gid("Milestone", ids["milestone"]), "idempotencyKey": key}},
    )
    return str(body["data"]["completeMilestone"]["id"])


async def _act(client: httpx.AsyncClient, query: str, command: str, key: str) -> dict[str, Any]:
    body = await graphql(client, query, {"input": {"commandId": command, "idempotencyKey": key}})
    return dict(next(iter(body["data"].values())))


async def test_retry_only_from_failed_or_dead_lettered(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    async with writable_gateway(engine) as client:
        command = await _accepted(client, ids, "m-1")
        refused = await _act(client, RETRY, command, "r-0")
        await set_status(engine, command_id(command), "DEAD_LETTERED", attempts=8)
        assert (await command_row(engine, command_id(command))).attempts == 8
        retried = await _act(client, RETRY, command, "r-1")
        replayed = await _act(client, RETRY, command, "r-1")

    assert (refused["code"], "ACCEPTED" in refused["message"]) == ("INVALID_TRANSITION", True)
    assert (retried["status"], retried["attempts"]) == ("ACCEPTED", 0)
    assert replayed["id"] == retried["id"]
    row = await command_row(engine, command_id(command))
    assert (row.status, row.attempts, row.completed_at) == ("ACCEPTED", 0, None)


async def test_cancel_before_it_runs_or_after_it_failed(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    async with writable_gateway(engine) as client:
        first = await _accepted(client, ids, "m-1")
        cancelled = await _act(client, CANCEL, first, "c-1")
        second = await _accepted(client, ids, "m-2")
        await set_status(engine, command_id(second), "RUNNING")
        refused = await _act(client, CANCEL, second, "c-2")
        again = await _act(client, CANCEL, second, "c-2")  # a refusal does not use the key up
        unknown = await _act(client, CANCEL, gid("Command", 10**6), "c-3")
        third = await _accepted(client, ids, "m-3")
        await set_status(engine, command_id(third), "DEAD_LETTERED", attempts=8)
        given_up = await _act(client, CANCEL, third, "c-4")  # leaves the exception queue

    assert cancelled["status"] == "CANCELLED"
    assert given_up["status"] == "CANCELLED"
    assert (await command_row(engine, command_id(first))).completed_at is not None
    assert refused["code"] == again["code"] == "INVALID_TRANSITION"
    assert unknown["code"] == "NOT_FOUND"
    assert (await command_row(engine, command_id(second))).status == "RUNNING"
