"""Each of the handoff's writes, with NetSuite's or Salesforce's answer lost after the
source acted on it (``lossy_sources``): the step's command retries with the handoff's own
external ids, so the handoff completes with one customer, one project, one engagement, one
billing schedule and one staffing request per role, each step on its first command."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sync_jobs.handoff.conftest import Sources, drive, handoff, open_deal, win
from tests.sync_jobs.handoff.test_flow import START, _forget_customer, milestones

ENGAGEMENT = "customrecord_cg_engagement"


def counts(sources: Sources) -> dict[str, int]:
    kinds = ("customer", "job", ENGAGEMENT, "projecttask", "resourceallocation")
    return {kind: len(sources.ns.rows(kind)) for kind in kinds}


def lose_answers(sources: Sources, lose: bool) -> None:
    for layer in sources.layers.values():
        layer.lose_first_answers = lose


@pytest.mark.parametrize("client", ["known", "new"])
async def test_each_step_whose_answer_is_lost_writes_once(
    lossy_sources: Sources, client: str
) -> None:
    sources = lossy_sources
    deal = open_deal(sources)
    if client == "new":  # ensure_customer creates the customer too
        customer = await _forget_customer(sources, deal)
        del sources.ns.records["customer"][customer["id"]]
    sold = f"{deal['amount_minor'] / 100:.2f}"
    data: dict[str, Any] = {"billing_method": "milestone", "start_date": START}
    before = counts(sources)
    lose_answers(sources, False)  # the win itself is defended by the commands' test
    handoff_id = await win(sources, deal, data | {"milestones": milestones(sold)})
    lose_answers(sources, True)

    assert await drive(sources, handoff_id, rounds=40) == "COMPLETED"

    done = await handoff(sources, handoff_id)
    assert [(s["status"], s["attempt"]) for s in done["steps"]] == [("SUCCEEDED", 1)] * 5
    roles = len(sources.ns.rows("resourceallocation")) - before["resourceallocation"]
    assert roles > 0
    assert counts(sources) == before | {
        "customer": before["customer"] + (1 if client == "new" else 0),
        "job": before["job"] + 1,
        ENGAGEMENT: before[ENGAGEMENT] + 1,
        "projecttask": before["projecttask"] + 2,
        "resourceallocation": before["resourceallocation"] + roles,
    }
    staffing = [
        r
        for r in sources.ns.rows("resourceallocation")
        if (r.get("project") or {}).get("id") == done["project_source_id"]
    ]
    assert len(staffing) == roles == len({r["custevent_cg_role"] for r in staffing})
    lost = {record_type(path) for _, path in sources.layers["netsuite"].answered}
    made = {"job", ENGAGEMENT, "projecttask", "resourceallocation"}
    assert lost == made | ({"customer"} if client == "new" else set())
    assert sources.layers["salesforce"].answered  # the link back too
    opportunity = sources.sf.records["Opportunity"][deal["source_id"]]
    assert opportunity["Project_Id__c"] == done["project_source_id"]


def record_type(path: str) -> str:
    """``/services/rest/record/v1/<type>[/<key>]`` → ``<type>``."""
    return path.partition("/record/v1/")[2].split("/")[0]
