"""Figures and health as stored values (issue 14): what the compiled read path reads.

Computed by ``readmodel/figures`` (the same functions the per-field path runs) and written by
``readmodel.figures.stored.refresh``. An account's row in ``account_figures`` says that its
projects', engagements' and health's rows are current: database triggers (migration 0014)
delete it whenever a row those figures read changes, and the writer of that change refreshes
the account in the same transaction. Money is minor units, hours hundredths, ratios
ten-thousandths (the figures are exact at those places); the health factors' decimals are
kept as the text GraphQL prints.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from readmodel.types import UTCDateTime


class AccountFigures(SQLModel, table=True):
    """One account's figures are current; its health as of ``as_of`` (null: not live)."""

    __tablename__ = "account_figures"

    account_id: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    as_of: date
    score: int | None = None
    status: str | None = Field(default=None, max_length=8)
    refreshed_at: datetime = Field(sa_type=UTCDateTime)


class AccountHealthFactor(SQLModel, table=True):
    """One factor of an account's stored health, in the order the score lists them."""

    __tablename__ = "account_health_factor"

    account_id: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    position: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    name: str = Field(max_length=64)
    value: str = Field(max_length=32)
    weight: int
    penalty: str = Field(max_length=16)
    explanation: str = Field(max_length=1000)


class ProjectFigures(SQLModel, table=True):
    """``readmodel.figures.ProjectFigures`` of one live project, as integers."""

    __tablename__ = "project_figures"

    project_id: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    account_id: int = Field(index=True, sa_type=BigInteger)
    currency: str = Field(max_length=3)
    hours_logged_x100: int = Field(sa_type=BigInteger)
    billable_hours_x100: int = Field(sa_type=BigInteger)
    cost_to_date_minor: int = Field(sa_type=BigInteger)
    budget_burn_x10000: int | None = Field(default=None, sa_type=BigInteger)
    hours_burn_x10000: int | None = Field(default=None, sa_type=BigInteger)
    eac_minor: int = Field(sa_type=BigInteger)
    percent_complete_x10000: int | None = Field(default=None, sa_type=BigInteger)
    recognized_revenue_minor: int = Field(sa_type=BigInteger)
    unbilled_wip_minor: int = Field(sa_type=BigInteger)
    billed_minor: int = Field(sa_type=BigInteger)
    collected_minor: int = Field(sa_type=BigInteger)
    margin_x10000: int | None = Field(default=None, sa_type=BigInteger)


class EngagementFigures(SQLModel, table=True):
    """``readmodel.figures.EngagementFigures`` of one live engagement, as minor units."""

    __tablename__ = "engagement_figures"

    engagement_id: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    account_id: int = Field(index=True, sa_type=BigInteger)
    currency: str = Field(max_length=3)
    delivered_minor: int = Field(sa_type=BigInteger)
    billed_to_date_minor: int = Field(sa_type=BigInteger)
    backlog_minor: int = Field(sa_type=BigInteger)


class ProjectOutlook(SQLModel, table=True):
    """``readmodel.forecasts.outlook.Outlook`` of one live project as GraphQL shows it, as of
    ``as_of`` with a trend window of ``window_days`` (the compiled path reads it only for the
    request's today and window). Money in minor units, ratios in ten-thousandths."""

    __tablename__ = "project_outlook"

    project_id: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    account_id: int = Field(index=True, sa_type=BigInteger)
    as_of: date
    window_days: int
    currency: str = Field(max_length=3)
    status: str = Field(max_length=16)
    low_to_budget_x10000: int | None = Field(default=None, sa_type=BigInteger)
    high_to_budget_x10000: int | None = Field(default=None, sa_type=BigInteger)
    trend_days_left: int | None = None
    team_eac_minor: int = Field(sa_type=BigInteger)
    trend_eac_minor: int | None = Field(default=None, sa_type=BigInteger)
    daily_burn_minor: int | None = Field(default=None, sa_type=BigInteger)
    eac_low_minor: int = Field(sa_type=BigInteger)
    eac_high_minor: int = Field(sa_type=BigInteger)
    overrun_low_minor: int = Field(sa_type=BigInteger)
    overrun_high_minor: int = Field(sa_type=BigInteger)
    revenue_at_completion_minor: int | None = Field(default=None, sa_type=BigInteger)
    margin_at_completion_x10000: int | None = Field(default=None, sa_type=BigInteger)


class ProjectOutlookFactor(SQLModel, table=True):
    """One factor of a project's stored outlook, in the order the outlook lists them; the
    value as the text GraphQL prints (null: unknown)."""

    __tablename__ = "project_outlook_factor"

    project_id: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    position: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    account_id: int = Field(index=True, sa_type=BigInteger)
    name: str = Field(max_length=64)
    value: str | None = Field(default=None, max_length=32)
    explanation: str = Field(max_length=1000)
