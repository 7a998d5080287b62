"""Writes to HubSpot deals through the command executor, against the simulator on a socket.

The lost-answer test puts ``systems.fault_proxy`` (also on a socket) between the worker and
HubSpot: the first answer to each write is replaced by a 502 after HubSpot applied it. The
retry sets the same properties again, so HubSpot holds one deal in the final state and the
command ends SUCCEEDED.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from arq import Retry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import command_intake, command_log
from readmodel.command_log import NewCommand, input_hash
from readmodel.tables import metadata
from readmodel.types import utcnow
from sync_jobs.commands.execute import apply_command
from sync_jobs.commands.writes import InvalidPayload
from sync_jobs.context import DEPS_KEY, SyncDeps, close_deps, open_deps
from sync_jobs.pull import pull_object
from systems.fault_proxy import FaultLayer, create_proxy
from tests.gateway.test_webhooks import database_url, serve_in_thread
from tests.sync_jobs.connectors.hubspot.conftest import (
    HubSpot,
    hubspot_connector,
    hubspot_settings,
)


@dataclass
class Lossy:
    hubspot: HubSpot
    layer: FaultLayer
    deps: SyncDeps


@pytest.fixture
async def lossy(engine: AsyncEngine, hubspot: HubSpot) -> AsyncIterator[Lossy]:
    """The read model pulled from HubSpot, then a proxy that loses the first answers."""
    layer = FaultLayer(hubspot.url, rate=0.0)
    with serve_in_thread(create_proxy(layer)) as proxy:
        settings = hubspot_settings(proxy, database_url=database_url(engine), retries=0)
        deps = await open_deps(settings, engine=engine)
        try:
            connector = deps.source("hubspot")
            for object_type in connector.objects:
                await pull_object(engine, connector, object_type, account_master="hubspot")
            layer.lose_first_answers = True
            yield Lossy(hubspot, layer, deps)
        finally:
            await close_deps(deps)


async def run_command(deps: SyncDeps, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Accept a command for HubSpot and run it as arq would until it is final."""
    new = NewCommand(
        kind=kind,
        target_system="hubspot",
        target_object="opportunity",
        target_source_id=payload["opportunity_id"],
        idempotency_key=uuid.uuid4().hex,
        input_hash=input_hash(kind, payload),
        payload=payload,
        correlation_id="test",
    )
    command_id = int((await command_intake.accept(deps.engine, new, now=utcnow())).row.id)
    for attempt in range(1, 10):
        try:
            await apply_command({DEPS_KEY: deps, "job_try": attempt}, command_id)
            break
        except Retry:
            continue
    async with deps.engine.connect() as conn:
        row = await command_log.get(conn, command_id)
    assert row is not None
    return dict(row._mapping)


def open_deal(hubspot: HubSpot, stage: str) -> str:
    return next(
        deal_id
        for deal_id, deal in sorted(hubspot.store.objects["deals"].items())
        if deal["properties"]["dealstage"] == stage
    )


async def test_a_deal_update_whose_answer_is_lost_lands_once_and_succeeds(lossy: Lossy) -> None:
    store = lossy.hubspot.store
    deal_id = open_deal(lossy.hubspot, "appointmentscheduled")
    before = set(store.objects["deals"])
    payload = {
        "opportunity_id": deal_id,
        "stage": "negotiation",
        "amount": "125000.10",
        "close_date": "2026-09-30",
    }

    done = await run_command(lossy.deps, "update_opportunity", payload)

    assert (done["status"], done["last_error_code"]) == ("SUCCEEDED", None), done
    assert lossy.layer.answered  # an answer was lost after HubSpot applied the write
    assert set(store.objects["deals"]) == before  # nothing created, nothing duplicated
    deal = store.objects["deals"][deal_id]["properties"]
    assert (deal["dealstage"], deal["amount"]) == ("decisionmakerboughtin", "125000.10")
    assert deal["closedate"] == "2026-09-30T00:00:00Z"
    t = metadata.tables["opportunity"]
    async with lossy.deps.engine.connect() as conn:
        stmt = select(t.c.stage, t.c.amount_minor).where(t.c.source_id == deal_id)
        assert (await conn.execute(stmt)).one() == ("negotiation", 12500010)


async def test_a_deal_marked_won_whose_answer_is_lost_is_won_once_and_opens_its_handoff(
    lossy: Lossy,
) -> None:
    deal_id = open_deal(lossy.hubspot, "decisionmakerboughtin")
    before = set(lossy.hubspot.store.objects["deals"])

    done = await run_command(lossy.deps, "mark_opportunity_won", {"opportunity_id": deal_id})

    assert (done["status"], done["last_error_code"]) == ("SUCCEEDED", None), done
    assert lossy.layer.answered  # its first answer was lost after HubSpot applied it
    assert set(lossy.hubspot.store.objects["deals"]) == before  # nothing created twice
    properties = lossy.hubspot.store.objects["deals"][deal_id]["properties"]
    assert (properties["dealstage"], properties["hs_is_closed_won"]) == ("closedwon", "true")
    o, h = metadata.tables["opportunity"], metadata.tables["handoff"]
    async with lossy.deps.engine.connect() as conn:
        stmt = select(h.c.trigger).join(o, o.c.id == h.c.opportunity_id)
        triggers = (await conn.execute(stmt.where(o.c.source_id == deal_id))).scalars().all()
    assert triggers == ["mutation"]  # the same handoff the Salesforce won path opens


async def test_a_deal_seen_turning_won_by_sync_is_observed_for_the_handoff(
    engine: AsyncEngine, hubspot: HubSpot
) -> None:
    deal_id = open_deal(hubspot, "decisionmakerboughtin")
    async with hubspot_connector(hubspot.url) as connector:
        for object_type in connector.objects:
            await pull_object(engine, connector, object_type, account_master="hubspot")
        hubspot.store.update("deals", deal_id, {"dealstage": "closedwon"}, utcnow())
        await pull_object(engine, connector, "opportunity", account_master="hubspot")

    o, w = metadata.tables["opportunity"], metadata.tables["win_observation"]
    async with engine.connect() as conn:
        stmt = select(o.c.source_id, w.c.source_system).join(o, o.c.id == w.c.opportunity_id)
        assert (await conn.execute(stmt)).all() == [(deal_id, "hubspot")]


def _has(hubspot: HubSpot, stage: str) -> bool:
    return any(
        d["properties"]["dealstage"] == stage for d in hubspot.store.objects["deals"].values()
    )


async def test_a_probability_or_an_unknown_stage_is_refused_before_any_call(
    hubspot: HubSpot,
) -> None:
    deal_id = open_deal(hubspot, "appointmentscheduled")
    async with hubspot_connector(hubspot.url) as connector:
        for payload in ({"probability": "50"}, {"stage": "won-ish"}, {}):
            with pytest.raises(InvalidPayload):
                await connector.apply_command(
                    "update_opportunity", {"opportunity_id": deal_id, **payload}, "key"
                )
    assert hubspot.store.objects["deals"][deal_id]["properties"]["dealstage"] == (
        "appointmentscheduled"
    )
