"""A command is accepted with one round trip: its row is written by one statement that is its
own transaction (``INSERT … ON CONFLICT DO NOTHING RETURNING *`` in autocommit), and the
mutation's document is validated from the validation cache after its first use.

Through HTTP on the real app, both backends; the statements are the engine's own
(``before_cursor_execute``), with the isolation level of the connection that ran them.

Verified: the former acceptance (``engine.begin()``, the INSERT returning the id, then a SELECT
of the row by id) fails here on both counts.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

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


async def test_a_new_command_is_one_autocommitted_statement(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    seen: list[tuple[str, Any]] = []

    def _record(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append((statement, conn.get_execution_options().get("isolation_level")))

    async with writable_app(engine) as app, http_client(app) as client:
        event.listen(app.state.engine.sync_engine, "before_cursor_execute", _record)
        answers = []
        for n, key in enumerate(("one", "two")):
            hits = validation_hits()
            data = {"opportunityId": gid("Opportunity", ids["deal"]), "probability": 40 + n}
            body = await graphql(client, UPDATE, {"input": {**data, "idempotencyKey": key}})
            answers.append(body["data"]["updateOpportunity"])
            if n == 1:  # the same document again: validated from the cache
                assert validation_hits() == hits + 1

    writes = [
        (s, level) for s, level in seen if s.lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]
    inserts = [s for s, _ in writes if s.startswith("INSERT INTO command ")]
    assert len(inserts) == 2, writes  # one per command
    for statement in inserts:
        assert "RETURNING" in statement.upper(), statement
    assert {level for _, level in writes} == {"AUTOCOMMIT"}, writes  # the audit entry's too
    by_id = [s for s, _ in seen if "WHERE command.id =" in s and s.startswith("SELECT")]
    assert by_id == []  # the row came back from the INSERT itself
    assert [a["status"] for a in answers] == ["ACCEPTED", "ACCEPTED"]
    for answer in answers:  # durable: committed by the statement, seen from elsewhere
        assert (await command_row(engine, command_id(answer["id"]))).status == "ACCEPTED"
    assert await command_count(engine) == 2
