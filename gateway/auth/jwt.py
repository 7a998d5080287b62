"""Bearer JWTs of an OIDC identity provider, verified against its published keys (JWKS).

PyJWT does the cryptography and the registered-claim checks. This module decides which key and
which single algorithm a token may be checked with, so a token never chooses how it is
verified: `none` is refused, an HS256 token is checked only with the configured shared secret
(never with a published public key), an RSA key never checks an ES256 token. The JWKS is
fetched with httpx on the event loop; PyJWT's own PyJWKClient would block it (urllib).

Every refusal is a :class:`TokenRejected` whose ``reason`` is safe to show the caller: it never
holds the token, a claim value or key material.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import httpx
import jwt
from jwt import exceptions as jwt_errors

from clientgraph.metrics import cache_lookup
from clientgraph.settings import JwtSettings

log = logging.getLogger(__name__)

REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")
MAX_TOKEN_CHARS = 16_384
"""Longer bearer values are refused unparsed: no identity provider issues tokens that big."""

# A JWT's header is a JSON object, so its base64url starts with "e" ("{" is 0x7B); our API keys
# start with "cg_". The signature segment is empty in an unsigned (`alg: none`) token, which is
# still a JWT, to be refused as one.
_JWT_SHAPE = re.compile(r"e[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

# Which algorithms a JWK can verify, by key type and curve. Symmetric ("oct") keys are absent
# on purpose: a published key must never verify an HMAC token.
_KEY_ALGORITHMS: dict[tuple[str, str | None], frozenset[str]] = {
    ("RSA", None): frozenset({"RS256", "RS384", "RS512", "PS256"}),
    ("EC", "P-256"): frozenset({"ES256"}),
    ("EC", "P-384"): frozenset({"ES384"}),
}

# PyJWT's exceptions → reasons for the caller; the first match wins (subclasses first).
_REASONS: tuple[tuple[type[jwt_errors.PyJWTError], str], ...] = (
    (jwt_errors.ExpiredSignatureError, "token expired"),
    (jwt_errors.ImmatureSignatureError, "token not yet valid"),
    (jwt_errors.InvalidAudienceError, "wrong audience"),
    (jwt_errors.InvalidIssuerError, "issuer not trusted"),
    (jwt_errors.InvalidSignatureError, "signature invalid"),
    (jwt_errors.InvalidAlgorithmError, "algorithm not allowed"),
    (jwt_errors.InvalidKeyError, "signing key too weak"),
    (jwt_errors.InvalidIssuedAtError, "invalid claim: iat"),
    (jwt_errors.InvalidSubjectError, "invalid claim: sub"),
    (jwt_errors.InvalidJTIError, "invalid claim: jti"),
    (jwt_errors.DecodeError, "malformed token"),
)


class TokenRejected(Exception):
    """A bearer JWT that does not prove who is calling; ``reason`` may be shown to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class VerifiedToken:
    """What a verified token says about its bearer, read through the configured claim names."""

    subject: str
    issuer: str
    role: str | None
    accounts: tuple[str, ...]
    owner: str | None
    token_id: str | None
    expires_at: datetime
    claims: Mapping[str, Any] = field(repr=False, hash=False)  # read-only; repr: no PII in logs


def looks_like_jwt(token: str) -> bool:
    """True for three base64url segments (a JWT), False for our ``cg_`` API keys and the rest."""
    return len(token) <= MAX_TOKEN_CHARS and _JWT_SHAPE.fullmatch(token) is not None


class JwksCache:
    """The identity provider's signing keys by ``kid``, fetched without blocking the loop.

    Keys are kept for ``jwks_cache_seconds``. A token naming an unknown ``kid`` (the provider
    rotated its keys) makes it refetch at once, but never sooner than
    ``jwks_refresh_min_seconds`` after the previous fetch: tokens with made-up kids cannot turn
    the gateway into a flood against the provider. Concurrent misses share one fetch. When a
    fetch fails, the keys already held keep verifying and only unknown kids are refused.
    """

    def __init__(
        self,
        settings: JwtSettings,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if settings.jwks_url is None:
            raise ValueError("JwksCache needs jwt.jwks_url")
        self._settings, self._url = settings, settings.jwks_url
        self._http, self._clock = http, clock
        self._keys: dict[str | None, dict[str, jwt.PyJWK]] = {}  # kid → algorithm → key
        self._fetched_at: float | None = None  # the last successful fetch
        self._attempted_at: float | None = None  # the last fetch, successful or not
        self._in_flight: asyncio.Task[None] | None = None  # the fetch every miss waits for
        self._fetches = 0  # fetches started: a lookup that waited for one is a miss

    async def key(self, kid: str | None, algorithm: str) -> jwt.PyJWK:
        """The key that verifies a token naming ``kid`` and signed with ``algorithm``."""
        fetches = self._fetches
        if self._in_flight is not None:  # the keys being fetched may be the ones needed
            await asyncio.shield(self._in_flight)
        if self._expired() and self._may_fetch():
            await self._refresh()
        keys = self._lookup(kid)
        if keys is None and self._may_fetch():
            await self._refresh()
            keys = self._lookup(kid)
        cache_lookup("jwks", keys is not None and self._fetches == fetches)
        if keys is None:
            raise TokenRejected("unknown signing key")
        if algorithm not in keys:  # e.g. an HS256 or ES256 header naming an RSA key
            raise TokenRejected("algorithm not allowed")
        return keys[algorithm]

    def _lookup(self, kid: str | None) -> dict[str, jwt.PyJWK] | None:
        if kid is None and len(self._keys) == 1:  # a provider with one key may omit kids
            return next(iter(self._keys.values()))
        return self._keys.get(kid) if kid is not None else None

    def _expired(self) -> bool:
        ttl = self._settings.jwks_cache_seconds
        return self._fetched_at is None or self._clock() - self._fetched_at >= ttl

    def _may_fetch(self) -> bool:
        gap = self._settings.jwks_refresh_min_seconds
        return self._attempted_at is None or self._clock() - self._attempted_at >= gap

    async def _refresh(self) -> None:
        """Start a fetch (or join one under way); a caller cancelled meanwhile does not cancel it,
        since others may be waiting for the same fetch."""
        if self._in_flight is None:
            self._fetches += 1
            self._attempted_at = self._clock()
            self._in_flight = asyncio.create_task(self._fetch_once())
        await asyncio.shield(self._in_flight)

    async def _fetch_once(self) -> None:
        try:
            await self._fetch()
        finally:
            self._in_flight = None

    async def _fetch(self) -> None:
        try:
            response = await self._http.get(self._url, timeout=self._settings.timeout_seconds)
            response.raise_for_status()
            keys = self._parse(response.json())
        except (httpx.HTTPError, ValueError) as error:
            log.warning(
                "JWKS fetch from %s failed (%s); still using the %d keys held",
                self._url,
                error,
                len(self._keys),
            )
            return
        self._keys, self._fetched_at = keys, self._clock()

    def _parse(self, document: Any) -> dict[str | None, dict[str, jwt.PyJWK]]:
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("the document is not a JWK set")
        keys: dict[str | None, dict[str, jwt.PyJWK]] = {}
        for jwk in document["keys"]:
            usable = self._usable(jwk) if isinstance(jwk, dict) else {}
            if usable and jwk.get("kid") not in keys:
                keys[jwk.get("kid")] = usable
        if not keys:
            raise ValueError("the JWK set has no usable signing key")
        return keys

    def _usable(self, jwk: dict[str, Any]) -> dict[str, jwt.PyJWK]:
        """The key under each algorithm it may verify; empty for keys not meant or fit for it."""
        kid = jwk.get("kid")
        ops = jwk.get("key_ops", ["verify"])
        if jwk.get("use", "sig") != "sig" or "verify" not in ops or "d" in jwk:
            return {}  # an encryption key, or a private key published by mistake
        if kid is not None and not isinstance(kid, str):
            return {}
        algorithms = self._algorithms_of(jwk)
        try:
            return {alg: jwt.PyJWK.from_dict(jwk, alg) for alg in algorithms}
        except (jwt_errors.PyJWTError, KeyError, TypeError, ValueError):
            log.warning("JWKS key %r cannot be read; ignored", kid)  # the error may quote it
            return {}

    def _algorithms_of(self, jwk: dict[str, Any]) -> list[str]:
        kty = jwk.get("kty")
        curve = jwk.get("crv") if kty == "EC" else None
        allowed = set(self._settings.algorithms)
        fits = _KEY_ALGORITHMS.get((str(kty), curve), frozenset()) & allowed
        if "alg" in jwk:  # a key bound to one algorithm verifies only that one
            fits &= {jwk["alg"]}
        return sorted(fits)


class JwtVerifier:
    """Checks bearer JWTs: signature, algorithm, issuer, audience, lifetime and claim shapes."""

    def __init__(self, settings: JwtSettings, *, http: httpx.AsyncClient | None = None) -> None:
        self._settings = settings
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient()
        self._jwks = JwksCache(settings, self._http) if settings.jwks_url else None
        secret = settings.hs256_secret if "HS256" in settings.algorithms else None
        self._hs256_key = secret.get_secret_value().encode() if secret is not None else None

    async def verify(self, token: str) -> VerifiedToken:
        """The token's verified claims; :class:`TokenRejected` on any doubt."""
        if self._settings.issuer is None:
            raise TokenRejected("issuer not trusted")
        if not looks_like_jwt(token):
            raise TokenRejected("malformed token")
        algorithm, kid = _unverified_header(token)
        if algorithm not in self._settings.algorithms:
            raise TokenRejected("algorithm not allowed")
        key = await self._key(algorithm, kid)
        return _verified(self._decode(token, key, algorithm), self._settings)

    async def aclose(self) -> None:
        """Close the HTTP client if this verifier made it."""
        if self._owns_http:
            await self._http.aclose()

    async def _key(self, algorithm: str, kid: str | None) -> jwt.PyJWK | bytes:
        if algorithm == "HS256":  # only ever the shared secret, never a published key
            if self._hs256_key is None:
                raise TokenRejected("algorithm not allowed")
            return self._hs256_key
        if self._jwks is None:
            raise TokenRejected("unknown signing key")
        return await self._jwks.key(kid, algorithm)

    def _decode(self, token: str, key: jwt.PyJWK | bytes, algorithm: str) -> dict[str, Any]:
        settings = self._settings
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=settings.leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS), "enforce_minimum_key_length": True},
            )
        except jwt_errors.PyJWTError as error:
            raise TokenRejected(_reason(error)) from None  # PyJWT's text may quote the token


def _unverified_header(token: str) -> tuple[str, str | None]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt_errors.PyJWTError:
        raise TokenRejected("malformed token") from None
    algorithm, kid = header.get("alg"), header.get("kid")
    if not isinstance(algorithm, str):
        raise TokenRejected("algorithm not allowed")
    if kid is not None and not isinstance(kid, str):
        raise TokenRejected("malformed token")
    return algorithm, kid


def _reason(error: jwt_errors.PyJWTError) -> str:
    if isinstance(error, jwt_errors.MissingRequiredClaimError):
        return f"missing claim: {error.claim}"
    return next((reason for kind, reason in _REASONS if isinstance(error, kind)), "token invalid")


def _verified(claims: dict[str, Any], settings: JwtSettings) -> VerifiedToken:
    subject = _text(claims, settings.subject_claim)
    if subject is None:
        raise TokenRejected(f"missing claim: {settings.subject_claim}")
    try:
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
    except (OverflowError, OSError, ValueError):  # a year past 9999
        raise TokenRejected("invalid claim: exp") from None
    return VerifiedToken(
        subject=subject,
        issuer=claims["iss"],
        role=_text(claims, settings.role_claim),
        accounts=_accounts(claims, settings.accounts_claim),
        owner=_text(claims, settings.owner_claim),
        token_id=_text(claims, "jti"),
        expires_at=expires_at,
        claims=MappingProxyType(claims),
    )


def _text(claims: Mapping[str, Any], name: str) -> str | None:
    """A string claim, None when absent; any other shape is refused, never guessed at."""
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise TokenRejected(f"invalid claim: {name}")
    return value


def _accounts(claims: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """The accounts claim: a list of ids, or one id as a string."""
    value = claims.get(name)
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise TokenRejected(f"invalid claim: {name}")
    return tuple(items)
