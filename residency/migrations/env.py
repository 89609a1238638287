"""Alembic's entry point for the store: run on the connection the store hands over."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
# Batch mode: SQLite alters a table by copying it, which Alembic does for us.
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
