"""Read functions the GraphQL loaders call: SQLAlchemy Core, one statement per call, rows out.

Rows are ``sqlalchemy.Row`` objects (attribute access, no ORM identity map): the read path
never pays for ORM objects. Soft-deleted rows are never returned.
"""
