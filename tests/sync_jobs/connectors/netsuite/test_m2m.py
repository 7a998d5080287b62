"""NetSuite's M2M login against the simulator: a signed assertion per token request, a token
reused for its hour, and every refusal told as the settings to fix (no secret in it)."""

from __future__ import annotations

import time
from dataclasses import replace
from urllib.parse import parse_qs

import httpx
import jwt
import pytest

from sync_jobs.connectors.netsuite.client import NetSuiteClient
from sync_jobs.connectors.netsuite.m2m import ASSERTION_TYPE, M2MLogin, signer
from sync_jobs.errors import LoginFailed
from systems.netsuite.m2m import new_certificate, public_key
from tests.sync_jobs.connectors.netsuite.conftest import BASE, Account
from tests.systems.test_netsuite_simulator import CERT, LOGIN

QUERY = "SELECT id FROM employee"
TOKEN_URL = f"{BASE}/services/rest/auth/oauth2/v1/token"


class Recorder(httpx.AsyncBaseTransport):
    """Keeps the token requests a client sends on their way to the simulator."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.forms = inner, list[dict[str, list[str]]]()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            self.forms.append(parse_qs((await request.aread()).decode()))
        return await self.inner.handle_async_request(request)


async def login_with(account: Account, login: M2MLogin) -> tuple[NetSuiteClient, Recorder]:
    recorder = Recorder(account.http._transport)  # type: ignore[attr-defined]
    http = httpx.AsyncClient(transport=recorder)
    return NetSuiteClient(BASE, login, http), recorder


@pytest.mark.parametrize("algorithm", ["ES256", "PS256"])
async def test_the_token_request_is_netsuites_client_assertion(
    account: Account, algorithm: str
) -> None:
    cert = CERT if algorithm == "ES256" else new_certificate("PS256")
    account.sim.assertions.certificates = {cert.certificate_id: cert.certificate_pem}
    login = M2MLogin("clientgraph", cert.certificate_id, cert.private_key_pem)
    client, recorder = await login_with(account, login)

    await client.suiteql(QUERY)

    [form] = recorder.forms
    assert set(form) == {"grant_type", "client_assertion_type", "client_assertion"}
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_assertion_type"] == [ASSERTION_TYPE]
    assertion = form["client_assertion"][0]
    header = jwt.get_unverified_header(assertion)
    assert (header["kid"], header["alg"], header["typ"]) == (cert.certificate_id, algorithm, "JWT")
    claims = jwt.decode(
        assertion, public_key(cert.certificate_pem), algorithms=[algorithm], audience=TOKEN_URL
    )
    assert claims["iss"] == "clientgraph" and claims["scope"] == "restlets,rest_webservices"
    assert 0 < claims["exp"] - claims["iat"] <= 3600 and abs(claims["iat"] - time.time()) < 60
    assert claims["jti"]
    assert account.sim.assertions.audit == ["Success"]


async def test_one_token_serves_many_calls_and_is_renewed_when_near_expiry(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, recorder = await login_with(account, LOGIN)
    for _ in range(3):
        await client.suiteql(QUERY)
    assert len(recorder.forms) == 1  # reused

    later = time.monotonic() + 3600 - 299  # inside the renewal margin of a one-hour token
    monkeypatch.setattr("sync_jobs.connectors.netsuite.client.time.monotonic", lambda: later)
    await client.suiteql(QUERY)

    assert len(recorder.forms) == 2
    assert recorder.forms[0]["client_assertion"] != recorder.forms[1]["client_assertion"]


async def test_an_expired_token_is_replaced_with_a_new_assertion(account: Account) -> None:
    client, recorder = await login_with(account, LOGIN)
    await client.suiteql(QUERY)
    account.sim.expire_tokens()

    await client.suiteql(QUERY)

    assert len(recorder.forms) == 2 and account.sim.assertions.audit == ["Success", "Success"]


REFUSED = [
    ("unknown certificate id", {"certificate_id": "not-uploaded"}, "InvalidCertificateId"),
    ("another key", {"private_key_pem": new_certificate().private_key_pem}, "InvalidSignature"),
    ("unknown client", {"client_id": "someone-else"}, "InvalidIntegration"),
    ("bad scope", {"scope": "everything"}, "InvalidScope"),
]


@pytest.mark.parametrize(("case", "change", "audit"), REFUSED, ids=[c[0] for c in REFUSED])
async def test_a_refused_assertion_is_a_login_failure_naming_the_settings(
    account: Account, case: str, change: dict[str, str], audit: str
) -> None:
    client, _ = await login_with(account, replace(LOGIN, **change))

    with pytest.raises(LoginFailed) as raised:
        await client.suiteql(QUERY)

    assert account.sim.assertions.audit == [audit]
    message = str(raised.value)
    assert "netsuite refused the client assertion" in message
    for name in ("CLIENT_ID", "CERTIFICATE_ID", "PRIVATE_KEY"):
        assert f"CLIENTGRAPH_NETSUITE__{name}" in message
    assert "PRIVATE KEY" not in message and CERT.private_key_pem[40:80] not in message


@pytest.mark.parametrize(
    ("change", "settings"),
    [
        ({"certificate_id": ""}, "CLIENTGRAPH_NETSUITE__CERTIFICATE_ID"),
        ({"private_key_pem": ""}, "CLIENTGRAPH_NETSUITE__PRIVATE_KEY"),
        ({"private_key_pem": "-----BEGIN PRIVATE KEY-----\nsecretish\n"}, "PRIVATE_KEY"),
        ({"private_key_pem": "", "private_key_file": "/nonexistent/key.pem"}, "PRIVATE_KEY_FILE"),
    ],
)
def test_a_missing_or_unusable_key_is_a_login_failure(
    change: dict[str, str], settings: str
) -> None:
    with pytest.raises(LoginFailed, match=settings) as raised:
        signer(replace(LOGIN, **change))
    assert "secretish" not in str(raised.value)


def test_the_key_may_come_from_a_file(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "netsuite.pem"  # type: ignore[operator]
    path.write_text(CERT.private_key_pem)
    loaded = signer(replace(LOGIN, private_key_pem="", private_key_file=str(path)))
    assert loaded.algorithm == "ES256"
