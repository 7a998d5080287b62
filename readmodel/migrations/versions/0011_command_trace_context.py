"""command.trace_context: the accepting request's W3C traceparent (the worker joins its trace)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("command") as batch:
        batch.add_column(
            sa.Column("trace_context", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("command") as batch:
        batch.drop_column("trace_context")
