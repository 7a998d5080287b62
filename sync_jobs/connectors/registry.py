"""Which connectors are configured, built from settings (secrets stay in settings)."""

from __future__ import annotations

import httpx

from clientgraph.settings import Settings
from sync_jobs.connectors.salesforce.client import SalesforceClient
from sync_jobs.connectors.salesforce.connector import SalesforceConnector
from sync_jobs.pull import Source

KNOWN = ("salesforce",)


class NotConfigured(Exception):
    """A source was asked for that the settings do not describe."""


def build_source(name: str, settings: Settings, http: httpx.AsyncClient) -> Source:
    """The connector for ``name``; ``NotConfigured`` names the missing setting."""
    if name == "salesforce":
        sf = settings.salesforce
        if not sf.base_url:
            raise NotConfigured("salesforce: set CLIENTGRAPH_SALESFORCE__BASE_URL")
        client = SalesforceClient(
            sf.base_url, sf.client_id, sf.client_secret.get_secret_value(), http
        )
        return SalesforceConnector(client)
    raise NotConfigured(f"unknown source {name!r}; known: {', '.join(KNOWN)}")
