"""Running a guarded instant-playlist statement read-only, with a time limit: the one place outside
``store/`` that executes SQL, and only SQL that ``chat.guard`` produced.

PostgreSQL: a dedicated role (``Settings.chat_db_user``; created NOLOGIN if missing, granted SELECT on
``score`` and nothing else) is taken with ``SET LOCAL ROLE`` inside ``BEGIN READ ONLY`` with
``SET LOCAL statement_timeout``; the transaction is always rolled back, so every setting ends with it.

The statement runs as ``DECLARE ... CURSOR FOR <statement>``, which PostgreSQL accepts only for a SELECT,
and at most ``MAX_ROWS`` rows are fetched from it.

SQLite: a separate connection opened ``mode=ro`` (the file cannot be written through it), an authorizer
that allows reading the columns of ``score`` and calling the guard's functions and denies everything else
(other tables, ``sqlite_master``, ATTACH, PRAGMA, writes), and a progress handler that aborts the
statement after the time limit. The regular-expression functions PostgreSQL has and SQLite lacks are
registered on that connection (Python ``re``; each call checks the deadline too).

Both return at most ``guard.MAX_ROWS`` songs as ``ChatSong`` (item_id, title, author): columns other than
these three are never passed on.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

from audiomuse_ray.chat.guard import (ALLOWED_FUNCTION_NAMES, MAX_ROWS, SQLITE_FUNCTIONS, TABLE, GuardedQuery,
                                      check_pattern)
from audiomuse_ray.errors import ConfigurationError, QueryFailed, UnsafeQuery
from audiomuse_ray.store import Store

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
PROGRESS_STEPS = 1000  # SQLite virtual-machine instructions between two looks at the clock


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
        raise TypeError("run_query takes only what chat.guard.guard_sql returned")
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
    """``sql`` (one statement) on its own read-only connection, under the authorizer, within ``timeout_s``."""
    path = _sqlite_path(store)
    conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=min(5.0, timeout_s),
                           check_same_thread=False, isolation_level=None)
    deadline = time.monotonic() + timeout_s
    try:
        _register_functions(conn, deadline)
        conn.set_authorizer(_authorizer)
        conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, PROGRESS_STEPS)
        try:
            cur = conn.execute(sql)  # sqlite3 itself refuses a second statement
            names = [d[0] for d in cur.description or ()]
            rows = cur.fetchmany(MAX_ROWS)
        except sqlite3.Warning as exc:  # "You can only execute one statement at a time."
            raise UnsafeQuery(f"Exactly one statement is allowed ({exc}).") from exc
        except (sqlite3.Error, _Timeout) as exc:
            if isinstance(exc, _Timeout) or time.monotonic() > deadline or "interrupted" in str(exc):
                raise QueryFailed(f"The query ran longer than {timeout_s:g} s and was stopped.") from exc
            if "not authorized" in str(exc) or "prohibited" in str(exc):
                raise QueryFailed(f"The query was refused by the database: {exc}. Only {TABLE} can be read.") from exc
            raise QueryFailed(f"The query failed: {_first_line(exc)}") from exc
    finally:
        conn.close()
    return _songs(names, rows)


_SQLITE_ALLOWED_CALLS = {n.lower() for n in ALLOWED_FUNCTION_NAMES} | set(SQLITE_FUNCTIONS) | {
    "instr", "regexp", "regexp_i_like", "iif", "like", "likely", "typeof", "pow", "ceiling"}


def _authorizer(action: int, arg1, arg2, db_name, _trigger) -> int:
    """Reads of ``score`` and calls of allowed functions; nothing else, not even other tables' reads."""
    if action == sqlite3.SQLITE_SELECT:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_READ:
        return sqlite3.SQLITE_OK if (arg1 or "").lower() == TABLE and db_name in ("main", None) else sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_OK if (arg2 or "").lower() in _SQLITE_ALLOWED_CALLS else sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_DENY


class _Timeout(Exception):
    pass


def _register_functions(conn: sqlite3.Connection, deadline: float) -> None:
    """PostgreSQL's regular-expression idioms for SQLite, with PostgreSQL's meaning."""

    def checked(fn):
        def call(*args):
            if time.monotonic() > deadline:
                raise _Timeout()
            if any(a is None for a in args):
                return None
            return fn(*args)
        return call

    def substring(text, pattern):  # the first parenthesised group when there is one, else the whole match
        m = _pattern(pattern).search(str(text))
        if m is None:
            return None
        return m.group(1) if m.re.groups else m.group(0)

    def replace(text, pattern, repl, flags=""):
        count = 0 if "g" in flags else 1
        return _pattern(pattern, "i" in flags).sub(_pg_replacement(repl), str(text), count=count)

    def split_part(text, delimiter, n):
        parts = str(text).split(str(delimiter)) if delimiter else [str(text)]
        n = int(n)
        return parts[n - 1] if 1 <= n <= len(parts) else ""

    conn.create_function("regexp_substring", 2, checked(substring), deterministic=True)
    conn.create_function("re_replace", 3, checked(replace), deterministic=True)
    conn.create_function("re_replace", 4, checked(replace), deterministic=True)
    conn.create_function("regexp", 2, checked(lambda p, s: 1 if _pattern(p).search(str(s)) else 0),
                         deterministic=True)
    conn.create_function("regexp_i_like", 2, checked(lambda s, p: 1 if _pattern(p, True).search(str(s)) else 0),
                         deterministic=True)
    conn.create_function("split_part", 3, checked(split_part), deterministic=True)
    conn.create_function("concat", -1, lambda *a: "".join("" if x is None else str(x) for x in a), deterministic=True)


@functools.lru_cache(maxsize=256)
def _pattern(pattern: str, ignore_case: bool = False) -> re.Pattern:
    """A pattern the guard would accept, compiled: Python's ``re`` backtracks, and a call cannot be
    interrupted once it runs, so nested repetition is refused here too, not only by the guard."""
    check_pattern(exp.Literal.string(str(pattern)))
    return re.compile(str(pattern), re.I if ignore_case else 0)


def _pg_replacement(repl: str) -> str:
    """PostgreSQL's ``\\1`` and ``\\&`` in a replacement, as Python's ``re.sub`` wants them."""
    return str(repl).replace("\\&", "\\g<0>")


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
        if item_id is None or str(item_id) in seen:
            continue
        seen.add(str(item_id))
        out.append(ChatSong(str(item_id), _text(row, idx.get("title")), _text(row, idx.get("author"))))
    return out


def _text(row, i: int | None) -> str | None:
    return None if i is None or row[i] is None else str(row[i])


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
