"""change_counter: a counter per read-model table, bumped by triggers in the writing transaction

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 07:50:00.000000

Self-contained: the counted tables and the trigger text are written here, not imported.
PostgreSQL: statement-level AFTER triggers with transition tables bump a table's counter once
per transaction that changed at least one of its rows (an upsert that changed nothing bumps
nothing; a transaction-local setting, ``clientgraph.changed_<table>``, marks the bump done, so a
page written row by row — asyncpg's executemany runs the statement per row — updates the
counter once); TRUNCATE bumps too. SQLite (no statement triggers): a row-level trigger per operation.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED = (
    "account",
    "account_xref",
    "contact",
    "opportunity",
    "person",
    "engagement",
    "rate_card",
    "rate_card_line",
    "project",
    "milestone",
    "assignment",
    "time_entry",
    "change_order",
    "invoice",
    "payment",
)

PG_FUNCTIONS = (
    """
CREATE FUNCTION cg_count_changed_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  flag text := 'clientgraph.changed_' || TG_TABLE_NAME;
BEGIN
  IF current_setting(flag, true) IS DISTINCT FROM 'y' THEN
    IF EXISTS (SELECT 1 FROM cg_changed) THEN
      UPDATE change_counter SET value = value + 1 WHERE name = TG_TABLE_NAME;
      PERFORM set_config(flag, 'y', true);
    END IF;
  END IF;
  RETURN NULL;
END $$
""",
    """
CREATE FUNCTION cg_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE change_counter SET value = value + 1 WHERE name = TG_TABLE_NAME;
  RETURN NULL;
END $$
""",
)


def _pg_triggers(table: str) -> list[str]:
    rows = "FOR EACH STATEMENT EXECUTE FUNCTION cg_count_changed_rows()"
    return [
        f"CREATE TRIGGER cg_changed_ins AFTER INSERT ON {table} "
        f"REFERENCING NEW TABLE AS cg_changed {rows}",
        f"CREATE TRIGGER cg_changed_upd AFTER UPDATE ON {table} "
        f"REFERENCING NEW TABLE AS cg_changed {rows}",
        f"CREATE TRIGGER cg_changed_del AFTER DELETE ON {table} "
        f"REFERENCING OLD TABLE AS cg_changed {rows}",
        f"CREATE TRIGGER cg_changed_trunc AFTER TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION cg_count_truncate()",
    ]


def _sqlite_triggers(table: str) -> list[str]:
    bump = f"UPDATE change_counter SET value = value + 1 WHERE name = '{table}'"
    return [
        f"CREATE TRIGGER cg_changed_{op_}_{table} AFTER {op_.upper()} ON {table} BEGIN {bump}; END"
        for op_ in ("insert", "update", "delete")
    ]


def upgrade() -> None:
    op.create_table(
        "change_counter",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_counter")),
    )
    counters = sa.table("change_counter", sa.column("name"), sa.column("value"))
    op.bulk_insert(counters, [{"name": t, "value": 0} for t in COUNTED])
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for function in PG_FUNCTIONS:
            op.execute(function)
    for table in COUNTED:
        for ddl in _pg_triggers(table) if postgres else _sqlite_triggers(table):
            op.execute(ddl)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in COUNTED:
        if postgres:
            for name in ("ins", "upd", "del", "trunc"):
                op.execute(f"DROP TRIGGER cg_changed_{name} ON {table}")
        else:
            for op_ in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER cg_changed_{op_}_{table}")
    if postgres:
        op.execute("DROP FUNCTION cg_count_changed_rows()")
        op.execute("DROP FUNCTION cg_count_truncate()")
    op.drop_table("change_counter")
