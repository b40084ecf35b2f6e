"""Every name in an instant-playlist statement resolved against the ``score`` table's real columns.

A parser reads many things as a column that a database reads otherwise: ``user`` and ``current_role`` are
functions without parentheses in PostgreSQL, ``s.to_json`` calls ``to_json(s)`` (field notation), ``xmin``
and ``ctid`` are system columns, a bare ``s`` is the whole row. So a column reference is accepted only when

- its name is a column of ``score`` or an alias this statement defines (``AS name``), and
- its qualifier, if any, is ``score`` or a table alias this statement defines;

and an alias is accepted only when it is a plain lower-case word that is no SQL keyword, no system column
and no name of another kind in the same statement. Afterwards ``canonical_identifiers`` writes every name
lower-case and quoted, so what the database reads is a column, never a keyword.
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.dialects.sqlite import SQLite

from audiomuse_ray.errors import UnsafeQuery
from audiomuse_ray.store.schema import score

TABLE = score.name
SCORE_COLUMNS = frozenset(c.name for c in score.columns)
SYSTEM_COLUMNS = frozenset({"xmin", "xmax", "cmin", "cmax", "ctid", "tableoid", "oid", "rowid", "_rowid_"})
# Words PostgreSQL reads as a function call without parentheses, whatever a parser makes of them.
KEYWORD_FUNCTIONS = frozenset({
    "user", "current_user", "session_user", "current_role", "current_catalog", "current_schema", "system_user",
    "current_date", "current_time", "current_timestamp", "localtime", "localtimestamp",
})
_PLAIN = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_KEYWORDS = frozenset(k.lower() for k in (*Postgres.Tokenizer.KEYWORDS, *SQLite.Tokenizer.KEYWORDS))


def check_names(tree: exp.Expression) -> None:
    """``UnsafeQuery`` unless every column reference and alias in ``tree`` is one of the accepted kinds."""
    column_aliases = {_alias_name(a.args.get("alias"), "column") for a in tree.find_all(exp.Alias)}
    table_aliases = set()
    for alias in tree.find_all(exp.TableAlias):
        if alias.args.get("columns"):
            raise UnsafeQuery("A table alias may not rename columns (AS t(a, b)).")
        if alias.this is not None:
            table_aliases.add(_alias_name(alias.this, "table"))
    clash = (column_aliases & table_aliases) | (table_aliases & SCORE_COLUMNS) | (table_aliases & {TABLE})
    if clash:
        raise UnsafeQuery(f"The name {sorted(clash)[0]!r} is used both for a table and for a column.")

    known_columns = SCORE_COLUMNS | column_aliases
    known_tables = {TABLE} | table_aliases
    for column in tree.find_all(exp.Column):
        if column.args.get("db") is not None or column.args.get("catalog") is not None:
            raise UnsafeQuery(f"The column {column.sql()} names a schema; only columns of {TABLE} may be read.")
        qualifier = column.args.get("table")
        if qualifier is not None:
            name = _identifier(qualifier)
            if name not in known_tables:
                raise UnsafeQuery(f"The reference {column.sql()} does not name a column of {TABLE}: {name!r} is "
                                  "not the table or an alias of it.")
        if isinstance(column.this, exp.Star):
            continue
        name = _identifier(column.this)
        if name not in known_columns:
            raise UnsafeQuery(_unknown_column(name))


def canonical_identifiers(tree: exp.Expression) -> None:
    """Every identifier lower-case and quoted (in place): ``"title"``, never a keyword's reading."""
    for ident in tree.find_all(exp.Identifier):
        ident.set("this", ident.name.lower())
        ident.set("quoted", True)


def _identifier(node: exp.Expression | None) -> str:
    if not isinstance(node, exp.Identifier):
        raise UnsafeQuery(f"The name {node.sql() if node is not None else ''} is not a plain name.")
    return node.name.lower()


def _alias_name(node: exp.Expression | None, kind: str) -> str:
    name = _identifier(node)
    if not _PLAIN.fullmatch(name):
        raise UnsafeQuery(f"The {kind} alias {name!r} must be a plain word (letters, digits, underscore).")
    if name in _KEYWORDS or name in KEYWORD_FUNCTIONS or name in SYSTEM_COLUMNS:
        raise UnsafeQuery(f"The {kind} alias {name!r} is an SQL keyword or system column; choose another name.")
    return name


def _unknown_column(name: str) -> str:
    if name in KEYWORD_FUNCTIONS:
        return f"The name {name} is not a column of {TABLE} (it is a function of the database server)."
    if name in SYSTEM_COLUMNS:
        return f"The name {name} is a system column; only the columns of {TABLE} may be read."
    return (f"The name {name!r} is not a column of {TABLE} or an alias defined in the query. "
            f"Columns: {', '.join(sorted(SCORE_COLUMNS))}.")
