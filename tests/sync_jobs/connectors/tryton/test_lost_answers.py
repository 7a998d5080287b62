"""Every Tryton write kind with its answers lost after Tryton applied them, through the worker's
own HTTP stack against a live Tryton.

The transport below forwards each JSON-RPC call to Tryton and, the first time each write
method is called (``write``, ``create``, a button such as ``convert`` or ``post``), drops the
answer once Tryton has applied the call: the job sees a transport error, the executor asks
for a retry, and the retry starts from what Tryton holds now. Tryton has no idempotency key,
so this is where a kind that walks its workflow again, or creates again, would show: the
test counts Tryton's records and reads their final state.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from arq import Retry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import Settings, SyncSettings, TrytonSettings
from readmodel.command_log import source_key
from readmodel.types import utcnow
from sync_jobs.commands.execute import apply_command
from sync_jobs.connectors.tryton import deals
from sync_jobs.connectors.tryton.client import READS, TrytonClient
from sync_jobs.context import DEPS_KEY, SyncDeps, close_deps, open_deps
from sync_jobs.handoff import state
from sync_jobs.handoff.triggers import advance_handoffs
from sync_jobs.jobs import pull_source
from tests.sync_jobs.commands.conftest import add_command, command, read_model_row
from tests.sync_jobs.connectors.tryton.conftest import PASSWORD, LiveTryton
from tests.sync_jobs.connectors.tryton.test_writes import (
    EMPLOYEE,
    PROJECT,
    SYSTEM,
    TODAY,
    new_opportunity,
    pull_everything,
    tryton,
)

# Slow (a live Tryton): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

__all__ = ["tryton"]  # the fixture, re-used (each test its own Tryton)


class LosingAnswers(httpx.AsyncBaseTransport):
    """Tryton's transport, except that the first answer to each write method is lost."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.losing = False
        self.lost: list[str] = []  # the write methods whose answer was lost, in order

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        method = str(json.loads(request.content).get("method", ""))
        if not self.losing or method.rsplit(".", 1)[-1] in READS or method in self.lost:
            return response
        await response.aread()  # Tryton has applied the call and answered …
        await response.aclose()
        self.lost.append(method)  # … and the answer never reaches the worker
        raise httpx.ReadError(f"answer to {method} lost", request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Lossy:
    deps: SyncDeps
    transport: LosingAnswers
    rpc: TrytonClient  # the test's own client, answers never lost


@pytest.fixture
async def lossy(engine: AsyncEngine, tryton: LiveTryton) -> AsyncIterator[Lossy]:
    """The worker's dependencies, the read model pulled, then answers to writes lost."""
    transport = LosingAnswers()
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        tryton=TrytonSettings(
            base_url=tryton.base_url, password=PASSWORD, requests_per_second=1000
        ),
        sync=SyncSettings(account_master=SYSTEM, max_retries=0),
    )
    deps = await open_deps(settings, engine=engine, transports={SYSTEM: transport})
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            await pull_everything(deps)
            yield Lossy(deps, transport, tryton.client(http))
    finally:
        await close_deps(deps)


async def run_to_the_end(deps: SyncDeps, command_id: int) -> dict[str, Any]:
    """Run the job as arq would, retry after retry, until the command is final."""
    for attempt in range(1, 10):
        try:
            await apply_command({DEPS_KEY: deps, "job_try": attempt}, command_id)
            break
        except Retry:
            continue
    return await command(deps.engine, command_id)


Check = Callable[[Lossy, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Kind:
    name: str
    payload: Callable[[TrytonClient], Awaitable[dict[str, Any]]]
    check: Check  # Tryton holds one record in the final state; the read model agrees


async def _deal_to_negotiate(rpc: TrytonClient) -> dict[str, Any]:
    deal = await new_opportunity(rpc)
    return {"opportunity_id": str(deal), "stage": "negotiation", "amount": "52500.50"}


async def _negotiated(lossy: Lossy, done: dict[str, Any]) -> None:
    deal = int(done["target_source_id"])
    (at_tryton,) = await lossy.rpc.read("sale.opportunity", [deal], ["state", "amount", "sales"])
    assert (at_tryton["state"], at_tryton["amount"]) == ("converted", Decimal("52500.50"))
    assert len(at_tryton["sales"]) == 1  # converted once: one draft sale
    row = await read_model_row(lossy.deps.engine, "opportunity", str(deal))
    assert (row["stage"], row["amount_minor"]) == ("negotiation", 5250050)


async def _deal_to_win(rpc: TrytonClient) -> dict[str, Any]:
    return {"opportunity_id": str(await new_opportunity(rpc, "opportunity"))}


async def _won(lossy: Lossy, done: dict[str, Any]) -> None:
    deal = int(done["target_source_id"])
    (at_tryton,) = await lossy.rpc.read("sale.opportunity", [deal], ["state", "sales"])
    assert at_tryton["state"] == "won"
    (sale,) = await lossy.rpc.read("sale.sale", at_tryton["sales"], ["lines"])
    assert len(sale["lines"]) == 1  # the deal's amount, filled in once
    row = await read_model_row(lossy.deps.engine, "opportunity", str(deal))
    assert (row["stage"], row["is_won"]) == ("closed_won", True)


async def _time(rpc: TrytonClient) -> dict[str, Any]:
    payload = {"project_id": PROJECT, "person_id": EMPLOYEE, "work_date": TODAY.isoformat()}
    return payload | {"hours": "7.50", "billable": "true", "note": "workshop"}


async def _logged(lossy: Lossy, done: dict[str, Any]) -> None:
    tag = f"[{source_key(done)}]"
    found = await lossy.rpc.search_read(
        "timesheet.line", [["description", "like", f"%{tag}"]], ["duration"]
    )
    assert [(str(r["id"]), r["duration"]) for r in found] == [
        (done["target_source_id"], timedelta(hours=7.5))
    ]
    row = await read_model_row(lossy.deps.engine, "time_entry", done["target_source_id"])
    assert row["hours_x100"] == 750


async def _bill(rpc: TrytonClient) -> dict[str, Any]:
    payload = {"project_id": PROJECT, "issue_date": TODAY.isoformat(), "amount": "1234.56"}
    return payload | {"currency": "USD"}


async def _issued(lossy: Lossy, done: dict[str, Any]) -> None:
    found = await lossy.rpc.search_read(
        "account.invoice", [["reference", "=", source_key(done)]], ["state", "total_amount"]
    )
    assert [(str(r["id"]), r["state"], r["total_amount"]) for r in found] == [
        (done["target_source_id"], "posted", Decimal("1234.56"))
    ]
    row = await read_model_row(lossy.deps.engine, "invoice", done["target_source_id"])
    assert (row["status"], row["total_minor"]) == ("posted", 123456)


KINDS = [
    Kind("update_opportunity", _deal_to_negotiate, _negotiated),
    Kind("mark_opportunity_won", _deal_to_win, _won),
    Kind("log_time", _time, _logged),
    Kind("issue_invoice", _bill, _issued),
]


@pytest.mark.parametrize("backend", ["postgresql"])  # one Tryton for all kinds: it is slow
async def test_each_tryton_write_whose_answers_are_lost_lands_once_and_succeeds(
    lossy: Lossy,
) -> None:
    payloads = [await kind.payload(lossy.rpc) for kind in KINDS]
    await pull_everything(lossy.deps)  # the new deals are known to the read model
    lossy.transport.losing = True

    for kind, payload in zip(KINDS, payloads, strict=True):
        lossy.transport.lost = []
        command_id = await add_command(lossy.deps.engine, kind.name, SYSTEM, payload)

        done = await run_to_the_end(lossy.deps, command_id)

        assert (done["status"], done["last_error_code"]) == ("SUCCEEDED", None), (kind, done)
        assert lossy.transport.lost, f"{kind.name}: no answer was lost"
        await kind.check(lossy, done)


CLIENT_01 = 3  # new_opportunity's party
MILESTONES = [("Design signed off", "19200.00"), ("Platform live", "28800.00")]  # 48,000.00


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_handoff_steps_whose_answers_are_lost_make_one_project_once(lossy: Lossy) -> None:
    """A deal won by hand in Tryton is handed off with every step's first answer to each write
    method lost (the project's ``create``, its comment's ``write``, each milestone task's and
    the deal's note's ``create``): each retry finds what the lost attempt made (the tags on
    the comments, the note) and Tryton ends with one project, one task per milestone and one
    note on the deal."""
    deps, rpc = lossy.deps, lossy.rpc
    deal = await new_opportunity(rpc)
    await pull_everything(deps)  # the deal is open …
    await deals.mark_opportunity_won(rpc, {"opportunity_id": str(deal)}, "by-hand")
    await pull_source({DEPS_KEY: deps}, SYSTEM)  # … then won: a handoff waits for its data
    async with deps.engine.connect() as conn:
        (handoff_id,) = (await conn.execute(select(state.HANDOFFS.c.id))).scalars()
        waiting = await state.load(conn, handoff_id)
    milestones = [
        {"name": name, "due_date": str(TODAY + timedelta(days=30 * (i + 1))), "amount": amount}
        for i, (name, amount) in enumerate(MILESTONES)
    ]
    inputs = {"service_line": "Data & Analytics", "billing_method": "milestone"}
    inputs |= {"start_date": str(TODAY), "milestones": milestones}
    async with deps.engine.begin() as conn:
        assert await state.merge_inputs(conn, waiting, inputs, utcnow())
    before = await rpc.search("project.work", [["type", "=", "project"]])

    lossy.transport.losing = True
    lost: dict[str, list[str]] = {}
    for _ in range(12):  # the sweep opens each next step; its command runs to the end
        await advance_handoffs({DEPS_KEY: deps})
        async with deps.engine.connect() as conn:
            steps = {s.name: s for s in await state.steps_of(conn, handoff_id)}
        running = [s for s in steps.values() if s.status == "RUNNING"]
        if not running:
            break
        lossy.transport.lost = []  # each step loses the first answer to each write it makes
        done = await run_to_the_end(deps, int(running[0].command_id))
        assert done["status"] == "SUCCEEDED", done
        lost[running[0].name] = lossy.transport.lost
    async with deps.engine.connect() as conn:
        handoff = await state.load(conn, handoff_id)
    assert handoff is not None and handoff.status == "COMPLETED", handoff

    assert lost["create_project"] == ["model.project.work.create"], lost
    assert lost["create_billing_schedule"] == [
        "model.project.work.write",
        "model.project.work.create",
    ], lost
    assert "model.ir.note.create" in lost["link_project_to_opportunity"], lost
    made = sorted(set(await rpc.search("project.work", [["type", "=", "project"]])) - set(before))
    assert [str(p) for p in made] == [handoff.project_source_id], made  # one project
    tasks = await rpc.search_read("project.work", [["parent", "=", made[0]]], ["name"])
    assert sorted(t["name"] for t in tasks) == sorted(name for name, _ in MILESTONES)
    notes = await rpc.search("ir.note", [["resource", "=", f"sale.opportunity,{deal}"]])
    assert len(notes) == 1
    (project,) = await rpc.read("project.work", made, ["comment"])
    comment = str(project["comment"]).splitlines()
    assert comment.count(f"opportunity: sale.opportunity,{deal}") == 1, comment
