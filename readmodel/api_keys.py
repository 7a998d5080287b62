"""API keys: made, listed, revoked and checked. A key is shown once; only its hash is kept.

Format: ``cg_<key id>_<secret>`` — ``cg_`` makes a leaked key recognisable (secret scanners,
logs), the 12-character key id finds its row without a scan, the secret is 32 random bytes
(base64url). The secret has full entropy, so one SHA-256 is enough to keep it (a slow
password hash defends guessable secrets, which these are not); it is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.db import autocommit
from readmodel.tables import ApiKey, table_of

API_KEYS = table_of(ApiKey)
PREFIX = "cg_"
KEY_FORMAT = re.compile(r"^cg_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$")
KEY_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no look-alikes (l, 1, o, 0)


@dataclass(frozen=True)
class StoredKey:
    """A key as the database holds it (never the secret)."""

    key_id: str
    name: str
    role: str
    accounts: tuple[str, ...] | None  # Account ids or <system>:<source id> references
    owner: str | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> StoredKey:
        accounts = None if row.accounts is None else tuple(json.loads(row.accounts))
        return cls(
            row.key_id,
            row.name,
            row.role,
            accounts,
            row.owner,
            row.created_at,
            row.revoked_at,
            row.last_used_at,
        )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create(
    engine: AsyncEngine,
    *,
    name: str,
    role: str,
    now: datetime,
    accounts: Iterable[str] | None = None,
    owner: str | None = None,
) -> tuple[str, StoredKey]:
    """A new key: the full key (show it once, it is not kept) and what is stored.

    ``accounts`` (checked by the caller) limits the key to those clients; ``None``: all.
    """
    key_id = "".join(secrets.choice(KEY_ID_ALPHABET) for _ in range(12))
    secret = secrets.token_urlsafe(32)
    kept = None if accounts is None else json.dumps(sorted(set(accounts)))
    values = {
        "key_id": key_id,
        "name": name,
        "role": role,
        "accounts": kept,
        "owner": owner,
        "secret_sha256": _digest(secret),
        "created_at": now,
    }
    async with engine.begin() as conn:
        await conn.execute(insert(API_KEYS).values(**values))
        row = (await conn.execute(select(API_KEYS).where(API_KEYS.c.key_id == key_id))).one()
    return f"{PREFIX}{key_id}_{secret}", StoredKey.from_row(row)


async def listed(engine: AsyncEngine) -> list[StoredKey]:
    """Every key, newest first (revoked ones too, marked)."""
    stmt = select(API_KEYS).order_by(API_KEYS.c.created_at.desc(), API_KEYS.c.id.desc())
    async with engine.connect() as conn:
        return [StoredKey.from_row(r) for r in await conn.execute(stmt)]


async def revoke(engine: AsyncEngine, key_id: str, *, now: datetime) -> StoredKey | None:
    """Revoke a key by its id (the part after ``cg_``); ``None`` if there is no such key."""
    async with engine.begin() as conn:
        await conn.execute(
            update(API_KEYS)
            .where(API_KEYS.c.key_id == key_id, API_KEYS.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        row = (await conn.execute(select(API_KEYS).where(API_KEYS.c.key_id == key_id))).first()
    return None if row is None else StoredKey.from_row(row)


def looks_like_key(token: str) -> bool:
    return token.startswith(PREFIX)


async def check(
    engine: AsyncEngine, token: str, *, now: datetime, touch_every: timedelta
) -> StoredKey | None:
    """The live key ``token`` is, or ``None`` (malformed, unknown, wrong secret, revoked).

    Stamps ``last_used_at`` when it is older than ``touch_every`` (one write a minute at most,
    not one per request).
    """
    match = KEY_FORMAT.match(token)
    if match is None:
        return None
    key_id, secret = match.groups()
    async with autocommit(engine) as conn:  # one statement: no BEGIN / ROLLBACK around it
        row = (await conn.execute(select(API_KEYS).where(API_KEYS.c.key_id == key_id))).first()
    given = _digest(secret)
    if row is None or not hmac.compare_digest(given, row.secret_sha256):
        return None
    if row.revoked_at is not None:
        return None
    if row.last_used_at is None or now - row.last_used_at >= touch_every:
        async with engine.begin() as conn:
            await conn.execute(
                update(API_KEYS).where(API_KEYS.c.id == row.id).values(last_used_at=now)
            )
    return StoredKey.from_row(row)
