"""Bearer JWT verification against a real JWKS on a real socket, with keys made at test time.

The identity provider is a small Starlette app served by uvicorn on 127.0.0.1 in a thread; it
counts the JWKS requests it answers, so the rotation, rate-limit and single-fetch tests check
what reached the provider, not what the cache believes. Tokens are signed with PyJWT; the two
attacks PyJWT refuses to produce (``alg: none``, HS256 keyed with a public key) are built by hand.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from prometheus_client import REGISTRY
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from clientgraph.settings import JwtSettings, Settings
from gateway.auth.jwt import JwtVerifier, TokenRejected, VerifiedToken, looks_like_jwt

ISSUER = "https://idp.example.test/realms/clientgraph"
AUDIENCE = "clientgraph-gateway"
SHARED_SECRET = "s" * 40


# --- Keys and tokens ------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    """Real keys, made once per session: two RSA keys (before and after rotation), an EC
    P-256 key, and an attacker's RSA key."""

    rsa_a: rsa.RSAPrivateKey
    rsa_b: rsa.RSAPrivateKey
    ec: ec.EllipticCurvePrivateKey
    attacker: rsa.RSAPrivateKey


@pytest.fixture(scope="session")
def keys() -> Keys:
    def new_rsa() -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    return Keys(new_rsa(), new_rsa(), ec.generate_private_key(ec.SECP256R1()), new_rsa())


def public_jwk(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str | None, **extra: Any
) -> dict[str, Any]:
    """The JWK an identity provider publishes for ``key``."""
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return jwk | {"use": "sig"} | ({"kid": kid} if kid else {}) | extra


def claims(**changes: Any) -> dict[str, Any]:
    """A valid payload, with ``changes`` applied (a value of None drops the claim)."""
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "iat": now, "exp": now + 300}
    payload |= changes
    return {name: value for name, value in payload.items() if value is not None}


def signed(key: Any, alg: str = "RS256", kid: str | None = "a", **changes: Any) -> str:
    return jwt.encode(claims(**changes), key, algorithm=alg, headers={"kid": kid} if kid else None)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: dict[str, Any]) -> str:
    return b64(json.dumps(value).encode())


def hand_made(header: dict[str, Any], payload: dict[str, Any], hmac_key: bytes | None) -> str:
    """A token PyJWT would refuse to sign: unsigned, or HMAC-keyed with any bytes at all."""
    signing_input = f"{b64json(header)}.{b64json(payload)}"
    if hmac_key is None:
        return signing_input + "."
    digest = hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(digest)}"


# --- The identity provider ------------------------------------------------------------------


class IdentityProvider:
    """A JWKS endpoint on a real socket that counts the requests it answers."""

    def __init__(self, jwks: list[dict[str, Any]]) -> None:
        self.jwks = jwks
        self.fetches = 0
        self.failure: str | None = None  # "http 500" or "not a JWK set": how to answer
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/jwks"
        app = Starlette(routes=[Route("/jwks", self._answer)])
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    async def _answer(self, request: Request) -> Response:
        self.fetches += 1
        if self.failure == "http 500":
            return PlainTextResponse("down for maintenance", status_code=500)
        if self.failure == "not a JWK set":
            return JSONResponse({"error": "nope"})
        return JSONResponse({"keys": self.jwks})

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, "IdP did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        """Shut the server and its socket: later requests get connection refused."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@pytest.fixture
def idp(keys: Keys) -> Iterator[IdentityProvider]:
    """A running provider publishing key "a" (RSA) and key "e" (EC P-256)."""
    provider = IdentityProvider([public_jwk(keys.rsa_a, "a"), public_jwk(keys.ec, "e")])
    provider.start()
    yield provider
    if provider._thread.is_alive():
        provider.stop()


def jwt_settings(idp: IdentityProvider | None = None, **changes: Any) -> JwtSettings:
    values: dict[str, Any] = {"issuer": ISSUER, "audience": AUDIENCE}
    values["jwks_url"] = idp.url if idp else None
    return JwtSettings(**(values | changes))


@asynccontextmanager
async def verifier(settings: JwtSettings) -> AsyncIterator[JwtVerifier]:
    checker = JwtVerifier(settings)
    try:
        yield checker
    finally:
        await checker.aclose()


async def rejection(checker: JwtVerifier, token: str) -> str:
    with pytest.raises(TokenRejected) as caught:
        await checker.verify(token)
    assert not token or token not in str(caught.value)  # never echoes the token
    return caught.value.reason


# --- Valid tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_name", "alg", "kid"), [("rsa_a", "RS256", "a"), ("ec", "ES256", "e")]
)
async def test_a_valid_token_verifies(
    idp: IdentityProvider, keys: Keys, key_name: str, alg: str, kid: str
) -> None:
    exp = int(time.time()) + 120
    token = signed(getattr(keys, key_name), alg, kid, exp=exp, jti="t-1", sub="alice")
    async with verifier(jwt_settings(idp)) as checker:
        verified = await checker.verify(token)
    assert verified.subject == "alice"
    assert verified.issuer == ISSUER
    assert verified.token_id == "t-1"
    assert verified.expires_at == datetime.fromtimestamp(exp, UTC)
    assert verified.expires_at.tzinfo is not None
    assert verified.claims["aud"] == AUDIENCE
    assert (verified.role, verified.accounts, verified.owner) == (None, (), None)


async def test_an_hs256_token_verifies_only_with_the_shared_secret(idp: IdentityProvider) -> None:
    settings = jwt_settings(idp, algorithms=["RS256", "HS256"], hs256_secret=SHARED_SECRET)
    async with verifier(settings) as checker:
        verified = await checker.verify(signed(SHARED_SECRET, "HS256", kid=None))
        assert verified.subject == "user-1"
        wrong = signed("w" * 40, "HS256", kid=None)
        assert await rejection(checker, wrong) == "signature invalid"


# --- Lifetime, issuer, audience, required claims --------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"exp": -60}, "token expired"),  # seconds from now; the leeway is 30 s
        ({"exp": -10}, None),  # within the leeway
        ({"nbf": 120}, "token not yet valid"),
        ({"nbf": 10}, None),
        ({"iat": 120}, "token not yet valid"),
    ],
)
async def test_lifetime_is_checked_with_leeway(
    idp: IdentityProvider, keys: Keys, changes: dict[str, int], reason: str | None
) -> None:
    now = int(time.time())
    times: dict[str, Any] = {name: now + delta for name, delta in changes.items()}
    token = signed(keys.rsa_a, **times)
    async with verifier(jwt_settings(idp)) as checker:
        if reason is None:
            assert (await checker.verify(token)).subject == "user-1"
        else:
            assert await rejection(checker, token) == reason


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "someone-else"}, "wrong audience"),
        ({"aud": ["someone-else", "another"]}, "wrong audience"),
        ({"iss": "https://evil.example.test/"}, "issuer not trusted"),
        ({"sub": 42}, "invalid claim: sub"),
        ({"exp": "tomorrow"}, "malformed token"),
    ],
)
async def test_claims_that_do_not_match_are_rejected(
    idp: IdentityProvider, keys: Keys, changes: dict[str, Any], reason: str
) -> None:
    async with verifier(jwt_settings(idp)) as checker:
        assert await rejection(checker, signed(keys.rsa_a, **changes)) == reason


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub"])
async def test_a_missing_required_claim_is_named(
    idp: IdentityProvider, keys: Keys, claim: str
) -> None:
    async with verifier(jwt_settings(idp)) as checker:
        dropped: dict[str, Any] = {claim: None}
        token = signed(keys.rsa_a, **dropped)
        assert await rejection(checker, token) == f"missing claim: {claim}"


# --- Signatures and algorithms --------------------------------------------------------------


async def test_a_token_signed_by_another_key_with_a_known_kid_is_rejected(
    idp: IdentityProvider, keys: Keys
) -> None:
    async with verifier(jwt_settings(idp)) as checker:
        assert await rejection(checker, signed(keys.attacker, kid="a")) == "signature invalid"


async def test_an_unsigned_token_is_rejected(idp: IdentityProvider) -> None:
    token = hand_made({"alg": "none", "kid": "a"}, claims(), hmac_key=None)
    assert looks_like_jwt(token)
    async with verifier(jwt_settings(idp)) as checker:
        assert await rejection(checker, token) == "algorithm not allowed"
    assert idp.fetches == 0  # refused before any key was looked up


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize("hs256_on", [False, True])
async def test_hs256_keyed_with_the_published_rsa_key_is_rejected(
    idp: IdentityProvider, keys: Keys, hs256_on: bool
) -> None:
    """Algorithm confusion: the attacker knows the public key and signs HS256 with it."""
    forged = hand_made({"alg": "HS256", "kid": "a"}, claims(), hmac_key=public_pem(keys.rsa_a))
    changes = {"algorithms": ["RS256", "HS256"], "hs256_secret": SHARED_SECRET} if hs256_on else {}
    async with verifier(jwt_settings(idp, **changes)) as checker:
        reason = await rejection(checker, forged)
    assert reason == ("signature invalid" if hs256_on else "algorithm not allowed")


async def test_an_es256_header_naming_an_rsa_key_is_rejected(
    idp: IdentityProvider, keys: Keys
) -> None:
    async with verifier(jwt_settings(idp)) as checker:
        token = signed(keys.ec, "ES256", kid="a")
        assert await rejection(checker, token) == "algorithm not allowed"
        assert (await checker.verify(signed(keys.ec, "ES256", kid="e"))).subject == "user-1"


async def test_an_algorithm_not_configured_is_rejected(idp: IdentityProvider, keys: Keys) -> None:
    async with verifier(jwt_settings(idp, algorithms=["ES256"])) as checker:
        assert await rejection(checker, signed(keys.rsa_a)) == "algorithm not allowed"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "cg_live_abc",
        "eyJhbGciOiJSUzI1NiJ9.e30",
        "eyJub3QganNvbg.e30.c2ln",
        "eyJhbGciOiJSUzI1NiJ9.e30.c2ln=",
    ],
)
async def test_malformed_tokens_are_rejected(idp: IdentityProvider, token: str) -> None:
    async with verifier(jwt_settings(idp)) as checker:
        assert await rejection(checker, token) == "malformed token"


async def test_an_oversized_token_is_refused_unparsed(idp: IdentityProvider, keys: Keys) -> None:
    token = signed(keys.rsa_a, padding="x" * 20_000)
    async with verifier(jwt_settings(idp)) as checker:
        assert await rejection(checker, token) == "malformed token"
    assert idp.fetches == 0


def test_looks_like_jwt_tells_jwts_from_api_keys(keys: Keys) -> None:
    assert looks_like_jwt(signed(keys.rsa_a))
    assert looks_like_jwt(signed(keys.ec, "ES256"))
    assert not looks_like_jwt("cg_3f9a0c1b2d4e5f60718293a4b5c6d7e8")
    assert not looks_like_jwt("cg_a.b.c")
    assert not looks_like_jwt("eyJh.eyJz")
    assert not looks_like_jwt("eyJh.eyJz.sig with space")


# --- Which published keys count -------------------------------------------------------------


async def test_only_signing_keys_of_allowed_algorithms_are_used(keys: Keys) -> None:
    provider = IdentityProvider(
        [
            public_jwk(keys.rsa_a, "enc", use="enc"),
            public_jwk(keys.rsa_a, "rs512", alg="RS512"),
            RSAAlgorithm.to_jwk(keys.rsa_b, as_dict=True) | {"kid": "private", "use": "sig"},
            public_jwk(keys.ec, "e"),
        ]
    )
    provider.start()
    try:
        async with verifier(jwt_settings(provider)) as checker:
            for kid, key in [("enc", keys.rsa_a), ("rs512", keys.rsa_a), ("private", keys.rsa_b)]:
                assert await rejection(checker, signed(key, kid=kid)) == "unknown signing key"
            assert (await checker.verify(signed(keys.ec, "ES256", kid="e"))).subject == "user-1"
    finally:
        provider.stop()


async def test_a_token_without_kid_uses_the_only_key(keys: Keys) -> None:
    provider = IdentityProvider([public_jwk(keys.rsa_a, None)])
    provider.start()
    try:
        async with verifier(jwt_settings(provider)) as checker:
            assert (await checker.verify(signed(keys.rsa_a, kid=None))).subject == "user-1"
        provider.jwks.append(public_jwk(keys.rsa_b, "b"))
        async with verifier(jwt_settings(provider)) as checker:
            reason = await rejection(checker, signed(keys.rsa_a, kid=None))
        assert reason == "unknown signing key"  # two keys: which one is not guessed
    finally:
        provider.stop()


# --- Rotation, rate limit, one fetch at a time, outages -------------------------------------


def jwks_lookups(result: str) -> float:
    labels = {"cache": "jwks", "result": result}
    return REGISTRY.get_sample_value("clientgraph_cache_lookups_total", labels) or 0.0


async def test_key_rotation_is_picked_up_with_one_refetch(
    idp: IdentityProvider, keys: Keys
) -> None:
    before = {r: jwks_lookups(r) for r in ("hit", "miss")}
    async with verifier(jwt_settings(idp, jwks_refresh_min_seconds=0)) as checker:
        assert (await checker.verify(signed(keys.rsa_a, kid="a"))).subject == "user-1"
        assert (await checker.verify(signed(keys.rsa_a, kid="a"))).subject == "user-1"
        assert idp.fetches == 1
        assert {r: jwks_lookups(r) - before[r] for r in before} == {"hit": 1, "miss": 1}
        idp.jwks = [public_jwk(keys.rsa_b, "b")]  # the provider rotates: A retired, B signs
        assert (await checker.verify(signed(keys.rsa_b, kid="b"))).subject == "user-1"
        assert idp.fetches == 2
        assert await rejection(checker, signed(keys.rsa_a, kid="a")) == "unknown signing key"


async def test_concurrent_tokens_with_a_new_kid_share_one_refetch(
    idp: IdentityProvider, keys: Keys
) -> None:
    async with verifier(jwt_settings(idp, jwks_refresh_min_seconds=0)) as checker:
        await checker.verify(signed(keys.rsa_a, kid="a"))
        idp.jwks = [public_jwk(keys.rsa_b, "b")]
        tokens = [signed(keys.rsa_b, kid="b", sub=f"user-{i}") for i in range(50)]
        verified = await asyncio.gather(*(checker.verify(t) for t in tokens))
    assert [v.subject for v in verified] == [f"user-{i}" for i in range(50)]
    assert idp.fetches == 2


async def test_concurrent_first_tokens_wait_for_the_first_fetch(
    idp: IdentityProvider, keys: Keys
) -> None:
    tokens = [signed(keys.ec, "ES256", kid="e", sub=f"user-{i}") for i in range(20)]
    async with verifier(jwt_settings(idp)) as checker:
        verified = await asyncio.gather(*(checker.verify(t) for t in tokens))
    assert len(verified) == 20
    assert idp.fetches == 1


async def test_tokens_with_made_up_kids_cannot_flood_the_provider(
    idp: IdentityProvider, keys: Keys
) -> None:
    started = time.monotonic()
    async with verifier(jwt_settings(idp)) as checker:  # at most one refetch per 30 s
        for _ in range(100):
            token = signed(keys.attacker, kid=uuid.uuid4().hex)
            assert await rejection(checker, token) == "unknown signing key"
        assert time.monotonic() - started < 5
        assert idp.fetches <= 2
        assert (await checker.verify(signed(keys.rsa_a, kid="a"))).subject == "user-1"
    assert idp.fetches <= 2


async def test_made_up_kids_refetch_once_per_interval(idp: IdentityProvider, keys: Keys) -> None:
    async with verifier(jwt_settings(idp, jwks_refresh_min_seconds=0.5)) as checker:
        await checker.verify(signed(keys.rsa_a, kid="a"))
        await asyncio.sleep(0.6)
        sprayed = [signed(keys.attacker, kid=uuid.uuid4().hex) for _ in range(100)]
        results = await asyncio.gather(
            *(checker.verify(t) for t in sprayed), return_exceptions=True
        )
    assert all(isinstance(r, TokenRejected) for r in results)
    assert idp.fetches == 2


@pytest.mark.parametrize("failure", ["stopped", "http 500", "not a JWK set"])
async def test_cached_keys_keep_verifying_when_the_provider_fails(
    idp: IdentityProvider, keys: Keys, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = jwt_settings(idp, jwks_cache_seconds=1, jwks_refresh_min_seconds=0)
    async with verifier(settings) as checker:
        await checker.verify(signed(keys.rsa_a, kid="a"))
        if failure == "stopped":
            idp.stop()
        else:
            idp.failure = failure
        await asyncio.sleep(1.1)  # the keys are now due for a refetch, which fails
        with caplog.at_level(logging.WARNING, logger="gateway.auth.jwt"):
            assert (await checker.verify(signed(keys.rsa_a, kid="a"))).subject == "user-1"
            assert (await checker.verify(signed(keys.ec, "ES256", kid="e"))).subject == "user-1"
            assert await rejection(checker, signed(keys.rsa_b, kid="b")) == "unknown signing key"
    assert "JWKS fetch" in caplog.text
    assert idp.fetches >= (1 if failure == "stopped" else 2)


# --- Claims → who is calling ----------------------------------------------------------------


async def test_claims_map_through_the_configured_names(idp: IdentityProvider, keys: Keys) -> None:
    settings = jwt_settings(
        idp,
        role_claim="https://cg/role",
        accounts_claim="https://cg/accounts",
        owner_claim="email",
        subject_claim="oid",
    )
    custom: dict[str, Any] = {
        "oid": "object-7",
        "email": "pat@partner.example",
        "https://cg/role": "partner",
        "https://cg/accounts": ["acc-1", "acc-2"],
        "clientgraph_role": "admin",  # the default name, not configured: ignored
    }
    token = signed(keys.rsa_a, **custom)
    async with verifier(settings) as checker:
        verified = await checker.verify(token)
    assert verified == VerifiedToken(
        subject="object-7",
        issuer=ISSUER,
        role="partner",
        accounts=("acc-1", "acc-2"),
        owner="pat@partner.example",
        token_id=None,
        expires_at=verified.expires_at,
        claims=verified.claims,
    )
    with pytest.raises(TypeError):
        verified.claims["sub"] = "someone-else"  # type: ignore[index]


@pytest.mark.parametrize(
    ("accounts", "expected"),
    [("acc-1", ("acc-1",)), (["acc-1"], ("acc-1",)), ([], ()), (None, ())],
)
async def test_the_accounts_claim_may_be_one_string(
    idp: IdentityProvider, keys: Keys, accounts: Any, expected: tuple[str, ...]
) -> None:
    async with verifier(jwt_settings(idp)) as checker:
        verified = await checker.verify(signed(keys.rsa_a, clientgraph_accounts=accounts))
    assert verified.accounts == expected


@pytest.mark.parametrize(
    "changes",
    [
        {"clientgraph_accounts": 42},
        {"clientgraph_accounts": ["acc-1", 2]},
        {"clientgraph_accounts": {"acc-1": True}},
        {"clientgraph_role": ["admin", "partner"]},
    ],
)
async def test_claims_of_the_wrong_shape_are_rejected(
    idp: IdentityProvider, keys: Keys, changes: dict[str, Any]
) -> None:
    async with verifier(jwt_settings(idp)) as checker:
        reason = await rejection(checker, signed(keys.rsa_a, **changes))
    assert reason == f"invalid claim: {next(iter(changes))}"


async def test_jwt_authentication_is_off_without_an_issuer(keys: Keys) -> None:
    async with verifier(JwtSettings()) as checker:
        assert await rejection(checker, signed(keys.rsa_a)) == "issuer not trusted"


# --- Settings -------------------------------------------------------------------------------


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIENTGRAPH_JWT__ISSUER", ISSUER)
    monkeypatch.setenv("CLIENTGRAPH_JWT__AUDIENCE", AUDIENCE)
    monkeypatch.setenv("CLIENTGRAPH_JWT__JWKS_URL", "https://idp.example.test/jwks")
    monkeypatch.setenv("CLIENTGRAPH_JWT__ALGORITHMS", '["ES256"]')
    monkeypatch.setenv("CLIENTGRAPH_JWT__ROLE_CLAIM", "roles")
    settings = Settings().jwt
    assert (settings.issuer, settings.audience, settings.algorithms) == (
        ISSUER,
        AUDIENCE,
        ["ES256"],
    )
    assert settings.role_claim == "roles"
    assert Settings.model_fields["jwt"].default.issuer is None  # off unless configured


@pytest.mark.parametrize(
    "values",
    [
        {"algorithms": ["none"]},
        {"algorithms": ["HS256"]},
        {"algorithms": ["HS512"], "hs256_secret": SHARED_SECRET},
        {"algorithms": ["HS256"], "hs256_secret": "short"},
        {"algorithms": []},
        {"leeway_seconds": 301},
        {"issuer": ISSUER},  # no audience
        {"issuer": ISSUER, "audience": AUDIENCE},  # no keys
    ],
)
def test_unsafe_settings_are_refused(values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        JwtSettings(**values)


def test_hs256_is_accepted_with_a_long_secret() -> None:
    settings = JwtSettings(
        issuer=ISSUER, audience=AUDIENCE, algorithms=["HS256"], hs256_secret=SHARED_SECRET
    )
    assert settings.algorithms == ["HS256"]
