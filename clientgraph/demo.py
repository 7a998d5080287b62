"""`clientgraph demo`: the gateway with simulated systems of record on its own port.

The demo's read model is filled the way production's is: by sync. A synthetic firm is
generated once (deterministic: the same ``--accounts`` and day give the same firm) and split
between a simulated Salesforce (the CRM half) and a simulated NetSuite (ERP and PSA). Both are
mounted on the demo's port under ``/simulators/<system>/``, so a newcomer can change a record
at the source with curl and watch it arrive in the graph. The in-process runner pulls them on
the sync interval, and each simulator sends signed webhooks to ``/webhooks/<system>`` for
every change, which the gateway re-reads at once.

With ``--erp tryton`` a real Tryton takes NetSuite's place (``demo_tryton.py``): the same
firm's ERP/PSA half in a local trytond, pulled by the Tryton connector. Salesforce stays the
account master; Tryton's parties are linked to its accounts by identity resolution.

The simulators' credentials and webhook secrets are made up at start-up for this process;
they never appear in code or logs. NetSuite's M2M login needs a certificate: a key pair and
certificate are generated at start-up (``systems.netsuite.m2m.new_certificate``) unless
``CLIENTGRAPH_NETSUITE__CERTIFICATE_ID`` and a private key are set.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr
from starlette.applications import Starlette

from clientgraph.settings import Settings, WritesSettings

if TYPE_CHECKING:
    from clientgraph.demo_tryton import DemoTryton
    from systems.netsuite.m2m import Certificate

SEED = 42
DEMO_INTERVAL_SECONDS = 5.0  # the demo pulls often so that a change shows up quickly
SIMULATED = ("salesforce", "netsuite")


@dataclass(frozen=True)
class DemoSources:
    """Where the demo's simulators live and the secrets made up for them."""

    base: str
    client_secrets: dict[str, str]
    webhook_secrets: dict[str, str]
    erp: str = "netsuite"
    tryton: DemoTryton | None = None  # set once the demo's Tryton runs (--erp tryton)
    invented: frozenset[str] = frozenset()  # systems whose client secret was made up here
    netsuite_certificate: Certificate | None = None  # the M2M certificate NetSuite holds

    @classmethod
    def invent(cls, host: str, port: int, settings: Settings, erp: str = "netsuite") -> DemoSources:
        """Secrets from settings where given (``CLIENTGRAPH_SALESFORCE__CLIENT_SECRET`` …),
        else made up for this run."""
        simulated = simulated_systems(erp)

        def chosen(field: str, invent: Callable[[], str] = _token) -> dict[str, str]:
            sections = {s: getattr(settings, s) for s in simulated}
            given = {s: getattr(c, field) for s, c in sections.items() if hasattr(c, field)}
            return {s: v.get_secret_value() or invent() for s, v in given.items()}

        local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # calls to itself
        base = f"http://{local}:{port}"
        made_up = frozenset(  # NetSuite logs in with a certificate, not a client secret
            s for s in ("salesforce",) if not settings.salesforce.client_secret.get_secret_value()
        )
        webhook_secrets = chosen("webhook_secret", _whsec)
        certificate = _netsuite_certificate(settings) if "netsuite" in simulated else None
        return cls(
            base,
            chosen("client_secret"),
            webhook_secrets,
            erp,
            invented=made_up,
            netsuite_certificate=certificate,
        )

    def shown_secret(self, system: str) -> str:
        """The client secret as the demo may print it: never one that came from settings."""
        if system in self.invented:
            return self.client_secrets[system]
        return "$CLIENTGRAPH_" + system.upper() + "__CLIENT_SECRET"

    @property
    def simulated(self) -> tuple[str, ...]:
        return simulated_systems(self.erp)

    def url(self, system: str) -> str:
        return f"{self.base}/simulators/{system}"


def simulated_systems(erp: str) -> tuple[str, ...]:
    """The simulators the demo mounts: Salesforce always, NetSuite when it is the ERP."""
    return SIMULATED if erp == "netsuite" else ("salesforce",)


def demo_settings(settings: Settings, sources: DemoSources) -> Settings:
    """``settings`` with the CRM and the ERP configured and scheduled.

    With Tryton as the ERP, what NetSuite would own (projects, time, invoices …) is owned
    by Tryton, so the demo's mutations go to the system that holds those records.
    """
    scheduled = {"sources": ["salesforce", sources.erp], "interval_seconds": DEMO_INTERVAL_SECONDS}
    changes: dict[str, Any] = {"sync": settings.sync.model_copy(update=scheduled)}
    if sources.tryton is not None:
        changes["tryton"] = sources.tryton.settings
        changes["writes"] = _owned_by_tryton(settings)
    for system in sources.simulated:
        section = getattr(settings, system)
        update: dict[str, Any] = {
            "base_url": sources.url(system),
            "webhook_secret": _secret(sources.webhook_secrets[system]),
        }
        if system in sources.client_secrets:
            update["client_secret"] = _secret(sources.client_secrets[system])
        if system == "netsuite" and sources.netsuite_certificate is not None:
            cert = sources.netsuite_certificate
            update["certificate_id"] = cert.certificate_id
            update["private_key"] = _secret(cert.private_key_pem)
        changes[system] = section.model_copy(update=update)
    return settings.model_copy(update=changes)


def _owned_by_tryton(settings: Settings) -> WritesSettings:
    """The writes section with every entity NetSuite would own given to Tryton."""
    ownership = settings.writes.ownership
    owners = {entity: "tryton" if s == "netsuite" else s for entity, s in ownership.items()}
    return settings.writes.model_copy(update={"ownership": owners})


def create_demo_app(
    settings: Settings, sources: DemoSources, *, accounts: int, today: date
) -> Starlette:
    """The gateway for ``demo_settings``, with the simulators mounted beside it."""
    from gateway.app import create_app
    from readmodel.seed import SeedConfig, generate_all

    firm = generate_all(SeedConfig(accounts=accounts, seed=SEED, today=today))
    app = create_app(settings)
    app.state.demo_account_id = _mount_salesforce(app, firm, sources)  # for the printed example
    if "netsuite" in sources.simulated:
        _mount_netsuite(app, firm, sources)
    return app


def _mount_salesforce(app: Starlette, firm: dict[str, Any], sources: DemoSources) -> str:
    """The CRM half of the firm on ``/simulators/salesforce``; returns an account's id."""
    from systems.salesforce import cdc
    from systems.salesforce.app import create_simulator
    from systems.salesforce.store import from_seed
    from systems.webhook_sender import WebhookSender

    crm = from_seed(firm)
    webhook = f"{sources.base}/webhooks/salesforce"
    sender = WebhookSender(sources.webhook_secrets["salesforce"], webhook)
    crm.listeners.append(cdc.publisher(sender.add))
    secret = sources.client_secrets["salesforce"]
    app.mount("/simulators/salesforce", create_simulator(crm, client_secret=secret))
    return str(min(crm.records["Account"]))


def _mount_netsuite(app: Starlette, firm: dict[str, Any], sources: DemoSources) -> None:
    """The ERP/PSA half of the firm on ``/simulators/netsuite``."""
    from systems.netsuite import events
    from systems.netsuite.app import create_simulator
    from systems.netsuite.store import from_seed
    from systems.webhook_sender import WebhookSender

    erp = from_seed(firm)
    webhook = f"{sources.base}/webhooks/netsuite"
    sender = WebhookSender(sources.webhook_secrets["netsuite"], webhook, encode=events.encode)
    erp.listeners.append(events.publisher(sender.add))
    cert = sources.netsuite_certificate
    assert cert is not None, "a simulated NetSuite has its certificate"
    certificates = {cert.certificate_id: cert.certificate_pem}
    app.mount("/simulators/netsuite", create_simulator(erp, certificates=certificates))


def explain(sources: DemoSources, account_id: str) -> str:
    """What the demo prints at start: where to look, and how to change a record at the source."""
    sf, secret = sources.url("salesforce"), sources.shown_secret("salesforce")
    return f"""\
clientgraph demo: open {sources.base}/graphql
Simulated systems of record on this port (secrets made up for this run unless set):
  Salesforce  {sf}   client_secret={secret}
{_erp_line(sources)}
The read model fills by sync from them (every {DEMO_INTERVAL_SECONDS:g} s, and at once by webhook).
Rename a client in Salesforce and query it again:
  TOKEN=$(curl -s -d grant_type=client_credentials -d client_id=clientgraph \\
    -d client_secret={secret} {sf}/services/oauth2/token | python3 -c \\
    'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -X PATCH {sf}/services/data/v60.0/sobjects/Account/{account_id} \\
    -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{{"Name": "Renamed at the source"}}'
"""


def _erp_line(sources: DemoSources) -> str:
    if sources.tryton is None:
        cert = sources.netsuite_certificate
        kid = cert.certificate_id if cert else "?"
        return f"  NetSuite    {sources.url('netsuite')}   M2M login, certificate id {kid}"
    tryton = sources.tryton
    return (
        f"  Tryton      {tryton.url}   (not simulated: trytond's JSON-RPC on a port of its "
        f"own; login {tryton.settings.login}, password in {tryton.directory / 'admin.password'})"
    )


def _netsuite_certificate(settings: Settings) -> Certificate:
    """The certificate from settings (its public half derived from the key), else a new one."""
    from systems.netsuite.m2m import Certificate, certificate_for, new_certificate

    ns = settings.netsuite
    pem = ns.private_key.get_secret_value()
    if ns.certificate_id and pem:
        return Certificate(ns.certificate_id, certificate_for(pem), pem)
    return new_certificate()


def _token() -> str:
    return secrets.token_urlsafe(24)


def _whsec() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _secret(value: str) -> SecretStr:
    return SecretStr(value)
