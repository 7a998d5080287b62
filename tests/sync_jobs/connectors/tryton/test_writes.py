"""Commands applied to a live Tryton by the ``apply_command`` job: each kind changes the
Tryton record (read back over JSON-RPC) and the read model; repeats make nothing twice;
Tryton's refusals end FAILED with its own words."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq import Retry
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import Settings, SyncSettings, TrytonSettings
from readmodel.command_log import CommandStatus, source_key
from sync_jobs.commands.execute import apply_command
from sync_jobs.connectors.tryton import deals
from sync_jobs.connectors.tryton.client import TrytonClient
from sync_jobs.context import DEPS_KEY, SyncDeps, close_deps, open_deps
from sync_jobs.pull import pull_object
from systems.tryton.bootstrap import BootstrapError, create
from systems.tryton.server import ServerError, TrytonServer
from systems.tryton.site import ADMIN_LOGIN
from tests.conftest import unreachable
from tests.sync_jobs.commands.conftest import add_command, command, read_model_row, set_command
from tests.sync_jobs.connectors.tryton.conftest import DEMO_CLIENTS, PASSWORD, LiveTryton

# Slow (a live Tryton): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

SYSTEM = "tryton"
TODAY = datetime.now(UTC).date()
PROJECT = "1"  # Project 01 of the demo firm: billed by timesheet, for Client 01
EMPLOYEE = "1"


@contextmanager
def fresh_tryton(directory: Path) -> Iterator[LiveTryton]:
    """A fresh copy of the demo Tryton, served while the block runs (about a second).

    Each test gets its own copy, so that what one test wrote never meets another's counts.
    """
    try:
        server = TrytonServer(create(directory, PASSWORD, demo=DEMO_CLIENTS).site)
        server.start()
    except (BootstrapError, ServerError, OSError) as error:
        unreachable("a Tryton server", error)
    try:
        yield LiveTryton(server)
    finally:
        server.stop()


@pytest.fixture
def tryton(tmp_path: Path) -> Iterator[LiveTryton]:
    """This module's own Tryton per test (the session's one stays as the read tests left it)."""
    with fresh_tryton(tmp_path / "tryton") as live:
        yield live


@pytest.fixture
async def deps(engine: AsyncEngine, tryton: LiveTryton) -> AsyncIterator[SyncDeps]:
    """The worker's dependencies with Tryton as the account master, the read model pulled."""
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        tryton=TrytonSettings(
            base_url=tryton.base_url, password=PASSWORD, requests_per_second=1000
        ),
        sync=SyncSettings(account_master=SYSTEM, max_retries=0),
    )
    built = await open_deps(settings, engine=engine)
    try:
        await pull_everything(built)
        yield built
    finally:
        await close_deps(built)


async def pull_everything(deps: SyncDeps) -> None:
    connector = deps.source(SYSTEM)
    for object_type in connector.objects:
        report = await pull_object(deps.engine, connector, object_type, account_master=SYSTEM)
        assert report.error is None and report.parked == 0, report


async def run(deps: SyncDeps, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Log a command and run the job once; the command row afterwards."""
    command_id = await add_command(deps.engine, kind, SYSTEM, payload)
    await run_job(deps, command_id)
    return await command(deps.engine, command_id)


async def run_job(deps: SyncDeps, command_id: int) -> None:
    try:
        await apply_command({DEPS_KEY: deps, "job_try": 1}, command_id)
    except Retry as retry:  # pragma: no cover - a failure message is more useful
        row = await command(deps.engine, command_id)
        raise AssertionError(f"retry asked: {row['last_error_message']}") from retry


async def rerun_after_a_crash(deps: SyncDeps, command_id: int) -> dict[str, Any]:
    """As if the worker died after the write landed: the row is RUNNING again, re-run."""
    await set_command(deps.engine, command_id, CommandStatus.RUNNING)
    await run_job(deps, command_id)
    return await command(deps.engine, command_id)


def succeeded(row: dict[str, Any]) -> str:
    assert (row["status"], row["last_error_message"]) == ("SUCCEEDED", None)
    return str(row["target_source_id"])


async def new_opportunity(rpc: TrytonClient, state: str = "lead", **values: Any) -> int:
    """An opportunity of Client 01 (``lead`` or ``opportunity``), pulled by the caller."""
    fields = {
        "party": 3,
        "employee": int(EMPLOYEE),
        "description": "Data platform",
        "amount": Decimal("48000.00"),
        "conversion_probability": 0.25,
        "start_date": TODAY,
        "end_date": TODAY + timedelta(days=60),
        **values,
    }
    (created,) = await rpc.create("sale.opportunity", [fields])
    if state == "opportunity":
        await rpc.button("sale.opportunity", "opportunity", [created])
    return int(created)


async def test_update_opportunity_writes_fields_then_moves_through_buttons(
    deps: SyncDeps, rpc: TrytonClient
) -> None:
    deal = await new_opportunity(rpc)
    await pull_everything(deps)
    payload = {"opportunity_id": str(deal), "stage": "negotiation", "amount": "52500.50"}
    payload |= {"close_date": (TODAY + timedelta(days=90)).isoformat(), "probability": "60"}

    assert succeeded(await run(deps, "update_opportunity", payload)) == str(deal)

    fields = ["state", "amount", "conversion_probability", "end_date", "sales"]
    (at_tryton,) = await rpc.read("sale.opportunity", [deal], fields)
    assert (at_tryton["state"], at_tryton["amount"]) == ("converted", Decimal("52500.50"))
    assert at_tryton["conversion_probability"] == Decimal("0.6")
    assert at_tryton["end_date"] == TODAY + timedelta(days=90)
    assert len(at_tryton["sales"]) == 1  # converting drafts the sale
    row = await read_model_row(deps.engine, "opportunity", str(deal))
    assert (row["stage"], row["amount_minor"], row["probability"]) == ("negotiation", 5250050, 60)
    assert row["close_date"] == TODAY + timedelta(days=90)


async def test_stages_place_probability_and_unreachable_stages_are_refused(
    deps: SyncDeps, rpc: TrytonClient
) -> None:
    deal = await new_opportunity(rpc, conversion_probability=0.25)
    await pull_everything(deps)
    target = {"opportunity_id": str(deal)}

    proposal = await run(deps, "update_opportunity", target | {"stage": "proposal"})
    placed = await read_model_row(deps.engine, "opportunity", str(deal))
    contradicted = await run(
        deps, "update_opportunity", target | {"stage": "qualification", "probability": "80"}
    )
    lost = await run(deps, "update_opportunity", target | {"stage": "closed_lost"})
    back = await run(deps, "update_opportunity", target | {"stage": "proposal"})

    succeeded(proposal)
    assert (placed["stage"], placed["probability"]) == ("proposal", 50)  # the stage's default
    assert (contradicted["status"], contradicted["last_error_code"]) == (
        "FAILED",
        "INVALID_PAYLOAD",
    )
    assert "probability below 50" in contradicted["last_error_message"]
    succeeded(lost)
    row = await read_model_row(deps.engine, "opportunity", str(deal))
    assert (row["stage"], row["is_closed"]) == ("closed_lost", True)
    (at_tryton,) = await rpc.read("sale.opportunity", [deal], ["state", "end_date"])
    closed_on = at_tryton.pop("end_date")  # Tryton's close day: today, whenever the run is
    assert at_tryton == {"id": deal, "state": "lost"}
    assert closed_on in {TODAY, datetime.now(UTC).date()}
    assert (back["status"], back["last_error_code"]) == ("FAILED", "INVALID_PAYLOAD")
    assert "cannot move a lost opportunity to proposal" in back["last_error_message"]


async def test_mark_opportunity_won_confirms_its_sale_once(
    deps: SyncDeps, rpc: TrytonClient
) -> None:
    deal = await new_opportunity(rpc, "opportunity", amount=Decimal("75000.25"))
    await pull_everything(deps)

    won = await run(deps, "mark_opportunity_won", {"opportunity_id": str(deal)})
    again = await rerun_after_a_crash(deps, won["id"])

    assert succeeded(won) == succeeded(again) == str(deal)
    (at_tryton,) = await rpc.read("sale.opportunity", [deal], ["state", "amount", "sales"])
    assert (at_tryton["state"], at_tryton["amount"]) == ("won", Decimal("75000.25"))
    sales = await rpc.read("sale.sale", at_tryton["sales"], ["state", "invoice_method", "invoices"])
    assert [(s["invoice_method"], s["invoices"]) for s in sales] == [("manual", [])]
    assert sales[0]["state"] in {"confirmed", "processing", "done"}
    row = await read_model_row(deps.engine, "opportunity", str(deal))
    assert (row["stage"], row["is_won"], row["amount_minor"]) == ("closed_won", True, 7500025)


async def test_log_time_makes_one_line_however_often_it_runs(
    deps: SyncDeps, rpc: TrytonClient
) -> None:
    payload = {"project_id": PROJECT, "person_id": EMPLOYEE, "work_date": TODAY.isoformat()}
    payload |= {"hours": "7.50", "billable": "true", "note": "workshop"}

    logged = await run(deps, "log_time", payload)
    again = await rerun_after_a_crash(deps, logged["id"])

    line = succeeded(logged)
    assert succeeded(again) == line
    tag = f"[{source_key(logged)}]"
    found = await rpc.search_read(
        "timesheet.line", [["description", "like", f"%{tag}"]], ["duration", "work", "description"]
    )
    assert [(r["id"], r["duration"], r["description"]) for r in found] == [
        (int(line), timedelta(hours=7.5), f"workshop {tag}")
    ]
    row = await read_model_row(deps.engine, "time_entry", line)
    assert (row["hours_x100"], row["work_date"], row["billable"]) == (750, TODAY, True)


async def test_time_said_non_billable_on_a_billed_project_is_refused(deps: SyncDeps) -> None:
    payload = {"project_id": PROJECT, "person_id": EMPLOYEE, "work_date": TODAY.isoformat()}

    row = await run(deps, "log_time", payload | {"hours": "1.00", "billable": "false"})

    assert (row["status"], row["last_error_code"]) == ("FAILED", "INVALID_PAYLOAD")


async def test_issue_invoice_posts_one_invoice_however_often_it_runs(
    deps: SyncDeps, rpc: TrytonClient
) -> None:
    due = TODAY + timedelta(days=45)
    payload = {"project_id": PROJECT, "issue_date": TODAY.isoformat(), "amount": "1234.56"}
    payload |= {"currency": "USD", "due_date": due.isoformat()}

    issued = await run(deps, "issue_invoice", payload)
    again = await rerun_after_a_crash(deps, issued["id"])

    invoice = succeeded(issued)
    assert succeeded(again) == invoice
    key = source_key(issued)
    found = await rpc.search_read(
        "account.invoice", [["reference", "=", key]], ["state", "total_amount", "party"]
    )
    assert [(r["id"], r["state"], r["total_amount"], r["party"]) for r in found] == [
        (int(invoice), "posted", Decimal("1234.56"), 3)
    ]
    row = await read_model_row(deps.engine, "invoice", invoice)
    assert (row["status"], row["total_minor"], row["balance_minor"]) == ("posted", 123456, 123456)
    assert (row["issue_date"], row["due_date"]) == (TODAY, due)
    project = await read_model_row(deps.engine, "project", PROJECT)
    assert row["project_id"] == project["id"]  # the project it was issued for


async def test_issue_invoice_without_an_amount_bills_the_time_not_yet_billed(
    deps: SyncDeps, rpc: TrytonClient
) -> None:
    time = {"project_id": PROJECT, "person_id": EMPLOYEE, "work_date": TODAY.isoformat()}
    logged = succeeded(await run(deps, "log_time", time | {"hours": "7.50"}))
    bill = {"project_id": PROJECT, "issue_date": TODAY.isoformat(), "currency": "USD"}

    issued = await run(deps, "issue_invoice", bill)
    again = await rerun_after_a_crash(deps, issued["id"])
    nothing_left = await run(deps, "issue_invoice", bill)

    invoice = succeeded(issued)
    assert succeeded(again) == invoice
    (at_tryton,) = await rpc.read("account.invoice", [int(invoice)], ["state", "total_amount"])
    assert (at_tryton["state"], at_tryton["total_amount"]) == ("posted", Decimal("1125.00"))
    (line,) = await rpc.read("timesheet.line", [int(logged)], ["invoice_line.invoice"])
    assert line["invoice_line."]["invoice"] == int(invoice)  # billed once, by Tryton
    row = await read_model_row(deps.engine, "invoice", invoice)
    project = await read_model_row(deps.engine, "project", PROJECT)
    assert (row["total_minor"], row["project_id"]) == (112500, project["id"])
    assert (nothing_left["status"], nothing_left["last_error_code"]) == (
        "FAILED",
        "NOTHING_TO_INVOICE",
    )


async def test_a_draft_clicked_but_never_stamped_is_the_one_issued(
    deps: SyncDeps, rpc: TrytonClient
) -> None:
    time = {"project_id": PROJECT, "person_id": EMPLOYEE, "work_date": TODAY.isoformat()}
    succeeded(await run(deps, "log_time", time | {"hours": "2.00"}))
    await rpc.button("project.work", "invoice", [int(PROJECT)])  # then the worker died
    (clicked,) = await rpc.search("account.invoice", [["state", "=", "draft"], ["party", "=", 3]])
    bill = {"project_id": PROJECT, "issue_date": TODAY.isoformat()}

    issued = await run(deps, "issue_invoice", bill)
    by_hand = await run(deps, "issue_invoice", bill | {"project_id": "5"})  # manual method

    assert succeeded(issued) == str(clicked)
    (at_tryton,) = await rpc.read("account.invoice", [clicked], ["state", "total_amount"])
    assert (at_tryton["state"], at_tryton["total_amount"]) == ("posted", Decimal("300.00"))
    assert (by_hand["status"], by_hand["last_error_code"]) == ("FAILED", "INVOICED_BY_HAND")


async def test_a_tryton_refusal_fails_with_its_message(deps: SyncDeps, rpc: TrytonClient) -> None:
    no_period = date(TODAY.year - 5, 1, 5)  # the demo firm's fiscal years start a year back
    payload = {"project_id": PROJECT, "issue_date": no_period.isoformat(), "amount": "10.00"}

    failed = await run(deps, "issue_invoice", payload)

    assert (failed["status"], failed["last_error_code"]) == ("FAILED", "UserError")
    assert "you must create a period" in failed["last_error_message"]
    assert failed["last_error_retryable"] is False and failed["attempts"] == 1
    left = await rpc.search("account.invoice", [["reference", "=", source_key(failed)]])
    assert len(left) == 1  # the draft stays for an accountant; a replay would reuse it


async def test_kinds_tryton_has_no_model_for_are_unsupported(deps: SyncDeps) -> None:
    for kind, payload in (
        ("approve_time_entries", {"time_entry_ids": ["1"]}),
        ("complete_milestone", {"milestone_id": "1", "completed_on": TODAY.isoformat()}),
        ("submit_change_order", {"project_id": PROJECT}),
    ):
        row = await run(deps, kind, payload)
        assert (row["status"], row["last_error_code"]) == ("FAILED", "UNSUPPORTED_COMMAND"), kind


class EditedMeanwhile(TrytonClient):
    """Someone edits the record in Tryton between our read and our first write."""

    attempts = 0

    async def write(self, model: str, ids: Any, values: Any, **options: Any) -> None:
        self.attempts += 1
        if self.attempts == 1:
            await super().write(model, ids, {"description": "Renamed in Tryton"})
        await super().write(model, ids, values, **options)


async def test_a_concurrent_edit_is_read_again_and_written_once_more(
    tryton: LiveTryton, rpc: TrytonClient
) -> None:
    deal = await new_opportunity(rpc)
    site = tryton.server.site
    async with httpx.AsyncClient(timeout=30) as http:
        client = EditedMeanwhile(tryton.base_url, site.database, ADMIN_LOGIN, PASSWORD, http)

        await deals.update_opportunity(
            client, {"opportunity_id": str(deal), "amount": "50000.00"}, "k"
        )

    assert client.attempts == 2  # refused for the stale stamp, then written on a fresh read
    (at_tryton,) = await rpc.read("sale.opportunity", [deal], ["description", "amount"])
    assert (at_tryton["description"], at_tryton["amount"]) == ("Renamed in Tryton", Decimal(50000))
