"""forecast_snapshot: the monthly revenue forecast as it stood each day (issue 18)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 07:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "forecast_snapshot",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("service_line", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_snapshot")),
        sa.UniqueConstraint(
            "taken_on",
            "month",
            "currency",
            "service_line",
            name=op.f("uq_forecast_snapshot_taken_on_month_currency_service_line"),
        ),
    )
    op.create_index(
        op.f("ix_forecast_snapshot_taken_on"), "forecast_snapshot", ["taken_on"], unique=False
    )
    op.create_index(
        op.f("ix_forecast_snapshot_month"), "forecast_snapshot", ["month"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_forecast_snapshot_month"), table_name="forecast_snapshot")
    op.drop_index(op.f("ix_forecast_snapshot_taken_on"), table_name="forecast_snapshot")
    op.drop_table("forecast_snapshot")
