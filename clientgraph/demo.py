"""`clientgraph demo`: the gateway with simulated systems of record on its own port.

The demo's read model is filled the way production's is: by sync. A synthetic firm is
generated once (deterministic: the same ``--accounts`` and day give the same firm) and split
between a simulated Salesforce (the CRM half) and a simulated NetSuite (ERP and PSA). Both are
mounted on the demo's port under ``/simulators/<system>/``, so a newcomer can change a record
at the source with curl and watch it arrive in the graph. The in-process runner pulls them on
the sync interval, and each simulator sends signed webhooks to ``/webhooks/<system>`` for
every change, which the gateway re-reads at once.

The simulators' credentials and webhook secrets are made up at start-up for this process;
they never appear in code or logs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import SecretStr
from starlette.applications import Starlette

from clientgraph.settings import Settings

SEED = 42
DEMO_INTERVAL_SECONDS = 5.0  # the demo pulls often so that a change shows up quickly
SIMULATED = ("salesforce", "netsuite")


@dataclass(frozen=True)
class DemoSources:
    """Where the demo's simulators live and the secrets made up for them."""

    base: str
    client_secrets: dict[str, str]
    webhook_secrets: dict[str, str]

    @classmethod
    def invent(cls, host: str, port: int, settings: Settings) -> DemoSources:
        """Secrets from settings where given (``CLIENTGRAPH_SALESFORCE__CLIENT_SECRET`` …),
        else made up for this run."""

        def chosen(field: str) -> dict[str, str]:
            given = {s: getattr(getattr(settings, s), field) for s in SIMULATED}
            return {s: v.get_secret_value() or secrets.token_urlsafe(24) for s, v in given.items()}

        local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # calls to itself
        return cls(f"http://{local}:{port}", chosen("client_secret"), chosen("webhook_secret"))

    def url(self, system: str) -> str:
        return f"{self.base}/simulators/{system}"


def demo_settings(settings: Settings, sources: DemoSources) -> Settings:
    """``settings`` with both simulated sources configured and scheduled."""
    changes: dict[str, Any] = {
        "sync": settings.sync.model_copy(
            update={"sources": list(SIMULATED), "interval_seconds": DEMO_INTERVAL_SECONDS}
        )
    }
    for system in SIMULATED:
        section = getattr(settings, system)
        changes[system] = section.model_copy(
            update={
                "base_url": sources.url(system),
                "client_secret": _secret(sources.client_secrets[system]),
                "webhook_secret": _secret(sources.webhook_secrets[system]),
            }
        )
    return settings.model_copy(update=changes)


def create_demo_app(
    settings: Settings, sources: DemoSources, *, accounts: int, today: date
) -> Starlette:
    """The gateway for ``demo_settings``, with the simulators mounted beside it."""
    from gateway.app import create_app
    from readmodel.seed import SeedConfig, generate_all
    from systems.netsuite import events as netsuite_events
    from systems.netsuite.app import create_simulator as netsuite_simulator
    from systems.netsuite.store import from_seed as netsuite_store
    from systems.salesforce import cdc
    from systems.salesforce.app import create_simulator as salesforce_simulator
    from systems.salesforce.store import from_seed as salesforce_store
    from systems.webhook_sender import WebhookSender

    firm = generate_all(SeedConfig(accounts=accounts, seed=SEED, today=today))
    crm, erp = salesforce_store(firm), netsuite_store(firm)
    webhooks = {s: f"{sources.base}/webhooks/{s}" for s in SIMULATED}
    crm_sender = WebhookSender(sources.webhook_secrets["salesforce"], webhooks["salesforce"])
    erp_sender = WebhookSender(
        sources.webhook_secrets["netsuite"], webhooks["netsuite"], encode=netsuite_events.encode
    )
    crm.listeners.append(cdc.publisher(crm_sender.add))
    erp.listeners.append(netsuite_events.publisher(erp_sender.add))
    app = create_app(settings)
    secrets_ = sources.client_secrets
    app.mount(
        "/simulators/salesforce",
        salesforce_simulator(crm, client_secret=secrets_["salesforce"]),
    )
    app.mount("/simulators/netsuite", netsuite_simulator(erp, client_secret=secrets_["netsuite"]))
    app.state.demo_account_id = min(crm.records["Account"])  # for the printed example
    return app


def explain(sources: DemoSources, account_id: str) -> str:
    """What the demo prints at start: where to look, and how to change a record at the source."""
    sf, secret = sources.url("salesforce"), sources.client_secrets["salesforce"]
    return f"""\
clientgraph demo: open {sources.base}/graphql
Simulated systems of record on this port (credentials made up for this run only):
  Salesforce  {sf}   client_secret={secret}
  NetSuite    {sources.url("netsuite")}   client_secret={sources.client_secrets["netsuite"]}
The read model fills by sync from them (every {DEMO_INTERVAL_SECONDS:g} s, and at once by webhook).
Rename a client in Salesforce and query it again:
  TOKEN=$(curl -s -d grant_type=client_credentials -d client_id=clientgraph \\
    -d client_secret={secret} {sf}/services/oauth2/token | python3 -c \\
    'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -X PATCH {sf}/services/data/v60.0/sobjects/Account/{account_id} \\
    -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{{"Name": "Renamed at the source"}}'
"""


def _secret(value: str) -> SecretStr:
    return SecretStr(value)
