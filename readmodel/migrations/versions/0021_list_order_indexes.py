"""keyset indexes: the contacts, opportunities, engagements and milestones lists' orders

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 16:10:00.000000

The root lists ``contacts`` (by last name), ``opportunities`` (by close date), ``engagements``
(by name) and ``milestones`` (by due date), each then by id, page by keyset in their order
(resolvers.connections, and now the compiled path: resolvers/planner/page.py). Without an index
on the order, PostgreSQL read and sorted every live row for each page: 8–14 ms of its CPU per
page at the bench's L scale (30,097 contacts, 34,233 milestones; a seq scan and a top-N sort),
where an index range scan stops at the page's last row (as migration 0018 did for invoices
and projects).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDERS = (
    ("contact", "ix_contact_last_name_id", ["last_name", "id"]),
    ("opportunity", "ix_opportunity_close_date_id", ["close_date", "id"]),
    ("engagement", "ix_engagement_name_id", ["name", "id"]),
    ("milestone", "ix_milestone_due_date_id", ["due_date", "id"]),
)


def upgrade() -> None:
    for table, name, columns in ORDERS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, name, _ in reversed(ORDERS):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(name)
