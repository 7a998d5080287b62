"""Serve the Salesforce simulator on its own: ``python -m systems.salesforce --help``."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime

import uvicorn

from readmodel.seed import SeedConfig, generate_all
from systems.salesforce.app import create_simulator
from systems.salesforce.cdc import publisher
from systems.salesforce.outbound import OutboundMessenger
from systems.salesforce.store import from_seed
from systems.webhook_sender import SenderFaults, WebhookSender


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
    parser.add_argument(
        "--webhook-url",
        help="POST change events here (e.g. a gateway's http://host:8000/webhooks/salesforce)",
    )
    parser.add_argument(
        "--webhook-secret", default="", help="Standard Webhooks secret (whsec_...) to sign with"
    )
    parser.add_argument(
        "--outbound-url",
        help="send Outbound Messages (SOAP) here, e.g. http://host:8000/webhooks/salesforce"
        "?token=<secret>",
    )
    parser.add_argument("--organization-id", default="00D000000000001AAA", help="for them")
    parser.add_argument(
        "--webhook-faults", default="", help="comma-separated: duplicate,out_of_order"
    )
    args = parser.parse_args()
    config = SeedConfig(accounts=args.accounts, seed=args.seed, today=args.today)
    store = from_seed(generate_all(config))
    if args.webhook_url:
        faults = {f: True for f in args.webhook_faults.split(",") if f}
        sender = WebhookSender(args.webhook_secret, args.webhook_url, faults=SenderFaults(**faults))
        store.listeners.append(publisher(sender.add))
    if args.outbound_url:
        messenger = OutboundMessenger(args.outbound_url, args.organization_id)
        store.listeners.append(messenger.listener())
    app = create_simulator(store, client_secret=args.client_secret, batch_size=args.batch_size)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
