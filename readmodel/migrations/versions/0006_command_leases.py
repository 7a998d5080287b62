"""command leases: a heartbeat lease per attempt, applied-at-source apart from confirmed, source key

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import readmodel.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('command', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('lease_token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('lease_expires_at', readmodel.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('applied_at', readmodel.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('written', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('command', schema=None) as batch_op:
        batch_op.drop_column('written')
        batch_op.drop_column('applied_at')
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('lease_token')
        batch_op.drop_column('source_key')
