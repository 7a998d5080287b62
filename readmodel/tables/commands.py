"""The command log: every accepted write, durable before anything else happens to it.

A mutation writes one row here in the transaction that accepts it (an outbox); a relay hands
accepted rows to the job queue, and the worker records each attempt and outcome on the row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from readmodel.types import ID, UTCDateTime


class Command(SQLModel, table=True):
    """One write routed to the system that owns the data.

    ``idempotency_key`` is unique per caller (``principal_id``; ``system`` for clientgraph's
    own writes): the same caller, key and input (``input_hash``) give back the same command.
    ``principal_role`` and ``credential_id`` record the role and credential that asked.
    ``source_key`` is what the owning system sees as the write's external id
    (derived from the idempotency key; ``NULL`` on rows older than migration 0006, which use
    ``clientgraph-command-<id>``). ``payload`` is the validated input as JSON.
    ``target_source_id`` is the record in the owning system, once known. ``status`` follows
    ACCEPTED → DISPATCHED → RUNNING → [APPLIED →] SUCCEEDED | FAILED | DEAD_LETTERED |
    CANCELLED.

    A running attempt holds a lease (``lease_token``, ``lease_expires_at``) that its worker
    renews while it works; a lapsed lease means the worker died, and another may take over.
    ``applied_at`` is when the source confirmed the write (before the read model shows it) and
    ``written`` what it wrote, so a failed read-back is retried without writing again.
    """

    __tablename__ = "command"
    __table_args__ = (
        Index("ix_command_status_next", "status", "next_attempt_at"),
        UniqueConstraint("principal_id", "idempotency_key"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=ID)
    kind: str = Field(max_length=48, index=True)
    status: str = Field(max_length=16)
    target_system: str = Field(max_length=32, index=True)
    target_object: str = Field(max_length=32)
    target_source_id: str | None = Field(default=None, max_length=64)
    idempotency_key: str = Field(max_length=128)
    principal_id: str = Field(default="system", max_length=160, index=True)
    principal_role: str | None = Field(default=None, max_length=16)
    credential_id: str | None = Field(default=None, max_length=64)
    source_key: str | None = Field(default=None, max_length=64)
    input_hash: str = Field(max_length=64)
    payload: str
    correlation_id: str = Field(max_length=64)
    trace_context: str | None = Field(default=None, max_length=64)  # W3C traceparent (55)
    attempts: int = 0
    max_attempts: int = 8
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error_code: str | None = Field(default=None, max_length=64)
    last_error_message: str | None = Field(default=None, max_length=1000)
    last_error_retryable: bool | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_token: str | None = Field(default=None, max_length=32)
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    written: str | None = None  # JSON {"object_type", "source_ids"}: what the source wrote
