"""Alembic environment and revisions for the gordon-bus database (schemas, roles, grants, views)."""
