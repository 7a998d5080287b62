"""materialized figures and health, kept current by triggers on their inputs

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 08:10:00.000000

``account_figures`` holds one row per account whose stored figures (its projects',
engagements' and health's) are current. A row of any table those figures read (account,
opportunity, engagement, project, time entry, milestone, change order, invoice, payment) that
is inserted, updated or deleted deletes the row of every account it counts for, so a stored
figure is either current or absent, whoever wrote the change (sync, a command's read-back,
seed, an operator's SQL). The writer then refreshes those accounts in the same transaction
(readmodel/figures/stored.py); the compiled read path falls back to the per-field path for an
account without its row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import readmodel.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger()


def _project_accounts(project_id: str) -> str:
    """The accounts a project's figures count for: its own and its engagement's."""
    return (
        f"SELECT account_id FROM project WHERE id = {project_id} UNION SELECT e.account_id "
        f"FROM project p JOIN engagement e ON e.id = p.engagement_id WHERE p.id = {project_id}"
    )


ACCOUNTS_OF: dict[str, str] = {
    "account": "SELECT {r}.id",
    "opportunity": "SELECT {r}.account_id",
    "engagement": "SELECT {r}.account_id",
    "project": "SELECT {r}.account_id UNION SELECT account_id FROM engagement "
    "WHERE id = {r}.engagement_id",
    "time_entry": _project_accounts("{r}.project_id"),
    "milestone": _project_accounts("{r}.project_id"),
    "change_order": _project_accounts("{r}.project_id"),
    "invoice": "SELECT {r}.account_id UNION " + _project_accounts("{r}.project_id"),
    "payment": "SELECT account_id FROM invoice WHERE id = {r}.invoice_id UNION "
    + _project_accounts("(SELECT project_id FROM invoice WHERE id = {r}.invoice_id)"),
}
"""Per input table: the accounts whose figures a row ``{r}`` (NEW or OLD) counts for."""


def _stale(table: str, record: str) -> str:
    accounts = ACCOUNTS_OF[table].format(r=record)
    return f"DELETE FROM account_figures WHERE account_id IN ({accounts});"


def _create_triggers() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in ACCOUNTS_OF:
        name = f"cg_figures_stale_{table}"
        if postgres:
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF TG_OP <> 'INSERT' THEN {_stale(table, 'OLD')} END IF; "
                f"IF TG_OP <> 'DELETE' THEN {_stale(table, 'NEW')} END IF; "
                "RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
            continue
        for event, records in (
            ("INSERT", ("NEW",)),
            ("UPDATE", ("OLD", "NEW")),
            ("DELETE", ("OLD",)),
        ):
            body = " ".join(_stale(table, r) for r in records)
            op.execute(
                f"CREATE TRIGGER {name}_{event.lower()} AFTER {event} ON {table} "
                f"FOR EACH ROW BEGIN {body} END"
            )


def _drop_triggers() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in ACCOUNTS_OF:
        name = f"cg_figures_stale_{table}"
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
            continue
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}_{event}")


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "account_figures",
        sa.Column("account_id", ID, autoincrement=False, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("status", text(length=8), nullable=True),
        sa.Column("refreshed_at", readmodel.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_figures")),
    )
    op.create_table(
        "account_health_factor",
        sa.Column("account_id", ID, autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", text(length=64), nullable=False),
        sa.Column("value", text(length=32), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("penalty", text(length=16), nullable=False),
        sa.Column("explanation", text(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "position", name=op.f("pk_account_health_factor")),
    )
    amounts = (
        "hours_logged_x100",
        "billable_hours_x100",
        "cost_to_date_minor",
        "budget_burn_x10000",
        "hours_burn_x10000",
        "eac_minor",
        "percent_complete_x10000",
        "recognized_revenue_minor",
        "unbilled_wip_minor",
        "billed_minor",
        "collected_minor",
        "margin_x10000",
    )
    op.create_table(
        "project_figures",
        sa.Column("project_id", ID, autoincrement=False, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("currency", text(length=3), nullable=False),
        *(sa.Column(n, ID, nullable=not n.endswith(("_x100", "_minor"))) for n in amounts),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_figures")),
    )
    op.create_index(
        op.f("ix_project_figures_account_id"), "project_figures", ["account_id"], unique=False
    )
    op.create_table(
        "engagement_figures",
        sa.Column("engagement_id", ID, autoincrement=False, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("currency", text(length=3), nullable=False),
        sa.Column("delivered_minor", ID, nullable=False),
        sa.Column("billed_to_date_minor", ID, nullable=False),
        sa.Column("backlog_minor", ID, nullable=False),
        sa.PrimaryKeyConstraint("engagement_id", name=op.f("pk_engagement_figures")),
    )
    op.create_index(
        op.f("ix_engagement_figures_account_id"),
        "engagement_figures",
        ["account_id"],
        unique=False,
    )
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_index(op.f("ix_engagement_figures_account_id"), table_name="engagement_figures")
    op.drop_table("engagement_figures")
    op.drop_index(op.f("ix_project_figures_account_id"), table_name="project_figures")
    op.drop_table("project_figures")
    op.drop_table("account_health_factor")
    op.drop_table("account_figures")
