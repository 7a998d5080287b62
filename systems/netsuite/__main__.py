"""Serve the NetSuite simulator on its own: ``python -m systems.netsuite --help``."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path

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
        "/services/rest/auth/oauth2/v1/token with an M2M client assertion (a JWT signed by the "
        "key of a --certificate), then POST "
        "/services/rest/query/v1/suiteql (Prefer: transient) or GET /services/rest/record/v1/.",
    )
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--today", type=date.fromisoformat, default=datetime.now(UTC).date())
    parser.add_argument(
        "--certificate",
        action="append",
        required=True,
        metavar="ID=PEM_FILE",
        help="an uploaded certificate: its Certificate ID and a certificate (or public key) "
        "PEM file; repeat for several",
    )
    parser.add_argument("--client-id", default="clientgraph", help="the integration's client id")
    parser.add_argument(
        "--audience", action="append", default=[], help="a token URL also accepted as aud"
    )
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
    certificates = dict(_certificate(c) for c in args.certificate)
    app: ASGIApp = create_simulator(
        store,
        certificates=certificates,
        client_id=args.client_id,
        audiences=args.audience,
        page_size=args.page_size,
        faults=faults,
    )
    if args.account_concurrency:
        app = AccountConcurrency(app, args.account_concurrency)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


def _certificate(value: str) -> tuple[str, str]:
    certificate_id, sep, path = value.partition("=")
    if not sep or not certificate_id or not path:
        raise SystemExit(f"--certificate wants ID=PEM_FILE, not {value!r}")
    return certificate_id, Path(path).read_text()


if __name__ == "__main__":
    main()
