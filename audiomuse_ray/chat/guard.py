"""The SQL guard: what a language model wrote becomes one read-only SELECT of ``score``, or ``UnsafeQuery``.

Pure (sqlglot only, no database). The model is asked for PostgreSQL; ``guard_sql`` then

1. cleans the text: keeps the inside of a markdown fence, drops prose before the first SELECT, unescapes
   HTML entities, turns typographic quotes into ASCII ones, normalises to ASCII (NFKD; what has no ASCII
   form is dropped, so a look-alike letter cannot smuggle a keyword through), escapes an apostrophe
   between two letters (``Don't`` -> ``Don''t``);
2. parses it as PostgreSQL and accepts exactly one statement whose every node is of an allowed kind
   (``ALLOWED_NODES``): a SELECT, or a UNION [ALL] of SELECTs, reading only the table ``score``
   (optionally ``public.score``), with no joins, CTEs, ``INTO``, locking clauses, window functions,
   parameters or table functions, and calling only the functions in ``ALLOWED_FUNCTIONS``;
3. checks every regular-expression pattern (a literal of at most 200 characters without nested
   quantifiers or back-references, so a pattern cannot make a row take exponential time);
4. forces ``LIMIT 25`` (a smaller limit is kept) and re-serialises the tree;
5. for SQLite, rewrites the two PostgreSQL idioms SQLite lacks into functions the executor registers
   (``substring(x FROM 'regex')`` -> ``regexp_substring(x, 'regex')``, ``regexp_replace`` -> ``re_replace``,
   ``left``/``right`` -> ``substr``, ``public.score`` -> ``score``),
   transpiles with sqlglot and validates the SQLite text again with the same rules.

The statement that runs is always the re-serialised tree, never the model's text.
"""

from __future__ import annotations

import html
import logging
import re
import time
import unicodedata
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from audiomuse_ray.errors import UnsafeQuery

# sqlglot logs a warning for each statement it can only read as an opaque command (SET ROLE, VACUUM...):
# the guard refuses those anyway, and a hostile caller should not be able to fill the server log.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

MAX_ROWS = 25  # every query is cut to this many songs
MAX_SQL_CHARS = 8000
MAX_PATTERN_CHARS = 200
MAX_OFFSET = 10_000
TABLE = "score"
DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite"}

# Functions a query may call, by the name a person would write (the docs and error messages use these).
ALLOWED_FUNCTION_NAMES = (
    # text
    "lower", "upper", "length", "char_length", "substring", "substr", "trim", "ltrim", "rtrim", "replace",
    "concat", "position", "strpos", "left", "right", "split_part", "regexp_replace",
    # numbers
    "abs", "round", "floor", "ceil", "ceiling", "sqrt", "power", "greatest", "least", "random",
    # comparison and conditionals
    "coalesce", "nullif", "CASE", "CAST",
    # aggregates
    "count", "sum", "avg", "min", "max",
)
# The same list as sqlglot's expression types (an unknown name parses as exp.Anonymous and is refused).
ALLOWED_FUNCTIONS: tuple[type[exp.Expression], ...] = (
    exp.Lower, exp.Upper, exp.Length, exp.Substring, exp.Trim, exp.Replace, exp.Concat, exp.StrPosition,
    exp.Left, exp.Right, exp.SplitPart, exp.RegexpReplace,
    exp.Abs, exp.Round, exp.Floor, exp.Ceil, exp.Sqrt, exp.Pow, exp.Greatest, exp.Least, exp.Rand,
    exp.Coalesce, exp.Nullif, exp.Case, exp.If, exp.Cast,
    exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max,
)
# Functions the SQLite executor registers itself (Python), allowed only in the transpiled SQLite text.
SQLITE_FUNCTIONS = ("regexp_substring", "re_replace", "regexp_i_like", "split_part", "concat")

# Everything that is not a function call: the shape of a plain SELECT and its expressions.
ALLOWED_NODES: tuple[type[exp.Expression], ...] = (
    exp.Select, exp.Union, exp.Subquery, exp.From, exp.Table, exp.TableAlias, exp.Column, exp.Identifier,
    exp.Star, exp.Literal, exp.Boolean, exp.Null, exp.Alias, exp.Where, exp.Group, exp.Having, exp.Order,
    exp.Ordered, exp.Limit, exp.Offset, exp.Distinct, exp.Paren, exp.And, exp.Or, exp.Not, exp.EQ, exp.NEQ,
    exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.In, exp.Between, exp.Like, exp.ILike, exp.RegexpLike,
    exp.RegexpILike, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg, exp.DPipe, exp.DataType,
    exp.Exists, exp.Tuple,
)
CAST_TYPES = {
    exp.DataType.Type.FLOAT, exp.DataType.Type.DOUBLE, exp.DataType.Type.DECIMAL, exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT, exp.DataType.Type.SMALLINT, exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR,
    exp.DataType.Type.CHAR, exp.DataType.Type.BOOLEAN,
}
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[*+?}](?:[^()\\]|\\.)*\)\s*[*+?{]")
_BACKREFERENCE = re.compile(r"\\[1-9kg]")
_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.S)
_STATEMENT_START = re.compile(r"^\s*(\(\s*)*select\b", re.I)
_STATEMENT_WORDS = re.compile(
    r"\b(insert|update|delete|drop|create|alter|copy|grant|revoke|truncate|set|reset|with|attach|detach|pragma|"
    r"begin|commit|rollback|vacuum|call|do|execute|prepare|load|lock|listen|notify|declare|merge|replace)\s", re.I)
_TYPOGRAPHIC = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "\u201c": '"',
                              "\u201d": '"', "\u201e": '"', "\u00a0": " "})


@dataclass(frozen=True)
class GuardedQuery:
    """A statement the guard accepted: ``sql`` in ``dialect``, ready to run; ``postgres_sql`` is the
    validated PostgreSQL it came from. ``timings`` are seconds spent per step (parse, validate, transpile)."""

    sql: str
    dialect: str
    postgres_sql: str
    timings: dict[str, float] = field(default_factory=dict, compare=False)


def clean(raw: str) -> str:
    """The model's answer reduced to the SQL text (see the module docstring, step 1)."""
    if not isinstance(raw, str) or not raw.strip():
        raise UnsafeQuery("The answer holds no SQL.")
    text = raw.strip()
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    elif text.startswith("```"):  # an unclosed fence: a truncated answer
        text = text.lstrip("`").split("\n", 1)[-1] if "\n" in text else ""
    text = html.unescape(text).translate(_TYPOGRAPHIC)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = _drop_prose(text.strip())
    text = text.replace("\\'", "''")
    text = re.sub(r"(?<=[A-Za-z])'(?=[A-Za-z])", "''", text)
    # an apostrophe just escaped next to an opening or closing quote ("'Don''t Stop'") stays as written
    return text.strip().rstrip(";").strip()


def _drop_prose(text: str) -> str:
    """Lines of prose before the first line that starts a SELECT ("Here is the query:") are dropped, but
    only when they hold no statement keyword: ``DELETE ...; SELECT ...`` is refused whole, never trimmed
    into the SELECT."""
    if _STATEMENT_START.match(text):
        return text
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _STATEMENT_START.match(line):
            before = "\n".join(lines[:i]) + " "
            return "\n".join(lines[i:]) if not _STATEMENT_WORDS.search(before) else text
    return text


def guard_sql(raw: str, dialect: str = "postgresql") -> GuardedQuery:
    """``raw`` (a model's answer) as a validated statement for ``dialect`` ("postgresql" or "sqlite")."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    text = clean(raw)
    if len(text) > MAX_SQL_CHARS:
        raise UnsafeQuery(f"The statement is longer than {MAX_SQL_CHARS} characters.")
    tree = _parse_one(text, "postgres")
    timings["parse_s"] = time.perf_counter() - started

    started = time.perf_counter()
    validate(tree, "postgres")
    _force_limit(tree)
    postgres_sql = tree.sql(dialect="postgres")
    timings["validate_s"] = time.perf_counter() - started
    if dialect == "postgresql":
        timings["transpile_s"] = 0.0
        return GuardedQuery(postgres_sql, dialect, postgres_sql, timings)

    started = time.perf_counter()
    sqlite_sql = _to_sqlite(tree.copy())
    again = _parse_one(sqlite_sql, "sqlite")
    validate(again, "sqlite")
    timings["transpile_s"] = time.perf_counter() - started
    return GuardedQuery(sqlite_sql, dialect, postgres_sql, timings)


def _parse_one(text: str, read: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(text, read=read) if s is not None]
    except (ParseError, TokenError) as exc:
        raise UnsafeQuery(f"The statement cannot be parsed as SQL: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise UnsafeQuery(f"Exactly one statement is allowed; the answer holds {len(statements)}.")
    tree = statements[0]
    if isinstance(tree, exp.Command):
        raise UnsafeQuery(f"Only a SELECT may run, not {tree.name.upper() or 'a command'}.")
    return tree


def validate(tree: exp.Expression, read: str = "postgres") -> None:
    """Raise ``UnsafeQuery`` unless ``tree`` is one SELECT (or UNION of SELECTs) of ``score`` built only from
    allowed nodes and functions. ``read`` is the dialect the tree was parsed from."""
    if not isinstance(tree, (exp.Select, exp.Union)):
        raise UnsafeQuery(f"Only a SELECT may run, not {_kind(tree)}.")
    sqlite_names = set(SQLITE_FUNCTIONS) if read == "sqlite" else set()
    for node in tree.walk():
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            if name not in sqlite_names:
                raise UnsafeQuery(f"The function {node.name}() is not allowed. Allowed: {allowed_list()}.")
            _check_regex_args(node)
            continue
        if isinstance(node, ALLOWED_FUNCTIONS):
            _check_function(node)
            continue
        if isinstance(node, exp.Func) and not isinstance(node, ALLOWED_NODES):
            raise UnsafeQuery(f"The function {_function_name(node)}() is not allowed. Allowed: {allowed_list()}.")
        if not isinstance(node, ALLOWED_NODES):
            raise UnsafeQuery(f"{_kind(node)} is not allowed in an instant-playlist query.")
        if isinstance(node, exp.Table):
            _check_table(node, read)
        elif isinstance(node, exp.Select):
            _check_select(node)
        elif isinstance(node, exp.Column) and (node.args.get("db") or node.args.get("catalog")):
            raise UnsafeQuery(f"The column {node.sql()} names a schema; only columns of {TABLE} may be read.")
        elif isinstance(node, exp.DataType) and not isinstance(node.parent, exp.Cast):
            raise UnsafeQuery(f"The type {node.sql()} may only appear in a CAST.")
        elif isinstance(node, (exp.RegexpLike, exp.RegexpILike)):
            check_pattern(node.expression)
        elif isinstance(node, exp.Offset):
            _check_integer(node.expression, "OFFSET", MAX_OFFSET)
        elif isinstance(node, exp.Limit):
            _check_integer(node.expression, "LIMIT", None)


def _check_table(node: exp.Table, read: str) -> None:
    if not isinstance(node.this, exp.Identifier):
        raise UnsafeQuery(f"Only the table {TABLE} may be read, not {node.this.sql()}.")
    schema, catalog = node.db, node.catalog
    schemas = ("", "public") if read == "postgres" else ("",)
    if node.name.lower() != TABLE or catalog or schema.lower() not in schemas:
        raise UnsafeQuery(f"Only the table {TABLE} may be read, not {node.sql(dialect=read)}.")
    if any(node.args.get(k) for k in ("laterals", "joins", "pivots", "sample", "version", "when", "changes")):
        raise UnsafeQuery(f"Only a plain read of {TABLE} is allowed.")


def _check_select(node: exp.Select) -> None:
    for key in ("joins", "laterals", "into", "locks", "with_", "with", "windows", "sample", "kind", "hint",
                "connect", "prewhere", "qualify", "distribute", "sort", "cluster", "settings", "format", "options"):
        if node.args.get(key):
            word = {"into": "SELECT ... INTO", "locks": "a locking clause (FOR UPDATE/SHARE)", "joins": "a join",
                    "with_": "WITH (a CTE)", "with": "WITH (a CTE)", "windows": "WINDOW"}.get(key, key.upper())
            raise UnsafeQuery(f"{word} is not allowed in an instant-playlist query.")
    from_ = node.args.get("from_") or node.args.get("from")
    if from_ is None:
        raise UnsafeQuery(f"The query must read FROM {TABLE}.")


def _check_function(node: exp.Expression) -> None:
    if isinstance(node, exp.Cast):
        to = node.args.get("to")
        if not isinstance(to, exp.DataType) or to.this not in CAST_TYPES:
            raise UnsafeQuery(f"CAST to {to.sql() if to is not None else '?'} is not allowed; cast to a number or text.")
        return
    if isinstance(node, exp.Substring):
        start = node.args.get("start")
        if isinstance(start, exp.Literal) and start.is_string:  # substring(x FROM 'regex')
            check_pattern(start)
        return
    if isinstance(node, exp.RegexpReplace):
        check_pattern(node.expression)
        if any(node.args.get(k) is not None for k in ("position", "occurrence", "parameters")):
            modifiers = node.args.get("modifiers")
            if not (isinstance(modifiers, exp.Literal) and set(modifiers.this) <= {"g", "i"}):
                raise UnsafeQuery("regexp_replace takes only the flags 'g' and 'i' here.")
        modifiers = node.args.get("modifiers")
        if modifiers is not None and not (isinstance(modifiers, exp.Literal) and set(modifiers.this) <= {"g", "i"}):
            raise UnsafeQuery("regexp_replace takes only the flags 'g' and 'i' here.")


def _check_regex_args(node: exp.Anonymous) -> None:
    if node.name.lower() in ("regexp_substring", "re_replace", "regexp_i_like") and len(node.expressions) > 1:
        check_pattern(node.expressions[1])


def check_pattern(pattern: exp.Expression | None) -> None:
    """A regular expression must be a short literal that cannot backtrack exponentially."""
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise UnsafeQuery("A regular expression must be a quoted literal.")
    text = pattern.this
    if len(text) > MAX_PATTERN_CHARS:
        raise UnsafeQuery(f"A regular expression is longer than {MAX_PATTERN_CHARS} characters.")
    if _NESTED_QUANTIFIER.search(text) or _BACKREFERENCE.search(text):
        raise UnsafeQuery("A regular expression with nested repetition or back-references is not allowed.")
    try:
        re.compile(text)
    except re.error as exc:
        raise UnsafeQuery(f"The regular expression {text!r} is invalid: {exc}.") from None


def _check_integer(value: exp.Expression | None, what: str, most: int | None) -> None:
    if not (isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit()):
        raise UnsafeQuery(f"{what} must be a whole number.")
    if most is not None and int(value.this) > most:
        raise UnsafeQuery(f"{what} may be at most {most}.")


def _force_limit(tree: exp.Expression) -> None:
    limit = tree.args.get("limit")
    current = int(limit.expression.this) if isinstance(limit, exp.Limit) else None
    if current is None or current > MAX_ROWS:
        tree.set("limit", exp.Limit(expression=exp.Literal.number(MAX_ROWS)))


def _to_sqlite(tree: exp.Expression) -> str:
    """The validated PostgreSQL tree as SQLite text, with the idioms SQLite lacks rewritten."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Substring):
            start = node.args.get("start")
            if isinstance(start, exp.Literal) and start.is_string:
                return exp.Anonymous(this="regexp_substring", expressions=[node.this, start])
        if isinstance(node, exp.Left):
            return exp.Substring(this=node.this, start=exp.Literal.number(1), length=node.expression)
        if isinstance(node, exp.Right):
            return exp.Substring(this=node.this, start=exp.Neg(this=node.expression))
        if isinstance(node, exp.RegexpReplace):
            args = [node.this, node.expression, node.args.get("replacement") or exp.Literal.string("")]
            if node.args.get("modifiers") is not None:
                args.append(node.args["modifiers"])
            return exp.Anonymous(this="re_replace", expressions=args)
        if isinstance(node, exp.Table) and node.db:  # public.score: SQLite has one schema here, "main"
            return exp.Table(this=node.this, alias=node.args.get("alias"))
        return node

    return tree.transform(rewrite).sql(dialect="sqlite")


def allowed_list() -> str:
    return ", ".join(ALLOWED_FUNCTION_NAMES)


def _function_name(node: exp.Expression) -> str:
    return node.name if isinstance(node, exp.Anonymous) else node.sql_name().lower()


def _kind(node: exp.Expression) -> str:
    names = {exp.Insert: "INSERT", exp.Update: "UPDATE", exp.Delete: "DELETE", exp.Create: "CREATE",
             exp.Drop: "DROP", exp.Alter: "ALTER", exp.Copy: "COPY", exp.Set: "SET", exp.Transaction: "a transaction",
             exp.Commit: "COMMIT", exp.Rollback: "ROLLBACK", exp.Join: "a join", exp.With: "WITH (a CTE)",
             exp.CTE: "WITH (a CTE)", exp.Into: "SELECT ... INTO", exp.Lock: "a locking clause",
             exp.Window: "a window function", exp.Placeholder: "a parameter", exp.Parameter: "a parameter",
             exp.Merge: "MERGE", exp.Pragma: "PRAGMA", exp.Command: "a command"}
    for cls, word in names.items():
        if isinstance(node, cls):
            return word
    return type(node).__name__


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
