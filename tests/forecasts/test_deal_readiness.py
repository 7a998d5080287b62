"""``Opportunity.readiness`` over GraphQL/HTTP: the handoff's checks on open deals."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.db import count_statements
from tests.forecasts.fixtures import ask, deals_firm, gateway
from tests.readmodel.firm_builder import build
from tests.resolvers.commands.world import gid

DEALS = """{ accounts { nodes { opportunities { id
  readiness { checks passed score ready issues { field message owner } } } } } }"""
SAM = "Sales (opportunity owner: Sam)"
PMO, FINANCE = "PMO (delivery setup)", "Finance (billing)"


def _by_id(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    nodes = body["data"]["accounts"]["nodes"]
    return {o["id"]: o["readiness"] for a in nodes for o in a["opportunities"]}


def issue(field: str, message: str, owner: str) -> dict[str, str]:
    return {"field": field, "message": message, "owner": owner}


async def test_open_deals_get_the_handoff_checks(engine: AsyncEngine) -> None:
    ids = await build(engine, deals_firm)
    async with gateway(engine) as app:
        got = _by_id(await ask(app, engine, DEALS, role="account_team"))
        partner = await ask(app, engine, DEALS, role="partner", accounts=[ids["acme"]])
        once = await _statements(app, engine)
        await build(engine, deals_firm)  # a second firm: twice the rows
        twice = await _statements(app, engine)
    # deals, clients, engagements, ERP links, rate cards, their lines: one batch
    assert once == twice == 6
    assert got[gid("Opportunity", ids["A"])] == {
        "checks": 7, "passed": 5, "score": 71, "ready": False,
        "issues": [
            issue("startDate", "no start date", PMO),
            issue("billingMethod", "no billing method", FINANCE),
        ],
    }  # fmt: skip
    assert got[gid("Opportunity", ids["B"])] == {
        "checks": 7, "passed": 7, "score": 100, "ready": True, "issues": [],
    }  # fmt: skip
    assert got[gid("Opportunity", ids["C"])] is None  # won: its handoff says the rest
    assert got[gid("Opportunity", ids["D"])] == {
        "checks": 7, "passed": 2, "score": 29, "ready": False,
        "issues": [
            issue("serviceLine", "no service line with a template", SAM),
            issue("soldValue", "the sold value must be above zero", SAM),
            issue("startDate", "no start date", PMO),
            issue("billingMethod", "no billing method", FINANCE),
            issue("rateCard", "no effective rate card for ? in EUR", PMO),
        ],
    }  # fmt: skip
    assert got[gid("Opportunity", ids["E"])] == {
        "checks": 7, "passed": 5, "score": 71, "ready": False,
        "issues": [
            issue("rateCard", "no effective rate card for Cloud Migration in USD", PMO),
            issue("milestones", "milestone billing needs milestones", SAM),
        ],
    }  # fmt: skip
    assert set(_by_id(partner).values()) == {None}
    assert partner["extensions"]["masked"] == ["accounts.nodes.opportunities.readiness"]


async def _statements(app: Any, engine: AsyncEngine) -> int:
    """What readiness adds to the deals' own statements, both read field by field (the
    compiled read path would answer the baseline alone in one statement)."""
    app.state.settings.graphql.compiled_reads = False
    seen = count_statements(app.state.engine)
    await ask(app, engine, "{ accounts { nodes { opportunities { id } } } }")
    baseline = len(_reads(seen))
    seen.clear()
    _by_id(await ask(app, engine, DEALS))
    return len(_reads(seen)) - baseline


def _reads(statements: list[str]) -> list[str]:
    """The request's reads, without the key's bookkeeping (``last_used_at`` is written at
    most once a minute, so whether a request writes it depends on the clock)."""
    return [s for s in statements if "api_key" not in s]
