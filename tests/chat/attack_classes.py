"""Statements for each class of attack on the instant-playlist guard, generated rather than listed one by
one, so that each class is tried in many spellings (case, quoting, qualifiers, positions in the statement).
Every statement here must be refused by the guard on both databases."""

from __future__ import annotations

from itertools import product

KEYWORD_FUNCTIONS = ["user", "current_user", "session_user", "current_role", "current_catalog",
                     "current_schema", "system_user", "localtime", "current_timestamp", "localtimestamp"]
SYSTEM_COLUMNS = ["xmin", "xmax", "cmin", "cmax", "ctid", "tableoid", "oid", "rowid", "_rowid_"]
FIELD_FUNCTIONS = ["to_json", "row_to_json", "quote_literal", "pg_typeof", "json_agg", "to_jsonb", "array_agg",
                   "string_agg", "textin", "pg_column_size", "hstore", "version"]
PLACES = [
    "SELECT {x} AS item_id, title, author FROM score{alias}",
    "SELECT item_id, title, author FROM score{alias} WHERE {x} IS NOT NULL",
    "SELECT item_id, title, author FROM score{alias} WHERE {x} = 'postgres'",
    "SELECT item_id, title, author FROM score{alias} ORDER BY {x}",
    "SELECT item_id, title, author FROM score{alias} WHERE length(CAST({x} AS text)) > 3",
    "SELECT item_id, {x} AS title, author FROM score{alias} GROUP BY item_id, title, author",
    "SELECT item_id, title, author FROM score{alias} WHERE item_id IN (SELECT item_id FROM score WHERE {x} > '')",
]


def keyword_functions() -> list[str]:
    out = []
    for word, place in product(KEYWORD_FUNCTIONS, PLACES):
        for spelling in (word, word.upper(), f'"{word}"'):
            out.append(place.format(x=spelling, alias=""))
    # keywords dressed as aliases, so that a later bare use would read the server's value
    out += [f"SELECT item_id, title AS {w}, author FROM score ORDER BY {w}" for w in KEYWORD_FUNCTIONS]
    return out


def nul_and_controls() -> list[str]:
    chars = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u200b", "\u202e", "\u2066", "\ufeff"]
    out = []
    for c in chars:
        out += [f"SELECT item_id, title, author FROM score WHERE session_user{c}x = 'postgres'",
                f"SELECT item_id, title, author FROM score WHERE title = 'a{c}'",
                f"SELECT item_id, title, author FROM score{c}; DROP TABLE score",
                f"```sql\nSELECT item_id, title, author FROM score -- {c}\n```"]
    return out


def field_notation_and_system_columns() -> list[str]:
    out = []
    for fn, (table, alias) in product(FIELD_FUNCTIONS, [("s", " s"), ("score", ""), ("x", " AS x")]):
        out += [f"SELECT {table}.{fn} AS item_id, title, author FROM score{alias}",
                f"SELECT item_id, title, author FROM score{alias} WHERE length(CAST({table}.{fn} AS text)) > 0",
                f"SELECT item_id, title, author FROM score{alias} ORDER BY {table}.{fn}"]
    for column, place in product(SYSTEM_COLUMNS, PLACES[:4]):
        out += [place.format(x=column, alias=""), place.format(x=f"s.{column}", alias=" s")]
    out += ["SELECT s AS item_id, title, author FROM score s",  # the whole row
            "SELECT item_id, title, author FROM score s WHERE CAST(s AS text) LIKE '%'",
            "SELECT (s).title AS item_id, title, author FROM score s",
            "SELECT item_id, title, author FROM score AS title",  # a table alias shadowing a column
            "SELECT score AS item_id, title, author FROM score",
            "SELECT public.score.title AS item_id, title, author FROM public.score",
            "SELECT item_id, title, author FROM score AS s(a, b, c)"]
    return out


def deep_nesting() -> list[str]:
    base = "SELECT item_id, title, author FROM score WHERE "
    out = []
    for n in (21, 47, 60, 100, 1000):
        out += [base + "tempo > " + "(" * n + "1" + ")" * n,
                base + "title = " + "lower(" * n + "title" + ")" * n,
                base + "tempo > " + "CASE WHEN tempo > 1 THEN " * n + "1" + " END" * n,
                base + "NOT " * n + "tempo > 1",
                base + "tempo > " + "-" * n + "1",
                base + "tempo IN (" + "(SELECT tempo FROM score WHERE tempo IN (" * n + "1" + "))" * n + ")",
                "(" * n + "SELECT item_id, title, author FROM score" + ")" * n]
    return out


def long_answers() -> list[str]:
    return ["```" + " " * 20_000,
            "```sql\n" + " " * 19_990,
            "``` " * 5000,
            "SELECT item_id, title, author FROM score WHERE title IN (" + ", ".join(["'x'"] * 5000) + ")",
            "SELECT item_id, title, author FROM score WHERE title = '" + "a" * 30_000 + "'",
            "Here is the query:\n" * 2000 + "SELECT item_id FROM score",
            "<think>" + "x" * 30_000 + "</think>SELECT item_id FROM score",
            "&amp;" * 5000]


def pathological_regexes() -> list[str]:
    shapes = ["(a|a)*$", "((a)+)+$", "(a+)+$", "(a*)*b", "(a|aa)+$", "(.*a){12}", "((a|b)*)*c", "(x+x+)+y",
              "(\\w+\\s?)+$", "([a-z]+)*$", "(?:a|b?)+c", "(a{1,10}){1,10}$", "a**", "(a)\\1", "(?=a)", "(?i)a",
              "a*?", "\\bword\\b", "[[.a.]]", "[[:word:]]", "a{1000}", "\\x41", "***=a", "x{"]
    base = "SELECT item_id, title, author FROM score WHERE "
    out = []
    for shape in shapes:
        out += [base + f"title ~ '{shape}'", base + f"title ~* '{shape}'", base + f"title !~ '{shape}'",
                base + f"substring(title FROM '{shape}') IS NOT NULL",
                base + f"regexp_replace(title, '{shape}', 'x') <> ''"]
    return out


def memory_builders() -> list[str]:
    big = "b" * 65
    base = "SELECT item_id, title, author FROM score WHERE "
    return [base + f"replace(title, 'a', '{big}') <> ''",
            base + f"regexp_replace(title, '', '{big}', 'g') <> ''",
            base + "replace(replace(replace(title, 'a', 'aaaaaaaaaa'), 'a', 'aaaaaaaaaa'), 'a', 'aaaaaaaaaa') <> ''",
            base + "regexp_replace(regexp_replace(regexp_replace(title, '', 'aaaa', 'g'), '', 'aaaa', 'g'), '', 'a', 'g') <> ''",
            "SELECT json_agg(s) AS item_id, '' AS title, '' AS author FROM score s",
            "SELECT string_agg(item_id, ',') AS item_id, '' AS title, '' AS author FROM score",
            "SELECT array_agg(title) AS item_id, '' AS title, '' AS author FROM score",
            "SELECT group_concat(title) AS item_id, '' AS title, '' AS author FROM score",
            "SELECT repeat('x', 100000000) AS item_id, title, author FROM score",
            "SELECT lpad(title, 100000000, 'x') AS item_id, title, author FROM score"]


CLASSES = {
    "keyword_functions": keyword_functions,
    "nul_and_controls": nul_and_controls,
    "field_notation_and_system_columns": field_notation_and_system_columns,
    "deep_nesting": deep_nesting,
    "long_answers": long_answers,
    "pathological_regexes": pathological_regexes,
    "memory_builders": memory_builders,
}
