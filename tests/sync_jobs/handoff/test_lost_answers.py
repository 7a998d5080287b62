"""Each of the handoff's writes, with NetSuite's or Salesforce's answer lost after the
source acted on it (``lossy_sources``): the step's command retries with the handoff's own
external ids, so the handoff completes with one customer, one project, one engagement, one
billing schedule and one staffing request per role, each step on its first command."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from sync_jobs.handoff.templates import TEMPLATES
from tests.sync_jobs.commands.conftest import open_sources
from tests.sync_jobs.handoff.conftest import Sources, drive, handoff, open_deal, rows_of, win
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
    assert roles == len(TEMPLATES[deal["service_line"]].roles)  # each, though one answer lost
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


class FirstJobReadFails(httpx.AsyncBaseTransport):
    """NetSuite answers 503 to the first read of a project (``job``) made after one was
    created: the create_project step's read-back, once its write has landed."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.created = self.failed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        kind = record_type(request.url.path)
        if kind == "job" and request.method in ("POST", "PUT", "PATCH"):
            self.created = True
        elif kind == "job" and request.method == "GET" and self.created and not self.failed:
            self.failed = True
            return httpx.Response(503, json={"title": "Service Unavailable"})
        return await self._inner.handle_async_request(request)


async def test_a_project_read_back_later_brings_its_engagement_along(engine: AsyncEngine) -> None:
    """The project step's write landed (a project and its engagement) but its read-back
    failed: the command waits APPLIED and the next run reads back what the write recorded,
    the engagement first, so the read model holds both (the project is not parked)."""
    failing: list[FirstJobReadFails] = []

    def wrap(system: str, inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        if system != "netsuite":
            return inner
        failing.append(FirstJobReadFails(inner))
        return failing[0]

    async with open_sources(engine, wrap=wrap) as sources:
        deal = open_deal(sources)
        handoff_id = await win(sources, deal, {"billing_method": "fixed_fee", "start_date": START})
        assert await drive(sources, handoff_id) == "COMPLETED"
        done = await handoff(sources, handoff_id)
        projects = await rows_of(sources, "project", source_id=done["project_source_id"])
        job = sources.ns.records["job"][done["project_source_id"]]
        engaged = job["custentity_cg_engagement"]["id"]
        engagements = await rows_of(sources, "engagement", source_id=engaged)
    assert failing[0].failed  # the read-back did fail once
    assert len(projects) == 1 and len(engagements) == 1
    assert projects[0]["engagement_id"] == engagements[0]["id"]
