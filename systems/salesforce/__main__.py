"""Serve the Salesforce simulator on its own: ``python -m systems.salesforce --help``."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime

import uvicorn

from readmodel.seed import SeedConfig, generate_all
from systems.salesforce.app import create_simulator
from systems.salesforce.store import from_seed


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m systems.salesforce",
        description="A Salesforce REST (v60.0) simulator holding a generated firm's accounts, "
        "contacts and opportunities. Authenticate with POST /services/oauth2/token "
        "(client_secret=...), then query /services/data/v60.0/query?q=SOQL.",
    )
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--today", type=date.fromisoformat, default=datetime.now(UTC).date())
    parser.add_argument("--client-secret", required=True, help="the secret clients must send")
    parser.add_argument("--batch-size", type=int, default=2000, help="records per page")
    args = parser.parse_args()
    config = SeedConfig(accounts=args.accounts, seed=args.seed, today=args.today)
    store = from_seed(generate_all(config))
    app = create_simulator(store, client_secret=args.client_secret, batch_size=args.batch_size)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
