"""sync_state: records applied by the latest pull, and the running total apart

``records_applied`` used to be a running total while ``freshness`` presented it as what
sync applied. It now counts the latest pull of each object; the total moves to the new
``records_applied_total``. Existing rows keep their total there; their latest-pull count is
unknown and starts at 0 (the next pull, within one sync interval, sets it).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("records_applied_total", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute("UPDATE sync_state SET records_applied_total = records_applied, records_applied = 0")


def downgrade() -> None:
    op.execute("UPDATE sync_state SET records_applied = records_applied_total")
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.drop_column("records_applied_total")
