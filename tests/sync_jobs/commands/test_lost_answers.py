"""Every write kind on every simulated source, with the source's answer lost after it acted:
the retry finds the record the first attempt made (or sets the same values again), so the
source holds one record in the final state and the command ends SUCCEEDED.

The answers are lost by ``systems.fault_proxy`` in front of each simulator (``lossy_sources``):
the first answer to each write is replaced by a 502 once the source has applied it. Tryton's
kinds are defended in ``tests/sync_jobs/connectors/tryton/test_writes.py`` ("however often it
runs") and the handoff's steps in ``tests/sync_jobs/handoff/test_lost_answers.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.sync_jobs.commands.conftest import (
    Sources,
    add_command,
    at_source,
    command,
    first,
    read_model_row,
    run_to_the_end,
)
from tests.sync_jobs.commands.test_execute import log_time_payload

Payload = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    """A command kind: its source, a payload for the seeded firm, and where it writes."""

    name: str
    system: str
    payload: Callable[[Sources], Payload]
    record_type: str  # the source's record type (NetSuite) or sobject (Salesforce)
    table: str  # the read model's table
    creates: bool  # a create (one new record, by its source key) or an update of a record
    final: Callable[[dict[str, Any]], bool]  # the record at the source is in the state asked


def _project(sources: Sources) -> dict[str, Any]:
    return first(sources.rows["project"], status="active")


def _change_order(sources: Sources) -> Payload:
    project = _project(sources)
    return {
        "project_id": project["source_id"],
        "budget_delta": "5000.00",
        "hours_delta": "40",
        "days_delta": "10",
        "currency": project["currency"],
        "reason": "scope",
    }


def _invoice(sources: Sources) -> Payload:
    bill = {"project_id": _project(sources)["source_id"], "issue_date": "2026-06-30"}
    return bill | {"amount": "1234.56"}


def _approvals(sources: Sources) -> Payload:
    waiting = [t for t in sources.rows["time_entry"] if t["status"] == "submitted"]
    return {"time_entry_ids": [t["source_id"] for t in waiting[:2]]}


def _milestone(sources: Sources) -> Payload:
    task = next(m for m in sources.rows["milestone"] if m["completed_at"] is None)
    return {"milestone_id": task["source_id"], "completed_on": "2026-06-30"}


def _deal(held: str, **changes: str) -> Callable[[Sources], Payload]:
    """A deal now at stage ``held``, and the changes to write to it."""

    def payload(sources: Sources) -> Payload:
        deal = first(sources.rows["opportunity"], stage=held)
        return {"opportunity_id": deal["source_id"], **changes}

    return payload


KINDS = [
    Kind(
        "log_time",
        "netsuite",
        log_time_payload,
        "timebill",
        "time_entry",
        True,
        lambda r: float(r["hours"]) == 7.5,
    ),
    Kind(
        "submit_change_order",
        "netsuite",
        _change_order,
        "customrecord_cg_changeorder",
        "change_order",
        True,
        lambda r: r["custrecord_cg_status"] == "submitted",
    ),
    Kind(
        "issue_invoice",
        "netsuite",
        _invoice,
        "invoice",
        "invoice",
        True,
        lambda r: float(r["total"]) == 1234.56,
    ),
    Kind(
        "approve_time_entries",
        "netsuite",
        _approvals,
        "timebill",
        "time_entry",
        False,
        lambda r: r["approvalStatus"]["id"] == "2",
    ),
    Kind(
        "complete_milestone",
        "netsuite",
        _milestone,
        "projecttask",
        "milestone",
        False,
        lambda r: r["status"]["id"] == "COMPLETE",
    ),
    Kind(
        "update_opportunity",
        "salesforce",
        _deal("prospecting", stage="negotiation", amount="125000.10"),
        "Opportunity",
        "opportunity",
        False,
        lambda r: (r["StageName"], float(r["Amount"])) == ("Negotiation/Review", 125000.10),
    ),
    Kind(
        "mark_opportunity_won",
        "salesforce",
        _deal("negotiation"),
        "Opportunity",
        "opportunity",
        False,
        lambda r: (r["StageName"], r["IsWon"]) == ("Closed Won", True),
    ),
]


def _records(sources: Sources, kind: Kind) -> dict[str, dict[str, Any]]:
    if kind.system == "salesforce":
        return sources.sf.records[kind.record_type]
    return {str(r["id"]): r for r in sources.ns.rows(kind.record_type)}


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
async def test_a_write_whose_answer_is_lost_lands_once_and_succeeds(
    lossy_sources: Sources, kind: Kind
) -> None:
    sources = lossy_sources
    before = len(_records(sources, kind))
    command_id = await add_command(sources.engine, kind.name, kind.system, kind.payload(sources))

    deferrals = await run_to_the_end(sources, command_id)

    done = await command(sources.engine, command_id)
    assert (done["status"], done["last_error_code"]) == ("SUCCEEDED", None), done
    assert deferrals and sources.layers[kind.system].answered  # an answer was lost
    records = _records(sources, kind)
    assert len(records) == before + (1 if kind.creates else 0)
    written = json_ids(done)
    if kind.creates:
        assert [r["id"] for r in at_source(sources.ns, kind.record_type, done)] == written
    assert all(kind.final(records[i]) for i in written)
    for source_id in written:
        assert await read_model_row(sources.engine, kind.table, source_id)


def json_ids(row: dict[str, Any]) -> list[str]:
    """The source ids the command wrote, as it recorded them."""
    return [str(i) for i in json.loads(row["written"])["source_ids"]]
