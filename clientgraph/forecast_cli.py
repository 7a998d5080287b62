"""``clientgraph forecast backtest``: how accurate the revenue forecast would have been.

The forecast is recomputed as of the first day of each past month (the open work of that day
rebuilt from dates, as the seeded history is) and compared with what the months billed once
they closed: WAPE, bias and MAPE by horizon (docs/formulas.md, "Forecast accuracy").
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from clientgraph.settings import Settings

if TYPE_CHECKING:
    from readmodel.forecasts.accuracy import Accuracy

Commands = argparse._SubParsersAction  # type: ignore[type-arg]
MAX_MONTHS_BACK = 36
COLUMNS = ("horizon", "currency", "service line", "snapshots", "months", "forecast", "actual")
RATIOS = ("WAPE", "bias", "MAPE")


def add_forecast(commands: Commands) -> None:
    p = commands.add_parser(
        "forecast", help="the revenue forecast's backtest", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    actions = p.add_subparsers(title="actions", metavar="ACTION")
    bt = actions.add_parser(
        "backtest",
        help="recompute the forecast as of past months and print its accuracy by horizon",
        description="Recompute the revenue forecast as of the 1st of each of the last "
        "--months-back months (nothing is stored) and print, per horizon (months ahead) and "
        "currency, how far it was from what the closed months billed: WAPE = Σ|F − A| ÷ ΣA, "
        "bias = Σ(F − A) ÷ ΣA (positive: too high), MAPE = mean |F − A| ÷ A.",
    )
    bt.add_argument("--today", type=date.fromisoformat, help="YYYY-MM-DD (default: today, UTC)")
    bt.add_argument(
        "--months-back", type=int, default=12, metavar="N",
        help=f"snapshot days: the 1st of each of the N months before today's (1–{MAX_MONTHS_BACK}, "
        "default 12)",
    )  # fmt: skip
    bt.add_argument(
        "--horizons", type=int, metavar="N",
        help="months in each snapshot: horizons 0 … N − 1 (default forecasts.snapshot_months)",
    )  # fmt: skip
    bt.add_argument(
        "--by-service-line", action="store_true", help="one row per service line as well"
    )
    bt.set_defaults(handler=_backtest)
    p.set_defaults(handler=lambda _s, _a: p.print_help() or 2)


def _backtest(settings: Settings, args: argparse.Namespace) -> int:
    horizons = args.horizons or settings.forecasts.snapshot_months
    if not 1 <= args.months_back <= MAX_MONTHS_BACK or not 1 <= horizons <= 24:
        print(
            f"clientgraph forecast backtest: --months-back 1–{MAX_MONTHS_BACK}, --horizons 1–24",
            file=sys.stderr,
        )
        return 2
    today = args.today or datetime.now(UTC).date()
    firm, lines = asyncio.run(_run(settings, today, args.months_back, horizons))
    rows = firm + (lines if args.by_service_line else [])
    print(table(sorted(rows, key=lambda a: (a.horizon, a.currency, a.service_line or ""))))
    return 0


async def _run(
    settings: Settings, today: date, months_back: int, horizons: int
) -> tuple[list[Accuracy], list[Accuracy]]:
    from readmodel.db import create_engine
    from readmodel.forecasts.backtest import backtest, month_starts
    from readmodel.forecasts.rules import Rules
    from sync_jobs.handoff.templates import weeks_of

    engine = create_engine(settings.database_url.get_secret_value())
    try:
        async with engine.connect() as conn:
            days = month_starts(today, months_back)
            rules = Rules.of(settings.forecasts, weeks_of)
            return await backtest(conn, days, today, horizons, rules)
    finally:
        await engine.dispose()


def table(rows: list[Accuracy]) -> str:
    """A plain-text table, one line per horizon, currency (and service line)."""
    cells = [COLUMNS + RATIOS] + [
        (
            str(a.horizon), a.currency, _line(a.service_line),
            str(a.pairs), str(a.months), f"{a.forecast:,}", f"{a.actual:,}",
            *("—" if r is None else str(r) for r in (a.wape, a.bias, a.mape)),
        )
        for a in rows
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i in (1, 2) else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    )


def _line(name: str | None) -> str:
    return "(all)" if name is None else name or "(none)"
