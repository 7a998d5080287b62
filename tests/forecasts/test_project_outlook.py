"""``Project.outlook`` over GraphQL/HTTP on the firm of docs/formulas.md ("Project outlook")."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.db import count_statements
from readmodel.figures.stored import refresh_stale
from tests.conftest import FIRM_TODAY
from tests.forecasts.fixtures import ask, gateway, outlook_firm
from tests.readmodel.firm_builder import build

MONEY = ("teamEac", "trendEac", "dailyBurn", "eacLow", "eacHigh", "overrunLow", "overrunHigh",
         "revenueAtCompletion")  # fmt: skip
OUTLOOK = (
    "{ projects { nodes { code outlook { asOf status lowToBudget highToBudget trendDaysLeft "
    + " ".join(f"{m} {{ amount currency }}" for m in MONEY)
    + " marginAtCompletion factors { name value explanation } } } } }"
)


def _outlooks(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    return {p["code"]: p["outlook"] for p in body["data"]["projects"]["nodes"]}


def _amounts(outlook: dict[str, Any]) -> list[str | None]:
    return [outlook[m] and outlook[m]["amount"] for m in MONEY]


async def test_the_worked_example_and_its_masks(engine: AsyncEngine) -> None:
    ids = await build(engine, outlook_firm)
    async with gateway(engine) as app:
        got = _outlooks(await ask(app, engine, OUTLOOK))
        delivery = await ask(app, engine, OUTLOOK, role="delivery")
        partner = await ask(app, engine, OUTLOOK, role="partner", accounts=[ids["acme"]])
        once = await _statements(app, engine)
        await build(engine, outlook_firm)  # a second firm: twice the rows
        twice = await _statements(app, engine)
        app.state.settings.graphql.compiled_reads = True
        async with engine.begin() as conn:  # the firms' figures and outlooks, stored
            assert await refresh_stale(conn, FIRM_TODAY) == 2
        seen = count_statements(app.state.engine)
        stored = _outlooks(await ask(app, engine, OUTLOOK))
        assert len([s for s in seen if "project_outlook" in s]) == 1  # one compiled statement
    # the project figures (4, shared with Project.costToDate …) + recent cost + milestones
    assert once == twice == 6
    assert stored == got  # the compiled path reads the same outlooks, stored
    pt, pf, pm = got["PT"], got["PF"], got["PM"]
    assert (pt["status"], pt["lowToBudget"], pt["highToBudget"]) == ("ON_TRACK", 0.664, 0.68)
    assert pt["trendDaysLeft"] == 23 and pt["asOf"] == "2026-06-30"
    assert _amounts(pt) == [
        "6800.00", "6640.00", "80.00", "6640.00", "6800.00", "-3360.00", "-3200.00", "12750.00",
    ]  # fmt: skip
    assert pt["marginAtCompletion"] == 0.4667
    assert pt["factors"] == [
        {"name": "team_estimate", "value": "6800.00", "explanation":
         "Cost to date EUR 4,800.00 + the team's estimate to complete EUR 2,000.00 = "
         "EUR 6,800.00."},
        {"name": "recent_trend", "value": "6640.00", "explanation":
         "EUR 1,600.00 of cost logged in the 20 working days 2026-06-03 to 2026-06-30 "
         "(EUR 80.00 a day); × 23 working days to the end date 2026-07-31 = EUR 1,840.00 to "
         "go; EUR 4,800.00 + EUR 1,840.00 = EUR 6,640.00."},
        {"name": "hours_vs_progress", "value": "-0.1059", "explanation":
         "60% of the budget hours used at 71% complete (cost to cost): hours run 11% behind "
         "progress."},
        {"name": "budget", "value": "-3200.00", "explanation":
         "Estimates EUR 6,640.00 to EUR 6,800.00 against a budget of EUR 10,000.00: "
         "EUR 3,360.00 under to EUR 3,200.00 under."},
    ]  # fmt: skip
    assert (pf["status"], pf["lowToBudget"], pf["highToBudget"]) == ("AT_RISK", 1.0, 1.06)
    assert _amounts(pf) == [
        "10000.00", "10600.00", "200.00", "10000.00", "10600.00", "0.00", "600.00", "10000.00",
    ]  # fmt: skip
    assert pf["marginAtCompletion"] == -0.06
    assert pf["factors"][2]["explanation"].endswith("hours run 0% level with progress.")
    assert (pm["status"], pm["lowToBudget"], pm["trendDaysLeft"]) == ("OVERRUN", 1.25, None)
    assert _amounts(pm) == [
        "1000.00", None, None, "1000.00", "1000.00", "200.00", "200.00", "7000.00",
    ]  # fmt: skip
    assert pm["marginAtCompletion"] == 0.8571
    assert [f["value"] for f in pm["factors"]] == ["1000.00", None, None, "200.00"]
    _masks(delivery, partner)


def _masks(delivery: dict[str, Any], partner: dict[str, Any]) -> None:
    seen = _outlooks(delivery)
    assert [o["status"] for o in seen.values()] == ["AT_RISK", "OVERRUN", "ON_TRACK"]  # by code
    assert all(set(_amounts(o)) == {None} and o["factors"] is None for o in seen.values())
    assert sorted(delivery["extensions"]["masked"]) == sorted(
        f"projects.nodes.outlook.{f}" for f in (*MONEY, "marginAtCompletion", "factors")
    )
    assert set(_outlooks(partner).values()) == {None}
    assert partner["extensions"]["masked"] == ["projects.nodes.outlook"]


async def _statements(app: Any, engine: AsyncEngine) -> int:
    """The statements of the per-field path (the compiled one reads the stored outlook)."""
    app.state.settings.graphql.compiled_reads = False
    seen = count_statements(app.state.engine)
    # the baseline runs per field (a directive: never compiled, so never from the response
    # cache, whose stale entry costs a counter read more after the second firm's writes)
    await ask(app, engine, "{ projects { nodes { code @include(if: true) } } }")
    baseline = len(seen)
    seen.clear()
    _outlooks(await ask(app, engine, OUTLOOK))
    return len(seen) - baseline
