"""``apply_command`` against the simulators: every kind lands at the source and in the read
model; storms retry to success; refusals fail with the source's words; dead letters replay;
a repeated run never makes a second record."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.command_log import CommandStatus, source_key, source_key_of
from readmodel.tables import metadata
from readmodel.types import utcnow
from sync_jobs.commands import execute
from tests.sync_jobs.commands.conftest import (
    Sources,
    add_command,
    at_source,
    command,
    first,
    open_sources,
    read_model_row,
    run_once,
    run_to_the_end,
    set_command,
    skipped,
)


async def succeed(sources: Sources, kind: str, system: str, payload: dict[str, object]) -> str:
    """Apply a command to the end; it must be SUCCEEDED. Returns the record's source id."""
    command_id = await add_command(sources.engine, kind, system, payload)
    assert await run_to_the_end(sources, command_id) == []
    row = await command(sources.engine, command_id)
    assert (row["status"], row["attempts"], row["last_error_code"]) == ("SUCCEEDED", 1, None)
    assert row["completed_at"] is not None
    return str(row["target_source_id"])


def log_time_payload(sources: Sources, hours: str = "7.50") -> dict[str, object]:
    project = first(sources.rows["project"], status="active")
    person = sources.rows["person"][0]
    return {
        "project_id": project["source_id"],
        "person_id": person["source_id"],
        "work_date": "2026-06-29",
        "hours": hours,
        "billable": True,
        "note": "workshop",
    }


async def test_opportunity_commands_change_salesforce_and_the_read_model(sources: Sources) -> None:
    deal = first(sources.rows["opportunity"], stage="prospecting")["source_id"]
    update = {"opportunity_id": deal, "stage": "negotiation", "amount": "125000.10"}
    update |= {"close_date": "2026-09-30", "probability": "60"}

    assert await succeed(sources, "update_opportunity", "salesforce", update) == deal
    updated = await read_model_row(sources.engine, "opportunity", deal)
    assert (updated["stage"], updated["amount_minor"], updated["probability"]) == (
        "negotiation",
        12500010,
        60,
    )
    assert updated["close_date"] == date(2026, 9, 30)
    assert sources.sf.records["Opportunity"][deal]["StageName"] == "Negotiation/Review"

    # another deal: SystemModstamp has whole seconds, and the read model's version guard
    # drops a second edit of one record within the same second (reported to the lead)
    other = first(sources.rows["opportunity"], stage="negotiation")["source_id"]
    await succeed(sources, "mark_opportunity_won", "salesforce", {"opportunity_id": other})
    won = await read_model_row(sources.engine, "opportunity", other)
    assert (won["stage"], won["is_won"], won["is_closed"]) == ("closed_won", True, True)


async def test_time_commands_change_netsuite_and_the_read_model(sources: Sources) -> None:
    logged = await succeed(sources, "log_time", "netsuite", log_time_payload(sources))
    entry = await read_model_row(sources.engine, "time_entry", logged)
    assert (entry["hours_x100"], entry["status"], entry["billable"]) == (750, "submitted", True)
    assert sources.ns.records["timebill"][logged]["memo"] == "workshop"

    waiting = [t["source_id"] for t in sources.rows["time_entry"] if t["status"] == "submitted"][:2]
    approved = await succeed(
        sources, "approve_time_entries", "netsuite", {"time_entry_ids": [logged, *waiting]}
    )
    assert approved == logged
    for source_id in (logged, *waiting):
        assert (await read_model_row(sources.engine, "time_entry", source_id))[
            "status"
        ] == "approved"


async def test_project_commands_change_netsuite_and_the_read_model(sources: Sources) -> None:
    task = next(m for m in sources.rows["milestone"] if m["completed_at"] is None)["source_id"]
    payload = {"milestone_id": task, "completed_on": "2026-06-30"}
    await succeed(sources, "complete_milestone", "netsuite", payload)
    milestone = await read_model_row(sources.engine, "milestone", task)
    assert milestone["completed_at"] == datetime(2026, 6, 30, tzinfo=UTC)
    assert milestone["status"] == "completed"

    project = first(sources.rows["project"], status="active")
    change = {"project_id": project["source_id"], "budget_delta": "5000.00"}
    change |= {"hours_delta": "40", "days_delta": "10", "currency": project["currency"]}
    order = await succeed(sources, "submit_change_order", "netsuite", change | {"reason": "scope"})
    row = await read_model_row(sources.engine, "change_order", order)
    assert (row["budget_delta_minor"], row["hours_delta_x100"], row["days_delta"]) == (
        500000,
        4000,
        10,
    )

    bill = {"project_id": project["source_id"], "issue_date": "2026-06-30", "amount": "1234.56"}
    invoice = await succeed(sources, "issue_invoice", "netsuite", bill)
    issued = await read_model_row(sources.engine, "invoice", invoice)
    assert (issued["total_minor"], issued["balance_minor"], issued["status"]) == (
        123456,
        123456,
        "posted",
    )
    assert issued["due_date"] > date(2026, 6, 30)  # by the customer's terms
    assert sources.ns.records["invoice"][invoice]["total"] == Decimal("1234.56")


async def test_a_429_storm_and_a_5xx_burst_end_in_success(sources: Sources) -> None:
    command_id = await add_command(
        sources.engine, "log_time", "netsuite", log_time_payload(sources)
    )
    sources.ns_faults.concurrency_limit(times=3, retry_after=2)
    sources.ns_faults.outage(times=3)

    first_defer = await run_once(sources, command_id)
    waiting = await command(sources.engine, command_id)
    assert isinstance(first_defer, float)
    deferrals = [first_defer, *await run_to_the_end(sources, command_id)]

    assert waiting["status"] == "DISPATCHED" and waiting["last_error_retryable"] is True
    assert "CONCURRENCY_LIMIT_EXCEEDED" in waiting["last_error_message"]
    assert waiting["next_attempt_at"] >= waiting["updated_at"] + timedelta(seconds=2)
    assert len(deferrals) == 6 and all(d >= 2 for d in deferrals[:3])  # Retry-After honoured
    done = await command(sources.engine, command_id)
    assert (done["status"], done["attempts"]) == ("SUCCEEDED", 7)
    assert len(at_source(sources.ns, "timebill", await command(sources.engine, command_id))) == 1


async def test_a_salesforce_outage_ends_in_success(sources: Sources) -> None:
    deal = first(sources.rows["opportunity"], stage="negotiation")["source_id"]
    command_id = await add_command(
        sources.engine, "mark_opportunity_won", "salesforce", {"opportunity_id": deal}
    )
    sources.sf_faults.fail_next(503, "SERVER_UNAVAILABLE", times=2)
    sources.sf_faults.fail_next(429, "TOO_MANY_REQUESTS", times=1, retry_after=3)

    deferrals = await run_to_the_end(sources, command_id)

    assert len(deferrals) == 3 and deferrals[2] >= 3
    assert (await command(sources.engine, command_id))["status"] == "SUCCEEDED"
    assert (await read_model_row(sources.engine, "opportunity", deal))["is_won"] is True


async def test_a_refusal_fails_with_the_sources_code_and_message(sources: Sources) -> None:
    closed = "The accounting period is closed for 6/30/2026."
    sources.ns_faults.refuse_writes("USER_ERROR", closed)
    project = sources.rows["project"][0]["source_id"]
    bill = {"project_id": project, "issue_date": "2026-06-30", "amount": "10.00"}
    invoice_cmd = await add_command(sources.engine, "issue_invoice", "netsuite", bill)
    sources.sf_faults.refuse_writes(
        "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Close date is in the past"
    )
    deal = sources.rows["opportunity"][1]["source_id"]
    payload = {"opportunity_id": deal, "close_date": "2020-01-01"}
    deal_cmd = await add_command(sources.engine, "update_opportunity", "salesforce", payload)
    invoices_before = len(sources.ns.rows("invoice"))
    counted_before = [_failed_attempts(k) for k in ("issue_invoice", "update_opportunity")]

    assert await run_to_the_end(sources, invoice_cmd) == []
    assert await run_to_the_end(sources, deal_cmd) == []

    failed = await command(sources.engine, invoice_cmd)
    assert (failed["status"], failed["attempts"], failed["last_error_retryable"]) == (
        "FAILED",
        1,
        False,
    )
    assert (failed["last_error_code"], failed["last_error_message"]) == ("USER_ERROR", closed)
    refused = await command(sources.engine, deal_cmd)
    assert (refused["status"], refused["last_error_code"]) == (
        "FAILED",
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    )
    assert refused["last_error_message"] == "Close date is in the past"
    assert len(sources.ns.rows("invoice")) == invoices_before
    counted = [_failed_attempts(k) for k in ("issue_invoice", "update_opportunity")]
    assert [a - b for a, b in zip(counted, counted_before, strict=True)] == [1, 1]


async def test_a_sources_overlong_code_and_message_are_cut_to_their_columns(
    sources: Sources,
) -> None:
    """``last_error_code`` holds 64 characters, ``last_error_message`` 1,000: a longer code
    or message from a source is cut, not refused by PostgreSQL (nor kept whole by SQLite)."""
    code, message = "E" * 80, "m" * 1200
    sources.ns_faults.refuse_writes(code, message)
    project = sources.rows["project"][0]["source_id"]
    bill = {"project_id": project, "issue_date": "2026-06-30", "amount": "10.00"}
    command_id = await add_command(sources.engine, "issue_invoice", "netsuite", bill)

    assert await run_to_the_end(sources, command_id) == []

    failed = await command(sources.engine, command_id)
    assert (failed["status"], failed["last_error_code"]) == ("FAILED", code[:64])
    assert failed["last_error_message"] == message[:1000]


def _failed_attempts(kind: str) -> float:
    """``clientgraph_command_attempts_total{outcome="FAILED"}`` (docs/operations.md)."""
    labels = {"kind": kind, "outcome": "FAILED"}
    return REGISTRY.get_sample_value("clientgraph_command_attempts_total", labels) or 0.0


async def test_exhausted_retries_dead_letter_and_a_replay_succeeds(sources: Sources) -> None:
    payload = log_time_payload(sources)
    command_id = await add_command(sources.engine, "log_time", "netsuite", payload, max_attempts=3)
    sources.ns_faults.outage(times=3)

    deferrals = await run_to_the_end(sources, command_id)
    dead = await command(sources.engine, command_id)

    assert len(deferrals) == 2
    assert (dead["status"], dead["attempts"], dead["last_error_retryable"]) == (
        "DEAD_LETTERED",
        3,
        True,
    )
    assert "503" in dead["last_error_message"] and dead["completed_at"] is not None
    assert await skipped(sources, command_id)

    await set_command(
        sources.engine, command_id, CommandStatus.ACCEPTED, completed_at=None
    )  # replay
    assert await run_to_the_end(sources, command_id) == []
    replayed = await command(sources.engine, command_id)
    assert (replayed["status"], replayed["attempts"]) == ("SUCCEEDED", 4)
    assert len(at_source(sources.ns, "timebill", await command(sources.engine, command_id))) == 1


async def test_a_write_whose_answer_was_lost_is_not_made_twice(sources: Sources) -> None:
    command_id = await add_command(
        sources.engine, "log_time", "netsuite", log_time_payload(sources)
    )
    timebills_before = len(sources.ns.rows("timebill"))
    sources.ns_faults.fail_next(503, "UNEXPECTED_ERROR", after=2)  # the read-back after the PUT

    deferrals = await run_to_the_end(sources, command_id)
    await set_command(
        sources.engine, command_id, CommandStatus.RUNNING
    )  # a worker died after commit…
    again = await run_to_the_end(sources, command_id)  # …and its job ran once more

    assert len(deferrals) == 1 and again == []
    written = at_source(sources.ns, "timebill", await command(sources.engine, command_id))
    assert len(written) == 1 and len(sources.ns.rows("timebill")) == timebills_before + 1
    assert written[0]["externalId"] == source_key(await command(sources.engine, command_id))
    done = await command(sources.engine, command_id)
    # the lost read-back spent no attempt: the write was never sent again
    assert (done["status"], done["attempts"], done["target_source_id"]) == (
        "SUCCEEDED",
        1,
        written[0]["id"],
    )
    assert done["applied_at"] is not None and done["last_error_code"] is None
    assert await skipped(sources, command_id)


async def test_success_and_the_read_model_write_commit_together(
    sources: Sources, monkeypatch: pytest.MonkeyPatch
) -> None:
    command_id = await add_command(
        sources.engine, "log_time", "netsuite", log_time_payload(sources)
    )

    async def breaks(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the read model write broke")  # after the move to SUCCEEDED

    monkeypatch.setattr(execute, "apply_page", breaks)
    deferred = await run_once(sources, command_id)

    waiting = await command(sources.engine, command_id)
    assert isinstance(deferred, float)  # the read-back is tried again later
    assert (waiting["status"], waiting["last_error_code"]) == ("APPLIED", "INTERNAL_ERROR")
    entries = metadata.tables["time_entry"]
    async with sources.engine.connect() as conn:
        held = select(entries).where(entries.c.source_id == waiting["target_source_id"])
        assert (await conn.execute(held)).first() is None
    monkeypatch.undo()
    assert await run_to_the_end(sources, command_id) == []
    assert (await command(sources.engine, command_id))["status"] == "SUCCEEDED"
    assert await read_model_row(sources.engine, "time_entry", waiting["target_source_id"])


async def test_each_write_carries_the_source_key_of_its_own_idempotency_key(
    sources: Sources,
) -> None:
    """The external id the source stores is the caller's key, hashed (``source_key_of``), so
    two commands are two records; a command logged before migration 0006 (no ``source_key``)
    uses its id. Checked at the source, not through ``source_key`` itself."""
    before = len(sources.ns.rows("timebill"))
    ids = [
        await add_command(sources.engine, "log_time", "netsuite", log_time_payload(sources, h))
        for h in ("1.00", "2.00", "3.00")
    ]
    legacy = ids[-1]
    await set_command(sources.engine, legacy, CommandStatus.ACCEPTED, source_key=None)
    for command_id in ids:
        assert await run_to_the_end(sources, command_id) == []

    rows = [await command(sources.engine, command_id) for command_id in ids]
    expected = [source_key_of(row["idempotency_key"]) for row in rows[:-1]]
    expected.append(f"clientgraph-command-{legacy}")
    made = sources.ns.rows("timebill")[before:]
    assert sorted(r["externalId"] for r in made) == sorted(expected), made
    assert [r["status"] for r in rows] == ["SUCCEEDED"] * 3


async def test_a_failed_read_back_waits_half_the_time_since_the_write_from_1_to_60_s(
    sources: Sources,
) -> None:
    """docs/writes.md: an APPLIED command's read-back is retried after half the time since
    the write, 1 s to 60 s, ±25 % jitter, and never sooner than the source's Retry-After.
    The job's clock is set; the read-back fails on a currency we cannot map."""
    payload = log_time_payload(sources)
    job = sources.ns.records["job"][str(payload["project_id"])]
    job["currency"] = {"id": "99"}  # every read-back of the entry now fails (ours)
    command_id = await add_command(sources.engine, "log_time", "netsuite", payload)
    written = utcnow()

    async def deferrals(since_write: timedelta, runs: int = 12) -> list[float]:
        sources.deps.clock = lambda: written + since_write
        found = [await run_once(sources, command_id) for _ in range(runs)]
        assert all(isinstance(d, float) for d in found), found
        return [float(d) for d in found]

    right_after = await deferrals(timedelta(0))  # the write itself happens at ``written``
    assert (await command(sources.engine, command_id))["applied_at"] == written
    spread: list[float] = []
    for since, base in (
        (timedelta(0), 1.0),
        (timedelta(seconds=40), 20.0),
        (timedelta(hours=1), 60.0),
    ):
        found = right_after if since == timedelta(0) else await deferrals(since)
        assert all(base * 0.75 <= d <= base * 1.25 for d in found), (since, found)
        spread += [d / base for d in found]
    # the jitter covers both sides of ±25 %: 36 uniform draws all miss (0.75, 0.9) or all
    # miss (1.1, 1.25) with a chance of 2 × 0.7**36 ≈ 5e-6
    assert min(spread) < 0.9 and max(spread) > 1.1, spread

    sources.ns_faults.fail_next(429, "CONCURRENCY_LIMIT_EXCEEDED", retry_after=30)
    assert await deferrals(timedelta(0), runs=1) == [30.0]  # the source asked for 30 s
    after = await command(sources.engine, command_id)
    assert (after["status"], after["attempts"]) == ("APPLIED", 1)  # nothing spent
    assert after["last_error_retryable"] is True  # the read-back is tried again


class BrokenWrite(httpx.AsyncBaseTransport):
    """A bug of ours on the way to the source: every write raises a plain exception."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            raise RuntimeError("a bug of ours, detail: SELECT secret FROM vault")
        return await self._inner.handle_async_request(request)


async def test_a_failure_of_ours_is_retried_then_dead_lettered_without_its_detail(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """Not the source's error but ours (a bug, a database blip): retried as a transient one,
    then DEAD_LETTERED (replayable once fixed), never left RUNNING. Clients read only that it
    was ours; the detail is in the worker's log, with its traceback."""

    def broken(system: str, inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        return BrokenWrite(inner) if system == "salesforce" else inner

    async with open_sources(engine, wrap=broken) as sources:
        deal = first(sources.rows["opportunity"], stage="prospecting")["source_id"]
        payload = {"opportunity_id": deal, "stage": "negotiation"}
        command_id = await add_command(
            sources.engine, "update_opportunity", "salesforce", payload, max_attempts=2
        )
        deferrals = await run_to_the_end(sources, command_id)
        row = await command(sources.engine, command_id)
    assert len(deferrals) == 1 and deferrals[0] > 0  # one retry after a back-off
    assert (row["status"], row["attempts"], row["last_error_retryable"]) == (
        "DEAD_LETTERED",
        2,
        True,
    )
    assert (row["last_error_code"], row["last_error_message"]) == (
        "INTERNAL_ERROR",
        "internal error (RuntimeError); see the worker log",
    )
    broke = f"command {command_id} attempt 1 broke"
    logged = [r for r in caplog.records if r.getMessage() == broke]
    assert logged and logged[0].exc_info is not None
    assert "SELECT secret" in str(logged[0].exc_info[1])


async def test_an_applied_command_without_its_written_record_is_written_again(
    sources: Sources,
) -> None:
    """A row APPLIED before the worker kept what it wrote (``written`` empty, an older
    release's row): the attempt cannot know what to read back, so it writes again under the
    same source key (which finds the record it made) and succeeds."""
    deal = first(sources.rows["opportunity"], stage="prospecting")["source_id"]
    payload = {"opportunity_id": deal, "stage": "negotiation"}
    command_id = await add_command(sources.engine, "update_opportunity", "salesforce", payload)
    await set_command(sources.engine, command_id, CommandStatus.APPLIED, applied_at=utcnow())

    assert await run_to_the_end(sources, command_id) == []

    row = await command(sources.engine, command_id)
    assert (row["status"], row["target_source_id"]) == ("SUCCEEDED", deal)
    assert sources.sf.records["Opportunity"][deal]["StageName"] == "Negotiation/Review"


async def test_a_job_for_a_command_that_does_not_exist_does_nothing(sources: Sources) -> None:
    """A job whose row was deleted while it waited in the queue leaves nothing to do."""
    missing = 10**9
    assert await run_once(sources, missing) == {
        "command": missing,
        "status": "MISSING",
        "skipped": True,
    }


async def test_a_payload_that_is_not_an_object_fails_saying_so(sources: Sources) -> None:
    """A row whose payload is not a JSON object (edited by hand: the API logs objects) fails
    at once with ``INVALID_PAYLOAD``, nothing written."""
    before = len(sources.ns.rows("timebill"))
    command_id = await add_command(sources.engine, "log_time", "netsuite", {"hours": "1.00"})
    await set_command(sources.engine, command_id, CommandStatus.ACCEPTED, payload="[]")

    assert await run_to_the_end(sources, command_id) == []

    failed = await command(sources.engine, command_id)
    assert (failed["status"], failed["attempts"], failed["last_error_code"]) == (
        "FAILED",
        1,
        "INVALID_PAYLOAD",
    )
    assert failed["last_error_message"] == "the payload is not a JSON object"
    assert len(sources.ns.rows("timebill")) == before


@pytest.mark.parametrize("master", ["salesforce", "netsuite"])
async def test_a_client_read_back_lands_as_the_configured_master_says(
    engine: AsyncEngine, master: str
) -> None:
    """``ensure_customer`` reads back a NetSuite customer: a client record. Under Salesforce
    (the default master) it is linked to the CRM account it was made for, a link of the
    object type ``customer``; where NetSuite owns the client list
    (``settings.sync.account_master``) it is an account of its own."""
    async with open_sources(engine, account_master=master) as sources:
        if master == "salesforce":  # a client of the CRM that NetSuite does not know yet
            client = sources.rows["account"][0]
            known = next(x for x in sources.rows["account_xref"] if x["account_id"] == client["id"])
            xref = metadata.tables["account_xref"]
            async with engine.begin() as conn:
                await conn.execute(xref.delete().where(xref.c.source_id == known["source_id"]))
            del sources.ns.records["customer"][known["source_id"]]
            crm_id, name, domain = client["source_id"], client["name"], client["domain"]
        else:  # a client new to both
            crm_id, name, domain = "0015g0000000000099", "Fabrikam Fresh", "fabrikam-fresh.example"
        payload = {"customer_id": None, "account_source_id": crm_id, "name": name}
        payload |= {"domain": domain, "currency": "USD", "terms_days": "30"}

        customer = await succeed(sources, "ensure_customer", "netsuite", payload)

        accounts, xref = metadata.tables["account"], metadata.tables["account_xref"]
        async with engine.connect() as conn:
            own = select(accounts.c.name).where(
                accounts.c.source_system == "netsuite", accounts.c.source_id == customer
            )
            owned = list((await conn.execute(own)).scalars())
            to = select(xref.c.account_id, xref.c.object_type).where(xref.c.source_id == customer)
            links = [tuple(r) for r in await conn.execute(to)]
        if master == "salesforce":
            crm = await read_model_row(engine, "account", crm_id)
            assert (owned, links) == ([], [(crm["id"], "customer")])
        else:
            assert (owned, links) == ([name], [])
