"""Serve the NetSuite simulator on its own: ``python -m systems.netsuite --help``."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime

import uvicorn
from starlette.types import ASGIApp

from readmodel.seed import SeedConfig, generate_all
from systems.netsuite.app import create_simulator
from systems.netsuite.concurrency import AccountConcurrency
from systems.netsuite.faults import Faults
from systems.netsuite.store import from_seed


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m systems.netsuite",
        description="A NetSuite SuiteTalk REST simulator holding a generated firm's customers, "
        "projects, time, invoices and payments. Authenticate with POST "
        "/services/rest/auth/oauth2/v1/token (client_id=..., client_secret=...), then POST "
        "/services/rest/query/v1/suiteql (Prefer: transient) or GET /services/rest/record/v1/.",
    )
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--today", type=date.fromisoformat, default=datetime.now(UTC).date())
    parser.add_argument("--client-secret", required=True, help="the secret clients must send")
    parser.add_argument("--page-size", type=int, default=1000, help="default rows per page")
    parser.add_argument(
        "--delay", type=float, default=0.0, help="seconds to stall every answer (a slow source)"
    )
    parser.add_argument(
        "--account-concurrency",
        type=int,
        default=0,
        help="refuse requests over this many in flight with 429 CONCURRENCY_LIMIT_EXCEEDED, "
        "as NetSuite governs an account (0: no limit)",
    )
    args = parser.parse_args()
    config = SeedConfig(accounts=args.accounts, seed=args.seed, today=args.today)
    store = from_seed(generate_all(config))
    faults = Faults(delay=args.delay)
    app: ASGIApp = create_simulator(
        store, client_secret=args.client_secret, page_size=args.page_size, faults=faults
    )
    if args.account_concurrency:
        app = AccountConcurrency(app, args.account_concurrency)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
