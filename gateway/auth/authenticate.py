"""Turn the credentials of a request (HTTP header or WebSocket ``connection_init``) into a
``Principal``, or say why not.

``Authorization: Bearer <credential>``: a credential starting ``cg_`` is an API key (looked
up, hash compared, revocation checked on every request); anything else is a JWT, verified
against the configured issuer's JWKS. No credentials: the ``auth.anonymous_role`` if one is
configured (off by default), else UNAUTHENTICATED.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.access.principal import Principal
from clientgraph.access.roles import Role, parse_role
from clientgraph.settings import Settings
from gateway.auth.jwt import JwtVerifier, TokenRejected
from readmodel import api_keys
from readmodel.reads.account_refs import keys_of_refs, source_ref
from resolvers.errors import BadUserInput
from resolvers.ids import key_of

MAX_ID = 150  # command.principal_id holds 160


class Refused(Exception):
    """Credentials missing or not good: ``status`` 401 (who are you?) or 403 (not you)."""

    def __init__(self, reason: str, *, status: int = 401, code: str = "UNAUTHENTICATED") -> None:
        super().__init__(reason)
        self.reason, self.status, self.code = reason, status, code


@dataclass
class Authenticator:
    """One per process: the settings, the engine (API keys) and the JWT verifier, if any."""

    settings: Settings
    engine: AsyncEngine
    verifier: JwtVerifier | None = None  # when a token issuer is configured

    async def principal(self, authorization: str | None, now: datetime) -> Principal:
        """The caller an ``Authorization`` header value names; ``Refused`` otherwise."""
        auth = self.settings.auth
        if not authorization:
            role = parse_role(auth.anonymous_role)
            if role is None:
                raise Refused("credentials required: send Authorization: Bearer <key or token>")
            return Principal(id="anonymous", role=role)
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Refused("use the Bearer scheme: Authorization: Bearer <key or token>")
        if api_keys.looks_like_key(credential):
            return await self._from_key(credential, now)
        return await self._from_token(credential)

    async def _from_key(self, credential: str, now: datetime) -> Principal:
        touch = timedelta(seconds=self.settings.auth.key_touch_seconds)
        key = await api_keys.check(self.engine, credential, now=now, touch_every=touch)
        if key is None:
            raise Refused("API key not recognised, or revoked")
        role = parse_role(key.role)
        if role is None:  # pragma: no cover - apikey create checks the role
            raise Refused("this API key has no known role", status=403, code="FORBIDDEN")
        accounts = None if key.accounts is None else await self._accounts(key.accounts)
        return Principal(
            id=f"key:{key.key_id}",
            role=role,
            credential_id=key.key_id,
            accounts=accounts if accounts is not None or role is not Role.PARTNER else frozenset(),
            owner=self._owner(role, key.owner),
        )

    async def _from_token(self, credential: str) -> Principal:
        if self.verifier is None:
            raise Refused("bearer tokens are not accepted here: no token issuer is configured")
        try:
            token = await self.verifier.verify(credential)
        except TokenRejected as rejected:
            raise Refused(f"token rejected: {rejected.reason}") from None
        role = parse_role(token.role)
        if role is None:
            raise Refused("the token grants no clientgraph role", status=403, code="FORBIDDEN")
        accounts = await self._accounts(token.accounts) if token.accounts else None
        if role is Role.PARTNER and accounts is None:
            accounts = frozenset()  # a partner sees the accounts it is given, none by default
        return Principal(
            id=_principal_id("jwt", token.subject),
            role=role,
            credential_id=(token.token_id or "")[:64] or None,
            accounts=accounts,
            owner=self._owner(role, token.owner),
        )

    async def _accounts(self, entries: Iterable[str]) -> frozenset[int]:
        """The keys of the accounts a credential lists (see ``readmodel.reads.account_refs``)."""
        keys: set[int] = set()
        refs: list[tuple[str, str]] = []
        for text in entries:
            try:
                entry = account_entry(str(text))
            except ValueError:
                raise Refused(
                    "the credential's account list holds an entry that is neither an "
                    "Account id nor <system>:<source id>"
                ) from None
            if isinstance(entry, int):
                keys.add(entry)
            else:
                refs.append(entry)
        if refs:
            keys |= await keys_of_refs(self.engine, refs)
        return frozenset(keys)

    def _owner(self, role: Role, owner: str | None) -> str | None:
        """An account team's book, when books are on ('' — nothing — if none is named)."""
        if role is Role.ACCOUNT_TEAM and self.settings.auth.book_scoped_account_teams:
            return owner or ""
        return None


def account_entry(text: str) -> int | tuple[str, str]:
    """One entry of a credential's account list: a global Account id's key, or a source
    reference ``<system>:<id>``; ``ValueError`` for anything else."""
    ref = source_ref(text)
    if ref is not None:
        return ref
    try:
        return key_of(text, "Account", argument="accounts")
    except BadUserInput:
        raise ValueError(f"{text!r} is neither an Account id nor <system>:<source id>") from None


def _principal_id(kind: str, subject: str) -> str:
    text = f"{kind}:{subject}"
    if len(text) <= MAX_ID:
        return text
    return f"{kind}:sha256:{hashlib.sha256(subject.encode()).hexdigest()}"


def bearer_of(params: Mapping[str, Any] | None) -> str | None:
    """The ``Authorization`` value of a ``connection_init`` payload: ``{"Authorization": …}``,
    ``{"authorization": …}`` or ``{"headers": {"Authorization": …}}``."""
    if not isinstance(params, Mapping):
        return None
    for source in (params, params.get("headers")):
        if isinstance(source, Mapping):
            for name, value in source.items():
                if isinstance(name, str) and name.lower() == "authorization":
                    return value if isinstance(value, str) else None
    return None


def jwt_verifier(settings: Settings) -> JwtVerifier | None:
    """A ``JwtVerifier`` when a token issuer is configured, else ``None`` (API keys only)."""
    if settings.jwt.issuer is None:
        return None
    return JwtVerifier(settings.jwt)
