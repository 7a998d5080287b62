"""an account's invoices in their order, covering what the views read

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 10:20:00.000000

An account's invoices are read in issue order (``Account.invoices``: the compiled statement's
lists and the per-field path's loader, resolvers.dataloaders), filtered by status and
liveness. With only ``account_id`` indexed, PostgreSQL fetched each of the account's invoices
from the table (paid ones too, to filter them out) and sorted the rest; with the order in the
index and the columns the views read included, it reads the index alone (where the table's
pages are all visible, as VACUUM leaves them) in order. The portfolio list's statement (50
accounts' open invoices, L): 0.91 → 0.80 ms of PostgreSQL's CPU (bench/analysis.md, stop 31).
It leads with ``account_id``, so it replaces that column's own index (one index to keep up on
every invoice write, not two). SQLite has no INCLUDE: there it is the ordered key alone.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INCLUDED = [
    "status", "deleted_at", "number", "due_date", "total_minor", "balance_minor", "currency",
]  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("invoice") as batch_op:
        batch_op.create_index(
            "ix_invoice_account_issue",
            ["account_id", "issue_date", "id"],
            unique=False,
            postgresql_include=INCLUDED,
        )
        batch_op.drop_index("ix_invoice_account_id")


def downgrade() -> None:
    with op.batch_alter_table("invoice") as batch_op:
        batch_op.create_index("ix_invoice_account_id", ["account_id"], unique=False)
        batch_op.drop_index("ix_invoice_account_issue")
