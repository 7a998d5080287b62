"""The caller of one request: who it is, its role, and which clients it may see."""

from __future__ import annotations

from dataclasses import dataclass

from clientgraph.access.roles import OPERATORS, Role

SYSTEM_ID = "system"
"""The principal of writes clientgraph makes itself (handoff steps) and of older commands."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    ``id`` is stable across requests (``key:<key id>`` for an API key, ``jwt:<subject>`` for a
    bearer token, ``anonymous`` when anonymous access is enabled); ``credential_id`` names the
    credential used (the API key id, the token's ``jti``). ``accounts`` (account keys) and
    ``owner`` (an account owner's name: an account team's book) narrow the rows it may see;
    both ``None`` means every client.
    """

    id: str
    role: Role
    credential_id: str | None = None
    accounts: frozenset[int] | None = None
    owner: str | None = None

    @property
    def row_scoped(self) -> bool:
        """True when this caller sees some clients only."""
        return self.accounts is not None or self.owner is not None

    @property
    def sees_all_commands(self) -> bool:
        return self.role in OPERATORS


ADMIN = Principal(id=SYSTEM_ID, role=Role.ADMIN)
"""Full access: scripts and jobs inside clientgraph (never a remote caller)."""
