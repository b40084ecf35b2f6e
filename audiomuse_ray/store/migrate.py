"""Bringing a database to the schema this code expects, with Alembic, on SQLite and PostgreSQL alike.

``open_store`` calls ``upgrade`` on every open: a database already at the head costs one query. Three
kinds of database arrive here:
- empty: every revision runs from the first;
- written by release 0.1.0, before migrations existed (tables and ``audiomuse_meta.schema_version`` = 1,
  no ``alembic_version``): stamped as revision 0001, then upgraded, keeping every row;
- written by a newer audiomuse-ray (a revision this code does not know): refused, never touched.

Several processes may open the same database at once (Ray workers, Serve replicas, a CLI): the upgrade
runs under a lock (a PostgreSQL advisory lock, a lock file beside a SQLite file) and re-reads the
revision once it holds it, so only one of them migrates.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from audiomuse_ray.errors import StoreError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"  # release 0.1.0's schema
_PG_LOCK_KEY = 0x61756469  # "audi": one advisory lock number for audiomuse-ray migrations


def _config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@functools.lru_cache(maxsize=1)
def _revisions() -> tuple[str, tuple[str, ...]]:
    """(head, every known revision), read once per process."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_config())
    return scripts.get_current_head(), tuple(s.revision for s in scripts.walk_revisions())


def head_revision() -> str:
    return _revisions()[0]


def current_revision(conn: Connection) -> str | None:
    """The revision stamped in ``conn``'s database; ``BASELINE`` for an unstamped 0.1.0 database, None
    for an empty one."""
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" in tables:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if "score" in tables and "task_status" in tables:
        version = conn.execute(text("SELECT value FROM audiomuse_meta WHERE key = 'schema_version'")).scalar() \
            if "audiomuse_meta" in tables else None
        if version not in (None, "1"):
            raise StoreError(f"The database has an unknown pre-migration schema version {version!r}.")
        return BASELINE
    return None


def _check_known(revision: str | None) -> None:
    if revision is not None and revision not in _revisions()[1]:
        raise StoreError(
            f"The database was written by a newer audiomuse-ray (schema revision {revision}; this one knows up "
            f"to {head_revision()}). Upgrade audiomuse-ray or point AUDIOMUSE_DATABASE_URL elsewhere."
        )


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Migrate ``engine``'s database to the head revision. Returns (revision found, revision now)."""
    with engine.connect() as conn:
        found = _stamped(conn)
    if found == head_revision():
        return found, found
    _check_known(found)
    with _migration_lock(engine), engine.begin() as conn:
        found = current_revision(conn)  # another process may have migrated while we waited
        _check_known(found)
        if found != head_revision():
            _run_upgrade(conn, found)
            (log.warning if found else log.info)("database schema upgraded from %s to %s", found or "empty",
                                                 head_revision())
    return found, head_revision()


def _stamped(conn: Connection) -> str | None:
    """Fast path: read ``alembic_version`` directly (one query); fall back to the full inspection."""
    try:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:  # no such table: an empty or pre-migration database
        conn.rollback()
        return current_revision(conn)


def _run_upgrade(conn: Connection, found: str | None) -> None:
    from alembic import command

    cfg = _config()
    cfg.attributes["connection"] = conn
    if found == BASELINE and not inspect(conn).has_table("alembic_version"):
        command.stamp(cfg, BASELINE)
    command.upgrade(cfg, "head")


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as lock_conn:
            lock_conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            try:
                yield
            finally:
                lock_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                lock_conn.commit()
        return
    path = engine.url.database
    if not path or path == ":memory:":
        yield
        return
    with file_lock(f"{path}.migrate-lock"):
        yield


@contextlib.contextmanager
def file_lock(lock_path: str) -> Iterator[None]:
    """An exclusive lock between processes (and threads) on ``lock_path``, created when absent."""
    with open(lock_path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
