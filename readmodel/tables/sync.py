"""How far the read model has read each source: the basis of every freshness answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from readmodel.types import ID, UTCDateTime


class SyncState(SQLModel, table=True):
    """One row per (source system, object type): checkpoint and last outcome of its pulls."""

    __tablename__ = "sync_state"

    system: str = Field(primary_key=True, max_length=32)
    object_type: str = Field(primary_key=True, max_length=32)
    checkpoint: str | None = Field(default=None, max_length=255)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    records_applied: int = 0  # by the latest pull of this object (0: it found nothing new)
    records_applied_total: int = 0  # by every pull since the row was made
    last_error: str | None = Field(default=None, max_length=1000)
    paused_until: datetime | None = Field(default=None, sa_type=UTCDateTime)  # daily quota
    last_reconciled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_reconcile_report: str | None = Field(default=None, max_length=1000)


class SyncParked(SQLModel, table=True):
    """A record whose parent has not arrived yet; retried on every pull of its system.

    ``payload`` is the canonical row as JSON (parents still named by source id). Only the newest
    version of a record is kept.
    """

    __tablename__ = "sync_parked"
    __table_args__ = (UniqueConstraint("table_name", "source_system", "source_id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=ID)
    table_name: str = Field(max_length=64)
    source_system: str = Field(max_length=32, index=True)
    object_type: str = Field(max_length=32)  # the pull that parked it, credited when applied
    source_id: str = Field(max_length=64)
    source_version: datetime = Field(sa_type=UTCDateTime)
    payload: str
    parked_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0


class WebhookEvent(SQLModel, table=True):
    """A webhook event already accepted: a redelivery of the same event id changes nothing."""

    __tablename__ = "webhook_event"
    __table_args__ = (UniqueConstraint("source_system", "event_id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=ID)
    source_system: str = Field(max_length=32)
    event_id: str = Field(max_length=128)
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)


class IntegrationException(SQLModel, table=True):
    """Something sync could not decide alone: kept, shown through GraphQL, never duplicated.

    ``kind`` is e.g. ``identity_ambiguous`` (several clients match an ERP customer),
    ``identity_unmatched`` (none does) or ``orphaned`` (a parent never arrived).
    ``details`` is JSON (candidates, the record's name). One row per record and kind
    (ids are per object type in some systems, so the type is part of the key).
    """

    __tablename__ = "integration_exception"
    __table_args__ = (UniqueConstraint("kind", "source_system", "object_type", "source_id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=ID)
    kind: str = Field(max_length=32)
    source_system: str = Field(max_length=32)
    object_type: str = Field(max_length=32)
    source_id: str = Field(max_length=64)
    message: str = Field(max_length=1000)
    details: str | None = None
    status: str = Field(max_length=16, index=True)  # open | resolved
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class IdentityDecision(SQLModel, table=True):
    """An operator's answer to an identity exception, honoured by every later sync of the record.

    One per client record of a non-master system (``system``, ``source_id``, as
    ``account_xref``): ``link`` (to ``account_id``), ``create`` (the record becomes an account
    of its own) or ``ignore`` (never linked, never parked). A later decision replaces an earlier
    one; the command log keeps each (kinds ``link_identity``, ``create_identity_account``,
    ``ignore_identity``). ``applied_at`` is when a sync first honoured it.
    """

    __tablename__ = "identity_decision"
    __table_args__ = (UniqueConstraint("system", "source_id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=ID)
    system: str = Field(max_length=32)
    object_type: str = Field(max_length=32)
    source_id: str = Field(max_length=64)
    action: str = Field(max_length=16)  # link | create | ignore
    account_id: int | None = Field(
        default=None, foreign_key="account.id", sa_type=BigInteger
    )
    exception_id: int | None = Field(
        default=None, foreign_key="integration_exception.id", sa_type=BigInteger
    )
    command_id: int = Field(foreign_key="command.id", sa_type=BigInteger)
    decided_by: str = Field(max_length=160)  # the principal (its id), as the command log
    decided_role: str = Field(max_length=16)
    decided_at: datetime = Field(sa_type=UTCDateTime)
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
