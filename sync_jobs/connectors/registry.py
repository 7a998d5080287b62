"""Which connectors are configured, built from settings (secrets stay in settings)."""

from __future__ import annotations

import httpx

from clientgraph.settings import Settings, SourceSettings
from sync_jobs.connectors.base import Connector
from sync_jobs.connectors.hubspot.client import HubSpotClient
from sync_jobs.connectors.hubspot.connector import HubSpotConnector
from sync_jobs.connectors.netsuite.client import NetSuiteClient
from sync_jobs.connectors.netsuite.connector import NetSuiteConnector
from sync_jobs.connectors.netsuite.m2m import M2MLogin
from sync_jobs.connectors.salesforce.client import SalesforceClient
from sync_jobs.connectors.salesforce.connector import SalesforceConnector
from sync_jobs.connectors.tryton.client import TrytonClient
from sync_jobs.connectors.tryton.connector import TrytonConnector
from sync_jobs.limits import LimitedTransport
from sync_jobs.shared_limits import SharedLimits

# Pulled in this order; clients of a system that is not the account master wait (parked)
# until the master's account arrives, so the order is an optimisation, not a requirement.
KNOWN = ("salesforce", "hubspot", "netsuite", "tryton")
CONNECTORS: dict[str, type[Connector]] = {
    "salesforce": SalesforceConnector,
    "hubspot": HubSpotConnector,
    "netsuite": NetSuiteConnector,
    "tryton": TrytonConnector,
}


class NotConfigured(Exception):
    """A source was asked for that the settings do not describe."""


def configured_sources(settings: Settings) -> list[str]:
    """The known sources whose ``base_url`` is set, in ``KNOWN`` order."""
    return [name for name in KNOWN if source_settings(settings, name).base_url]


def configured_objects(settings: Settings) -> tuple[tuple[str, str], ...]:
    """Every (source, object type) the configured sources pull: each must have a freshness."""
    return tuple(
        (name, object_type)
        for name in configured_sources(settings)
        for object_type in CONNECTORS[name].objects
    )


def source_settings(settings: Settings, name: str) -> SourceSettings:
    """The connection section of source ``name`` (``settings.salesforce``, ...)."""
    if name not in KNOWN:
        raise NotConfigured(f"unknown source {name!r}; known: {', '.join(KNOWN)}")
    section: SourceSettings = getattr(settings, name)
    return section


def open_shared_limits(settings: Settings) -> SharedLimits | None:
    """The Redis connection of the shared source budgets, or ``None`` when each process keeps
    its own (embedded, or ``sync.shared_limits`` off)."""
    if settings.redis_url is None or not settings.sync.shared_limits:
        return None
    return SharedLimits(settings.redis_url.get_secret_value())


def open_http(
    name: str,
    settings: Settings,
    *,
    inner: httpx.AsyncBaseTransport | None = None,
    shared: SharedLimits | None = None,
) -> httpx.AsyncClient:
    """An HTTP client for source ``name`` that keeps its concurrency, rate and retry limits.

    One client per source, so one source's limits never slow another. With ``shared``, the
    concurrency and rate are the source account's across every process (Redis); without,
    this process's own. ``inner`` replaces the network transport (tests pass an
    ``httpx.ASGITransport``).
    """
    section = source_settings(settings, name)
    budget = None
    if shared is not None:
        budget = shared.budget(
            name,
            section.base_url or "",
            max_concurrency=section.max_concurrency,
            requests_per_second=section.requests_per_second,
            lease_seconds=settings.sync.limit_lease_seconds,
        )
    transport = LimitedTransport(
        inner or httpx.AsyncHTTPTransport(),
        max_concurrency=section.max_concurrency,
        requests_per_second=section.requests_per_second,
        max_retries=settings.sync.max_retries,
        budget=budget,
    )
    return httpx.AsyncClient(transport=transport, timeout=section.timeout_seconds)


def crm_of(settings: Settings) -> str:
    """The system that owns deals (``writes.ownership``): the CRM other systems' records name
    when they refer to a deal (a NetSuite engagement's opportunity)."""
    return settings.writes.ownership.get("opportunity", "salesforce")


def build_source(name: str, settings: Settings, http: httpx.AsyncClient) -> Connector:
    """The connector for ``name``; ``NotConfigured`` names the missing setting."""
    if name == "salesforce":
        sf = settings.salesforce
        if not sf.base_url:
            raise NotConfigured("salesforce: set CLIENTGRAPH_SALESFORCE__BASE_URL")
        client = SalesforceClient(
            sf.base_url, sf.client_id, sf.client_secret.get_secret_value(), http
        )
        return SalesforceConnector(client)
    if name == "hubspot":
        hs = settings.hubspot
        if not hs.base_url:
            raise NotConfigured("hubspot: set CLIENTGRAPH_HUBSPOT__BASE_URL")
        token = hs.access_token.get_secret_value()
        return HubSpotConnector(HubSpotClient(hs.base_url, token, http))
    if name == "netsuite":
        ns = settings.netsuite
        if not ns.base_url:
            raise NotConfigured("netsuite: set CLIENTGRAPH_NETSUITE__BASE_URL")
        erp = NetSuiteClient(ns.base_url, M2MLogin.from_settings(ns), http)
        return NetSuiteConnector(erp, crm=crm_of(settings))
    if name == "tryton":
        tr = settings.tryton
        if not tr.base_url:
            raise NotConfigured("tryton: set CLIENTGRAPH_TRYTON__BASE_URL")
        password = tr.password.get_secret_value()
        return TrytonConnector(TrytonClient(tr.base_url, tr.database, tr.login, password, http))
    raise NotConfigured(f"unknown source {name!r}; known: {', '.join(KNOWN)}")
