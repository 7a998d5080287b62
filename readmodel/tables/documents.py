"""Trusted documents: operations registered ahead of time, named by the SHA-256 of their text."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from readmodel.types import UTCDateTime


class TrustedDocument(SQLModel, table=True):
    """One registered document (its exact text; ``sha256`` is the hex digest of it, UTF-8)."""

    __tablename__ = "trusted_document"

    sha256: str = Field(primary_key=True, max_length=64)
    body: str
    name: str | None = Field(default=None, max_length=255)
    registered_at: datetime = Field(sa_type=UTCDateTime)
