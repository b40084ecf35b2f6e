"""The guard's cleaning, rewriting and limits, and the prompt's idioms: pure, plus the idioms run on both
databases (the expression the model is told to use really reads the text lists)."""

from __future__ import annotations

import pytest
import sqlglot

from audiomuse_ray.chat import execute, keywords
from audiomuse_ray.chat.sql_guard import ALLOWED_FUNCTION_NAMES, MAX_ROWS, guard_sql
from audiomuse_ray.chat.sql_text import clean
from audiomuse_ray.chat.prompt import FEATURE_LABELS, IDIOMS, TAG_LABELS, build_prompt, build_retry_prompt, feature_score
from audiomuse_ray.errors import UnsafeQuery

GOOD = "SELECT item_id, title, author FROM score WHERE tempo > 120 ORDER BY random() LIMIT 100"


def test_clean_takes_the_fenced_sql_and_drops_prose():
    raw = "Here is your playlist query:\n```sql\nSELECT item_id, title, author FROM score;\n```\nEnjoy!"
    assert clean(raw) == "SELECT item_id, title, author FROM score"
    assert clean("Sure, here it is:\nSELECT item_id FROM score") == "SELECT item_id FROM score"


def test_clean_keeps_prose_that_holds_a_statement_keyword():
    # trimming "DELETE ...;" away would run the SELECT behind it: the whole answer must be refused instead
    with pytest.raises(UnsafeQuery):
        guard_sql("delete from score where 1=1;\nSELECT item_id FROM score")


def test_apostrophes_inside_words_are_escaped_and_quotes_normalised():
    sql = clean("SELECT item_id, title, author FROM score WHERE title = \u2018Don't Stop Believin\u2019")
    assert "'Don''t Stop Believin'" in sql
    query = guard_sql("SELECT item_id, title, author FROM score WHERE author = 'Guns N' || 'Roses'")
    assert query.sql.startswith('SELECT "item_id", "title", "author" FROM "score" WHERE "author" = \'Guns N\' || \'Roses\'')


def test_non_ascii_is_normalised_outside_literals_only():
    query = guard_sql("SELECT item_id, title, author FROM score WHERE author ILIKE '%Beyonc\u00e9%' "
                      "AND title <> 'Bj\u00f6rk''s' AND \uff54empo > 1")
    assert "'%Beyonc\u00e9%'" in query.sql and "'Bj\u00f6rk''s'" in query.sql and '"tempo" > 1' in query.sql


@pytest.mark.parametrize("given,expected", [(None, MAX_ROWS), (100, MAX_ROWS), (10, 10), (25, 25)])
def test_limit_is_forced_to_25_or_less(given, expected):
    sql = "SELECT item_id, title, author FROM score" + (f" LIMIT {given}" if given else "")
    for dialect in ("postgresql", "sqlite"):
        tree = sqlglot.parse_one(guard_sql(sql, dialect).sql, read="sqlite" if dialect == "sqlite" else "postgres")
        assert int(tree.args["limit"].expression.this) == expected


def test_union_all_is_limited_as_a_whole():
    sql = ("SELECT item_id, title, author FROM score WHERE tempo > 150 UNION ALL "
           "SELECT item_id, title, author FROM score WHERE tempo < 80")
    query = guard_sql(sql)
    assert query.sql.endswith("LIMIT 25") and "UNION ALL" in query.sql


COMMENTED = "SELECT item_id, title, author FROM score WHERE title = 'a' "


@pytest.mark.parametrize("tail", [
    "/* /* */ OR current_role = 'x' */",  # PostgreSQL nests block comments, SQLite does not
    "-- x */ OR current_user = 'x'\n",  # a line comment turned into a block one
    "-- x\r OR length(title) > 0",  # a carriage return ends a line comment
    "/*+ SeqScan(score) */",
    "/* */ /* ; DELETE FROM score */",
])
@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_no_comment_is_carried_into_what_runs(tail, dialect):
    try:
        query = guard_sql(COMMENTED + tail, dialect)
    except UnsafeQuery:
        return  # refused is as good
    assert "/*" not in query.sql and "--" not in query.sql and "*/" not in query.sql
    assert "current_" not in query.sql.lower() and "delete" not in query.sql.lower()


def test_refusal_names_the_function_and_the_allowed_list():
    with pytest.raises(UnsafeQuery) as caught:
        guard_sql("SELECT item_id, title, author FROM score WHERE pg_sleep(1) IS NULL")
    message = str(caught.value)
    assert "pg_sleep" in message.lower() and "regexp_replace" in message
    assert all(name in message for name in ALLOWED_FUNCTION_NAMES)


@pytest.mark.parametrize("sql", [
    "SELECT item_id, title, author FROM score WHERE title ~ '(x+)*y'",
    "SELECT item_id, title, author FROM score WHERE title ~ '(a)\\1'",
    "SELECT item_id, title, author FROM score WHERE title ~ '" + "a" * 300 + "'",
    "SELECT item_id, title, author FROM score WHERE title ~ '(['",
])
def test_dangerous_or_broken_patterns_are_refused(sql):
    with pytest.raises(UnsafeQuery):
        guard_sql(sql)


def test_sqlite_rewrites_postgres_idioms():
    query = guard_sql("SELECT item_id, title, author FROM public.score WHERE " + IDIOMS["postgresql"]
                      + " > 0.1 AND left(title, 1) = 'S' AND regexp_replace(title, 'S', 'T') <> ''", "sqlite")
    assert "regexp_substring".upper() in query.sql.upper() and "public." not in query.sql
    assert 'SUBSTRING("title", 1, 1)' in query.sql and "RE_REPLACE" in query.sql
    assert query.postgres_sql.startswith('SELECT "item_id", "title", "author" FROM "public"."score"')
    assert set(query.timings) == {"parse_s", "validate_s", "transpile_s"}


def test_the_idioms_read_the_text_lists_on_both_databases(seeded):
    store = seeded
    # song000 carries ambient:0.6, electronic:0.45, rock:0.3 (tests/chat/conftest.py); "rock" must not match
    # "indie rock" or "hard rock": the pattern is anchored on the list's start or a comma
    sql = (f"SELECT item_id, title, author FROM score WHERE {feature_score('mood_vector', 'rock')} >= 0.3 "
           f"AND {feature_score('mood_vector', 'ambient')} > 0.5 ORDER BY item_id")
    songs = execute.run_query(store, guard_sql(sql, store.dialect), role="audiomuse_chat_test", timeout_s=5)
    assert [s.item_id for s in songs] == ["song000", "song010"]
    none = f"SELECT item_id, title, author FROM score WHERE {feature_score('mood_vector', 'indie rock')} IS NOT NULL"
    assert execute.run_query(store, guard_sql(none, store.dialect), role="audiomuse_chat_test", timeout_s=5) == []


def test_keyword_statements_pass_the_guard():
    for request in ("calm ambient", "aggressive metal", "happy", "fast sad 80s", "energetic hip hop", "slow jazz"):
        for dialect in ("postgresql", "sqlite"):
            guard_sql(keywords.build_sql(keywords.plan(request)), dialect)


def test_prompt_holds_the_rules_schema_labels_idiom_and_request():
    prompt = build_prompt("sad songs for a rainy day")
    for needle in ("SELECT item_id, title, author FROM score", f"LIMIT {MAX_ROWS}", "UNION ALL", "CASE WHEN",
                   "'Don''t Stop'", IDIOMS["postgresql"], "other_features", "tempo", "energy"):
        assert needle in prompt, needle
    assert all(label in prompt for label in TAG_LABELS + FEATURE_LABELS)
    assert prompt.rstrip().endswith("sad songs for a rainy day")
    # the examples in the prompt are themselves accepted by the guard
    examples = [line for line in prompt.splitlines() if line.startswith("SELECT item_id, title, author FROM score")]
    assert examples
    retry = build_retry_prompt("x", "SELECT nope", "it found no songs", empty=True)
    assert "SELECT nope" in retry and "loosen" in retry and IDIOMS["postgresql"] in retry
