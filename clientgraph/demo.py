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

With ``--crm hubspot`` a simulated HubSpot takes Salesforce's place: the firm's CRM records
get HubSpot-style numeric ids (so NetSuite's customers and projects carry those), HubSpot is
the account master and owns the deals, and it sends HubSpot's own signed webhooks.

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
CRMS = ("salesforce", "hubspot")


@dataclass(frozen=True)
class DemoSources:
    """Where the demo's simulators live and the secrets made up for them."""

    base: str
    client_secrets: dict[str, str]
    webhook_secrets: dict[str, str]
    erp: str = "netsuite"
    tryton: DemoTryton | None = None  # set once the demo's Tryton runs (--erp tryton)
    invented: frozenset[str] = frozenset()  # systems whose client secret was made up here
    crm: str = "salesforce"
    netsuite_certificate: Certificate | None = None  # the M2M certificate NetSuite holds

    @classmethod
    def invent(
        cls,
        host: str,
        port: int,
        settings: Settings,
        erp: str = "netsuite",
        crm: str = "salesforce",
    ) -> DemoSources:
        """Secrets from settings where given (``CLIENTGRAPH_SALESFORCE__CLIENT_SECRET``,
        ``CLIENTGRAPH_HUBSPOT__ACCESS_TOKEN`` …), else made up for this run."""
        simulated = simulated_systems(erp, crm)

        def given(system: str, field: str) -> str:
            field = credential_field(system) if field == "client_secret" else field
            secret: SecretStr = getattr(getattr(settings, system), field)
            return secret.get_secret_value()

        def chosen(field: str, invent: Callable[[], str] = _token) -> dict[str, str]:
            out = {}
            for system in simulated:
                name = credential_field(system) if field == "client_secret" else field
                section = getattr(settings, system)
                if hasattr(section, name):  # NetSuite logs in with a certificate, no secret
                    out[system] = getattr(section, name).get_secret_value() or invent()
            return out

        local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # calls to itself
        base = f"http://{local}:{port}"
        made_up = frozenset(
            s for s in simulated if s != "netsuite" and not given(s, "client_secret")
        )
        certificate = _netsuite_certificate(settings) if "netsuite" in simulated else None
        return cls(
            base,
            chosen("client_secret"),
            chosen("webhook_secret", _whsec),
            erp,
            invented=made_up,
            crm=crm,
            netsuite_certificate=certificate,
        )

    def shown_secret(self, system: str) -> str:
        """The client secret as the demo may print it: never one that came from settings."""
        if system in self.invented:
            return self.client_secrets[system]
        return "$CLIENTGRAPH_" + system.upper() + "__" + credential_field(system).upper()

    @property
    def simulated(self) -> tuple[str, ...]:
        return simulated_systems(self.erp, self.crm)

    def url(self, system: str) -> str:
        return f"{self.base}/simulators/{system}"


def simulated_systems(erp: str, crm: str = "salesforce") -> tuple[str, ...]:
    """The simulators the demo mounts: the CRM always, NetSuite when it is the ERP."""
    return (crm, "netsuite") if erp == "netsuite" else (crm,)


def credential_field(system: str) -> str:
    """The setting holding a simulated system's credential: HubSpot's private-app token."""
    return "access_token" if system == "hubspot" else "client_secret"


def demo_settings(settings: Settings, sources: DemoSources) -> Settings:
    """``settings`` with the CRM and the ERP configured and scheduled, and the demo's
    partner allowed ad-hoc queries.

    With Tryton as the ERP, what NetSuite would own (projects, time, invoices …) is owned
    by Tryton, so the demo's mutations go to the system that holds those records.
    """
    scheduled: dict[str, Any] = {
        "sources": [sources.crm, sources.erp],
        "interval_seconds": DEMO_INTERVAL_SECONDS,
    }
    writes = settings.writes
    if sources.crm != "salesforce":  # the other CRM owns the client list and the deals
        scheduled["account_master"] = sources.crm
        ownership = {
            e: sources.crm if s == "salesforce" else s for e, s in writes.ownership.items()
        }
        writes = writes.model_copy(update={"ownership": ownership})
    changes: dict[str, Any] = {"sync": settings.sync.model_copy(update=scheduled)}
    changes["writes"] = writes
    # the demo's partner key may try any query (production partners run registered documents)
    changes["graphql"] = settings.graphql.model_copy(update={"trusted_documents_only_roles": []})
    if sources.tryton is not None:
        changes["tryton"] = sources.tryton.settings
        changes["writes"] = _owned_by_tryton(writes)
    for system in sources.simulated:
        section = getattr(settings, system)
        update: dict[str, Any] = {
            "base_url": sources.url(system),
            "webhook_secret": _secret(sources.webhook_secrets[system]),
        }
        if system in sources.client_secrets:
            update[credential_field(system)] = _secret(sources.client_secrets[system])
        if system == "netsuite" and sources.netsuite_certificate is not None:
            cert = sources.netsuite_certificate
            update["certificate_id"] = cert.certificate_id
            update["private_key"] = _secret(cert.private_key_pem)
        changes[system] = section.model_copy(update=update)
    return settings.model_copy(update=changes)


def _owned_by_tryton(writes: WritesSettings) -> WritesSettings:
    """The writes section with every entity NetSuite would own given to Tryton."""
    owners = {entity: "tryton" if s == "netsuite" else s for entity, s in writes.ownership.items()}
    return writes.model_copy(update={"ownership": owners})


def create_demo_app(
    settings: Settings, sources: DemoSources, *, accounts: int, today: date
) -> Starlette:
    """The gateway for ``demo_settings``, with the simulators mounted beside it."""
    from gateway.app import create_app
    from readmodel.seed import SeedConfig, generate_all

    firm = generate_all(SeedConfig(accounts=accounts, seed=SEED, today=today))
    app = create_app(settings)
    if sources.crm == "hubspot":
        from systems.hubspot.store import with_hubspot_ids

        firm = with_hubspot_ids(firm)  # NetSuite's customers and jobs then carry HubSpot ids
        app.state.demo_account_id = _mount_hubspot(app, firm, sources)
    else:
        app.state.demo_account_id = _mount_salesforce(app, firm, sources)  # for the example
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


def _mount_hubspot(app: Starlette, firm: dict[str, Any], sources: DemoSources) -> str:
    """The CRM half of the firm on ``/simulators/hubspot``; returns a company's id."""
    from systems.hubspot import events
    from systems.hubspot.app import create_simulator
    from systems.hubspot.store import from_seed
    from systems.webhook_sender import WebhookSender

    crm = from_seed(firm)
    webhook = f"{sources.base}/webhooks/hubspot"
    secret = sources.webhook_secrets["hubspot"]
    sender = WebhookSender(secret, webhook, signer=events.signer(secret, webhook))
    crm.listeners.append(events.publisher(sender.add))
    token = sources.client_secrets["hubspot"]
    app.mount("/simulators/hubspot", create_simulator(crm, access_token=token))
    return str(min(crm.objects["companies"], key=int))


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


IDE_ROLE = "admin"
"""The role of the key GraphiQL starts with (the others are printed to paste in)."""
KEY_PREFIX = "demo-"


async def demo_keys(settings: Settings, partner_account: str | None = None) -> dict[str, str]:
    """A fresh API key per role for this run (the last run's demo keys are revoked).

    Without ``partner_account`` every role but partner; with it, the partner's key alone,
    limited to that account (``salesforce:<id>``).
    """
    from datetime import UTC, datetime

    from clientgraph.access.roles import Role
    from readmodel import api_keys
    from readmodel.db import create_engine

    engine = create_engine(settings.database_url.get_secret_value())
    now = datetime.now(UTC)
    roles = [Role.PARTNER] if partner_account else [r for r in Role if r is not Role.PARTNER]
    keys: dict[str, str] = {}
    try:
        for old in await api_keys.listed(engine):
            if old.name in {f"{KEY_PREFIX}{r.value}" for r in roles} and old.revoked_at is None:
                await api_keys.revoke(engine, old.key_id, now=now)
        for role in roles:
            accounts = [partner_account] if role is Role.PARTNER and partner_account else None
            key, _ = await api_keys.create(
                engine,
                name=f"{KEY_PREFIX}{role.value}",
                role=role.value,
                now=now,
                accounts=accounts,
            )
            keys[role.value] = key
    finally:
        await engine.dispose()
    return keys


def with_ide_key(settings: Settings, key: str) -> Settings:
    graphql = settings.graphql.model_copy(update={"ide_api_key": SecretStr(key)})
    return settings.model_copy(update={"graphql": graphql})


def explain(sources: DemoSources, account_id: str, keys: dict[str, str] | None = None) -> str:
    """What the demo prints at start: where to look, and how to change a record at the source."""
    if sources.crm == "hubspot":
        return _explain_hubspot(sources, account_id, keys)
    sf, secret = sources.url("salesforce"), sources.shown_secret("salesforce")
    return _opening(sources, f"Salesforce  {sf}   client_secret={secret}", keys) + f"""\
Rename a client in Salesforce and query it again:
  TOKEN=$(curl -s -d grant_type=client_credentials -d client_id=clientgraph \\
    -d client_secret={secret} {sf}/services/oauth2/token | python3 -c \\
    'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -X PATCH {sf}/services/data/v60.0/sobjects/Account/{account_id} \\
    -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{{"Name": "Renamed at the source"}}'
"""


def _keys_lines(keys: dict[str, str], base: str) -> str:
    """One API key per role; paste one into GraphiQL's Headers tab to see what that role sees."""
    if not keys:
        return ""
    width = max(len(r) for r in keys)
    lines = [f"  {role:<{width}}  {key}" for role, key in keys.items()]
    example = keys.get("partner") or next(iter(keys.values()))
    return "\n".join(
        [
            "API keys of this run, one per role (docs/security.md says what each may see and do):",
            *lines,
            "Switch roles in GraphiQL's Headers tab, or from a shell:",
            f"  curl -s {base}/graphql -H 'Authorization: Bearer {example}' \\",
            "    -H 'content-type: application/json' \\",
            "    -d '{\"query\": \"{ accounts { totalCount } }\"}'",
        ]
    )


def _explain_hubspot(
    sources: DemoSources, company_id: str, keys: dict[str, str] | None = None
) -> str:
    hs, token = sources.url("hubspot"), sources.shown_secret("hubspot")
    return _opening(sources, f"HubSpot     {hs}   access_token={token}", keys) + f"""\
Rename a client in HubSpot and query it again:
  curl -X PATCH {hs}/crm/v3/objects/companies/{company_id} \\
    -H "Authorization: Bearer {token}" -H 'content-type: application/json' \\
    -d '{{"properties": {{"name": "Renamed at the source"}}}}'
"""


def _opening(sources: DemoSources, crm_line: str, keys: dict[str, str] | None) -> str:
    return f"""\
clientgraph demo: open {sources.base}/graphql (GraphiQL starts as {IDE_ROLE})
{_keys_lines(keys or {}, sources.base)}
Simulated systems of record on this port (secrets made up for this run unless set):
  {crm_line}
{_erp_line(sources)}
The read model fills by sync from them (every {DEMO_INTERVAL_SECONDS:g} s, and at once by webhook).
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
