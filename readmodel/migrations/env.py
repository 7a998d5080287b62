"""Alembic environment. Run through ``readmodel.migrate`` (``clientgraph migrate``).

The caller hands in a live synchronous connection (``config.attributes["connection"]``), so the
same code migrates SQLite and PostgreSQL. ``render_as_batch`` lets SQLite alter tables.
"""

from alembic import context

import readmodel.tables  # noqa: F401  (registers every table on the metadata)
from readmodel.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
