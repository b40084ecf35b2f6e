"""Alembic revisions of the one schema. ``store/migrate.py`` runs them; nothing here is imported by the
service otherwise. Revisions are written by hand and never changed once released: a new column is a new
revision, so every database ever written can be brought forward."""
