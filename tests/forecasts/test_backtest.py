"""``clientgraph forecast backtest`` as a process, on a firm small enough to do by hand
(docs/formulas.md, "Forecast accuracy", the backtest)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import tables
from tests.readmodel.firm_builder import FirmBuilder, at, build
from tests.resolvers.commands.world import url_of

D = date


async def backtest_firm(b: FirmBuilder, ids: dict[str, Any]) -> None:
    """A Strategy milestone project: April's milestone billed in April, May's in May, and a
    May milestone that slipped (never done)."""
    acme = await b.account("Acme")
    card = await b.add(
        tables.RateCard, name="Strategy EUR", service_line="Strategy", currency="EUR",
        effective_from=D(2026, 1, 1), status="effective",
    )  # fmt: skip
    pm = await b.project(acme, "PM", "milestone", rate_card_id=card, end_date=D(2026, 12, 31))
    done = {"completed_at": at(D(2026, 4, 14))}
    await b.milestone(pm, 100_000, "invoiced", D(2026, 4, 15), **done)
    await b.milestone(pm, 200_000, "invoiced", D(2026, 5, 20), completed_at=at(D(2026, 5, 25)))
    await b.milestone(pm, 50_000, "planned", D(2026, 5, 10))
    paid = {"project_id": pm, "status": "paid"}
    await b.invoice(acme, "I-1", 100_000, 0, issue_date=D(2026, 4, 17), **paid)
    await b.invoice(acme, "I-2", 200_000, 0, issue_date=D(2026, 5, 28), **paid)


def _backtest(engine: AsyncEngine, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLIENTGRAPH_DATABASE_URL": url_of(engine)}
    return subprocess.run(
        [sys.executable, "-m", "clientgraph", "forecast", "backtest", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def test_the_backtest_by_horizon(engine: AsyncEngine) -> None:
    await build(engine, backtest_firm)
    # as of 04-01: April 1,000 (M1), May 2,500 (M2 and the slipped M3); as of 05-01: May
    # 2,500 (M1 was invoiced by then), June (not closed on 06-30: not measured)
    done = _backtest(engine, "--today", "2026-06-30", "--months-back", "2", "--horizons", "2")
    lines = _backtest(engine, "--today", "2026-06-30", "--months-back", "2", "--by-service-line")
    bad = _backtest(engine, "--months-back", "0")
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    assert rows == [
        ["horizon", "currency", "service", "line", "snapshots", "months", "forecast", "actual",
         "WAPE", "bias", "MAPE"],
        ["0", "EUR", "(all)", "2", "2", "3,500.00", "3,000.00", "0.1667", "0.1667", "0.1250"],
        ["1", "EUR", "(all)", "1", "1", "2,500.00", "2,000.00", "0.2500", "0.2500", "0.2500"],
    ]  # fmt: skip
    assert [r.split()[:3] for r in lines.stdout.splitlines()[1:]] == [
        ["0", "EUR", "(all)"], ["0", "EUR", "Strategy"], ["1", "EUR", "(all)"],
        ["1", "EUR", "Strategy"],
    ]  # fmt: skip
    assert bad.returncode == 2 and "--months-back 1–36" in bad.stderr


async def time_firm(b: FirmBuilder, ids: dict[str, Any]) -> None:
    """A time-and-materials project billed monthly in arrears: March's 10 h on 04-01, April's
    20 h on 05-04; 4 h of late April approved and never invoiced."""
    acme = await b.account("Acme")
    pt = await b.project(acme, "PT", "time_and_materials", end_date=D(2026, 12, 31))
    ada = await b.person("Ada")
    paid = {"project_id": pt, "status": "paid"}
    march = await b.invoice(acme, "T-1", 100_000, 0, issue_date=D(2026, 4, 1), **paid)
    april = await b.invoice(acme, "T-2", 200_000, 0, issue_date=D(2026, 5, 4), **paid)
    rate = {"bill_rate_minor": 10_000, "cost_rate_minor": 5_000}
    await b.time(pt, ada, 1_000, "invoiced", work_date=D(2026, 3, 20), invoice_id=march, **rate)
    await b.time(pt, ada, 2_000, "invoiced", work_date=D(2026, 4, 10), invoice_id=april, **rate)
    await b.time(pt, ada, 400, "approved", work_date=D(2026, 4, 28), **rate)


async def test_a_past_snapshot_counts_the_time_not_yet_invoiced_on_its_day(
    engine: AsyncEngine,
) -> None:
    """As of 04-01: March's time was invoiced that day (an actual, 1,000), so nothing is
    unbilled: April 1,000 against 1,000. As of 05-01: April's 20 h (invoiced 05-04, after the
    day) and 4 h (never) are unbilled, invoiced in May: 2,400 against May's 2,000. Horizon 0:
    WAPE 400 ÷ 3,000 = 0.1333, MAPE (0 + 0.2) ÷ 2 = 0.1000."""
    await build(engine, time_firm)
    done = _backtest(engine, "--today", "2026-06-30", "--months-back", "2", "--horizons", "1")
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()[1:]]
    assert rows == [
        ["0", "EUR", "(all)", "2", "2", "3,400.00", "3,000.00", "0.1333", "0.1333", "0.1000"],
    ]
