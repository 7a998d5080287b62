"""Change counters: one row per read-model table, bumped by the database itself (triggers of
migration 0015) in the transaction of every write to that table; the exact response cache
(``resolvers/response_cache.py``) serves an answer only while the counters of the tables it
read are unchanged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from readmodel.types import UTCDateTime


class ChangeCounter(SQLModel, table=True):
    """How many committed transactions changed ``name`` (a table) since the counter began."""

    __tablename__ = "change_counter"

    name: str = Field(primary_key=True, max_length=64)
    value: int = Field(default=0, sa_type=BigInteger)


class ChangeMarker(SQLModel, table=True):
    """PostgreSQL: one row per writing transaction, inserted at its first change to a counted
    table; its deferred constraint trigger bumps that transaction's counters at commit and
    deletes the row (migration 0015; unlogged, and empty between transactions). Unused on
    SQLite, whose triggers bump at once."""

    __tablename__ = "cg_change_marker"

    xid: int = Field(primary_key=True, sa_type=BigInteger)


class CacheGuard(SQLModel, table=True):
    """PostgreSQL: always empty; its locks are the change counters' lease (migration 0022). A
    gateway holding ``SHARE`` serves its cache hits from the counters it read when it took
    it (resolvers/planner/lease.py); a committing writer takes ``ROW EXCLUSIVE`` first, so
    it waits for the gateways to let go. Unused on SQLite."""

    __tablename__ = "cg_cache_guard"

    id: int = Field(primary_key=True)


class LeaseHolder(SQLModel, table=True):
    """PostgreSQL: a gateway's lease session (migration 0022), registered before it first
    takes ``cg_cache_guard`` and deleted when it closes. A writer finding a registered
    session gone (killed, crashed) waits out its lease before it commits, and deletes it."""

    __tablename__ = "cg_lease_holder"

    pid: int = Field(primary_key=True)
    backend_start: datetime = Field(primary_key=True, sa_type=UTCDateTime)
