"""Running a guarded instant-playlist statement read-only, with a time limit: the one place outside
``store/`` that executes SQL, and only SQL that ``chat.sql_guard`` produced.

PostgreSQL: a dedicated role (``Settings.chat_db_user``; created NOLOGIN if missing, granted SELECT on
``score`` and nothing else) is taken with ``SET LOCAL ROLE`` inside ``BEGIN READ ONLY`` with
``SET LOCAL statement_timeout``; the transaction is always rolled back, so every setting ends with it.

The statement runs as ``DECLARE ... CURSOR FOR <statement>``, which PostgreSQL accepts only for a SELECT,
and at most ``MAX_ROWS`` rows are fetched from it.

SQLite: a separate connection opened ``mode=ro`` (the file cannot be written through it), an authorizer
that allows reading the columns of ``score`` and calling the guard's functions and denies everything else
(other tables, ``sqlite_master``, ATTACH, PRAGMA, writes), and a progress handler that aborts the
statement after the time limit; SQLite's own limits bound the length of any value a statement builds.
The functions PostgreSQL has and SQLite lacks are registered on that connection (``chat.sqlite_functions``:
regular expressions in RE2, linear time, PostgreSQL's matching rules).

Both refuse a statement holding a NUL or another control character, and return at most
``sql_guard.MAX_ROWS`` songs as ``ChatSong`` (item_id, title, author): columns other than
these three are never passed on.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import sqlglot
from sqlglot.tokens import TokenType

from audiomuse_ray.chat import sqlite_functions
from audiomuse_ray.chat.sql_guard import ALLOWED_FUNCTION_NAMES, MAX_ROWS, TABLE, GuardedQuery
from audiomuse_ray.chat.sql_text import refuse_control_characters
from audiomuse_ray.errors import ConfigurationError, QueryFailed, UnsafeQuery
from audiomuse_ray.store import Store

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
PROGRESS_STEPS = 1000  # SQLite virtual-machine instructions between two looks at the clock
MAX_VALUE_CHARS = 1_000_000  # SQLite: the longest text or blob a statement may build (SQLITE_LIMIT_LENGTH)
MAX_ITEM_ID_CHARS = 255  # score.item_id's width: a longer "id" was built by the query, not read
MAX_TEXT_CHARS = 1000  # a title or artist passed on is cut here


@dataclass(frozen=True)
class ChatSong:
    item_id: str
    title: str | None
    author: str | None
    album: str | None = None  # looked up by id afterwards (``with_albums``), never taken from the query


def run_query(store: Store, query: GuardedQuery, *, role: str, timeout_s: float) -> list[ChatSong]:
    """The songs ``query`` selects, read-only, within ``timeout_s``. ``QueryFailed`` when it errors or runs
    out of time; ``ConfigurationError`` when the PostgreSQL role cannot be set up."""
    if not isinstance(query, GuardedQuery):
        raise TypeError("run_query takes only what chat.sql_guard.guard_sql returned")
    if query.dialect != store.dialect:
        raise ValueError(f"a {query.dialect} query cannot run on {store.dialect}")
    if store.dialect == "postgresql":
        return run_postgres(store, query.sql, role=role, timeout_s=timeout_s)
    return run_sqlite(store, query.sql, timeout_s=timeout_s)


# ----------------------------------------------------------------------------------------- PostgreSQL
_roles_ready: set[tuple[str, str]] = set()
_roles_lock = threading.Lock()


def ensure_chat_role(store: Store, role: str) -> None:
    """Create ``role`` (NOLOGIN) if it is missing and leave it able to read ``score`` and nothing more of
    this database: SELECT on ``score``, USAGE on its schema, membership for the connecting user (so that it
    may ``SET ROLE``). Once per process and database."""
    if not ROLE_NAME.match(role):
        raise ConfigurationError(f"AUDIOMUSE_AI_CHAT_DB_USER={role!r} must be a lower-case SQL name "
                                 "(letters, digits, underscore).")
    key = (store.url, role)
    with _roles_lock:
        if key in _roles_ready:
            return
        raw = store.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("SELECT current_user, current_schema(), "
                        "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)")
            user, schema, superuser = cur.fetchone()
            cur.execute("SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = %s",
                        (role,))
            found = cur.fetchone()
            if found is None:
                try:
                    cur.execute(f'CREATE ROLE "{role}" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT')
                except Exception as exc:  # psycopg2 errors: duplicate (a racing replica) or no privilege
                    raw.rollback()
                    cur = raw.cursor()
                    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
                    if cur.fetchone() is None:
                        raise ConfigurationError(
                            f"The database user {user!r} may not create the role {role!r} for instant playlists "
                            f"({str(exc).strip()}). Create it once as an administrator: CREATE ROLE {role} NOLOGIN; "
                            f"GRANT SELECT ON {schema}.{TABLE} TO {role}; GRANT {role} TO {user};") from exc
            elif any(found):
                raise ConfigurationError(
                    f"The role {role!r} (AUDIOMUSE_AI_CHAT_DB_USER) is a superuser or may create roles, "
                    "databases or bypass row security; instant playlists need a role that can only read.")
            cur.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
            cur.execute(f'GRANT SELECT ON TABLE "{schema}"."{TABLE}" TO "{role}"')
            if not superuser:
                cur.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", (role,))
                if not cur.fetchone()[0]:
                    cur.execute(f'GRANT "{role}" TO "{user}"')
            raw.commit()
        except ConfigurationError:
            raw.rollback()
            raise
        except Exception as exc:
            raw.rollback()
            raise ConfigurationError(f"Setting up the instant-playlist role {role!r} failed: {exc}") from exc
        finally:
            raw.close()
        _roles_ready.add(key)


def run_postgres(store: Store, sql: str, *, role: str, timeout_s: float) -> list[ChatSong]:
    """``sql`` (one statement) as ``role`` in a read-only transaction that is rolled back afterwards."""
    _refuse_control_characters(sql)
    _refuse_several_statements(sql)
    ensure_chat_role(store, role)
    raw = store.engine.raw_connection()
    dbapi = raw.driver_connection
    try:
        dbapi.autocommit = True  # our own BEGIN ... ROLLBACK, nothing implicit around it
        cur = dbapi.cursor()
        cur.execute("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            cur.execute("SET LOCAL statement_timeout = %s", (max(1, int(timeout_s * 1000)),))
            cur.execute("SET LOCAL lock_timeout = %s", (max(1, int(timeout_s * 1000)),))
            cur.execute("SET LOCAL idle_in_transaction_session_timeout = %s", (max(1000, int(timeout_s * 2000)),))
            cur.execute(f'SET LOCAL ROLE "{role}"')
            try:
                # DECLARE takes only a SELECT (or VALUES), and FETCH reads no more rows than we keep
                cur.execute(f"DECLARE audiomuse_chat_rows NO SCROLL CURSOR FOR {sql}")
                cur.execute(f"FETCH FORWARD {MAX_ROWS} FROM audiomuse_chat_rows")
                names = [d[0] for d in cur.description or ()]
                rows = cur.fetchall()
            except Exception as exc:  # any database error: the statement failed, nothing changed
                if "statement timeout" in str(exc):
                    raise QueryFailed(f"The query ran longer than {timeout_s:g} s and was stopped.") from exc
                raise QueryFailed(f"The query failed: {_first_line(exc)}") from exc
        finally:
            cur.execute("ROLLBACK")
    finally:
        try:
            dbapi.autocommit = False
        finally:
            raw.close()
    return _songs(names, rows)


def _refuse_control_characters(sql: str) -> None:
    """A second line of defence behind the guard: libpq ends a statement at a NUL, so PostgreSQL would run
    less than what was checked (``session_user\\x00x`` runs ``session_user``)."""
    refuse_control_characters(sql, "The statement")


def _refuse_several_statements(sql: str) -> None:
    """A second line of defence behind the guard: psycopg2 sends text as one simple query, which PostgreSQL
    would run statement by statement (a COMMIT in it would end the read-only transaction)."""
    try:
        tokens = sqlglot.tokenize(sql, read="postgres")
    except Exception as exc:
        raise UnsafeQuery(f"The statement cannot be read: {exc}") from None
    semicolons = [i for i, t in enumerate(tokens) if t.token_type == TokenType.SEMICOLON]
    if semicolons and semicolons != [len(tokens) - 1]:
        raise UnsafeQuery("Exactly one statement is allowed.")


# ----------------------------------------------------------------------------------------- SQLite
def _sqlite_path(store: Store) -> str:
    database = store.engine.url.database
    if not database or database == ":memory:":
        raise ConfigurationError("Instant playlists need a SQLite database file, not an in-memory database.")
    return str(Path(database).resolve())


def run_sqlite(store: Store, sql: str, *, timeout_s: float) -> list[ChatSong]:
    """``sql`` (one statement) on its own read-only connection, under the authorizer, within ``timeout_s``,
    with no value longer than ``MAX_VALUE_CHARS``."""
    _refuse_control_characters(sql)
    path = _sqlite_path(store)
    conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=min(5.0, timeout_s),
                           check_same_thread=False, isolation_level=None)
    deadline = time.monotonic() + timeout_s
    try:
        _limit_connection(conn)
        sqlite_functions.register(conn, deadline=deadline, max_chars=MAX_VALUE_CHARS)
        conn.set_authorizer(_authorizer)
        conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, PROGRESS_STEPS)
        try:
            cur = conn.execute(sql)  # sqlite3 itself refuses a second statement
            names = [d[0] for d in cur.description or ()]
            rows = cur.fetchmany(MAX_ROWS)
        except sqlite3.Warning as exc:  # "You can only execute one statement at a time."
            raise UnsafeQuery(f"Exactly one statement is allowed ({exc}).") from exc
        except sqlite3.Error as exc:
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, sqlite_functions.StatementTimeout) or time.monotonic() > deadline \
                    or "interrupted" in str(exc):
                raise QueryFailed(f"The query ran longer than {timeout_s:g} s and was stopped.") from exc
            if isinstance(cause, sqlite_functions.ValueTooLong) or "too big" in str(exc):
                raise QueryFailed(f"The query built a value longer than {MAX_VALUE_CHARS} characters "
                                  "and was stopped.") from exc
            if "not authorized" in str(exc) or "prohibited" in str(exc):
                raise QueryFailed(f"The query was refused by the database: {exc}. Only {TABLE} can be read.") from exc
            raise QueryFailed(f"The query failed: {_first_line(exc)}") from exc
    finally:
        conn.close()
    return _songs(names, rows)


def _limit_connection(conn: sqlite3.Connection) -> None:
    """Bounds SQLite itself enforces on this connection: value length (so ``replace`` cannot build 100
    million characters), expression depth, UNION arms; and LIKE that is case-sensitive, as in PostgreSQL.
    Set before the authorizer, which denies every PRAGMA."""
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_CHARS)
    conn.setlimit(sqlite3.SQLITE_LIMIT_EXPR_DEPTH, 200)
    conn.setlimit(sqlite3.SQLITE_LIMIT_COMPOUND_SELECT, 50)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 1000)
    conn.setlimit(sqlite3.SQLITE_LIMIT_FUNCTION_ARG, 100)
    conn.execute("PRAGMA case_sensitive_like = ON")


_SQLITE_ALLOWED_CALLS = {n.lower() for n in ALLOWED_FUNCTION_NAMES} | set(sqlite_functions.NAMES) | {
    "instr", "iif", "like", "likely", "typeof", "pow", "ceiling"}


def _authorizer(action: int, arg1, arg2, db_name, _trigger) -> int:
    """Reads of ``score`` and calls of allowed functions; nothing else, not even other tables' reads."""
    if action == sqlite3.SQLITE_SELECT:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_READ:
        return sqlite3.SQLITE_OK if (arg1 or "").lower() == TABLE and db_name in ("main", None) else sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_OK if (arg2 or "").lower() in _SQLITE_ALLOWED_CALLS else sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_DENY


# ----------------------------------------------------------------------------------------- both
def _songs(names: list[str], rows) -> list[ChatSong]:
    lowered = [n.lower() for n in names]
    if "item_id" not in lowered:
        raise QueryFailed("The query must select item_id (with title and author).")
    idx = {n: lowered.index(n) for n in ("item_id", "title", "author") if n in lowered}
    out: list[ChatSong] = []
    seen: set[str] = set()
    for row in rows:
        item_id = row[idx["item_id"]]
        if item_id is None or str(item_id) in seen or len(str(item_id)) > MAX_ITEM_ID_CHARS:
            continue
        seen.add(str(item_id))
        out.append(ChatSong(str(item_id), _text(row, idx.get("title")), _text(row, idx.get("author"))))
    return out


def _text(row, i: int | None) -> str | None:
    return None if i is None or row[i] is None else str(row[i])[:MAX_TEXT_CHARS]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
