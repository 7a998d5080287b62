"""Tables owned by the CRM by default: accounts, their cross-references, contacts, opportunities."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from readmodel.tables.lineage import Lineage, unique_source
from readmodel.types import ID, UTCDateTime


class Account(Lineage, table=True):
    """A client. One row per client however many systems know it (see ``AccountXref``)."""

    __tablename__ = "account"
    __table_args__ = (unique_source(), Index("ix_account_name_id", "name", "id"))

    name: str = Field(max_length=255)
    parent_id: int | None = Field(
        default=None, foreign_key="account.id", index=True, sa_type=BigInteger
    )
    industry: str | None = Field(default=None, max_length=64, index=True)
    owner_name: str | None = Field(default=None, max_length=128)
    currency: str = Field(max_length=3)
    billing_terms_days: int = 30
    status: str = Field(max_length=16)
    domain: str | None = Field(default=None, max_length=255)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class AccountXref(SQLModel, table=True):
    """The ids one client has in other systems (e.g. the ERP customer of a CRM account)."""

    __tablename__ = "account_xref"
    __table_args__ = (UniqueConstraint("system", "source_id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=ID)
    account_id: int = Field(foreign_key="account.id", index=True, sa_type=BigInteger)
    system: str = Field(max_length=32)
    object_type: str = Field(max_length=32)
    source_id: str = Field(max_length=64)
    source_version: datetime = Field(sa_type=UTCDateTime)
    synced_at: datetime = Field(sa_type=UTCDateTime)


class Contact(Lineage, table=True):
    __tablename__ = "contact"
    __table_args__ = (
        unique_source(),
        Index("ix_contact_last_name_id", "last_name", "id"),  # its root list's order
    )

    account_id: int = Field(foreign_key="account.id", index=True, sa_type=BigInteger)
    first_name: str = Field(max_length=128)
    last_name: str = Field(max_length=128)
    email: str | None = Field(default=None, max_length=255)
    title: str | None = Field(default=None, max_length=128)
    status: str = Field(max_length=16)


class Opportunity(Lineage, table=True):
    """A deal. ``probability`` is a whole percent, 0–100."""

    __tablename__ = "opportunity"
    __table_args__ = (
        unique_source(),
        Index("ix_opportunity_close_date_id", "close_date", "id"),  # its root list's order
    )

    account_id: int = Field(foreign_key="account.id", index=True, sa_type=BigInteger)
    name: str = Field(max_length=255)
    stage: str = Field(max_length=32)
    probability: int
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    close_date: date
    owner_name: str | None = Field(default=None, max_length=128)
    service_line: str | None = Field(default=None, max_length=64)
    is_won: bool = False
    is_closed: bool = False
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
