"""Each class of attack from the instant-playlist review (issue #16), generated in many spellings
(tests/chat/attack_classes.py): refused by the guard on both databases, quickly, always as ``UnsafeQuery``;
and the executors' own second line (NUL bytes, linear-time regular expressions, bounded values) tested with
the guard bypassed."""

from __future__ import annotations

import resource
import threading
import time

import pytest

from audiomuse_ray.chat import execute
from audiomuse_ray.chat.sql_guard import guard_sql
from audiomuse_ray.errors import QueryFailed, UnsafeQuery
from tests.chat.attack_classes import CLASSES
from tests.chat.conftest import snapshot

ROLE = "audiomuse_chat_test"
SLOW_PATTERN = "a*" * 12 + "b"  # flat, so the guard accepts it; a backtracking engine needs ~n^12 steps


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_statement_of_the_class_is_refused_quickly(name, dialect):
    statements = CLASSES[name]()
    assert len(statements) >= 8
    for sql in statements:
        # the guard's own CPU time, not the wall clock: the suite shares its cores with other work, and a
        # statement that waits for a core has not cost more to check
        started = time.thread_time()
        with pytest.raises(UnsafeQuery):
            guard_sql(sql, dialect)
        took = time.thread_time() - started
        # a few milliseconds per kilobyte, with room for a slow machine (the quadratic cleaner took 3.5 s)
        assert took < 0.15 + 0.02 * len(sql) / 1024, (name, sql[:80], took)


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_refusals_are_sentences_not_crashes(dialect):
    for name, make in CLASSES.items():
        for sql in make():
            try:
                guard_sql(sql, dialect)
            except UnsafeQuery as exc:
                message = str(exc)
                assert message and message[0].isupper() and len(message) < 600, (name, message)


def test_good_forms_are_accepted_on_both():
    for sql in ["SELECT item_id, title, author FROM score WHERE title IS DISTINCT FROM 'x'",
                "SELECT item_id, title, author FROM score WHERE title IS NOT DISTINCT FROM 'x'",
                "SELECT item_id, title, author FROM score WHERE title ILIKE ANY (ARRAY['%rain%', '%storm%'])",
                "SELECT item_id, title, author FROM score WHERE author NOT ILIKE ALL (ARRAY['%x%', '%y%'])",
                "SELECT item_id, title, author FROM score WHERE author = ANY (ARRAY['A', 'B'])",
                "SELECT regexp_replace(regexp_replace(title, 'a', 'b'), 'c', 'd', 'g') AS item_id, title, author FROM score",
                "SELECT item_id, title, author FROM score WHERE title ~ '[[:digit:]]+' AND title ~* '^s(?:o|a)ng'",
                "SELECT item_id, title, author FROM score WHERE substring(title FROM '([0-9]+)') IS NOT NULL",
                "SELECT item_id, title AS song_title, author FROM score s WHERE s.tempo > 100 ORDER BY song_title",
                f"SELECT item_id, title, author FROM score WHERE title ~ '{SLOW_PATTERN}'"]:
        for dialect in ("postgresql", "sqlite"):
            guard_sql(sql, dialect)


def _run(store, sql: str, timeout_s: float = 2.0):
    if store.dialect == "postgresql":
        return execute.run_postgres(store, sql, role=ROLE, timeout_s=timeout_s)
    return execute.run_sqlite(store, sql, timeout_s=timeout_s)


def test_executors_refuse_nul_and_control_characters_themselves(seeded):
    before = snapshot(seeded)
    for sql in ["SELECT session_user\x00x AS item_id, title, author FROM score",
                "SELECT item_id, title, author FROM score WHERE title = 'a\x00'",
                "SELECT item_id, title, author FROM score\x1b"]:
        with pytest.raises(UnsafeQuery, match="control character"):
            _run(seeded, sql)
    assert snapshot(seeded) == before


def _long_title_row(store) -> None:
    from sqlalchemy import update

    from audiomuse_ray.store.schema import score

    with store.begin() as conn:
        conn.execute(update(score).where(score.c.item_id == "song001").values(title="a" * 5000 + "!"))


def test_sqlite_regex_runs_in_linear_time_without_stalling_other_threads(seeded):
    """The executor alone (the guard accepts this flat pattern): Python's backtracking ``re`` would need
    about 5000^12 steps on the long title and hold the GIL throughout; RE2 answers at once."""
    if seeded.dialect != "sqlite":
        pytest.skip("SQLite runs regular expressions in this process")
    _long_title_row(seeded)
    sql = guard_sql(f"SELECT item_id, title, author FROM score WHERE title ~ '{SLOW_PATTERN}' "
                    f"OR regexp_replace(title, '{SLOW_PATTERN}', 'x', 'g') = 'x'", "sqlite")
    ticks: list[float] = []
    done = threading.Event()

    def other_work() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    ticker = threading.Thread(target=other_work)
    ticker.start()
    started = time.perf_counter()
    try:
        for _ in range(20):
            assert execute.run_query(seeded, sql, role=ROLE, timeout_s=5.0) == []
    finally:
        done.set()
        ticker.join()
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert max(gaps, default=0) < 0.5  # the other thread kept running


def test_sqlite_values_are_bounded_before_they_are_built(seeded):
    if seeded.dialect != "sqlite":
        pytest.skip("SQLite's own limits")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    thousand = "a" * 1000
    for sql in [f"SELECT replace(replace(replace(title, 'S', '{thousand}'), 'a', '{thousand}'), 'a', '{thousand}') "
                "AS item_id, title, author FROM score",
                "SELECT re_replace(re_replace(re_replace(title, '', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'g'), "
                "'', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'g'), '', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'g') "
                "AS item_id, title, author FROM score",
                "SELECT concat(title, replace(replace(title, 'S', '" + thousand + "'), 'a', '" + thousand + "')) "
                "AS item_id, title, author FROM score",
                "SELECT zeroblob(100000000) AS item_id, title, author FROM score",
                "SELECT printf('%.*c', 100000000, 'x') AS item_id, title, author FROM score"]:
        with pytest.raises(QueryFailed):
            execute.run_sqlite(seeded, sql, timeout_s=5.0)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 60, grown_mb  # +195 MB before the limits


@pytest.mark.postgres
def test_postgres_timeout_still_holds_for_an_accepted_slow_pattern(seeded):
    if seeded.dialect != "postgresql":
        pytest.skip("PostgreSQL's own engine and timeout")
    execute.ensure_chat_role(seeded, ROLE)
    _long_title_row(seeded)
    sql = guard_sql(f"SELECT item_id, title, author FROM score WHERE title ~ '{SLOW_PATTERN}'", "postgresql")
    started = time.perf_counter()
    try:
        assert execute.run_query(seeded, sql, role=ROLE, timeout_s=1.0) == []
    except QueryFailed as exc:
        assert "longer than 1 s" in str(exc)
    assert time.perf_counter() - started < 5.0


def test_rows_are_capped_whatever_the_statement(seeded):
    if seeded.dialect == "postgresql":
        execute.ensure_chat_role(seeded, ROLE)
    for sql in ["SELECT item_id, title, author FROM score UNION ALL SELECT item_id, title, author FROM score",
                "SELECT item_id, title, author FROM score LIMIT 1000",
                "SELECT item_id, title, author FROM (SELECT item_id, title, author FROM score UNION ALL "
                "SELECT item_id, title, author FROM score) AS mixed"]:
        for dialect_sql in (sql, guard_sql(sql, seeded.dialect).sql):
            assert len(_run(seeded, dialect_sql)) <= 25
