"""PostgreSQL and SQLite give the same rows for the forms the guard accepts: regular expressions (POSIX
classes, escapes, alternation, substring FROM, regexp_replace with groups and flags), LIKE/ILIKE and
lower/upper, on titles in many scripts. Each statement runs through the guard and the executor on both
databases holding the same rows."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from audiomuse_ray.chat import execute
from audiomuse_ray.chat.sql_guard import guard_sql
from audiomuse_ray.errors import QueryFailed
from audiomuse_ray.store import open_store
from audiomuse_ray.store.schema import score

pytestmark = pytest.mark.postgres
ROLE = "audiomuse_chat_test"
TITLES = ["Song 12", "song 3", "Björk Ångström", "ÖLAND", "the end", "The Rain", "rock:0.53,pop:0.2",
          "indie rock:0.3,rock:0.1", "abcd", "Café del Mar", "Ωmega Σ", "Привет мир", "東京 2020", "x_y z",
          "tab\there", "new\nline", "ǅx AÉ", "٣ digits", "a.b.c", " lead", "trail ", "ß straße", "ab", "ÉTÉ été", ""]
PATTERNS = ["^[[:digit:]]", "[[:alpha:]]+ [[:alpha:]]+$", "\\d{2,3}", "\\w+$", "^\\W", "\\s", "\\S+",
            "[[:upper:]][[:lower:]]+", "[[:space:]]", "(?:^|,)rock:([0-9.]+)", "a|ab", "^(the|a) ", "[^a-z]",
            ".$", "ö", "[[:xdigit:]]{2}", "^.{5}$", "x?y+z*", "[.]", "\\.", "[a-c]{2}", "(ab|a)(c|bcd)",
            "[[:alnum:]_]+", "^$", "e$", "[\\w]+", "[Ѐ-ӿ]+", "(é|e)t", "ß"]
REPLACEMENTS = [("[aeiou]", "_", "g"), ("(\\w)(\\w*)", "\\2\\1", ""), ("x*", "-", "g"), ("\\s+", " ", "g"),
                ("é", "E", "gi"), ("^", ">", "g"), ("(o)", "[\\1\\&]", "g"), ("\\d", "#", "g"), ("$", "!", "")]


@pytest.fixture(scope="module")
def both(postgres_server_url, tmp_path_factory):
    import uuid

    import psycopg2

    name = "audiomuse_same_" + uuid.uuid4().hex[:8]
    admin = psycopg2.connect(postgres_server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    stores = [open_store(f"sqlite:///{tmp_path_factory.mktemp('same') / 'a.db'}"),
              open_store(postgres_server_url.rsplit("/", 1)[0] + "/" + name)]
    rows = [{"item_id": f"t{i:02d}", "title": t, "author": "A", "mood_vector": t} for i, t in enumerate(TITLES)]
    for store in stores:
        with store.begin() as conn:
            conn.execute(insert(score), rows)
    execute.ensure_chat_role(stores[1], ROLE)
    yield stores
    for store in stores:
        store.dispose()
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _rows(stores, sql: str) -> list[list[tuple]]:
    out = []
    for store in stores:
        query = guard_sql(sql, store.dialect)
        try:
            songs = execute.run_query(store, query, role=ROLE, timeout_s=5)
        except QueryFailed as exc:
            out.append([("failed", str(exc)[:40])])
            continue
        out.append([(s.item_id, s.title) for s in songs])
    return out


@pytest.mark.parametrize("pattern", PATTERNS)
def test_matches_and_substrings_agree(both, pattern):
    escaped = pattern.replace("'", "''")
    for sql in [f"SELECT item_id, title, author FROM score WHERE title ~ '{escaped}' ORDER BY item_id",
                f"SELECT item_id, title, author FROM score WHERE title ~* '{escaped}' ORDER BY item_id",
                f"SELECT item_id, title, author FROM score WHERE title !~ '{escaped}' ORDER BY item_id",
                f"SELECT item_id, substring(title FROM '{escaped}') AS title, author FROM score ORDER BY item_id"]:
        sqlite_rows, postgres_rows = _rows(both, sql)
        assert sqlite_rows == postgres_rows, sql


@pytest.mark.parametrize("pattern,replacement,flags", REPLACEMENTS)
def test_regexp_replace_agrees(both, pattern, replacement, flags):
    sql = (f"SELECT item_id, regexp_replace(title, '{pattern}', '{replacement}', '{flags}') AS title, author "
           "FROM score ORDER BY item_id")
    sqlite_rows, postgres_rows = _rows(both, sql)
    assert sqlite_rows == postgres_rows


@pytest.mark.parametrize("condition", [
    "title LIKE '%S%'", "title LIKE 's%'", "title ILIKE '%ö%'", "title ILIKE '%STRASSE%'", "title ILIKE 'é%'",
    "lower(title) = 'öland'", "upper(title) LIKE 'ÉTÉ%'", "title ILIKE ANY (ARRAY['%rain%', '%MAR%'])",
    "title IS DISTINCT FROM 'ab'", "title NOT ILIKE ALL (ARRAY['%a%', '%e%'])", "length(title) = 5",
    "split_part(title, ' ', 2) <> ''", "concat(title, '!') LIKE '%e!'", "position('o' IN title) > 2",
    "title LIKE '_b'", "regexp_replace(regexp_replace(title, 'a', 'b', 'g'), 'b', 'c', 'g') LIKE '%cc%'",
])
def test_text_conditions_agree(both, condition):
    sqlite_rows, postgres_rows = _rows(both, f"SELECT item_id, title, author FROM score WHERE {condition} "
                                             "ORDER BY item_id")
    assert sqlite_rows == postgres_rows
