"""Safety is the feature: the hostile corpus (tests/chat/hostile.py, 70+ statements) is refused by the
guard or fails harmlessly when run, on SQLite and PostgreSQL; the database is unchanged afterwards (every
table's row count and checksum, and on PostgreSQL the roles and grants) and no other table's data comes
back. The executor is also tested on its own, with the guard bypassed, as the second line of defence."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot

from audiomuse_ray.chat import execute
from audiomuse_ray.chat.sql_guard import MAX_ROWS, guard_sql
from audiomuse_ray.errors import QueryFailed, UnsafeQuery
from tests.chat.conftest import SECRET, score_ids, snapshot
from tests.chat.hostile import ACCEPTED, HOSTILE

ROLE = "audiomuse_chat_test"
PWNED = Path("/tmp/audiomuse-pwned")


def test_the_corpus_is_large_and_mostly_refusals():
    assert len(HOSTILE) >= 40
    assert len(HOSTILE) - len(ACCEPTED) >= 40


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
@pytest.mark.parametrize("name,sql", HOSTILE, ids=[n for n, _ in HOSTILE])
def test_guard_refuses_hostile_statements(name, sql, dialect):
    if name in ACCEPTED:
        query = guard_sql(sql, dialect)
        tree = sqlglot.parse_one(query.sql, read="sqlite" if dialect == "sqlite" else "postgres")
        assert isinstance(tree, sqlglot.exp.Select)
        assert int(tree.args["limit"].expression.this) <= MAX_ROWS
        assert [t.name for t in tree.find_all(sqlglot.exp.Table)] == ["score"]
    else:
        with pytest.raises(UnsafeQuery):
            guard_sql(sql, dialect)


def _run(store, sql: str, timeout_s: float = 0.5):
    if store.dialect == "postgresql":
        return execute.run_postgres(store, sql, role=ROLE, timeout_s=timeout_s)
    return execute.run_sqlite(store, sql, timeout_s=timeout_s)


def _assert_nothing_foreign(songs, ids: set[str], *, strict: bool) -> None:
    for song in songs:
        for value in (song.item_id, song.title, song.author):
            assert SECRET not in str(value), song
        if strict:
            assert song.item_id in ids, song


def test_corpus_through_guard_and_execution_changes_nothing(seeded):
    store = seeded
    if store.dialect == "postgresql":
        execute.ensure_chat_role(store, ROLE)
    before = snapshot(store)
    ids = score_ids(store)
    ran = set()
    for name, sql in HOSTILE:
        try:
            query = guard_sql(sql, store.dialect)
        except UnsafeQuery:
            assert name not in ACCEPTED
            continue
        songs = execute.run_query(store, query, role=ROLE, timeout_s=2.0)
        assert len(songs) <= MAX_ROWS
        assert bool(songs) is (name != "string_with_statement"), name  # that one only compares a string
        _assert_nothing_foreign(songs, ids, strict=True)
        ran.add(name)
    assert ran == ACCEPTED
    assert snapshot(store) == before
    assert not PWNED.exists()


def test_executor_alone_fails_harmlessly_on_every_statement(seeded):
    """The guard bypassed: each statement as written, and on SQLite also as sqlglot transpiles it. Every
    one either fails with a typed error or returns rows that hold no other table's data."""
    store = seeded
    if store.dialect == "postgresql":
        execute.ensure_chat_role(store, ROLE)  # the grant it makes is set-up, not something a statement did
    before = snapshot(store)
    ids = score_ids(store)
    outcomes: dict[str, str] = {}
    for name, sql in HOSTILE:
        texts = [sql]
        if store.dialect == "sqlite":
            try:
                texts += [t for t in sqlglot.transpile(sql, read="postgres", write="sqlite") if t]
            except Exception:
                pass
        for text in texts:
            try:
                songs = _run(store, text)
            except (UnsafeQuery, QueryFailed) as exc:
                outcomes[name] = f"refused: {exc}"
                continue
            # a statement that got through the database's own rules read score only (PostgreSQL's catalogs
            # are readable by every role; the guard is what keeps them out)
            _assert_nothing_foreign(songs, ids, strict=False)
            outcomes.setdefault(name, "rows")
    assert snapshot(store) == before
    assert not PWNED.exists()
    # the database layer on its own stops the writes and the escapes
    for name in ("drop_table", "delete_all", "update_titles", "insert_row", "truncate", "stacked_drop",
                 "commit_then_drop", "cte_delete", "select_into", "for_update", "other_table", "set_role",
                 "copy_to_program", "attach_database", "pg_sleep_where"):
        assert outcomes[name].startswith("refused"), (name, outcomes[name])


def test_sqlite_connection_is_read_only_and_limited_to_score(seeded):
    if seeded.dialect != "sqlite":
        pytest.skip("SQLite's authorizer")
    with pytest.raises(QueryFailed, match="not authorized|refused"):
        execute.run_sqlite(seeded, "SELECT name AS item_id FROM sqlite_master", timeout_s=1)
    with pytest.raises(QueryFailed, match="not authorized|refused|readonly"):
        execute.run_sqlite(seeded, "SELECT name AS item_id FROM playlist", timeout_s=1)
    with pytest.raises((QueryFailed, UnsafeQuery)):
        execute.run_sqlite(seeded, "INSERT INTO score (item_id) VALUES ('x')", timeout_s=1)


def test_sqlite_time_limit_stops_a_heavy_query(seeded):
    if seeded.dialect != "sqlite":
        pytest.skip("SQLite's progress handler")
    sql = "SELECT count(*) AS item_id FROM score a, score b, score c, score d, score e, score f"
    with pytest.raises(QueryFailed, match="longer than 0.2 s"):
        execute.run_sqlite(seeded, sql, timeout_s=0.2)


@pytest.mark.postgres
def test_postgres_role_reads_score_only_and_time_limit_holds(seeded):
    store = seeded
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL role")
    execute.ensure_chat_role(store, ROLE)
    with store.connect() as conn:
        from sqlalchemy import text

        powers = conn.execute(text("SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles "
                                   "WHERE rolname = :r"), {"r": ROLE}).one()
        assert tuple(powers) == (False, False, False, False)
        for table in ("playlist", "task_status", "embedding", "audiomuse_meta", "index_store", "analysis_error"):
            assert not conn.execute(text("SELECT has_table_privilege(:r, :t, 'SELECT')"), {"r": ROLE, "t": table}).scalar()
        for privilege, expected in (("SELECT", True), ("INSERT", False), ("UPDATE", False), ("DELETE", False)):
            assert conn.execute(text("SELECT has_table_privilege(:r, 'score', :p)"),
                                {"r": ROLE, "p": privilege}).scalar() is expected
    songs = execute.run_postgres(store, "SELECT current_user AS item_id, title, author FROM score",
                                 role=ROLE, timeout_s=2)
    assert songs[0].item_id == ROLE  # the statement really ran as the chat role
    heavy = "SELECT count(*) AS item_id FROM score a, score b, score c, score d, score e, score f"
    with pytest.raises(QueryFailed, match="longer than 0.3 s"):
        execute.run_postgres(store, heavy, role=ROLE, timeout_s=0.3)
    # the pooled connection is back to normal afterwards: writable, no role, no time limit
    with store.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT current_user")).scalar() != ROLE
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "0"
        assert conn.execute(text("SHOW transaction_read_only")).scalar() == "off"


def test_no_file_was_written_outside_the_database():
    assert not PWNED.exists()
    assert not Path("/tmp/audiomuse-score.csv").exists()
