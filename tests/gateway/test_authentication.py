"""Who may call the gateway: API keys, OIDC bearer tokens, no credentials, over HTTP and WS.

Each test runs the real app on a migrated database (SQLite and PostgreSQL) with anonymous
access off (the default; tests/conftest.py turns it on for other tests). Tokens are signed
with keys made at test time and verified against a JWKS served on a real socket.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from clientgraph.settings import AuthSettings, GraphQLSettings, JwtSettings, Settings
from gateway.app import create_app
from readmodel import api_keys, tables
from readmodel.api_keys import API_KEYS
from resolvers.handoffs.queries import to_handoff_id
from tests.conftest import FIRM_NOW, http_client
from tests.gateway.test_jwt import AUDIENCE, ISSUER, IdentityProvider, Keys, signed
from tests.readmodel.firm_builder import FirmBuilder, build
from tests.resolvers.commands.world import gid, url_of

ACCOUNTS = "{ accounts { totalCount nodes { name } } }"
HANDOFF = tables.table_of(tables.Handoff)


async def _two_clients(engine: AsyncEngine) -> dict[str, Any]:
    async def recipe(b: FirmBuilder, ids: dict[str, Any]) -> None:
        ids["acme"] = await b.account("Acme", source_system="salesforce", source_id="001ACME")
        ids["globex"] = await b.account("Globex", source_system="salesforce", source_id="001GLOB")

    return await build(engine, recipe)


@asynccontextmanager
async def gateway(
    engine: AsyncEngine,
    jwt: JwtSettings | None = None,
    graphql: GraphQLSettings | None = None,
    **auth: Any,
) -> AsyncIterator[Starlette]:
    settings = Settings(
        database_url=url_of(engine),
        auth=AuthSettings(**({"anonymous_role": None} | auth)),
        jwt=jwt or JwtSettings(),
        graphql=graphql or GraphQLSettings(trusted_documents_only_roles=[]),  # any query here
    )
    app = create_app(settings, clock=lambda: FIRM_NOW)
    async with app.router.lifespan_context(app):
        yield app


async def ask(
    client: httpx.AsyncClient, token: str | None, query: str = ACCOUNTS
) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return await client.post("/graphql", json={"query": query}, headers=headers)


async def new_key(engine: AsyncEngine, role: str, **more: Any) -> str:
    key, _ = await api_keys.create(engine, name=f"test-{role}", role=role, now=FIRM_NOW, **more)
    return key


async def test_no_credentials_is_401_unauthenticated_and_nothing_runs(
    engine: AsyncEngine,
) -> None:
    await _two_clients(engine)
    async with gateway(engine) as app, http_client(app) as client:
        response = await ask(client, None)
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        health = await client.get("/healthz")

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer realm="clientgraph"')
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert page.status_code == 200 and "graphiql" in page.text.lower()  # the IDE holds no data
    assert health.status_code == 200


async def test_an_api_key_authenticates_and_is_stamped_at_most_once_a_minute(
    engine: AsyncEngine,
) -> None:
    await _two_clients(engine)
    key = await new_key(engine, "account_team")
    async with gateway(engine) as app, http_client(app) as client:
        first = await ask(client, key)
        async with engine.connect() as conn:
            stamp = (await conn.execute(select(API_KEYS.c.last_used_at))).scalar_one()
        app.state.clock = lambda: FIRM_NOW + timedelta(seconds=30)
        await ask(client, key)
        async with engine.connect() as conn:
            again = (await conn.execute(select(API_KEYS.c.last_used_at))).scalar_one()
        app.state.clock = lambda: FIRM_NOW + timedelta(seconds=61)
        await ask(client, key)
        async with engine.connect() as conn:
            later = (await conn.execute(select(API_KEYS.c.last_used_at))).scalar_one()

    assert first.status_code == 200
    assert first.json()["data"]["accounts"]["totalCount"] == 2
    assert stamp == FIRM_NOW and again == FIRM_NOW
    assert later == FIRM_NOW + timedelta(seconds=61)


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer cg_",
        "Bearer cg_abcdefghijkm_" + "x" * 43,  # well formed, unknown
        "Bearer not-a-jwt",
    ],
)
async def test_bad_credentials_are_refused_alike(engine: AsyncEngine, authorization: str) -> None:
    async with gateway(engine) as app, http_client(app) as client:
        response = await client.post(
            "/graphql", json={"query": ACCOUNTS}, headers={"Authorization": authorization}
        )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_wrong_secret_and_a_revoked_key_read_like_an_unknown_key(
    engine: AsyncEngine,
) -> None:
    key, stored = await api_keys.create(engine, name="k", role="finance", now=FIRM_NOW)
    wrong = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    async with gateway(engine) as app, http_client(app) as client:
        good = await ask(client, key)
        guessed = await ask(client, wrong)
        await api_keys.revoke(engine, stored.key_id, now=FIRM_NOW)
        revoked = await ask(client, key)
        unknown = await ask(client, "cg_abcdefghijkm_" + "y" * 43)

    assert good.status_code == 200
    assert [r.status_code for r in (guessed, revoked, unknown)] == [401, 401, 401]
    assert guessed.json() == revoked.json() == unknown.json()  # nothing tells them apart


async def test_anonymous_callers_get_the_configured_role_only_when_asked(
    engine: AsyncEngine,
) -> None:
    await _two_clients(engine)
    query = "{ accounts { totalCount } integrationExceptions { totalCount } }"
    async with gateway(engine, anonymous_role="delivery") as app, http_client(app) as client:
        body = (await ask(client, None, query)).json()
    assert body["data"] is None or body["data"].get("integrationExceptions") is None
    codes = [e["extensions"]["code"] for e in body["errors"]]
    assert codes == ["FORBIDDEN"] and body["errors"][0]["path"] == ["integrationExceptions"]


async def test_a_partner_key_sees_the_accounts_it_names_by_id_or_by_source(
    engine: AsyncEngine,
) -> None:
    ids = await _two_clients(engine)
    by_id = await new_key(engine, "partner", accounts=[gid("Account", ids["acme"])])
    by_ref = await new_key(engine, "partner", accounts=["salesforce:001GLOB"])
    none = await new_key(engine, "partner", accounts=["salesforce:001NOT-SYNCED-YET"])
    async with gateway(engine) as app, http_client(app) as client:
        seen = [(await ask(client, k)).json()["data"]["accounts"] for k in (by_id, by_ref, none)]
    assert seen == [
        {"totalCount": 1, "nodes": [{"name": "Acme"}]},
        {"totalCount": 1, "nodes": [{"name": "Globex"}]},
        {"totalCount": 0, "nodes": []},
    ]


# --- Bearer tokens (OIDC) --------------------------------------------------------------------


def _jwt(idp: IdentityProvider) -> JwtSettings:
    return JwtSettings(issuer=ISSUER, audience=AUDIENCE, jwks_url=idp.url)


async def test_bearer_tokens_map_claims_to_role_and_accounts(
    engine: AsyncEngine, idp: IdentityProvider, keys: Keys
) -> None:
    ids = await _two_clients(engine)
    finance = signed(keys.rsa_a, clientgraph_role="finance")
    partner = signed(
        keys.ec,
        alg="ES256",
        kid="e",
        clientgraph_role="partner",
        clientgraph_accounts=[gid("Account", ids["globex"])],
    )
    query = "{ accounts { totalCount nodes { name } } commands { totalCount } }"
    async with gateway(engine, _jwt(idp)) as app, http_client(app) as client:
        as_finance = (await ask(client, finance, query)).json()
        as_partner = (await ask(client, partner, query)).json()
    assert as_finance["data"]["accounts"]["totalCount"] == 2
    assert as_partner["data"]["accounts"] == {"totalCount": 1, "nodes": [{"name": "Globex"}]}


@pytest.mark.parametrize(
    ("changes", "status", "code", "reason"),
    [
        ({"exp": 1}, 401, "UNAUTHENTICATED", "token rejected: token expired"),
        ({"aud": "someone-else"}, 401, "UNAUTHENTICATED", "token rejected: wrong audience"),
        ({"iss": "https://evil.example"}, 401, "UNAUTHENTICATED", "token rejected: issuer"),
        ({}, 403, "FORBIDDEN", "the token grants no clientgraph role"),
        ({"clientgraph_role": "root"}, 403, "FORBIDDEN", "the token grants no clientgraph role"),
        (
            {"clientgraph_role": "partner", "clientgraph_accounts": ["1 OR 1=1"]},
            401,
            "UNAUTHENTICATED",
            "account list",
        ),
    ],
)
async def test_tokens_that_do_not_check_out_are_refused_with_the_reason(
    engine: AsyncEngine,
    idp: IdentityProvider,
    keys: Keys,
    changes: dict[str, Any],
    status: int,
    code: str,
    reason: str,
) -> None:
    token = signed(keys.rsa_a, **changes)
    async with gateway(engine, _jwt(idp)) as app, http_client(app) as client:
        response = await ask(client, token)
    assert response.status_code == status
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == code and reason in error["message"]
    assert token not in response.text


async def test_tokens_are_refused_where_no_issuer_is_configured(
    engine: AsyncEngine, keys: Keys
) -> None:
    token = signed(keys.rsa_a, clientgraph_role="admin")
    async with gateway(engine) as app, http_client(app) as client:
        response = await ask(client, token)
    assert response.status_code == 401
    assert "no token issuer is configured" in response.json()["errors"][0]["message"]


# --- WebSocket (graphql-transport-ws) ---------------------------------------------------------


@asynccontextmanager
async def on_a_socket(app: Starlette) -> AsyncIterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, port=0, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task


async def _over_ws(url: str, init: dict[str, Any] | None, query: str) -> list[dict[str, Any]]:
    """The messages a query gets over graphql-transport-ws (or the close code, as a message)."""
    seen: list[dict[str, Any]] = []
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": init or {}}))
        try:
            ack = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
            seen.append(ack)
            payload = {"query": query}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
                seen.append(message)
                if message["type"] in ("complete", "error"):
                    break
        except ConnectionClosed as closed:
            seen.append({"closed": closed.rcvd.code if closed.rcvd else None})
    return seen


async def test_websocket_credentials_come_in_connection_init(engine: AsyncEngine) -> None:
    ids = await _two_clients(engine)
    partner = await new_key(engine, "partner", accounts=[gid("Account", ids["acme"])])
    async with gateway(engine) as app, on_a_socket(app) as url:
        good = await _over_ws(url, {"Authorization": f"Bearer {partner}"}, ACCOUNTS)
        nested = await _over_ws(url, {"headers": {"authorization": f"Bearer {partner}"}}, ACCOUNTS)
        missing = await _over_ws(url, None, ACCOUNTS)
        wrong = await _over_ws(url, {"Authorization": "Bearer cg_nope"}, ACCOUNTS)

    expected = {"totalCount": 1, "nodes": [{"name": "Acme"}]}
    for messages in (good, nested):
        assert messages[0]["type"] == "connection_ack"
        assert messages[1]["payload"]["data"]["accounts"] == expected
    assert missing == [{"closed": 4403}]
    assert wrong == [{"closed": 4403}]


async def test_book_scoped_account_teams_see_the_accounts_they_own(engine: AsyncEngine) -> None:
    async def recipe(b: FirmBuilder, ids: dict[str, Any]) -> None:
        ids["mine"] = await b.account("Mine", owner_name="Dana Reyes")
        ids["theirs"] = await b.account("Theirs", owner_name="Lee Park")
        await b.opportunity(ids["mine"], 1000)
        await b.opportunity(ids["theirs"], 2000)

    ids = await build(engine, recipe)
    dana = await new_key(engine, "account_team", owner="Dana Reyes")
    nobody = await new_key(engine, "account_team")
    finance = await new_key(engine, "finance", owner="Dana Reyes")  # books are for account teams
    query = (
        "query($id: ID!) { accounts { totalCount nodes { name"
        " opportunities { amount { amount } } } } account(id: $id) { name } }"
    )
    theirs = {"id": gid("Account", ids["theirs"])}
    async with gateway(engine, book_scoped_account_teams=True) as app, http_client(app) as client:
        as_dana = (
            await client.post(
                "/graphql",
                json={"query": query, "variables": theirs},
                headers={"Authorization": f"Bearer {dana}"},
            )
        ).json()
        as_nobody = (await ask(client, nobody, ACCOUNTS)).json()
        as_finance = (await ask(client, finance, ACCOUNTS)).json()
        portfolio = (await ask(client, dana, "{ portfolio { billableHours } }")).json()

    assert as_dana["data"]["accounts"] == {
        "totalCount": 1,
        "nodes": [{"name": "Mine", "opportunities": [{"amount": {"amount": "10.00"}}]}],
    }
    assert as_dana["errors"][0]["extensions"]["code"] == "NOT_FOUND"  # theirs, by id
    assert as_nobody["data"]["accounts"]["totalCount"] == 0
    assert as_finance["data"]["accounts"]["totalCount"] == 2
    assert portfolio["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # firm-wide sums


async def test_a_partner_sees_the_people_of_its_clients_projects_only(engine: AsyncEngine) -> None:
    async def recipe(b: FirmBuilder, ids: dict[str, Any]) -> None:
        mine, theirs = await b.account("Mine"), await b.account("Theirs")
        ours, other = await b.project(mine, "P-MINE", "tm"), await b.project(theirs, "P-T", "tm")
        for name, project in (("staffed", ours), ("elsewhere", other)):
            ids[name] = await b.person(name.title())
            await b.add(
                tables.Assignment, project_id=project, person_id=ids[name], role="Consultant",
                scheduled_hours_x100=1000, bill_rate_minor=1, cost_rate_minor=1,
                currency="USD", start_date=FIRM_NOW.date(), status="active",
            )  # fmt: skip
        ids["logged"] = await b.person("Logged")
        await b.time(ours, ids["logged"], 100, "approved", work_date=FIRM_NOW.date())
        await b.time(other, ids["elsewhere"], 100, "approved", work_date=FIRM_NOW.date())
        ids["mine"] = mine

    ids = await build(engine, recipe)
    partner = await new_key(engine, "partner", accounts=[gid("Account", ids["mine"])])
    query = "query($id: ID!) { node(id: $id) { ... on Person { name } } }"
    seen = {}
    async with gateway(engine) as app, http_client(app) as client:
        for who in ("staffed", "logged", "elsewhere"):
            variables = {"id": gid("Person", ids[who])}
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {partner}"},
            )
            seen[who] = (response.json().get("data") or {}).get("node")

    assert seen == {"staffed": {"name": "Staffed"}, "logged": {"name": "Logged"}, "elsewhere": None}


HANDOFF_READS = (
    "query($mine: ID!, $theirs: ID!) {"
    " mine: handoff(id: $mine) { id } theirs: handoff(id: $theirs) { id }"
    " node: node(id: $theirs) { id } }"
)
QUEUE = "{ handoffs(filter: {status: [COMPLETED]}) { id } }"  # an operator's view
FOLLOW_HANDOFF = "subscription($id: ID!) { handoffUpdated(id: $id) { id status } }"


def _codes(answer: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["path"][0], e["extensions"]["code"]) for e in answer.get("errors", [])}


async def test_a_scoped_caller_sees_the_handoffs_of_its_accounts_only(engine: AsyncEngine) -> None:
    """readmodel/reads/scope.py's handoff rule: a handoff hangs from its deal's account. Partners
    never reach a handoff (a role rule, tests/access/test_ids.py); the scope keeps an operator
    key naming accounts, and an account team's book, to their own clients' handoffs, through
    the queue, by id, as a node, on the deal and in ``handoffUpdated`` (over SSE)."""

    async def recipe(b: FirmBuilder, ids: dict[str, Any]) -> None:
        for name, owner in (("mine", "Dana Reyes"), ("theirs", "Lee Park")):
            ids[f"{name}_account"] = await b.account(name.title(), owner_name=owner)
            deal = await b.opportunity(ids[f"{name}_account"], 1000, stage="closed_won")
            row = {"opportunity_id": deal, "status": "COMPLETED", "trigger": "mutation"}
            at = {"created_at": FIRM_NOW, "updated_at": FIRM_NOW, "completed_at": FIRM_NOW}
            inserted = await b.conn.execute(insert(HANDOFF).values(row | at))
            ids[name] = inserted.inserted_primary_key[0]

    ids = await build(engine, recipe)
    mine, theirs = to_handoff_id(ids["mine"]), to_handoff_id(ids["theirs"])
    operator = await new_key(engine, "operator", accounts=[gid("Account", ids["mine_account"])])
    dana = await new_key(engine, "account_team", owner="Dana Reyes")
    admin = await new_key(engine, "admin")
    deals = "{ opportunities { nodes { account { name } handoff { id } } } }"
    answers: dict[str, Any] = {}
    async with gateway(engine, book_scoped_account_teams=True) as app, http_client(app) as client:
        for who, key in (("operator", operator), ("dana", dana)):
            headers = {"Authorization": f"Bearer {key}"}
            variables = {"mine": mine, "theirs": theirs}
            body = {"query": HANDOFF_READS, "variables": variables}
            answers[who] = (await client.post("/graphql", json=body, headers=headers)).json()
            for name, handoff in (("mine", mine), ("theirs", theirs)):
                body = {"query": FOLLOW_HANDOFF, "variables": {"id": handoff}}
                sse = {**headers, "Accept": "text/event-stream"}
                stream = await client.post("/graphql", json=body, headers=sse)
                answers[f"{who} follows {name}"] = stream.text
        answers["deals"] = (await ask(client, dana, deals)).json()
        answers["queue"] = (await ask(client, operator, QUEUE)).json()
        answers["everything"] = (await ask(client, admin, QUEUE)).json()

    assert answers["queue"]["data"]["handoffs"] == [{"id": mine}]
    assert {h["id"] for h in answers["everything"]["data"]["handoffs"]} == {mine, theirs}
    for answer in (answers["operator"], answers["dana"]):
        assert answer["data"]["mine"] == {"id": mine}, answer
        assert answer["data"]["theirs"] is None and answer["data"]["node"] is None, answer
        assert _codes(answer) == {("node", "NOT_FOUND")}, answer  # handoff(id:) is just null
    for who in ("operator", "dana"):
        assert f'"id":"{mine}"' in answers[f"{who} follows mine"].replace(" ", "")
        followed = answers[f"{who} follows theirs"]
        assert "NOT_FOUND" in followed and '"data":{' not in followed.replace(" ", ""), followed
    assert answers["deals"]["data"]["opportunities"]["nodes"] == [
        {"account": {"name": "Mine"}, "handoff": {"id": mine}}
    ]


async def test_a_browser_get_that_names_a_query_is_authenticated(engine: AsyncEngine) -> None:
    await _two_clients(engine)
    html = {"Accept": "text/html"}
    async with gateway(engine) as app, http_client(app) as client:
        page = await client.get("/graphql", headers=html)
        query = await client.get(
            "/graphql", params={"query": "{ freshness { system } }"}, headers=html
        )
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert query.status_code == 401  # the IDE's exemption is for the page, not for operations
