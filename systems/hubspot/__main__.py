"""Serve the HubSpot simulator on its own: ``python -m systems.hubspot --help``."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime

import uvicorn

from readmodel.seed import SeedConfig, generate_all
from systems.hubspot.app import SEARCH_WINDOW, create_simulator
from systems.hubspot.faults import RateLimits
from systems.hubspot.store import from_seed, with_hubspot_ids


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m systems.hubspot",
        description="A HubSpot CRM API simulator holding a generated firm's companies, "
        "contacts and deals. Send 'Authorization: Bearer <token>' to /crm/v3/objects/..., "
        "/crm/v3/objects/<type>/search, /crm/v4/associations/... and /crm/v3/pipelines/deals.",
    )
    parser.add_argument("--port", type=int, default=8103)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--today", type=date.fromisoformat, default=datetime.now(UTC).date())
    parser.add_argument("--access-token", required=True, help="the token clients must send")
    parser.add_argument("--per-ten-seconds", type=int, default=190, help="rolling rate limit")
    parser.add_argument("--search-window", type=int, default=SEARCH_WINDOW)
    args = parser.parse_args()
    rows = with_hubspot_ids(
        generate_all(SeedConfig(accounts=args.accounts, seed=args.seed, today=args.today))
    )
    app = create_simulator(
        from_seed(rows),
        access_token=args.access_token,
        limits=RateLimits(max_per_interval=args.per_ten_seconds),
        search_window=args.search_window,
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
