"""Compiled statements on the embedded SQLite database take turns (resolvers/planner/turns.py):
at most ``graphql.compiled_statements_in_flight`` at once however many requests ask, each
answered as alone. Through HTTP on the seeded firm.

Verified: without the turns (``turns`` returning ``None``), 6 requests at once ran 3
statements at a time here and ``test_one_at_a_time_still_answers_everyone`` fails.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, text

from clientgraph.settings import GraphQLSettings
from resolvers.planner import PlanRun
from resolvers.planner.turns import turns
from tests.conftest import Firm, graphql, http_client, running_app

pytestmark = pytest.mark.parametrize("firm", ["sqlite"], indirect=True)

PORTFOLIO = (
    "{ accounts(first: 50) { pageInfo { hasNextPage endCursor } nodes { id name currency "
    "health { score status } invoices(status: [POSTED, PARTIALLY_PAID]) { number dueDate "
    "daysOverdue balance { amount } } } } }"
)


async def _at_once(firm: Firm, in_flight: int, requests: int) -> tuple[int, list[Any]]:
    """``requests`` at once; the most compiled statements seen running together, the answers."""
    running, most = 0, 0

    def started(_c: Any, _k: Any, statement: str, *_: Any) -> None:
        nonlocal running, most
        if "json_object" in statement:  # the compiled statement (not a per-field read)
            running += 1
            most = max(most, running)

    def ended(_c: Any, _k: Any, statement: str, *_: Any) -> None:
        nonlocal running
        if "json_object" in statement:
            running -= 1

    async with running_app(
        firm.url, compiled_statements_in_flight=in_flight, response_cache_mb=0
    ) as app, http_client(app) as client:
        event.listen(app.state.engine.sync_engine, "before_cursor_execute", started)
        event.listen(app.state.engine.sync_engine, "after_cursor_execute", ended)
        answers = await asyncio.gather(*(graphql(client, PORTFOLIO) for _ in range(requests)))
    return most, answers


async def test_at_most_the_setting_run_at_once_and_every_answer_is_whole(firm: Firm) -> None:
    most, answers = await _at_once(firm, 2, 12)
    assert 1 <= most <= 2
    datas = [a["data"] for a in answers]
    assert all("errors" not in a for a in answers), answers[0]
    assert datas == [datas[0]] * 12 and len(datas[0]["accounts"]["nodes"]) == 50


async def test_one_at_a_time_still_answers_everyone(firm: Firm) -> None:
    most, answers = await _at_once(firm, 1, 6)
    assert most == 1
    assert len({str(a["data"]) for a in answers}) == 1


async def test_a_plan_run_on_an_engine_itself_takes_its_turns(firm: Firm) -> None:
    """A run whose reader is the engine (no request's reads: scripts, tests) finds the same
    turns as one reading through a request (``AsyncEngine.engine`` is the sync engine)."""
    run = PlanRun(firm.engine, GraphQLSettings(), date(2026, 6, 30), 90, None, None)
    async with run.connect() as conn:
        row = await conn.one(text("SELECT 41 + 1 AS answer"), {})
    assert row.answer == 42
    assert turns(firm.engine, None) is turns(firm.engine.engine, None) is not None
