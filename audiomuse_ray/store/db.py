"""Opening a database (SQLite or PostgreSQL), migrating it to this code's schema, and the dialect-aware upsert.

Every other store module takes a ``Store`` and runs Core statements through it; no module outside
``store/`` builds SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from audiomuse_ray.errors import StoreError
from audiomuse_ray.settings import redact_url
from audiomuse_ray.store import migrate


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


Clock = Callable[[], datetime]


@dataclass
class Store:
    """A connected database with the schema in place. Cheap to pass around; safe to share in a process.

    ``clock`` is the time written into rows and compared with them (heartbeats, staleness, created_at):
    the real UTC clock, or a test's fake one, so liveness tests move time instead of sleeping."""

    engine: Engine
    url: str
    clock: Clock = field(default=utcnow, repr=False)

    def now(self) -> datetime:
        return self.clock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def begin(self):
        """A transaction: ``with store.begin() as conn: ...`` commits on success, rolls back on error."""
        return self.engine.begin()

    def connect(self) -> Connection:
        return self.engine.connect()

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str, *, create: bool = True, clock: Clock = utcnow) -> Store:
    """Connect to ``url`` and upgrade its schema to this code's (creating it, and the SQLite folder, when
    the database is empty); ``create=False`` only checks that the database answers."""
    engine = _make_engine(url)
    store = Store(engine=engine, url=url, clock=clock)
    try:
        if create:
            migrate.upgrade(engine)
        else:
            with engine.connect():
                pass
    except OperationalError as exc:
        raise StoreError(
            f"Cannot open the database {redact_url(url)}: {exc.orig}. Check AUDIOMUSE_DATABASE_URL "
            "and that the server is running."
        ) from exc
    return store


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Several Ray workers may write the same file: wait for the lock rather than failing at once.
        engine = create_engine(url, connect_args={"timeout": 60}, poolclass=NullPool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001 - DB-API types
            cur = dbapi_conn.cursor()
            _use_wal(cur, path)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if url.startswith("postgresql"):
        if url.startswith("postgresql://"):  # SQLAlchemy 2.1 would pick psycopg 3; we ship psycopg2
            url = "postgresql+psycopg2://" + url[len("postgresql://"):]
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    raise StoreError(
        f"Unsupported database URL {redact_url(url)}: use sqlite:///path/to/file.db or postgresql://user@host/db."
    )


def _use_wal(cur: Any, path: str) -> None:
    """Put a SQLite file in WAL mode (it stays so). A file still in rollback-journal mode (new, or written by
    release 0.1.0) is switched under a lock file: two connections switching it at once can fail with
    "database is locked" without waiting, as several Ray workers opening a library together would."""
    if not path or path == ":memory:" or cur.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return  # an in-memory database has no WAL; a WAL file needs no switch
    with migrate.file_lock(f"{path}.wal-lock"):
        cur.execute("PRAGMA journal_mode=WAL")


def schema_version(store: Store) -> str | None:
    """The Alembic revision the database is at (None for an empty one)."""
    with store.connect() as conn:
        return migrate.current_revision(conn)


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Iterable[str]) -> int:
    """Insert ``rows``, replacing the non-key columns of rows whose ``keys`` already exist. Returns len(rows)."""
    if not rows:
        return 0
    keys = list(keys)
    dialect = conn.dialect.name
    if dialect == "sqlite":
        stmt = sqlite.insert(table)
    elif dialect == "postgresql":
        stmt = postgresql.insert(table)
    else:  # pragma: no cover - open_store refuses other dialects
        raise StoreError(f"No upsert for dialect {dialect}.")
    updates = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_=updates) if updates else stmt.on_conflict_do_nothing(index_elements=keys)
    try:
        conn.execute(stmt, list(rows))
    except SQLAlchemyError as exc:
        raise StoreError(f"Writing {len(rows)} row(s) to {table.name} failed: {exc}") from exc
    return len(rows)
