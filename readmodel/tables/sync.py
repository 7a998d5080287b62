"""How far the read model has read each source: the basis of every freshness answer."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from readmodel.types import UTCDateTime


class SyncState(SQLModel, table=True):
    """One row per (source system, object type): checkpoint and last outcome of its pulls."""

    __tablename__ = "sync_state"

    system: str = Field(primary_key=True, max_length=32)
    object_type: str = Field(primary_key=True, max_length=32)
    checkpoint: str | None = Field(default=None, max_length=255)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    records_applied: int = 0
    last_error: str | None = Field(default=None, max_length=1000)
