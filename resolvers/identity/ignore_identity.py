"""``ignoreIdentity``: leave the record out: never linked, parked or raised again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from resolvers.context import Context
from resolvers.identity.decide import decide
from sync_jobs.identity_decisions import IGNORE

KIND = "ignore_identity"


async def ignore_identity(ctx: Context, key: str, args: Mapping[str, Any]) -> Row[Any]:
    """Leave the record out: never linked, parked or raised again.

    The next sync of the record applies it (``sync_jobs/identity_decisions.py``).
    """
    return await decide(ctx, KIND, key, args, IGNORE)
