"""win observations: deals sync saw turn won after a source's backfill (handoff triggers)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import readmodel.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "win_observation",
        sa.Column("opportunity_id", sa.BigInteger(), nullable=False),
        sa.Column("source_system", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("observed_at", readmodel.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunity.id"],
            name=op.f("fk_win_observation_opportunity_id_opportunity"),
        ),
        sa.PrimaryKeyConstraint("opportunity_id", name=op.f("pk_win_observation")),
    )


def downgrade() -> None:
    op.drop_table("win_observation")
