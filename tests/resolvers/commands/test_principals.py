"""Commands belong to whoever asked: keys per principal, own commands only, operator actions
for operators, and an audit entry for every mutation call whatever its end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import AuthSettings, Settings
from gateway.app import create_app
from readmodel import api_keys
from readmodel.audit import AUDIT
from readmodel.command_log import COMMANDS
from tests.conftest import FIRM_NOW, http_client
from tests.resolvers.commands.world import (
    command_count,
    command_id,
    gid,
    mutation,
    set_status,
    small_firm,
    url_of,
)

LOG_TIME = mutation("logTime", "LogTimeInput")
CANCEL = mutation("cancelCommand", "CommandActionInput")
COMMANDS_QUERY = "{ commands { totalCount nodes { id kind } } }"
ONE = "query($id: ID!) { command(id: $id) { id kind } }"


@asynccontextmanager
async def as_roles(engine: AsyncEngine, *roles: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One client per role, each with its own API key, on one gateway without anonymous access."""
    settings = Settings(database_url=url_of(engine), auth=AuthSettings(anonymous_role=None))
    app = create_app(settings, clock=lambda: FIRM_NOW)
    clients = []
    async with app.router.lifespan_context(app), http_client(app) as base:
        for n, role in enumerate(roles):
            key, _ = await api_keys.create(engine, name=f"{role}-{n}", role=role, now=FIRM_NOW)
            client = httpx.AsyncClient(
                transport=base._transport,
                base_url="http://test",
                headers={"Authorization": f"Bearer {key}"},
            )
            clients.append(client)
        yield clients


async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def _time(ids: dict[str, Any], key: str) -> dict[str, Any]:
    return {
        "input": {
            "projectId": gid("Project", ids["project"]),
            "personId": gid("Person", ids["ann"]),
            "workDate": "2026-06-29",
            "hours": "7.5",
            "idempotencyKey": key,
        }
    }


async def test_the_same_key_from_two_callers_makes_two_commands(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    async with as_roles(engine, "delivery", "delivery") as (ann, bob):
        first = (await post(ann, LOG_TIME, _time(ids, "same-key")))["data"]["logTime"]
        replay = (await post(ann, LOG_TIME, _time(ids, "same-key")))["data"]["logTime"]
        other = (await post(bob, LOG_TIME, _time(ids, "same-key")))["data"]["logTime"]
    async with engine.connect() as conn:
        rows = list(await conn.execute(select(COMMANDS).order_by(COMMANDS.c.id)))

    assert first["id"] == replay["id"] != other["id"]
    assert len(rows) == 2
    assert rows[0].principal_id != rows[1].principal_id
    assert rows[0].source_key != rows[1].source_key  # the source sees two writes, not one
    assert {r.principal_role for r in rows} == {"delivery"}
    assert all(r.credential_id and r.principal_id == f"key:{r.credential_id}" for r in rows)


async def test_a_caller_sees_its_own_commands_and_operators_see_all(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    async with as_roles(engine, "delivery", "delivery", "operator") as (ann, bob, ops):
        mine = (await post(ann, LOG_TIME, _time(ids, "k1")))["data"]["logTime"]
        await post(bob, LOG_TIME, _time(ids, "k2"))
        ann_list = (await post(ann, COMMANDS_QUERY, {}))["data"]["commands"]
        bob_reads_ann = await post(bob, ONE, {"id": mine["id"]})
        missing = await post(bob, ONE, {"id": gid("Command", 999)})
        ops_list = (await post(ops, COMMANDS_QUERY, {}))["data"]["commands"]

    assert ann_list == {"totalCount": 1, "nodes": [{"id": mine["id"], "kind": "log_time"}]}
    assert ops_list["totalCount"] == 2
    error = bob_reads_ann["errors"][0]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["message"] == missing["errors"][0]["message"].replace(
        gid("Command", 999), mine["id"]
    )


async def test_operator_actions_are_forbidden_to_others_and_every_call_is_audited(
    engine: AsyncEngine,
) -> None:
    ids = await small_firm(engine)
    async with as_roles(engine, "delivery", "account_team", "operator") as (ann, sam, ops):
        mine = (await post(ann, LOG_TIME, _time(ids, "k1")))["data"]["logTime"]
        cancel = {"input": {"commandId": mine["id"], "idempotencyKey": "c1"}}
        refused = await post(sam, CANCEL, cancel)
        count_after_refusal = await command_count(engine)
        done = (await post(ops, CANCEL, cancel))["data"]["cancelCommand"]
        bad = {**_time(ids, "k2"), "input": {**_time(ids, "k2")["input"], "hours": "-3"}}
        rejected = (await post(ann, LOG_TIME, bad))["data"]["logTime"]
    async with engine.connect() as conn:
        entries = list(await conn.execute(select(AUDIT).order_by(AUDIT.c.id)))

    assert refused["data"] is None
    assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN", "operation": "cancelCommand"}
    assert "cancelCommand" in refused["errors"][0]["message"]
    assert count_after_refusal == 1  # the refusal logged no command
    assert done["status"] == "CANCELLED"
    assert rejected["__typename"] == "CommandRejected"
    seen = [(e.operation, e.outcome, e.actor_role, e.code) for e in entries]
    assert seen == [
        ("logTime", "ACCEPTED", "delivery", None),
        ("cancelCommand", "FORBIDDEN", "account_team", "FORBIDDEN"),
        ("cancelCommand", "ACCEPTED", "operator", None),
        ("logTime", "REJECTED", "delivery", rejected["code"]),
    ]
    assert entries[0].command_id == command_id(mine["id"])
    assert all(len(e.input_digest) == 64 and e.correlation_id for e in entries)
    assert entries[1].input_digest == entries[2].input_digest  # the same input, the same digest


async def test_the_audit_log_is_for_operators(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    query = "{ auditLog { totalCount nodes { operation outcome actorRole commandId } } }"
    async with as_roles(engine, "delivery", "operator", "finance") as (ann, ops, fin):
        await post(ann, LOG_TIME, _time(ids, "k1"))
        seen = (await post(ops, query, {}))["data"]["auditLog"]
        refused = await post(fin, query, {})
    assert seen["totalCount"] == 1
    assert seen["nodes"][0]["operation"] == "logTime"
    assert seen["nodes"][0]["commandId"].startswith("Q29tbWFuZD")  # a Command global id
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_token_tells_nothing_about_another_callers_command(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    async with as_roles(engine, "delivery", "delivery", "operator") as (ann, bob, ops):
        mine = (await post(ann, LOG_TIME, _time(ids, "k1")))["data"]["logTime"]
        await set_status(engine, command_id(mine["id"]), "SUCCEEDED")
        token = {"X-Consistency-Token": mine["consistencyToken"]}
        reached = {}
        for name, client in (("ann", ann), ("bob", bob), ("ops", ops)):
            response = await client.post(
                "/graphql", json={"query": "{ __typename }"}, headers=token
            )
            reached[name] = response.json()["extensions"]["freshness"]["consistency"]["reached"]

    # Bob's wait ends as for a command that does not exist: the token reveals nothing to him
    assert reached == {"ann": True, "bob": False, "ops": True}
