"""Property-based: statements generated from a small SQL grammar over ``score`` and other names (other
tables, catalogs, keyword functions, system columns, field notation, disallowed functions, odd regular
expressions, deep nesting, control characters, stacked statements). The guard only ever raises
``UnsafeQuery``; what it accepts, run by the executor, reads only ``score``, returns at most 25 rows and ends
within the time limit, on SQLite and on PostgreSQL, and leaves the database as it was."""

from __future__ import annotations

import functools
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audiomuse_ray.chat import execute
from audiomuse_ray.chat.sql_guard import MAX_ROWS, guard_sql
from audiomuse_ray.errors import QueryFailed, UnsafeQuery
from audiomuse_ray.store.schema import score
from tests.chat.conftest import SECRET, snapshot

ROLE = "audiomuse_chat_test"
TIMEOUT_S = 0.5
COLUMNS = [c.name for c in score.columns]
FOREIGN_NAMES = ["user", "current_user", "session_user", "current_role", "current_schema", "xmin", "ctid", "oid",
                 "rowid", "tableoid", "rolname", "rolpassword", "value", "details", "name", "sql", "s", "score",
                 "secret", "vector", "task_id"]
QUALIFIERS = ["", "", "", "s.", "score.", "x.", "public.score.", "pg_catalog.", "main."]
GOOD_FUNCTIONS = ["lower", "upper", "length", "abs", "coalesce", "trim", "round", "floor", "max", "min", "count"]
BAD_FUNCTIONS = ["pg_sleep", "version", "to_json", "json_agg", "string_agg", "pg_read_file", "current_setting",
                 "repeat", "lpad", "set_config", "txid_current", "nextval", "group_concat", "load_extension",
                 "readfile", "row_to_json", "query_to_xml", "dblink", "pg_typeof"]
TABLES = ["score", "score", "score s", "public.score", "score AS x", "playlist", "pg_catalog.pg_authid",
          "sqlite_master", "score, playlist", "score JOIN task_status ON true", "(SELECT * FROM score) AS sub",
          "(SELECT item_id, title, author FROM score UNION ALL SELECT task_id, details, status FROM task_status) AS u",
          "generate_series(1, 1000000)", "score TABLESAMPLE SYSTEM (50)"]
REGEX_ALPHABET = "ab|()*+?{}[]^$.\\:1dswbB,-"
TEXT_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",))


@functools.cache  # one strategy object: Hypothesis validates each new one whole, per draw
def _names() -> st.SearchStrategy[str]:
    name = st.sampled_from(COLUMNS + COLUMNS + FOREIGN_NAMES)
    return st.builds(lambda q, n, quoted: q + (f'"{n}"' if quoted else n), st.sampled_from(QUALIFIERS), name,
                     st.booleans())


@functools.cache
def _literals() -> st.SearchStrategy[str]:
    text = st.text(TEXT_ALPHABET, max_size=12).map(lambda s: "'" + s.replace("'", "''") + "'")
    return st.one_of(st.integers(-5, 300).map(str), st.floats(0, 1, allow_nan=False).map(lambda f: f"{f:.3f}"),
                     text, st.sampled_from(["NULL", "TRUE", "'%a%'", "'rock'", "E'\\x41'", "$$x$$"]))


@functools.cache
def _regex() -> st.SearchStrategy[str]:
    return st.one_of(st.text(REGEX_ALPHABET, max_size=12),
                     st.sampled_from(["(?:^|,)rock:([0-9.]+)", "(a|a)*$", "((a)+)+$", "[[:digit:]]", "\\d+"]))


@functools.cache
def _expressions() -> st.SearchStrategy[str]:
    leaves = st.one_of(_names(), _literals())

    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.builds(lambda f, a: f"{f}({a})", st.sampled_from(GOOD_FUNCTIONS + BAD_FUNCTIONS), inner),
            st.builds(lambda a, op, b: f"{a} {op} {b}", inner,
                      st.sampled_from(["=", "<>", ">", "+", "||", "AND", "OR", "IS DISTINCT FROM", "LIKE"]), inner),
            inner.map(lambda a: f"({a})"),
            inner.map(lambda a: f"NOT {a}"),
            st.builds(lambda a, b, c: f"CASE WHEN {a} THEN {b} ELSE {c} END", inner, inner, inner),
            st.builds(lambda a, r: f"{a} ~ '{r.replace(chr(39), chr(39) * 2)}'", inner, _regex()),
            st.builds(lambda a, r: f"substring({a} FROM '{r.replace(chr(39), chr(39) * 2)}')", inner, _regex()),
            st.builds(lambda a, r: f"regexp_replace({a}, '{r.replace(chr(39), chr(39) * 2)}', 'x', 'g')", inner, _regex()),
            st.builds(lambda a, items: f"{a} ILIKE ANY (ARRAY[{', '.join(items)}])", inner,
                      st.lists(_literals(), min_size=1, max_size=3)),
            st.builds(lambda a, t: f"CAST({a} AS {t})", inner, st.sampled_from(["float", "text", "regclass", "int"])),
            st.builds(lambda n, t: f"(SELECT {n} FROM {t} LIMIT 1)", _names(), st.sampled_from(TABLES)),
            st.builds(lambda n, d: "(" * d + n + ")" * d, inner, st.integers(0, 30)),
        )

    return st.recursive(leaves, grow, max_leaves=8)


@st.composite
def statements(draw) -> str:
    columns = draw(st.sampled_from(["item_id, title, author", "*", "item_id", "title AS item_id, title, author",
                                    None]))
    if columns is None:
        columns = ", ".join(f"{draw(_expressions())} AS {alias}" for alias in ("item_id", "title", "author"))
    sql = f"SELECT {columns} FROM {draw(st.sampled_from(TABLES))}"
    if draw(st.booleans()):
        sql += f" WHERE {draw(_expressions())}"
    if draw(st.booleans()):
        sql += f" ORDER BY {draw(_expressions())}"
    if draw(st.booleans()):
        sql += f" LIMIT {draw(st.integers(0, 10**9))}"
    wrapper = draw(st.sampled_from(["{}", "{}", "```sql\n{}\n```", "Here you go:\n{}", "{}; DROP TABLE score",
                                    "WITH w AS (SELECT 1) {}", "{} UNION SELECT name, sql, type FROM sqlite_master",
                                    "{}\x00", "{} -- \u202e", "/* */ {}"]))
    return wrapper.format(sql)


def test_the_grammar_reaches_both_outcomes():
    """Not a property: the fuzzer is only useful if it also generates statements the guard accepts."""
    accepted = refused = 0

    @given(statements())
    @settings(max_examples=150, deadline=None, database=None)
    def count(sql: str) -> None:
        nonlocal accepted, refused
        try:
            guard_sql(sql, "postgresql")
            accepted += 1
        except UnsafeQuery:
            refused += 1

    count()
    assert accepted >= 10 and refused >= 50, (accepted, refused)


@given(statements(), st.sampled_from(["postgresql", "sqlite"]))
@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
def test_guard_raises_only_refusals(sql, dialect):
    try:
        query = guard_sql(sql, dialect)
    except UnsafeQuery as exc:
        assert str(exc)
        return
    assert query.sql.endswith(tuple(f"LIMIT {n}" for n in range(MAX_ROWS + 1)))


def test_what_the_guard_accepts_reads_only_score(seeded):
    store = seeded
    if store.dialect == "postgresql":
        execute.ensure_chat_role(store, ROLE)
    before = snapshot(store)
    ran = 0

    @given(statements())
    @settings(max_examples=100, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    def run(sql: str) -> None:
        nonlocal ran
        try:
            query = guard_sql(sql, store.dialect)
        except UnsafeQuery:
            return
        started = time.perf_counter()
        try:
            songs = execute.run_query(store, query, role=ROLE, timeout_s=TIMEOUT_S)
        except QueryFailed:
            songs = []
        assert time.perf_counter() - started < TIMEOUT_S + 2.0, sql
        assert len(songs) <= MAX_ROWS
        for song in songs:
            assert SECRET not in f"{song.item_id}{song.title}{song.author}", sql
        ran += 1

    run()
    assert ran >= 5
    assert snapshot(store) == before


@pytest.mark.parametrize("depth", [19, 20, 21, 60, 500])
def test_nesting_at_and_past_the_limit_never_crashes(depth):
    sql = "SELECT item_id, title, author FROM score WHERE tempo > " + "(" * depth + "1" + ")" * depth
    for dialect in ("postgresql", "sqlite"):
        try:
            guard_sql(sql, dialect)
        except UnsafeQuery:
            assert depth > 18
