"""Tables owned by the PSA / project system by default: delivery from contract to time."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Index
from sqlmodel import Field

from readmodel.tables.lineage import Lineage, unique_source
from readmodel.types import UTCDateTime


class Person(Lineage, table=True):
    """Someone who can be staffed. Capacity feeds billable utilization."""

    __tablename__ = "person"
    __table_args__ = (unique_source(),)

    name: str = Field(max_length=128)
    email: str | None = Field(default=None, max_length=255)
    role: str = Field(max_length=64)
    weekly_capacity_hours_x100: int = 4000
    active: bool = True


class Engagement(Lineage, table=True):
    """A contract or statement of work."""

    __tablename__ = "engagement"
    __table_args__ = (
        unique_source(),
        Index("ix_engagement_name_id", "name", "id"),  # its root list's order
    )

    account_id: int = Field(foreign_key="account.id", index=True, sa_type=BigInteger)
    opportunity_id: int | None = Field(
        default=None, foreign_key="opportunity.id", index=True, sa_type=BigInteger
    )
    name: str = Field(max_length=255)
    billing_method: str = Field(max_length=32)
    sold_value_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    start_date: date
    end_date: date | None = None
    signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(max_length=16)


class RateCard(Lineage, table=True):
    """One version of a rate card; a new version supersedes the previous one."""

    __tablename__ = "rate_card"
    __table_args__ = (unique_source(),)

    name: str = Field(max_length=128)
    service_line: str | None = Field(default=None, max_length=64)
    currency: str = Field(max_length=3)
    effective_from: date
    effective_to: date | None = None
    status: str = Field(max_length=16)


class RateCardLine(Lineage, table=True):
    """Standard bill rate and cost rate of one role on one rate card version."""

    __tablename__ = "rate_card_line"
    __table_args__ = (unique_source(),)

    rate_card_id: int = Field(foreign_key="rate_card.id", index=True, sa_type=BigInteger)
    role: str = Field(max_length=64)
    bill_rate_minor: int = Field(sa_type=BigInteger)
    cost_rate_minor: int = Field(sa_type=BigInteger)


class Project(Lineage, table=True):
    """A delivery project. ``account_id`` is denormalised from the engagement for fast reads.

    ``etc_cost_minor`` is the delivery team's estimate of the cost still to come (for EAC).
    """

    __tablename__ = "project"
    __table_args__ = (
        unique_source(),
        Index("ix_project_code_id", "code", "id"),  # the projects connection's order
    )

    engagement_id: int | None = Field(
        default=None, foreign_key="engagement.id", index=True, sa_type=BigInteger
    )
    account_id: int = Field(foreign_key="account.id", index=True, sa_type=BigInteger)
    code: str = Field(max_length=32, index=True)
    name: str = Field(max_length=255)
    status: str = Field(max_length=16, index=True)
    billing_method: str = Field(max_length=32)
    currency: str = Field(max_length=3)
    budget_minor: int = Field(sa_type=BigInteger)
    budget_hours_x100: int = Field(sa_type=BigInteger)
    etc_cost_minor: int = Field(default=0, sa_type=BigInteger)
    rate_card_id: int | None = Field(default=None, foreign_key="rate_card.id", sa_type=BigInteger)
    start_date: date
    end_date: date | None = None
    manager_name: str | None = Field(default=None, max_length=128)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Milestone(Lineage, table=True):
    __tablename__ = "milestone"
    __table_args__ = (
        unique_source(),
        Index("ix_milestone_due_date_id", "due_date", "id"),  # its root list's order
    )

    project_id: int = Field(foreign_key="project.id", index=True, sa_type=BigInteger)
    name: str = Field(max_length=255)
    due_date: date
    amount_minor: int = Field(default=0, sa_type=BigInteger)
    currency: str = Field(max_length=3)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(max_length=16)


class Assignment(Lineage, table=True):
    __tablename__ = "assignment"
    __table_args__ = (unique_source(),)

    project_id: int = Field(foreign_key="project.id", index=True, sa_type=BigInteger)
    person_id: int | None = Field(
        default=None, foreign_key="person.id", index=True, sa_type=BigInteger
    )
    role: str = Field(max_length=64)
    scheduled_hours_x100: int = Field(sa_type=BigInteger)
    bill_rate_minor: int = Field(sa_type=BigInteger)
    cost_rate_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    start_date: date
    end_date: date | None = None
    status: str = Field(max_length=16)


class TimeEntry(Lineage, table=True):
    """Hours one person worked on one project on one day.

    Three rates are snapshotted when the time is recorded: the rate billed
    (``bill_rate_minor``), the rate card's standard rate (for realization) and the cost rate.
    """

    __tablename__ = "time_entry"
    __table_args__ = (
        unique_source(),
        Index("ix_time_entry_project_status", "project_id", "status"),
        Index("ix_time_entry_work_date", "work_date"),
    )

    project_id: int = Field(foreign_key="project.id", sa_type=BigInteger)
    person_id: int = Field(foreign_key="person.id", index=True, sa_type=BigInteger)
    role: str = Field(max_length=64)
    work_date: date
    hours_x100: int
    billable: bool = True
    bill_rate_minor: int = Field(sa_type=BigInteger)
    standard_rate_minor: int = Field(sa_type=BigInteger)
    cost_rate_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    status: str = Field(max_length=16)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    invoice_id: int | None = Field(
        default=None, foreign_key="invoice.id", index=True, sa_type=BigInteger
    )


class ChangeOrder(Lineage, table=True):
    __tablename__ = "change_order"
    __table_args__ = (unique_source(),)

    project_id: int = Field(foreign_key="project.id", index=True, sa_type=BigInteger)
    budget_delta_minor: int = Field(default=0, sa_type=BigInteger)
    hours_delta_x100: int = Field(default=0, sa_type=BigInteger)
    days_delta: int = 0
    currency: str = Field(max_length=3)
    reason: str = Field(max_length=500)
    status: str = Field(max_length=16)
    submitted_at: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
