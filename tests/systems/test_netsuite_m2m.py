"""The simulator's token endpoint refuses client assertions the way NetSuite does: only
``{"error": ...}`` in the answer, the reason in its login audit trail."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import jwt
import pytest

from systems.netsuite.app import Simulator, create_simulator
from systems.netsuite.m2m import ASSERTION_TYPE, new_certificate
from systems.netsuite.store import from_seed
from tests.systems.test_netsuite_simulator import CERT, CERTIFICATES, seeded_rows

BASE = "http://ns.test"
TOKEN_URL = f"{BASE}/services/rest/auth/oauth2/v1/token"
SUITEQL = f"{BASE}/services/rest/query/v1/suiteql"


@pytest.fixture(scope="module")
def rows() -> dict[str, list[dict[str, Any]]]:
    return seeded_rows(accounts=2)


@pytest.fixture
async def token_endpoint(rows: dict[str, list[dict[str, Any]]]) -> AsyncIterator[
    tuple[httpx.AsyncClient, Simulator]
]:
    app = create_simulator(from_seed(rows), certificates=CERTIFICATES)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        yield http, app.state.simulator


def assertion(
    *,
    key: str = CERT.private_key_pem,
    alg: str = "ES256",
    kid: str = CERT.certificate_id,
    **claims: Any,
) -> str:
    now = int(time.time())
    body = {
        "iss": "clientgraph",
        "scope": "restlets,rest_webservices",
        "aud": TOKEN_URL,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


def raw_assertion(**claims: Any) -> str:
    """Signed claims PyJWT itself would refuse to encode (a client that is not PyJWT)."""
    now = int(time.time())
    body = {"scope": "restlets", "aud": TOKEN_URL, "iat": now, "exp": now + 300, **claims}
    key, kid = CERT.private_key_pem, CERT.certificate_id
    return jwt.api_jws.encode(json.dumps(body).encode(), key, "ES256", {"kid": kid})


def form(signed: str, **fields: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
        **fields,
    }


async def test_a_good_assertion_gets_a_bearer_token_for_an_hour(token_endpoint: Any) -> None:
    http, sim = token_endpoint
    granted = await http.post(TOKEN_URL, data=form(assertion()))
    body = granted.json()
    assert granted.status_code == 200 and body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600 and sim.assertions.audit == ["Success"]
    query = {"q": "SELECT id FROM employee"}
    headers = {"Authorization": f"Bearer {body['access_token']}", "Prefer": "transient"}
    assert (await http.post(SUITEQL, json=query, headers=headers)).status_code == 200


def now() -> int:
    return int(time.time())


OTHER = new_certificate()
BAD, CLIENT, REQUEST = "invalid_grant", "invalid_client", "invalid_request"
CASES: list[tuple[str, Callable[[], dict[str, str]], int, str, str]] = [
    ("unknown kid", lambda: form(assertion(kid="nope")), 400, BAD, "InvalidCertificateId"),
    ("bad signature", lambda: form(assertion(key=OTHER.private_key_pem)), 400, BAD,
     "InvalidSignature"),
    ("expired", lambda: form(assertion(iat=now() - 4000, exp=now() - 400)), 400, BAD,
     "TokenExpired"),
    ("from the future", lambda: form(assertion(iat=now() + 900, exp=now() + 1200)), 400, BAD,
     "TokenNotYetValid"),
    ("over an hour", lambda: form(assertion(exp=now() + 3700)), 400, BAD,
     "TokenLifetimeTooLong"),
    ("wrong aud", lambda: form(assertion(aud="https://elsewhere/token")), 400, BAD,
     "InvalidAudience"),
    ("no scope", lambda: form(assertion(scope=None)), 400, BAD, "InvalidToken"),
    ("unknown client", lambda: form(assertion(iss="stranger")), 401, CLIENT,
     "InvalidIntegration"),
    ("iss not a string", lambda: form(raw_assertion(iss=["clientgraph"])), 401, CLIENT,
     "InvalidIntegration"),
    ("alg none", lambda: form(jwt.encode({"iss": "clientgraph"}, None, algorithm="none",
     headers={"kid": CERT.certificate_id})), 400, BAD, "InvalidToken"),
    ("a client secret instead", lambda: {"grant_type": "client_credentials",
     "client_id": "clientgraph", "client_secret": "x"}, 400, REQUEST, "InvalidRequest"),
    ("not a JWT", lambda: form("not.a.jwt"), 400, REQUEST, "InvalidRequest"),
    ("another grant", lambda: form(assertion(), grant_type="password"), 400,
     "unsupported_grant_type", "UnsupportedGrantType"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "data", "status", "error", "audit"), CASES,
                         ids=[c[0] for c in CASES])  # fmt: skip
async def test_a_bad_assertion_is_refused_with_netsuites_bare_error(
    token_endpoint: Any,
    case: str,
    data: Callable[[], dict[str, str]],
    status: int,
    error: str,
    audit: str,
) -> None:
    http, sim = token_endpoint
    refused = await http.post(TOKEN_URL, data=data())  # signed now: the run may be long
    assert (refused.status_code, refused.json()) == (status, {"error": error})
    assert sim.assertions.audit == [audit]


async def test_an_assertion_is_spent_once(token_endpoint: Any) -> None:
    http, sim = token_endpoint
    signed = assertion()
    first = await http.post(TOKEN_URL, data=form(signed))
    replayed = await http.post(TOKEN_URL, data=form(signed))
    assert first.status_code == 200
    assert (replayed.status_code, replayed.json()) == (400, {"error": "invalid_grant"})
    assert sim.assertions.audit == ["Success", "TokenReplayed"]
