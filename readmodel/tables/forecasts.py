"""Forecast snapshots: the monthly revenue forecast as it stood each day, kept to measure it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from readmodel.types import ID

NO_SERVICE_LINE = ""
"""``service_line`` of the rows whose projects or deals name none (a key cannot be NULL)."""


class ForecastSnapshot(SQLModel, table=True):
    """One day's forecast total for one month, currency and service line.

    Written once a day by ``snapshot_forecast`` (a second run the same day changes nothing);
    read by ``Portfolio.forecastAccuracy`` once the month has closed. ``horizon`` is how many
    months ahead of ``taken_on``'s month the forecast month is (0: the same month).
    """

    __tablename__ = "forecast_snapshot"
    __table_args__ = (UniqueConstraint("taken_on", "month", "currency", "service_line"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=ID)
    taken_on: date = Field(index=True)
    month: date = Field(index=True)
    horizon: int
    currency: str = Field(max_length=3)
    service_line: str = Field(default=NO_SERVICE_LINE, max_length=64)
    amount_minor: int = Field(sa_type=BigInteger)
