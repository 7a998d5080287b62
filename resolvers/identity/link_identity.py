"""``linkIdentity``: link the record to an existing account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from resolvers.context import Context
from resolvers.identity.decide import decide
from sync_jobs.identity_decisions import LINK

KIND = "link_identity"


async def link_identity(ctx: Context, key: str, args: Mapping[str, Any]) -> Row[Any]:
    """Link the record to an existing account.

    The next sync of the record applies it (``sync_jobs/identity_decisions.py``).
    """
    return await decide(ctx, KIND, key, args, LINK)
