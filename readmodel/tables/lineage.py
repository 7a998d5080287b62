"""Lineage: every read-model row says where it came from and how fresh it is."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import MetaData, Table, UniqueConstraint
from sqlmodel import Field, SQLModel

from readmodel.types import ID, UTCDateTime

# Stable constraint names, so that Alembic migrations are the same on SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


class Lineage(SQLModel):
    """Columns every canonical row carries (see docs/architecture.md, "Lineage").

    ``source_version`` is the source's own modification stamp (Salesforce ``SystemModstamp``,
    NetSuite ``lastModifiedDate``, Tryton ``write_date``): an upsert never replaces a row with
    an older version. ``payload_hash`` lets a sync skip writes whose content did not change.
    """

    id: int | None = Field(default=None, primary_key=True, sa_type=ID)
    source_system: str = Field(max_length=32)
    source_id: str = Field(max_length=64)
    source_version: datetime = Field(sa_type=UTCDateTime)
    synced_at: datetime = Field(sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    payload_hash: str | None = Field(default=None, max_length=64)


def unique_source() -> UniqueConstraint:
    """One canonical row per record of a source system."""
    return UniqueConstraint("source_system", "source_id")


def table_of(model: type[SQLModel]) -> Table:
    """The Core ``Table`` behind a table model (reads use Core, not ORM objects)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]
