"""Name clients the way a credential does: a clientgraph Account id, or ``<system>:<id>``.

A partner's API key or token lists the accounts it may see. A global id is the read model's
own key; ``salesforce:001…`` (any system the account's record comes from) survives a rebuild
of the read model and can be written before the account is first synced. Both resolve to keys
on every request, so an account synced later joins the scope without a new credential.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import Account, table_of

ACCOUNT = table_of(Account)
SOURCE_REF = re.compile(r"^([a-z][a-z0-9_]{1,31}):([^\s]{1,64})$")


def source_ref(text: str) -> tuple[str, str] | None:
    """``("salesforce", "001…")`` for ``"salesforce:001…"``, else ``None``."""
    match = SOURCE_REF.match(text)
    return None if match is None else (match.group(1), match.group(2))


async def keys_of_refs(engine: AsyncEngine, refs: Iterable[tuple[str, str]]) -> set[int]:
    """The live accounts' keys among source references (unknown ones are skipped)."""
    wanted = sorted(set(refs))
    if not wanted:
        return set()
    a = ACCOUNT.c
    stmt = select(a.id).where(
        tuple_(a.source_system, a.source_id).in_(wanted), a.deleted_at.is_(None)
    )
    async with engine.connect() as conn:
        return set((await conn.execute(stmt)).scalars())
