"""Register and read trusted documents (``clientgraph documents``; the gateway reads them)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import TrustedDocument, table_of

DOCUMENTS = table_of(TrustedDocument)


def sha256_of(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Registered:
    sha256: str
    name: str | None
    registered_at: datetime


async def register(engine: AsyncEngine, body: str, *, name: str | None, now: datetime) -> str:
    """Store ``body`` under its digest (registering the same text again changes nothing)."""
    digest = sha256_of(body)
    async with engine.begin() as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        values = {"sha256": digest, "body": body, "name": name, "registered_at": now}
        await conn.execute(dialect.insert(DOCUMENTS).values(**values).on_conflict_do_nothing())
    return digest


async def body_of(engine: AsyncEngine, digest: str) -> str | None:
    async with engine.connect() as conn:
        stmt = select(DOCUMENTS.c.body).where(DOCUMENTS.c.sha256 == digest)
        found: str | None = (await conn.execute(stmt)).scalar_one_or_none()
        return found


async def listed(engine: AsyncEngine) -> list[Registered]:
    c = DOCUMENTS.c
    stmt = select(c.sha256, c.name, c.registered_at).order_by(c.registered_at, c.sha256)
    async with engine.connect() as conn:
        return [Registered(*row) for row in await conn.execute(stmt)]
