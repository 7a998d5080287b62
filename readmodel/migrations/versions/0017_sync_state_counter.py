"""sync_state counted: a change counter for the freshness every answer carries

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 04:00:00.000000

Every answer's ``extensions.freshness`` is made from ``sync_state``'s rows, read by the answer's
own statement (resolvers/planner/sync_states.py). With a counter bumped by every write of
``sync_state`` (migration 0015's triggers, written out here: a migration is self-contained),
a statement reads the rows as JSON only when the counter is not the one its process already
holds the rows of, and a process reads them once per change instead of once per answer.
"""

from collections.abc import Sequence

import time

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "sync_state"


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
    counters = sa.table("change_counter", sa.column("name"), sa.column("value"))
    start = int(time.time() * 1000)  # as migration 0015: counters start from the clock
    op.bulk_insert(counters, [{"name": TABLE, "value": start}])
    postgres = op.get_bind().dialect.name == "postgresql"
    for ddl in _pg_triggers(TABLE) if postgres else _sqlite_triggers(TABLE):
        op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("ins", "upd", "del", "trunc"):
            op.execute(f"DROP TRIGGER cg_changed_{name} ON {TABLE}")
    else:
        for op_ in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER cg_changed_{op_}_{TABLE}")
    op.execute(f"DELETE FROM change_counter WHERE name = '{TABLE}'")
