"""Every answer carries the security headers, and no server banner, on a real socket; CORS
answers only the origins ``http.cors_origins`` lists, and nothing at all by default."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import AuthSettings
from clientgraph.settings_http import HttpSettings
from gateway.graphql import IDE_CSP
from tests.conftest import http_client
from tests.gateway.edge import edge_app, on_a_socket

ON_POSTGRES = pytest.mark.parametrize("backend", ["postgresql"])

EVERY_ANSWER = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'"
PORTAL = "https://portal.example.com"
EVIL = "https://evil.example"
JSON = {"content-type": "application/json"}


def assert_hardened(response: httpx.Response, csp: str = API_CSP) -> None:
    for name, value in EVERY_ANSWER.items():
        assert response.headers.get(name) == value, (response.url, name, response.headers)
    assert response.headers["content-security-policy"] == csp
    assert "server" not in response.headers  # no banner
    assert not any(name.startswith("access-control-") for name in response.headers)


@ON_POSTGRES
async def test_every_kind_of_answer_is_hardened_on_a_real_socket(engine: AsyncEngine) -> None:
    async with (
        edge_app(engine, auth=AuthSettings(anonymous_role=None)) as app,
        on_a_socket(app) as (host, port),
        httpx.AsyncClient(base_url=f"http://{host}:{port}") as client,
    ):
        refused = await client.post("/graphql", json={"query": "{ __typename }"})
        bad = await client.post("/graphql", content=b"5", headers=JSON)
        health = await client.get("/healthz")
        ide = await client.get("/graphql", headers={"Accept": "text/html"})
    assert refused.status_code == 401 and bad.status_code == 401  # credentials come first
    assert health.status_code == 200 and ide.status_code == 200
    for response in (refused, bad, health):
        assert_hardened(response)
    assert "GraphiQL" in ide.text
    assert_hardened(ide, csp=IDE_CSP)
    assert "frame-ancestors 'none'" in IDE_CSP


@ON_POSTGRES
async def test_graphql_answers_and_refusals_are_hardened(engine: AsyncEngine) -> None:
    async with (  # anonymous admin (tests/conftest.py)
        edge_app(engine) as app,
        on_a_socket(app) as (host, port),
        httpx.AsyncClient(base_url=f"http://{host}:{port}") as client,
    ):
        answer = await client.post("/graphql", json={"query": "{ __typename }"})
        bad = await client.post("/graphql", content=b"5", headers=JSON)
        by_get = await client.get("/graphql", params={"query": "{ __typename }"})
    assert answer.status_code == 200 and by_get.status_code == 200 and bad.status_code == 400
    for response in (answer, bad, by_get):
        assert_hardened(response)


@ON_POSTGRES
async def test_cors_answers_the_listed_origins_only(engine: AsyncEngine) -> None:
    http = HttpSettings(cors_origins=[PORTAL])
    asked = "authorization, content-type, x-consistency-token, x-correlation-id"
    async with edge_app(engine, http=http) as app, http_client(app) as client:
        preflight = await client.options("/graphql", headers=_preflight(PORTAL, asked))
        stranger = await client.options("/graphql", headers=_preflight(EVIL, asked))
        answer = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": PORTAL}
        )
        foreign = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": EVIL}
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == PORTAL
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert all(header in allowed for header in asked.split(", "))
    assert "access-control-allow-credentials" not in preflight.headers
    assert preflight.headers["x-frame-options"] == "DENY"
    assert stranger.status_code == 400
    assert "access-control-allow-origin" not in stranger.headers
    assert answer.headers["access-control-allow-origin"] == PORTAL
    assert "ratelimit-remaining" in answer.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in foreign.headers


@ON_POSTGRES
async def test_no_cors_headers_at_all_by_default(engine: AsyncEngine) -> None:
    async with edge_app(engine) as app, http_client(app) as client:
        preflight = await client.options("/graphql", headers=_preflight(PORTAL, "authorization"))
        answer = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": PORTAL}
        )
    assert preflight.status_code == 405  # no CORS: OPTIONS is not a method of /graphql
    for response in (preflight, answer):
        assert not any(name.startswith("access-control-") for name in response.headers)


def test_a_wildcard_is_not_an_allow_list() -> None:
    with pytest.raises(ValidationError, match="name each origin"):
        HttpSettings(cors_origins=["*"])


def _preflight(origin: str, headers: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": headers,
    }
