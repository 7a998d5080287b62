"""every writer of figures' inputs waits for a refresh in flight (PostgreSQL)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 15:40:00.000000

Migration 0014's triggers delete the ``account_figures`` row of each account a changed input
row counts for, so a stored figure is current or absent. The product's writers (sync pages,
reconciliation, parked rows, seed, the daily refresh) serialize on one advisory lock taken
before their first write (``readmodel.figures.stored.lock_figures``). A writer that does not
take it — an operator's SQL — could race a refresh in READ COMMITTED: the refresh deletes and
re-inserts an account's row from a snapshot without the writer's change; the writer's trigger,
blocked on the deleted row, then finds it gone and never sees the new one, which stays, stale
and marked current.

Now a statement-level ``BEFORE`` trigger on every input table takes the same lock in **shared**
mode before the statement writes a row: writers that do not refresh do not wait for each
other (shared with shared, unless an exclusive request is queued), but they wait for a refresh
in flight (exclusive) to commit, and their row triggers' deletes (READ COMMITTED: a fresh
snapshot per statement) then see what it stored; a refresh waits for every open writer of
inputs to commit, and then reads their changes. A product writer holds the lock exclusively
already (its own shared requests are granted at once). ``TRUNCATE`` of an input table (no row
triggers fire) deletes every account's row; it takes its table lock before the trigger asks
for the advisory one, so an operator takes the lock first (docs/operations.md). SQLite has
one writer at a time: nothing changes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCK_KEY = 0x63676669  # readmodel.figures.stored.LOCK_KEY as of this revision
INPUTS = (
    "account", "opportunity", "engagement", "project", "time_entry", "milestone",
    "change_order", "invoice", "payment",
)  # fmt: skip
"""Migration 0014's input tables (its ``ACCOUNTS_OF``)."""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION cg_figures_inputs_lock() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"PERFORM pg_advisory_xact_lock_shared({LOCK_KEY}); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE FUNCTION cg_figures_all_stale() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "DELETE FROM account_figures; RETURN NULL; END $$"
    )
    for table in INPUTS:
        op.execute(
            f"CREATE TRIGGER cg_figures_lock_{table} BEFORE INSERT OR UPDATE OR DELETE OR "
            f"TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION cg_figures_inputs_lock()"
        )
        op.execute(
            f"CREATE TRIGGER cg_figures_truncate_{table} AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION cg_figures_all_stale()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in INPUTS:
        op.execute(f"DROP TRIGGER IF EXISTS cg_figures_truncate_{table} ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS cg_figures_lock_{table} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS cg_figures_all_stale()")
    op.execute("DROP FUNCTION IF EXISTS cg_figures_inputs_lock()")
