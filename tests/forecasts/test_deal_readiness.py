"""``Opportunity.readiness`` over GraphQL/HTTP: the handoff's checks on open deals."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.db import count_statements
from tests.access.compiled import admin_paths
from tests.access.compiled import ask as paths_ask
from tests.conftest import FIRM_NOW
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


async def test_the_compiled_path_answers_as_the_handoffs_checks(engine: AsyncEngine) -> None:
    """The compiled path writes the checks in SQL (resolvers/planner/readiness.py): on the
    deals above, and with a client that has no name and no ERP link (the customer check
    fails too), its answer is the per-field path's, in one statement."""
    ids = await build(engine, deals_firm)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE account SET name = '' WHERE id = :a"), {"a": ids["acme"]})
        await conn.execute(
            text("DELETE FROM account_xref WHERE account_id = :a"), {"a": ids["acme"]}
        )
    async with admin_paths(engine, FIRM_NOW) as (per_field_client, compiled_client):
        per_field = await paths_ask(per_field_client, DEALS, {})
        compiled = await paths_ask(compiled_client, DEALS, {})
    assert compiled.body == per_field.body and compiled.statements == 1
    got = _by_id(_plain(compiled.body))
    fields = [i["field"] for r in got.values() if r is not None for i in r["issues"]]
    assert {"serviceLine", "soldValue", "startDate", "billingMethod", "customer"} <= set(fields)
    assert {"rateCard", "milestones"} <= set(fields)


def _plain(value: Any) -> Any:
    """``ordered`` JSON (objects as lists of pairs) as plain dicts and lists."""
    if (
        isinstance(value, list)
        and value
        and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in value)
    ):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
