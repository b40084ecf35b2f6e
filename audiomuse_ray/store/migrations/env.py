"""Alembic's environment, driven only from ``audiomuse_ray.store.migrate``: the connection (already in a
transaction, under the migration lock) arrives in ``config.attributes``; no ini file, no URL here."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
