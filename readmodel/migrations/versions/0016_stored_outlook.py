"""stored project outlook (Project.outlook for the compiled read path), counted by the cache

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 11:10:00.000000

``project_outlook`` and ``project_outlook_factor`` hold each live project's outlook as of a day
and a trend window, written by ``readmodel.figures.stored.refresh`` with the project's figures
(so the triggers of migration 0014, which delete an account's ``account_figures`` row when an
input changes, mark them stale too: the compiled path reads a project's outlook only while its
account's row exists). Both tables get change counters (migration 0015's triggers, written out
here: a migration is self-contained), so the response cache can keep answers that read them.
"""

from collections.abc import Sequence

import time

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger()
COUNTED = ("project_outlook", "project_outlook_factor")


def _pg_triggers(table: str) -> list[str]:
    rows = "FOR EACH STATEMENT EXECUTE FUNCTION cg_changed_rows()"
    return [
        f"CREATE TRIGGER cg_changed_ins AFTER INSERT ON {table} "
        f"REFERENCING NEW TABLE AS cg_changed {rows}",
        f"CREATE TRIGGER cg_changed_upd AFTER UPDATE ON {table} "
        f"REFERENCING NEW TABLE AS cg_changed {rows}",
        f"CREATE TRIGGER cg_changed_del AFTER DELETE ON {table} "
        f"REFERENCING OLD TABLE AS cg_changed {rows}",
        f"CREATE TRIGGER cg_changed_trunc AFTER TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION cg_truncate()",
    ]


def _sqlite_triggers(table: str) -> list[str]:
    bump = f"UPDATE change_counter SET value = value + 1 WHERE name = '{table}'"
    return [
        f"CREATE TRIGGER cg_changed_{op_}_{table} AFTER {op_.upper()} ON {table} BEGIN {bump}; END"
        for op_ in ("insert", "update", "delete")
    ]


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    figures = (
        ("team_eac_minor", False),
        ("trend_eac_minor", True),
        ("daily_burn_minor", True),
        ("eac_low_minor", False),
        ("eac_high_minor", False),
        ("overrun_low_minor", False),
        ("overrun_high_minor", False),
        ("revenue_at_completion_minor", True),
        ("margin_at_completion_x10000", True),
    )
    op.create_table(
        "project_outlook",
        sa.Column("project_id", ID, autoincrement=False, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("currency", text(length=3), nullable=False),
        sa.Column("status", text(length=16), nullable=False),
        sa.Column("low_to_budget_x10000", ID, nullable=True),
        sa.Column("high_to_budget_x10000", ID, nullable=True),
        sa.Column("trend_days_left", sa.Integer(), nullable=True),
        *(sa.Column(name, ID, nullable=nullable) for name, nullable in figures),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_outlook")),
    )
    op.create_index(
        op.f("ix_project_outlook_account_id"), "project_outlook", ["account_id"], unique=False
    )
    op.create_table(
        "project_outlook_factor",
        sa.Column("project_id", ID, autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("name", text(length=64), nullable=False),
        sa.Column("value", text(length=32), nullable=True),
        sa.Column("explanation", text(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "position", name=op.f("pk_project_outlook_factor")),
    )
    op.create_index(
        op.f("ix_project_outlook_factor_account_id"),
        "project_outlook_factor",
        ["account_id"],
        unique=False,
    )
    counters = sa.table("change_counter", sa.column("name"), sa.column("value"))
    start = int(time.time() * 1000)  # as migration 0015: counters start from the clock
    op.bulk_insert(counters, [{"name": t, "value": start} for t in COUNTED])
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in COUNTED:
        for ddl in _pg_triggers(table) if postgres else _sqlite_triggers(table):
            op.execute(ddl)
    # Every stored account is stale now (its projects have no outlook yet): the next refresh
    # (a worker's start, the daily job, `clientgraph figures refresh`) recomputes them all,
    # outlooks included; until then the compiled path answers their figures per field.
    op.execute("DELETE FROM account_health_factor")
    op.execute("DELETE FROM account_figures")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in COUNTED:
        if postgres:
            for name in ("ins", "upd", "del", "trunc"):
                op.execute(f"DROP TRIGGER cg_changed_{name} ON {table}")
        else:
            for op_ in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER cg_changed_{op_}_{table}")
    op.execute(
        "DELETE FROM change_counter WHERE name IN (" + ", ".join(f"'{t}'" for t in COUNTED) + ")"
    )
    op.drop_index(op.f("ix_project_outlook_factor_account_id"), table_name="project_outlook_factor")
    op.drop_table("project_outlook_factor")
    op.drop_index(op.f("ix_project_outlook_account_id"), table_name="project_outlook")
    op.drop_table("project_outlook")
