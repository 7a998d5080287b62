"""Credentials and the audit trail: API keys (hashed) and who did what."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from readmodel.types import ID, UTCDateTime


class ApiKey(SQLModel, table=True):
    """A key for a partner or a script. The secret is never stored, only its SHA-256.

    A key reads ``cg_<key_id>_<secret>``: ``key_id`` finds the row, the secret (32 random
    bytes) is compared by hash. ``accounts`` (JSON list of account keys) and ``owner`` narrow
    what it sees; ``revoked_at`` ends it; ``last_used_at`` is stamped at most once a minute.
    """

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True, sa_type=ID)
    key_id: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=128)
    role: str = Field(max_length=16)
    accounts: str | None = None
    owner: str | None = Field(default=None, max_length=128)
    secret_sha256: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """One mutation, operator action or key change: who, what, on which input, with what end.

    ``input_digest`` is the SHA-256 of the canonical input (the input itself is not kept: it
    may hold what the actor's role may see and the auditor's may not). ``outcome`` is ACCEPTED,
    REPLAYED, REJECTED (with ``code``) or FORBIDDEN, or CREATED / REVOKED for keys.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_at_id", "at", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=ID)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: str = Field(max_length=160, index=True)
    actor_role: str = Field(max_length=16)
    credential_id: str | None = Field(default=None, max_length=64)
    operation: str = Field(max_length=64, index=True)
    input_digest: str | None = Field(default=None, max_length=64)
    command_id: int | None = Field(default=None, sa_type=ID)
    outcome: str = Field(max_length=16)
    code: str | None = Field(default=None, max_length=64)
    correlation_id: str | None = Field(default=None, max_length=64)
