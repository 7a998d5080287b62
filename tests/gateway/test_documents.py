"""Trusted documents (registered by digest; partners run only those) and Apollo's automatic
persisted queries, over HTTP and the socket, and the CLI that registers them."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import GraphQLSettings
from readmodel import trusted_documents
from tests.conftest import FIRM_NOW, http_client
from tests.gateway.sockets import socket_messages
from tests.gateway.test_authentication import _two_clients, gateway, new_key
from tests.resolvers.commands.world import gid, url_of

TRUSTED_ONLY = GraphQLSettings(trusted_documents_only_roles=["partner"])  # the default
ACCOUNTS = "query Accounts { accounts { totalCount nodes { name } } }\n"
OTHER = "{ accounts { totalCount } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def post(client: httpx.AsyncClient, key: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/graphql", json=body, headers={"Authorization": f"Bearer {key}"})


async def test_a_partner_runs_registered_documents_only(engine: AsyncEngine) -> None:
    ids = await _two_clients(engine)
    digest = await trusted_documents.register(engine, ACCOUNTS, name="accounts", now=FIRM_NOW)
    partner = await new_key(engine, "partner", accounts=[gid("Account", ids["acme"])])
    finance = await new_key(engine, "finance")
    async with gateway(engine, graphql=TRUSTED_ONLY) as app, http_client(app) as client:
        by_id = await post(client, partner, {"documentId": f"sha256:{digest}"})
        by_text = await post(client, partner, {"query": ACCOUNTS})  # the registered text
        other = await post(client, partner, {"query": OTHER})
        unknown = await post(client, partner, {"documentId": f"sha256:{'0' * 64}"})
        malformed = await post(client, partner, {"documentId": "md5:abc"})
        two = await post(client, finance, {"documentId": f"sha256:{digest}", "query": OTHER})
        internal = await post(client, finance, {"query": OTHER})
        by_get = await client.get(
            "/graphql",
            params={"documentId": f"sha256:{digest}"},
            headers={"Authorization": f"Bearer {partner}"},
        )

    expected = {"accounts": {"totalCount": 1, "nodes": [{"name": "Acme"}]}}
    assert by_id.json()["data"] == by_text.json()["data"] == by_get.json()["data"] == expected
    assert other.status_code == 403
    assert other.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
    assert (unknown.status_code, unknown.json()["errors"][0]["extensions"]["code"]) == (
        400,
        "DOCUMENT_NOT_FOUND",
    )
    assert malformed.status_code == two.status_code == 400
    assert internal.json()["data"]["accounts"]["totalCount"] == 2  # internal roles: any query


async def test_automatic_persisted_queries_for_internal_clients(engine: AsyncEngine) -> None:
    await _two_clients(engine)
    finance = await new_key(engine, "finance")
    partner = await new_key(engine, "partner", accounts=["salesforce:001ACME"])
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha(OTHER)}}
    async with gateway(engine, graphql=TRUSTED_ONLY) as app, http_client(app) as client:
        first = await post(client, finance, {"extensions": persisted})
        sent = await post(client, finance, {"query": OTHER, "extensions": persisted})
        again = await post(client, finance, {"extensions": persisted})
        lying = await post(
            client,
            finance,
            {"query": "{ __typename }", "extensions": persisted},
        )
        by_partner = await post(client, partner, {"extensions": persisted})

    assert first.status_code == 200
    assert first.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert sent.json()["data"] == again.json()["data"] == {"accounts": {"totalCount": 2}}
    assert lying.status_code == 400
    # remembered by the cache, yet not trusted: a partner still may not run it
    assert by_partner.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"


async def test_the_socket_takes_document_ids_under_the_same_rules(engine: AsyncEngine) -> None:
    ids = await _two_clients(engine)
    digest = await trusted_documents.register(engine, ACCOUNTS, name="accounts", now=FIRM_NOW)
    partner = await new_key(engine, "partner", accounts=[gid("Account", ids["acme"])])
    async with gateway(engine, graphql=TRUSTED_ONLY) as app:
        init = {"Authorization": f"Bearer {partner}"}
        seen = await socket_messages(
            app, init, [{"documentId": f"sha256:{digest}"}, {"query": OTHER}]
        )
    assert seen[0]["payload"]["data"]["accounts"]["totalCount"] == 1
    refused = [m for m in seen if m["type"] == "error"]
    assert refused[0]["payload"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"


@pytest.mark.slow  # processes
def test_the_cli_registers_valid_documents_and_refuses_others(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    good = tmp_path / "accounts.graphql"
    good.write_text(ACCOUNTS)
    bad = tmp_path / "bad.graphql"
    bad.write_text("{ nope }")
    env = {**os.environ, "CLIENTGRAPH_DATABASE_URL": url_of(engine)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "clientgraph", "documents", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    registered = cli("register", str(good))
    refused = cli("register", str(bad))
    listed = cli("list")
    assert registered.returncode == 0
    assert registered.stdout.split()[0] == f"sha256:{sha(ACCOUNTS)}"
    assert refused.returncode == 1 and "Cannot query field 'nope'" in refused.stderr
    assert sha(ACCOUNTS) in listed.stdout and "accounts.graphql" in listed.stdout
    assert "bad" not in listed.stdout


def test_partners_run_registered_documents_only_by_default() -> None:
    assert (
        GraphQLSettings().trusted_documents_only_roles == TRUSTED_ONLY.trusted_documents_only_roles
    )


async def test_an_event_stream_runs_registered_documents_only(engine: AsyncEngine) -> None:
    ids = await _two_clients(engine)
    digest = await trusted_documents.register(engine, ACCOUNTS, name="accounts", now=FIRM_NOW)
    partner = await new_key(engine, "partner", accounts=[gid("Account", ids["acme"])])
    headers = {"Authorization": f"Bearer {partner}", "Accept": "text/event-stream"}
    async with gateway(engine, graphql=TRUSTED_ONLY) as app, http_client(app) as client:
        by_id = await client.post(
            "/graphql", json={"documentId": f"sha256:{digest}"}, headers=headers
        )
        other = await client.post("/graphql", json={"query": OTHER}, headers=headers)
        by_get = await client.get(  # as EventSource asks
            "/graphql", params={"documentId": f"sha256:{digest}"}, headers=headers
        )

    assert by_id.headers["content-type"].startswith("text/event-stream")
    assert by_get.text.split("\r\n")[0] == "event: next"
    assert by_get.text.split("\r\n")[1] == by_id.text.split("\r\n")[1]
    events = [e for e in by_id.text.split("\r\n\r\n") if e]
    assert [e.split("\r\n")[0] for e in events] == ["event: next", "event: complete"]
    data = json.loads(events[0].split("\r\n")[1].removeprefix("data: "))
    assert data["data"] == {"accounts": {"totalCount": 1, "nodes": [{"name": "Acme"}]}}
    assert other.status_code == 403
    assert other.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
