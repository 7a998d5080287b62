"""``clientgraph seed``'s firm as the demo shows it: a handful of planted time anomalies and
no others, and a year of forecast snapshots whose accuracy ``portfolio`` measures."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import Settings
from clientgraph.tasks import seed_database
from readmodel.seed.history import snapshot_days
from tests.conftest import FIRM_TODAY
from tests.forecasts.fixtures import ask, gateway
from tests.resolvers.commands.world import url_of

ACCOUNTS = 60
ANOMALIES = "{ timeAnomalies { anomalies { rule hours explanation } } }"
ACCURACY = """{ portfolio(periodStart: "2025-07-01", periodEnd: "2026-06-30") {
  forecastAccuracy { months byHorizon { currency horizon snapshots months wape bias mape }
  byServiceLine { serviceLine } } } }"""


async def _seeded(engine: AsyncEngine) -> None:
    settings = Settings(database_url=url_of(engine))
    await seed_database(
        settings, accounts=ACCOUNTS, seed=42, today=FIRM_TODAY, reset=False, progress=False
    )


def _data(body: dict[str, Any]) -> Any:
    assert "errors" not in body, body["errors"]
    return body["data"]


async def test_time_anomalies_are_the_planted_ones(engine: AsyncEngine) -> None:
    await _seeded(engine)
    async with gateway(engine) as app:
        found = _data(await ask(app, engine, ANOMALIES, role="admin"))
    rules = Counter(a["rule"] for a in found["timeAnomalies"]["anomalies"])
    # three 14-hour days, a Saturday, an entry after a closed project's end (so unstaffed
    # too: its assignment ended with the project), an entry billed 10% over its card
    assert rules == {
        "LONG_DAY": 3, "WEEKEND": 1, "CLOSED_PROJECT": 1, "UNSTAFFED": 1, "RATE_OFF_CARD": 1,
    }  # fmt: skip
    long_days = [a for a in found["timeAnomalies"]["anomalies"] if a["rule"] == "LONG_DAY"]
    assert {a["hours"] for a in long_days} == {"14.00"}


async def test_a_year_of_snapshots_is_measured_by_horizon(engine: AsyncEngine) -> None:
    await _seeded(engine)
    async with gateway(engine) as app:
        found = _data(await ask(app, engine, ACCURACY))["portfolio"]["forecastAccuracy"]
    assert len(snapshot_days(FIRM_TODAY)) == 13  # 2025-06-01 … 2026-05-01, and today
    assert found["months"][0] == "2025-07-01" and found["months"][-1] == "2026-05-01"
    assert len(found["months"]) == 11  # June 2026 closes tomorrow
    rows = [(r["currency"], r["horizon"], r["snapshots"]) for r in found["byHorizon"]]
    # horizon h: the snapshots of 2025-06-01 … 2026-05-01 whose month + h is July … May
    assert rows == [(c, h, n) for c in ("EUR", "USD") for h, n in enumerate((11, 11, 10, 9, 8, 7))]
    assert all(r["wape"] is not None and r["mape"] is not None for r in found["byHorizon"])
    lines = {r["serviceLine"] for r in found["byServiceLine"]}
    assert lines == {
        "Cloud Migration", "Cybersecurity", "Data & Analytics", "Managed Services", "Strategy",
    }  # fmt: skip
