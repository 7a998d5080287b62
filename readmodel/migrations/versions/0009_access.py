"""access: API keys, the audit log, and who asked for each command

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 02:30:00.000000

Commands gain the principal that asked (older rows and clientgraph's own writes: ``system``);
idempotency keys become unique per principal instead of across the whole log.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import readmodel.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("accounts", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("secret_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", readmodel.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", readmodel.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", readmodel.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_id", name=op.f("uq_api_key_key_id")),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", readmodel.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("actor_role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("credential_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("operation", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("input_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column(
            "command_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("correlation_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry") as batch_op:
        batch_op.create_index("ix_audit_entry_at_id", ["at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_operation"), ["operation"], unique=False)
    with op.batch_alter_table("command", naming_convention=NAMING) as batch_op:
        batch_op.add_column(
            sa.Column(
                "principal_id",
                sqlmodel.sql.sqltypes.AutoString(length=160),
                nullable=False,
                server_default="system",
            )
        )
        batch_op.add_column(
            sa.Column("principal_role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.add_column(
            sa.Column("credential_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.drop_constraint("uq_command_idempotency_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_command_principal_id_idempotency_key", ["principal_id", "idempotency_key"]
        )
        batch_op.create_index(batch_op.f("ix_command_principal_id"), ["principal_id"])
    with op.batch_alter_table("command") as batch_op:
        batch_op.alter_column("principal_id", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("command", naming_convention=NAMING) as batch_op:
        batch_op.drop_index(batch_op.f("ix_command_principal_id"))
        batch_op.drop_constraint("uq_command_principal_id_idempotency_key", type_="unique")
        batch_op.create_unique_constraint("uq_command_idempotency_key", ["idempotency_key"])
        batch_op.drop_column("credential_id")
        batch_op.drop_column("principal_role")
        batch_op.drop_column("principal_id")
    op.drop_table("audit_entry")
    op.drop_table("api_key")
