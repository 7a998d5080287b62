"""``createIdentityAccount``: make the record an account of its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from resolvers.context import Context
from resolvers.identity.decide import decide
from sync_jobs.identity_decisions import CREATE

KIND = "create_identity_account"


async def create_identity_account(ctx: Context, key: str, args: Mapping[str, Any]) -> Row[Any]:
    """Make the record an account of its own.

    The next sync of the record applies it (``sync_jobs/identity_decisions.py``).
    """
    return await decide(ctx, KIND, key, args, CREATE)
