"""A won deal becomes a project in NetSuite, linked back to Salesforce, for each billing
method; missing data waits and resumes; a new client gets a customer; a suspected duplicate
halts; a refused step shows the source's error and can be retried."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import delete, insert, select

from readmodel import command_intake, command_log
from readmodel.command_log import CommandStatus
from readmodel.tables import AccountXref, table_of
from readmodel.types import utcnow
from sync_jobs.connectors.netsuite.deal_records import ENGAGEMENT
from sync_jobs.handoff.orchestrator import Advanced, advance
from sync_jobs.handoff.state import STEPS
from sync_jobs.handoff.steps import command_key
from sync_jobs.handoff.templates import TEMPLATES
from sync_jobs.pull import pull_object
from tests.sync_jobs.commands.conftest import run_to_the_end, set_command
from tests.sync_jobs.handoff.conftest import (
    Sources,
    drive,
    handoff,
    open_deal,
    resume,
    rows_of,
    run_pending,
    win,
)

START = "2026-07-06"
RULES = {
    "time_and_materials": "monthly_approved_time",
    "fixed_fee": "fixed_fee_on_milestones",
    "retainer": "monthly_retainer",
    "milestone": "milestone_on_milestones",
    "non_billable": "no_invoicing",
}
READY = {"billing_method": "fixed_fee", "start_date": START}


def milestones(sold: str) -> list[dict[str, str]]:
    return [
        {"name": "Discovery", "due_date": "2026-08-01", "amount": "0.00"},
        {"name": "Delivery", "due_date": "2026-09-30", "amount": sold},
    ]


@pytest.mark.parametrize("method", list(RULES))
async def test_each_billing_method_sets_up_the_project(sources: Sources, method: str) -> None:
    # a retainer bills months of 30 days: a Cloud Migration's 24 weeks are 6 (5 of 31 days)
    line = {"service_line": "Cloud Migration"} if method == "retainer" else {}
    deal = open_deal(sources, **line)
    sold = f"{deal['amount_minor'] / 100:.2f}"
    data: dict[str, Any] = {"billing_method": method, "start_date": START}
    if method == "milestone":
        data["milestones"] = milestones(sold)

    handoff_id = await win(sources, deal, data)

    assert await drive(sources, handoff_id) == "COMPLETED"
    found = await handoff(sources, handoff_id)
    assert [s["status"] for s in found["steps"]] == ["SUCCEEDED"] * 5
    # each step done when its command finished, not when an advancer noticed it
    finished = [await _finished_at(sources, s["command_id"]) for s in found["steps"]]
    assert [s["completed_at"] for s in found["steps"]] == finished and None not in finished
    assert all(s["started_at"] is not None for s in found["steps"])  # `startedAt`
    assert (found["readiness_score"], found["missing"], found["manual_intervention"]) == (
        100,
        [],
        False,
    )
    job = sources.ns.records["job"][found["project_source_id"]]
    assert job["custentity_cg_billing_method"] == method
    assert job["custentity_cg_opportunity"] == deal["source_id"]  # the deal's own, found again
    assert _external_ids(sources, found) == _documented_ids(handoff_id, method, deal)
    rule = json.loads(job["custentity_cg_billing_schedule"])  # the invoicing rule clerks see
    assert rule["rule"] == RULES[method], rule
    if method == "time_and_materials":
        assert rule["cap"] == sold
    if method == "non_billable":
        assert rule == {"rule": "no_invoicing"}
    opportunity = sources.sf.records["Opportunity"][deal["source_id"]]
    assert opportunity["Project_Id__c"] == found["project_source_id"]
    assert opportunity["Handoff_Status__c"] == "COMPLETED"
    project = (await rows_of(sources, "project", source_id=found["project_source_id"]))[0]
    assert (project["status"], project["budget_minor"]) == ("active", deal["amount_minor"])
    assert project["activated_at"] is not None  # where the setup cycle time ends (the KPI)
    if method == "retainer":  # billed monthly over the project's months (30 days each)
        months = max(1, round((project["end_date"] - project["start_date"]).days / 30))
        monthly = f"{deal['amount_minor'] // months / 100:.2f}"
        assert (rule["months"], rule["amount"]) == (str(months), monthly) and months > 1
    synced = (await rows_of(sources, "opportunity", source_id=deal["source_id"]))[0]
    assert project["account_id"] == synced["account_id"] and project["rate_card_id"] is not None
    # when the deal was won: its close, else (the simulator keeps none) when the win was seen
    assert found["won_at"] == (synced["closed_at"] or found["created_at"]) is not None
    staffed = await rows_of(sources, "assignment", project_id=project["id"])
    assert {a["status"] for a in staffed} == {"requested"}
    spans = {(a["start_date"], a["end_date"]) for a in staffed}
    assert spans == {(project["start_date"], project["end_date"])}  # the project's weeks
    assert sum(a["scheduled_hours_x100"] for a in staffed) == project["budget_hours_x100"] > 0
    card = await rows_of(sources, "rate_card_line", rate_card_id=project["rate_card_id"])
    rates = {line["role"]: (line["bill_rate_minor"], line["cost_rate_minor"]) for line in card}
    asked = {a["role"]: (a["bill_rate_minor"], a["cost_rate_minor"]) for a in staffed}
    assert asked == {role: rates[role] for role in asked} and min(asked.values()) > (0, 0)
    billed = await rows_of(sources, "milestone", project_id=project["id"])
    expected = {"milestone": 2, "fixed_fee": 3}.get(method, 0)
    assert len(billed) == expected
    if billed:
        assert sum(m["amount_minor"] for m in billed) == deal["amount_minor"]
    if method == "fixed_fee":  # 30 % at the start, 40 % at the midpoint, 30 % at the end
        billed.sort(key=lambda m: m["due_date"])
        assert [m["name"] for m in billed] == [f"Instalment {n} of 3" for n in (1, 2, 3)]
        start, middle, end = (m["due_date"] for m in billed)
        assert (start, end) == (project["start_date"], project["end_date"]) and start < end
        assert middle == start + (end - start) / 2
        shares = [m["amount_minor"] * 100 / deal["amount_minor"] for m in billed]
        assert all(abs(a - b) < 1 for a, b in zip(shares, (30, 40, 30), strict=True)), shares


def _external_ids(sources: Sources, found: dict[str, Any]) -> dict[str, set[str]]:
    """The external ids of the records the handoff made in NetSuite, by record type."""
    job = sources.ns.records["job"][found["project_source_id"]]
    engagement = job["custentity_cg_engagement"]["id"]
    mine = {"projecttask": "company", "resourceallocation": "project"}
    ids = {
        kind: {
            r["externalId"]
            for r in sources.ns.rows(kind)
            if (r.get(field) or {}).get("id") == found["project_source_id"]
        }
        for kind, field in mine.items()
    }
    ids["job"] = {job["externalId"]}
    ids["engagement"] = {sources.ns.records[ENGAGEMENT][engagement]["externalId"]}
    return ids


def _documented_ids(handoff_id: int, method: str, deal: dict[str, Any]) -> dict[str, set[str]]:
    """docs/handoff.md: ``clientgraph-handoff-<id>-project``, ``…-milestone-<n>``,
    ``…-staffing-<role>`` (a retried step finds its records by them)."""
    made = f"clientgraph-handoff-{handoff_id}"
    roles = [share.role for share in TEMPLATES[deal["service_line"]].roles]
    billed = {"milestone": 2, "fixed_fee": 3}.get(method, 0)
    return {
        "job": {f"{made}-project"},
        "engagement": {f"{made}-engagement"},
        "projecttask": {f"{made}-milestone-{n}" for n in range(1, billed + 1)},
        "resourceallocation": {f"{made}-staffing-{role}" for role in roles},
    }


async def _finished_at(sources: Sources, command_id: int) -> Any:
    async with sources.engine.connect() as conn:
        row = await command_log.get(conn, command_id)
    assert row is not None
    return row.completed_at


async def test_two_handoffs_bill_their_own_instalments(sources: Sources) -> None:
    """Each handoff's records carry external ids of its own (``clientgraph-handoff-<id>-…``):
    a second fixed-fee project's instalments are new tasks, not the first's moved over."""
    deals = [o for o in sources.rows["opportunity"] if not o["is_closed"] and o["service_line"]]
    projects = []
    for deal in deals[:2]:
        handoff_id = await win(sources, deal, READY)
        assert await drive(sources, handoff_id) == "COMPLETED"
        projects.append((await handoff(sources, handoff_id))["project_source_id"])
    assert len(set(projects)) == 2  # a project of its own each, not the first's written over
    tasks = sources.ns.rows("projecttask")
    for project in projects:
        billed = [t for t in tasks if (t.get("company") or {}).get("id") == project]
        assert len(billed) == 3, (project, billed)


async def test_missing_data_waits_with_owners_then_resumes(sources: Sources) -> None:
    deal = open_deal(sources)
    handoff_id = await win(sources, deal, None)

    assert await drive(sources, handoff_id) == "WAITING_FOR_DATA"
    waiting = await handoff(sources, handoff_id)
    assert {m["field"] for m in waiting["missing"]} == {"startDate", "billingMethod"}
    assert {m["owner"] for m in waiting["missing"]} == {
        "PMO (delivery setup)",
        "Finance (billing)",
    }
    assert waiting["readiness_score"] == 71  # 5 of 7 checks
    assert waiting["manual_intervention"] is True  # an exception raised, for someone to fix
    assert all(s["command_id"] is None for s in waiting["steps"])  # nothing was written

    await resume(sources, handoff_id, {"billing_method": "milestone", "start_date": START})
    assert await drive(sources, handoff_id) == "WAITING_FOR_DATA"  # milestones now needed
    assert [m["field"] for m in (await handoff(sources, handoff_id))["missing"]] == ["milestones"]

    sold = f"{deal['amount_minor'] / 100:.2f}"
    await resume(sources, handoff_id, {"milestones": milestones(sold)})
    assert await drive(sources, handoff_id) == "COMPLETED"
    assert (await handoff(sources, handoff_id))["manual_intervention"] is True


async def _forget_customer(sources: Sources, deal: dict[str, Any]) -> dict[str, Any]:
    """The read model loses the client's ERP link; NetSuite's customer record is returned."""
    link = next(x for x in sources.rows["account_xref"] if x["account_id"] == deal["account_id"])
    xref = table_of(AccountXref)
    async with sources.engine.begin() as conn:
        await conn.execute(delete(xref).where(xref.c.source_id == link["source_id"]))
    return dict(sources.ns.records["customer"][link["source_id"]])


async def test_a_new_client_gets_its_erp_customer(sources: Sources) -> None:
    deal = open_deal(sources)
    customer = await _forget_customer(sources, deal)
    del sources.ns.records["customer"][customer["id"]]  # never in the ERP

    handoff_id = await win(sources, deal, READY)

    assert await drive(sources, handoff_id) == "COMPLETED"
    made = sources.ns.records["customer"][
        (await handoff(sources, handoff_id))["customer_source_id"]
    ]
    assert made["externalId"] == customer["externalId"] and made["id"] != customer["id"]
    assert (made["url"], made["email"]) == (customer["url"], customer["email"])  # the domain's
    synced = (await rows_of(sources, "opportunity", source_id=deal["source_id"]))[0]
    linked = await rows_of(sources, "account_xref", source_id=made["id"])
    assert [x["account_id"] for x in linked] == [synced["account_id"]]


async def test_a_client_linked_by_name_keeps_its_erp_customer(sources: Sources) -> None:
    """A customer made in NetSuite by hand carries no CRM id; the read model linked it by
    name and domain. ``ensure_customer`` uses that link: the external id would find nothing,
    and the name check would call the client's own customer a duplicate."""
    deal = open_deal(sources)
    link = next(x for x in sources.rows["account_xref"] if x["account_id"] == deal["account_id"])
    sources.ns.update("customer", link["source_id"], {"externalId": None})
    netsuite = sources.deps.source("netsuite")
    assert (await pull_object(sources.engine, netsuite, "customer")).error is None
    before = len(sources.ns.rows("customer"))

    handoff_id = await win(sources, deal, READY)

    assert await drive(sources, handoff_id) == "COMPLETED"
    found = await handoff(sources, handoff_id)
    assert found["customer_source_id"] == link["source_id"]
    assert len(sources.ns.rows("customer")) == before


async def test_a_suspected_duplicate_customer_halts_safely(sources: Sources) -> None:
    deal = open_deal(sources)
    customer = await _forget_customer(sources, deal)
    sources.ns.records["customer"][customer["id"]]["externalId"] = "keyed-in-by-hand"
    before = len(sources.ns.records["customer"])

    handoff_id = await win(sources, deal, READY)

    assert await drive(sources, handoff_id) == "HALTED"
    halted = await handoff(sources, handoff_id)
    assert (halted["status"], halted["error_code"]) == ("HALTED", "DUPLICATE_SUSPECTED")
    assert customer["id"] in halted["error_message"]
    assert [s["status"] for s in halted["steps"]] == ["FAILED"] + ["PENDING"] * 4
    assert len(sources.ns.records["customer"]) == before  # nothing created

    # an operator links the ERP record to the CRM account, then resumes
    sources.ns.records["customer"][customer["id"]]["externalId"] = customer["externalId"]
    await resume(sources, handoff_id, {})
    assert await drive(sources, handoff_id) == "COMPLETED"
    assert (await handoff(sources, handoff_id))["customer_source_id"] == customer["id"]


async def test_a_refused_step_fails_with_the_sources_words_and_can_be_retried(
    sources: Sources,
) -> None:
    deal = open_deal(sources)
    handoff_id = await win(sources, deal, READY)
    await run_pending(sources, handoff_id)  # the customer step
    sources.ns_faults.refuse_writes("USER_ERROR", "Project manager is required.")

    assert await drive(sources, handoff_id) == "FAILED"
    failed = await handoff(sources, handoff_id)
    assert (failed["status"], failed["manual_intervention"]) == ("FAILED", True)  # stored
    step = next(s for s in failed["steps"] if s["status"] == "FAILED")
    assert (step["name"], step["error_code"], step["error_message"]) == (
        "create_project",
        "USER_ERROR",
        "Project manager is required.",
    )
    assert step["completed_at"] is not None  # when it stopped (`HandoffStep.completedAt`)

    sources.ns_faults.accept_writes()
    await resume(sources, handoff_id, {"manager_name": "Ada Lovelace"})
    advanced = await advance(sources.engine, handoff_id, utcnow())  # the second attempt
    again = (await handoff(sources, handoff_id))["steps"][1]
    assert (again["status"], again["completed_at"], again["error_code"]) == ("RUNNING", None, None)
    assert again["error_message"] is None  # the first attempt's end and error are cleared
    # its new command is handed back for the queue (the worker's hook dispatches it)
    assert advanced == Advanced(handoff_id, "IN_PROGRESS", [again["command_id"]])
    assert await drive(sources, handoff_id) == "COMPLETED"
    retried = await handoff(sources, handoff_id)
    assert retried["steps"][1]["attempt"] == 2
    assert sources.ns.records["job"][retried["project_source_id"]]["custentity_cg_manager"] == (
        "Ada Lovelace"
    )


async def test_a_step_whose_key_another_command_holds_fails_and_adopts_nothing(
    sources: Sources,
) -> None:
    """The project step's key (``handoff-<id>-create_project-1``) already names a command of
    another kind: the step fails visibly (``HANDOFF_KEY_TAKEN``) instead of taking that
    command for its own, and nothing is written to NetSuite."""
    deal = open_deal(sources)
    handoff_id = await win(sources, deal, READY)
    squatter = command_log.NewCommand(
        kind="update_opportunity",
        target_system="salesforce",
        target_object="opportunity",
        target_source_id=deal["source_id"],
        idempotency_key=command_key(handoff_id, "create_project", 1),
        input_hash="squatter",
        payload={"opportunity_id": deal["source_id"], "stage": "negotiation"},
        correlation_id="squatter",
    )
    taken = await command_intake.accept(sources.engine, squatter, now=utcnow())
    jobs_before = len(sources.ns.records["job"])

    assert await drive(sources, handoff_id) == "FAILED"  # the customer step, then this

    failed = await handoff(sources, handoff_id)
    step = failed["steps"][1]
    assert (step["name"], step["status"], step["command_id"]) == ("create_project", "FAILED", None)
    assert step["error_code"] == failed["error_code"] == "HANDOFF_KEY_TAKEN"
    assert squatter.idempotency_key in step["error_message"]
    assert failed["manual_intervention"] is True
    assert len(sources.ns.records["job"]) == jobs_before
    async with sources.engine.connect() as conn:
        still = await command_log.get(conn, int(taken.row.id))
    assert still is not None and still.status == "ACCEPTED"  # untouched


async def test_a_step_whose_command_an_operator_cancelled_fails_the_handoff(
    sources: Sources,
) -> None:
    """The customer step's command is cancelled (``cancelCommand``) before a worker ran it:
    the handoff fails at that step, saying how its command ended, for an operator to retry."""
    deal = open_deal(sources)
    handoff_id = await win(sources, deal, READY)
    step = (await handoff(sources, handoff_id))["steps"][0]
    await set_command(sources.engine, step["command_id"], CommandStatus.CANCELLED)

    assert await drive(sources, handoff_id) == "FAILED"

    failed = await handoff(sources, handoff_id)
    stopped = failed["steps"][0]
    assert (stopped["name"], stopped["status"]) == ("ensure_customer", "FAILED")
    assert (stopped["error_code"], stopped["error_message"]) == (
        "COMMAND_LOST",
        "the step's command ended CANCELLED",
    )
    assert (failed["error_code"], failed["manual_intervention"]) == ("COMMAND_LOST", True)


async def test_a_step_whose_command_cannot_be_built_fails_visibly(sources: Sources) -> None:
    """The customer step's command ends SUCCEEDED without naming the customer it wrote (an
    operator's hand, a connector's bug): the project step cannot be built, so the handoff
    fails at it (``HANDOFF_INVALID``) instead of guessing, and nothing is sent to NetSuite."""
    deal = open_deal(sources)
    handoff_id = await win(sources, deal, READY)
    step = (await handoff(sources, handoff_id))["steps"][0]
    await set_command(sources.engine, step["command_id"], CommandStatus.SUCCEEDED)
    jobs_before = len(sources.ns.records["job"])

    assert await drive(sources, handoff_id) == "FAILED"

    failed = await handoff(sources, handoff_id)
    stopped = failed["steps"][1]
    assert (stopped["name"], stopped["status"], stopped["command_id"]) == (
        "create_project",
        "FAILED",
        None,
    )
    assert (stopped["error_code"], stopped["error_message"]) == (
        "HANDOFF_INVALID",
        "the customer step has not produced an id yet",
    )
    assert stopped["completed_at"] is not None
    assert (failed["status"], failed["error_code"]) == ("FAILED", "HANDOFF_INVALID")
    assert len(sources.ns.records["job"]) == jobs_before


async def test_advancing_a_handoff_that_does_not_exist_says_so(sources: Sources) -> None:
    missing = 10**9
    assert await advance(sources.engine, missing, utcnow()) == Advanced(missing, "MISSING")


async def test_a_steps_success_moves_the_handoff_on_by_itself(sources: Sources) -> None:
    """The worker's hook after a step's command SUCCEEDS (``on_command_succeeded``) finds the
    command's handoff and starts the next step: nobody calls ``advance``."""
    deal = open_deal(sources)
    handoff_id = await win(sources, deal, READY)  # the win's own hook logged step 1
    first = (await handoff(sources, handoff_id))["steps"][0]
    assert first["status"] == "RUNNING" and first["command_id"] is not None

    assert await run_to_the_end(sources, first["command_id"]) == []  # apply_command, hook

    steps = (await handoff(sources, handoff_id))["steps"]
    assert [s["status"] for s in steps[:3]] == ["SUCCEEDED", "RUNNING", "PENDING"]
    assert steps[1]["command_id"] is not None


async def test_steps_run_by_position_however_their_rows_lie(sources: Sources) -> None:
    """The next step is the next by position, not by the rows' physical order (a restored
    backup or a migration may write them in any order): with steps 2… written again
    last-first, step 1's success still starts step 2."""
    deal = open_deal(sources)
    handoff_id = await win(sources, deal, READY)  # the win's own hook logged step 1
    first = (await handoff(sources, handoff_id))["steps"][0]
    of_handoff = STEPS.c.handoff_id == handoff_id
    async with sources.engine.begin() as conn:
        later = select(STEPS).where(of_handoff, STEPS.c.position > 1)
        rows = [dict(r._mapping) for r in await conn.execute(later)]
        await conn.execute(delete(STEPS).where(STEPS.c.id.in_([r["id"] for r in rows])))
        for row in sorted(rows, key=lambda r: -r["position"]):
            await conn.execute(insert(STEPS).values({k: v for k, v in row.items() if k != "id"}))

    assert await run_to_the_end(sources, first["command_id"]) == []  # apply_command, hook

    async with sources.engine.connect() as conn:
        by_position = select(STEPS).where(of_handoff).order_by(STEPS.c.position)
        steps = [dict(r._mapping) for r in await conn.execute(by_position)]
    assert [s["status"] for s in steps[:3]] == ["SUCCEEDED", "RUNNING", "PENDING"]
    assert all(s["command_id"] is None for s in steps[2:])
