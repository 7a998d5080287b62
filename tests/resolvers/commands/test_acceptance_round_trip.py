"""A new command is accepted in one statement on PostgreSQL: the target's checks, the command,
its audit entry and the answer's freshness (``WITH cg_t0 AS (SELECT … FROM opportunity …),
cg_ok AS (… WHERE <the checks>), cg_c AS (INSERT … SELECT … FROM cg_ok …) …``: one round trip,
its own transaction). SQLite, which has no data-modifying CTEs, reads the target, then runs the
same steps in one transaction. No replay check runs for a new key: the INSERT's conflict finds
a replay. The mutation's document is validated once: later requests of it take the gateway's
short path (gateway/short_path.py), with no validation at all.

Through HTTP on the real app, both backends; the statements are the engine's own
(``before_cursor_execute``), with the connection and isolation level that ran them, and on
PostgreSQL those of the gateway's bare driver (readmodel/raw_reads.py: the command's statement
runs there; without it, on the engine).

Verified: the former acceptances (a replay check, the target's read, the INSERT, the audit
entry's INSERT and a read of ``sync_state``: five statements; then the target's read and one
statement: two round trips) fail here.
"""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.audit import AUDIT
from readmodel.db import on_statement
from tests.access.compiled import short_path_answers
from tests.conftest import graphql, http_client
from tests.resolvers.commands.world import (
    command_count,
    command_id,
    command_row,
    gid,
    mutation,
    small_firm,
    writable_app,
)

UPDATE = mutation("updateOpportunity", "UpdateOpportunityInput")


def validation_hits() -> float:
    found = REGISTRY.get_sample_value(
        "clientgraph_cache_lookups_total", {"cache": "validation", "result": "hit"}
    )
    return found or 0.0


@pytest.mark.parametrize("bare_driver", [True, False], ids=["bare-driver", "engine"])
async def test_a_new_command_is_one_statement(
    engine: AsyncEngine, bare_driver: bool
) -> None:
    ids = await small_firm(engine)
    seen: list[tuple[str, Any, Any]] = []

    def _record(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        level = conn.get_execution_options().get("isolation_level")
        seen.append((" ".join(statement.split()), level, conn.connection.dbapi_connection))

    every: list[str] = []  # the engine's and, on PostgreSQL, the bare driver's
    calls: list[list[tuple[str, Any, Any]]] = []
    bare: list[list[str]] = []
    async with writable_app(engine, bare_driver=bare_driver) as app, http_client(app) as client:
        event.listen(app.state.engine.sync_engine, "before_cursor_execute", _record)
        on_statement(app.state.engine, lambda sql: every.append(" ".join(sql.split())))
        answers = []
        for n, key in enumerate(("one", "two", "two")):  # the third: a replay of the second
            hits, short = validation_hits(), short_path_answers()
            data = {"opportunityId": gid("Opportunity", ids["deal"]), "probability": 41 + min(n, 1)}
            seen.clear()
            every.clear()
            body = await graphql(client, UPDATE, {"input": {**data, "idempotencyKey": key}})
            calls.append(list(seen))
            bare.append([s for s in every if s not in {s for s, _, _ in seen}])
            answers.append(body)
            if n >= 1 and bare_driver:  # the same document again: proven, not validated again
                # (with compiled reads off, there is no short path: bare_driver=False)
                assert (validation_hits(), short_path_answers()) == (hits, short + 1)
        seen.clear()
        query = await graphql(client, "{ __typename }")

    postgres = engine.dialect.name == "postgresql"
    on_bare_driver = postgres and bare_driver
    for statements, on_driver in zip(calls[:2], bare[:2], strict=True):  # each new command
        text = [s for s, _, _ in statements]
        if on_bare_driver:  # the command's statement, its own transaction
            assert len(on_driver) == 1, (on_driver, text)  # (readmodel/raw_reads.py)
            text = on_driver + text
        else:
            assert on_driver == [], on_driver
        logged = [s for s in text if "INSERT INTO command " in s]
        assert len(logged) == 1, text
        assert not [s for s in text if "command.idempotency_key =" in s], text  # no replay check
        assert not [s for s in text if s.startswith("SELECT sync_state.")], text
        if postgres:  # one statement: the deal's checks, the command, its audit entry and
            assert text[0] == logged[0], text  # freshness; autocommitted. After it: the
            assert all("WHERE opportunity.source_id IN" in s for s in text[1:]), text  # answer's
            assert "FROM opportunity WHERE opportunity.id = ANY(" in logged[0]
            assert "INSERT INTO audit_entry" in logged[0] and "FROM sync_state" in logged[0]
            if not bare_driver:
                assert [level for s, level, _ in statements if s == logged[0]] == ["AUTOCOMMIT"]
        else:  # the same steps, one transaction on one connection
            steps = [(s, level, c) for s, level, c in statements if s not in text[:1]]
            assert [s.split(" (")[0] for s, _, _ in steps[:2]] == [
                "INSERT INTO command",
                "INSERT INTO audit_entry",
            ], text
            assert "sync_state" in steps[2][0], text
            assert {level for _, level, _ in steps} == {None}  # in a transaction, not autocommit
            assert len({c for _, _, c in steps}) == 1
    replay = [s for s, _, _ in calls[2]]
    assert [s for s in replay if "command.idempotency_key =" in s], replay  # found on conflict

    results = [a["data"]["updateOpportunity"] for a in answers]
    assert [r["status"] for r in results] == ["ACCEPTED"] * 3
    assert results[2] == results[1]  # the replay, read on the engine: the same command
    assert await command_count(engine) == 2
    for answer in answers:  # the freshness of the statement's snapshot, as a query reports it
        assert answer["extensions"]["freshness"] == query["extensions"]["freshness"]

    async with engine.connect() as conn:
        entries = list(await conn.execute(select(AUDIT).order_by(AUDIT.c.id)))
    assert [(e.operation, e.outcome) for e in entries] == [("updateOpportunity", "ACCEPTED")] * 3
    assert [e.command_id for e in entries] == [command_id(r["id"]) for r in results]
    for n, entry in enumerate(entries):  # who and when agree with the command's
        row = await command_row(engine, entry.command_id)
        assert row.status == "ACCEPTED"  # durable: committed, seen from elsewhere
        assert (entry.actor_id, entry.actor_role, entry.credential_id, entry.at) == (
            row.principal_id,
            row.principal_role,
            row.credential_id,
            row.created_at,
        )
        assert len(entry.input_digest) == 64
        if n < 2:  # written with the command (a replay's entry is its own request's)
            assert entry.correlation_id == row.correlation_id
    assert entries[1].input_digest == entries[2].input_digest != entries[0].input_digest
