"""``timeAnomalies`` over GraphQL/HTTP on the June 2026 firm of docs/formulas.md
("Time anomalies"): every rule, its numbers, its thresholds, its roles."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings_forecasts import ForecastSettings
from readmodel.db import count_statements
from tests.conftest import error_codes
from tests.forecasts.fixtures import ask, gateway, time_firm
from tests.readmodel.firm_builder import build
from tests.resolvers.commands.world import gid

JUNE = 'periodStart: "2026-06-01", periodEnd: "2026-06-30"'
ANOMALIES = f"""{{ timeAnomalies({JUNE}) {{ periodStart periodEnd scoreThreshold minDays
  maxDayHours rateTolerancePercent counts {{ rule count }}
  anomalies {{ rule workDate hours explanation patternDays medianHours madHours score
    threshold billRate {{ amount }} cardRate {{ amount }} person {{ name }}
    timeEntry {{ id }} project {{ code }} }} }} }}"""


def _short(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["workDate"][5:], r["person"]["name"], r["rule"], r["hours"]) for r in rows]


async def test_the_worked_example_and_who_may_see_it(engine: AsyncEngine) -> None:
    ids = await build(engine, time_firm)
    await _thresholds_are_settings(engine)  # other settings, on the same firm
    async with gateway(engine) as app:
        body = await ask(app, engine, ANOMALIES)
        delivery = await ask(app, engine, ANOMALIES, role="delivery")
        refused = {
            r: await ask(app, engine, ANOMALIES, role=r) for r in ("account_team", "partner")
        }
        beta_only = await ask(app, engine, ANOMALIES, accounts=[ids["beta"]])
        once = await _statements(app, engine)
        await build(engine, time_firm)  # a second firm: twice the rows
        twice = await _statements(app, engine)
    # (the baseline runs the two rule statements too) + one batch of people, one of projects
    assert once == twice == 2
    assert "errors" not in body, body["errors"]
    got = body["data"]["timeAnomalies"]
    assert (got["periodStart"], got["periodEnd"]) == ("2026-06-01", "2026-06-30")
    assert (got["scoreThreshold"], got["minDays"]) == ("3.5", 10)
    assert (got["maxDayHours"], got["rateTolerancePercent"]) == ("12", "0")
    rows = got["anomalies"]
    assert _short(rows) == [
        ("06-01", "Ben", "UNSTAFFED", "8.00"),
        ("06-02", "Ben", "LONG_DAY", "12.50"),
        ("06-06", "Ben", "WEEKEND", "1.00"),
        ("06-10", "Ada", "OFF_PATTERN", "14.00"),
        ("06-10", "Ada", "LONG_DAY", "14.00"),
        ("06-10", "Ada", "CLOSED_PROJECT", "6.00"),
        ("06-10", "Ada", "UNSTAFFED", "6.00"),
        ("06-13", "Ada", "OFF_PATTERN", "2.00"),
        ("06-13", "Ada", "WEEKEND", "2.00"),
        ("06-17", "Ada", "RATE_OFF_CARD", "9.00"),
    ]
    assert {c["rule"]: c["count"] for c in got["counts"]} == {
        "OFF_PATTERN": 2, "LONG_DAY": 2, "WEEKEND": 2, "HOLIDAY": 0, "CLOSED_PROJECT": 1,
        "UNSTAFFED": 2, "RATE_OFF_CARD": 1,
    }  # fmt: skip
    off = rows[3]
    assert (off["patternDays"], off["medianHours"], off["madHours"]) == (16, "8.00", "1.00")
    assert (off["score"], off["threshold"]) == ("4.05", "3.5")  # 6 ÷ 1.4826 = 4.0469…
    assert off["explanation"] == (
        "Ada logged 14.00 h on 2026-06-10: robust score 4.05 (|14.00 − 8.00| ÷ (1.4826 × 1.00)) "
        "against their median day of 8.00 h over 16 days with time; flagged above 3.5."
    )
    assert (off["timeEntry"], off["project"]) == (None, None)
    closed = rows[5]
    assert closed["timeEntry"] == {"id": gid("TimeEntry", ids["closed"])}
    assert closed["project"] == {"code": "PC"}
    assert closed["explanation"] == (
        "Ada's 6.00 h on PC dated 2026-06-10 is on a completed project after its end date "
        "2026-06-05."
    )
    assert rows[2]["explanation"] == "Ben logged 1.00 h on Saturday 2026-06-06."
    rate = rows[9]
    assert rate["timeEntry"] == {"id": gid("TimeEntry", ids["dear"])}
    assert (rate["billRate"], rate["cardRate"], rate["threshold"]) == (
        {"amount": "160.00"}, {"amount": "150.00"}, "0",
    )  # fmt: skip
    assert rows[1]["threshold"] == "12"
    _roles_masks_scope(delivery, refused, beta_only)


async def test_time_on_the_firms_weekday_holidays_is_flagged(engine: AsyncEngine) -> None:
    """Wednesday 06-10 and Saturday 06-06 are holidays: Ada's 06-10 is also a HOLIDAY; Ben's
    Saturday stays a WEEKEND only (a holiday on a weekend changes nothing)."""
    await build(engine, time_firm)
    holidays = ForecastSettings(holidays=["2026-06-10", "2026-06-06"])
    async with gateway(engine, holidays) as app:
        body = await ask(app, engine, ANOMALIES)
    assert "errors" not in body, body["errors"]
    got = body["data"]["timeAnomalies"]
    rows = [r for r in got["anomalies"] if r["workDate"] in ("2026-06-06", "2026-06-10")]
    assert [(r["workDate"][5:], r["person"]["name"], r["rule"]) for r in rows] == [
        ("06-06", "Ben", "WEEKEND"),
        ("06-10", "Ada", "OFF_PATTERN"),
        ("06-10", "Ada", "LONG_DAY"),
        ("06-10", "Ada", "HOLIDAY"),
        ("06-10", "Ada", "CLOSED_PROJECT"),
        ("06-10", "Ada", "UNSTAFFED"),
    ]
    holiday = rows[3]
    assert holiday["hours"] == "14.00"
    assert (
        holiday["explanation"]
        == "Ada logged 14.00 h on Wednesday 2026-06-10, a holiday of the firm."
    )
    assert {c["rule"]: c["count"] for c in got["counts"]}["HOLIDAY"] == 1


async def _thresholds_are_settings(engine: AsyncEngine) -> None:
    settings = ForecastSettings(
        anomaly_score="4.1", max_day_hours=14, rate_tolerance_percent="6.67", anomaly_min_days=3
    )
    async with gateway(engine, settings) as app:
        body = await ask(app, engine, ANOMALIES)
        bad = await ask(app, engine, '{ timeAnomalies(periodStart: "2026-07-01", '
                        'periodEnd: "2026-06-01") { minDays } }')  # fmt: skip
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    rules = [(r["person"]["name"], r["rule"]) for r in body["data"]["timeAnomalies"]["anomalies"]]
    # 4.05 is not above 4.1; 14.00 h not above 14; 160 is 6.67 % off 150 (10 ÷ 150 = 6.666…%,
    # within); Ben now has a pattern (3 days ≥ 3) — median 8.00, MAD 4.50: no outlier.
    assert rules == [
        ("Ben", "UNSTAFFED"),
        ("Ben", "WEEKEND"),
        ("Ada", "CLOSED_PROJECT"),
        ("Ada", "UNSTAFFED"),
        ("Ada", "WEEKEND"),
    ]


def _roles_masks_scope(
    delivery: dict[str, Any], refused: dict[str, dict[str, Any]], beta_only: dict[str, Any]
) -> None:
    rows = delivery["data"]["timeAnomalies"]["anomalies"]
    assert len(rows) == 10 and all(r["billRate"] is None and r["cardRate"] is None for r in rows)
    assert sorted(delivery["extensions"]["masked"]) == [
        "timeAnomalies.anomalies.billRate",
        "timeAnomalies.anomalies.cardRate",
    ]
    for role, body in refused.items():
        assert error_codes(body) == ["FORBIDDEN"], role
    scoped = beta_only["data"]["timeAnomalies"]["anomalies"]
    assert [(r["person"]["name"], r["rule"]) for r in scoped] == [
        ("Ben", "UNSTAFFED"),
        ("Ben", "LONG_DAY"),
        ("Ben", "WEEKEND"),
    ]


async def _statements(app: Any, engine: AsyncEngine) -> int:
    seen = count_statements(app.state.engine)
    await ask(app, engine, "{ timeAnomalies { minDays } }")
    baseline = len(seen)
    seen.clear()
    body = await ask(app, engine, ANOMALIES)
    assert "errors" not in body
    return len(seen) - baseline
