"""identity_decision: an operator's link / create / ignore of an identity exception

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 05:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import readmodel.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_decision",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("system", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("object_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("exception_id", sa.BigInteger(), nullable=True),
        sa.Column("command_id", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("decided_role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("decided_at", readmodel.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("applied_at", readmodel.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_identity_decision_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["command_id"], ["command.id"], name=op.f("fk_identity_decision_command_id_command")
        ),
        sa.ForeignKeyConstraint(
            ["exception_id"],
            ["integration_exception.id"],
            name=op.f("fk_identity_decision_exception_id_integration_exception"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_decision")),
        sa.UniqueConstraint(
            "system", "source_id", name=op.f("uq_identity_decision_system_source_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("identity_decision")
