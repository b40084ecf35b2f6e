"""The SQL guard: what a language model wrote becomes one read-only SELECT of ``score``, or ``UnsafeQuery``.

Pure (sqlglot and RE2, no database). The model is asked for PostgreSQL; ``guard_sql`` then

1. reduces the answer to statement text (``chat.sql_text``: length limits first, control characters
   refused, linear cleaning);
2. refuses nesting deeper than ``MAX_NESTING`` before the (recursive) parser sees it;
3. parses it as PostgreSQL and accepts exactly one statement whose every node is of an allowed kind
   (``ALLOWED_NODES``): a SELECT, or a UNION [ALL] of SELECTs, reading only the table ``score``, with no
   joins, CTEs, ``INTO``, locking clauses, window functions, parameters or table functions, and calling only
   the functions in ``ALLOWED_FUNCTIONS``; ``x LIKE ANY (ARRAY[...])`` and its kin become ORs (ANDs for ALL);
4. resolves every name against ``score``'s real columns (``chat.sql_names``) and every regular expression
   against the subset both databases read alike (``chat.regex_dialect``);
5. forces ``LIMIT 25`` (a smaller limit is kept), writes every identifier quoted and lower-case, and
   serialises the tree; that text is parsed and validated once more and must serialise to itself, so what
   runs is byte for byte what was checked;
6. for SQLite, rewrites the PostgreSQL idioms SQLite lacks into functions the executor registers
   (``chat.sqlite_functions``) and repeats step 5 in SQLite's dialect.

Whatever goes wrong inside the guard is a refusal (fail closed), never another exception.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from audiomuse_ray.chat import regex_dialect, sql_names
from audiomuse_ray.chat.sql_text import clean
from audiomuse_ray.errors import UnsafeQuery

# sqlglot logs a warning for each statement it can only read as an opaque command (SET ROLE, VACUUM...):
# the guard refuses those anyway, and a hostile caller should not be able to fill the server log.
logging.getLogger("sqlglot").setLevel(logging.ERROR)
log = logging.getLogger(__name__)

MAX_ROWS = 25  # every query is cut to this many songs
MAX_OFFSET = 10_000
MAX_NESTING = 20  # parentheses, CASE and runs of NOT / unary minus, together
MAX_GROWTH_NESTING = 2  # replace() inside replace(): each may multiply a value's length
MAX_ARRAY_ITEMS = 100
MAX_TOKENS = 1000  # words and symbols; a long model answer has a few hundred, the widest keyword query 474
TABLE = sql_names.TABLE
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
    # aggregates (each gives one number or one value, so no aggregate packs rows into one)
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
# Functions the SQLite executor registers itself, allowed only in the transpiled SQLite text.
SQLITE_FUNCTIONS = ("regexp_substring", "re_replace", "split_part", "concat")
_GROWTH = (exp.Replace, exp.RegexpReplace)

# Everything that is not a function call: the shape of a plain SELECT and its expressions.
ALLOWED_NODES: tuple[type[exp.Expression], ...] = (
    exp.Select, exp.Union, exp.Subquery, exp.From, exp.Table, exp.TableAlias, exp.Column, exp.Identifier,
    exp.Star, exp.Literal, exp.Boolean, exp.Null, exp.Alias, exp.Where, exp.Group, exp.Having, exp.Order,
    exp.Ordered, exp.Limit, exp.Offset, exp.Distinct, exp.Paren, exp.And, exp.Or, exp.Not, exp.EQ, exp.NEQ,
    exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.In, exp.Between, exp.Like, exp.ILike, exp.RegexpLike,
    exp.RegexpILike, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg, exp.DPipe, exp.DataType,
    exp.Exists, exp.Tuple, exp.NullSafeEQ, exp.NullSafeNEQ,
)
CAST_TYPES = {
    exp.DataType.Type.FLOAT, exp.DataType.Type.DOUBLE, exp.DataType.Type.DECIMAL, exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT, exp.DataType.Type.SMALLINT, exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR,
    exp.DataType.Type.CHAR, exp.DataType.Type.BOOLEAN,
}
_OPENERS = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.CASE}
_CLOSERS = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.END}
_PREFIX = {TokenType.NOT, TokenType.DASH, TokenType.PLUS}
_QUANTIFIED = (exp.Like, exp.ILike, exp.EQ, exp.NEQ)


@dataclass(frozen=True)
class GuardedQuery:
    """A statement the guard accepted: ``sql`` in ``dialect``, ready to run; ``postgres_sql`` is the
    validated PostgreSQL it came from. ``timings`` are seconds spent per step (parse, validate, transpile)."""

    sql: str
    dialect: str
    postgres_sql: str
    timings: dict[str, float] = field(default_factory=dict, compare=False)


def guard_sql(raw: object, dialect: str = "postgresql") -> GuardedQuery:
    """``raw`` (a model's answer) as a validated statement for ``dialect`` ("postgresql" or "sqlite")."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    try:
        return _guard(raw, dialect)
    except UnsafeQuery:
        raise
    except RecursionError:
        raise UnsafeQuery("The statement is nested too deeply to be checked.") from None
    except Exception as exc:  # fail closed: a statement the guard cannot check does not run
        log.warning("guard could not check a statement: %s", type(exc).__name__)
        raise UnsafeQuery("The statement could not be checked, so it was not run.") from None


def _guard(raw: object, dialect: str) -> GuardedQuery:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    text = clean(raw)
    tree = _parse_one(text, "postgres")
    timings["parse_s"] = time.perf_counter() - started

    started = time.perf_counter()
    tree = expand_quantified(tree)
    validate(tree, "postgres")
    _force_limit(tree)
    sql_names.canonical_identifiers(tree)
    if dialect == "postgresql":
        postgres_sql = _serialise_checked(tree, "postgres")
        timings["validate_s"] = time.perf_counter() - started
        timings["transpile_s"] = 0.0
        return GuardedQuery(postgres_sql, dialect, postgres_sql, timings)
    postgres_sql = tree.sql(dialect="postgres", identify=True, comments=False)  # shown to the model on a retry; not run here
    timings["validate_s"] = time.perf_counter() - started

    started = time.perf_counter()
    sqlite_sql = _serialise_checked(_to_sqlite(tree), "sqlite")
    timings["transpile_s"] = time.perf_counter() - started
    return GuardedQuery(sqlite_sql, dialect, postgres_sql, timings)


def _tokens(text: str, read: str) -> list:
    """The statement's tokens (one linear pass), refused when there are too many or when they nest deeper
    than the recursive parser may go (``MAX_NESTING``: parentheses, brackets, CASE, runs of NOT or minus)."""
    try:
        tokens = Dialect.get_or_raise(read).tokenize(text)
    except (TokenError, ValueError) as exc:
        raise UnsafeQuery(f"The statement cannot be read as SQL: {_first_line(exc)}") from None
    if len(tokens) > MAX_TOKENS:
        raise UnsafeQuery(f"The statement has more than {MAX_TOKENS} words and symbols; a playlist query needs "
                          "far fewer.")
    depth = prefix_run = 0
    for token in tokens:
        kind = token.token_type
        if kind in _OPENERS:
            depth += 1
        elif kind in _CLOSERS:
            depth = max(0, depth - 1)
        prefix_run = prefix_run + 1 if kind in _PREFIX else 0
        if depth + prefix_run > MAX_NESTING:
            raise UnsafeQuery(f"The statement is nested more than {MAX_NESTING} levels deep (parentheses, CASE, "
                              "NOT); write it flatter.")
    return tokens


def _parse_one(text: str, read: str) -> exp.Expression:
    tokens = _tokens(text, read)
    try:
        statements = [s for s in Dialect.get_or_raise(read).parser().parse(tokens, text) if s is not None]
    except (ParseError, TokenError) as exc:
        raise UnsafeQuery(f"The statement cannot be parsed as SQL: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise UnsafeQuery(f"Exactly one statement is allowed; the answer holds {len(statements)}.")
    tree = statements[0]
    if isinstance(tree, exp.Command):
        raise UnsafeQuery(f"Only a SELECT may run, not {tree.name.upper() or 'a command'}.")
    return tree


def expand_quantified(tree: exp.Expression) -> exp.Expression:
    """``x OP ANY (ARRAY[a, b])`` -> ``(x OP a OR x OP b)``, ``ALL`` -> AND, for OP in LIKE, ILIKE, =, <>
    (what good models write; SQLite has no arrays). Any other use of ANY, ALL or an array is refused."""
    for node in list(tree.find_all(exp.Any, exp.All)):
        parent = node.parent
        array = node.this.this if isinstance(node.this, exp.Paren) else node.this
        if not isinstance(parent, _QUANTIFIED) or parent.expression is not node or not isinstance(array, exp.Array):
            raise UnsafeQuery("ANY and ALL are allowed only as  column LIKE/ILIKE/= ANY (ARRAY['a', 'b']).")
        items = array.expressions
        if not items or len(items) > MAX_ARRAY_ITEMS or not all(isinstance(i, exp.Literal) for i in items):
            raise UnsafeQuery(f"ANY (ARRAY[...]) takes 1 to {MAX_ARRAY_ITEMS} literal values.")
        joined = exp.or_ if isinstance(node, exp.Any) else exp.and_
        parts = [parent.__class__(**{**parent.args, "expression": item.copy(), "this": parent.this.copy()})
                 for item in items]
        parent.replace(exp.Paren(this=joined(*parts, copy=False)))
    return tree


def validate(tree: exp.Expression, read: str = "postgres") -> None:
    """Raise ``UnsafeQuery`` unless ``tree`` is one SELECT (or UNION of SELECTs) of ``score`` built only from
    allowed nodes, functions, names and patterns. ``read`` is the dialect the tree was parsed from."""
    if not isinstance(tree, (exp.Select, exp.Union)):
        raise UnsafeQuery(f"Only a SELECT may run, not {_kind(tree)}.")
    sqlite_names = set(SQLITE_FUNCTIONS) if read == "sqlite" else set()
    for node in tree.walk():
        if isinstance(node, exp.Anonymous):
            if node.name.lower() not in sqlite_names:
                raise UnsafeQuery(f"The function {node.name}() is not allowed. Allowed: {allowed_list()}.")
            _check_sqlite_function(node)
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
        elif isinstance(node, exp.DataType) and not isinstance(node.parent, exp.Cast):
            raise UnsafeQuery(f"The type {node.sql()} may only appear in a CAST.")
        elif isinstance(node, (exp.RegexpLike, exp.RegexpILike)):
            if any(v is not None for k, v in node.args.items() if k not in ("this", "expression")):
                raise UnsafeQuery("A regular-expression match takes no flags here; use ~* to ignore case.")
            _pattern(node.expression)
        elif isinstance(node, exp.Offset):
            _check_integer(node.expression, "OFFSET", MAX_OFFSET)
        elif isinstance(node, exp.Limit):
            _check_integer(node.expression, "LIMIT", None)
    sql_names.check_names(tree)


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
    if isinstance(node, _GROWTH):
        _check_growth(node)
    if isinstance(node, exp.Cast):
        to = node.args.get("to")
        if not isinstance(to, exp.DataType) or to.this not in CAST_TYPES:
            raise UnsafeQuery(f"CAST to {to.sql() if to is not None else '?'} is not allowed; cast to a number or text.")
    elif isinstance(node, exp.Substring):
        start = node.args.get("start")
        if isinstance(start, exp.Literal) and start.is_string:  # substring(x FROM 'regex')
            if node.args.get("length") is not None:
                raise UnsafeQuery("The form substring(x FROM pattern FOR escape) (SQL regular expressions) is not allowed; "
                                  "use substring(x FROM 'regex').")
            _pattern(start)
    elif isinstance(node, exp.RegexpReplace):
        _pattern(node.expression)
        _replacement(node.args.get("replacement"))
        if any(node.args.get(k) is not None for k in ("position", "occurrence", "parameters")):
            raise UnsafeQuery("The function regexp_replace takes (text, pattern, replacement[, flags]) here.")
        _flags(node.args.get("modifiers"))
    elif isinstance(node, exp.Replace):
        if node.args.get("replacement") is None:
            raise UnsafeQuery("The function replace() takes (text, from, to).")
        _replacement(node.args["replacement"])


def _check_sqlite_function(node: exp.Anonymous) -> None:
    """The functions the SQLite rewrite produced, checked again in the SQLite text."""
    name, args = node.name.lower(), node.expressions
    if name == "regexp_substring" and len(args) == 2:
        _pattern(args[1])
    elif name == "re_replace" and len(args) in (3, 4):
        _check_growth(node)
        _pattern(args[1])
        _replacement(args[2])
        _flags(args[3] if len(args) == 4 else None)
    elif name not in ("split_part", "concat"):
        raise UnsafeQuery(f"The function {node.name}() with {len(args)} arguments is not allowed.")


def _check_growth(node: exp.Expression) -> None:
    depth = 1
    parent = node.parent
    while parent is not None:
        if isinstance(parent, _GROWTH) or (isinstance(parent, exp.Anonymous) and parent.name.lower() == "re_replace"):
            depth += 1
        parent = parent.parent
    if depth > MAX_GROWTH_NESTING:
        raise UnsafeQuery(f"The functions replace() and regexp_replace() may be nested at most {MAX_GROWTH_NESTING} deep.")


def _pattern(node: exp.Expression | None) -> None:
    if not (isinstance(node, exp.Literal) and node.is_string):
        raise UnsafeQuery("A regular expression must be a quoted literal.")
    regex_dialect.check_pattern(node.this)


def _replacement(node: exp.Expression | None) -> None:
    if node is None:
        return
    if not (isinstance(node, exp.Literal) and node.is_string):
        raise UnsafeQuery("A replacement must be a quoted literal.")
    regex_dialect.Replacement.parse(node.this)


def _flags(node: exp.Expression | None) -> None:
    if node is not None and not (isinstance(node, exp.Literal) and node.is_string and set(node.this) <= {"g", "i"}):
        raise UnsafeQuery("The function regexp_replace takes only the flags 'g' and 'i' here.")


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


def _serialise_checked(tree: exp.Expression, read: str) -> str:
    """The tree as text with every identifier quoted and no comment (engines and sqlglot end and nest
    comments differently, so none is carried into what runs); that text parsed again must pass ``validate``
    and serialise to itself, so the bytes that run are the bytes that were checked."""
    text = tree.sql(dialect=read, identify=True, comments=False, copy=False)
    for _ in range(2):  # sqlglot may respell once (IS NOT NULL -> NOT ... IS NULL); the next must be stable
        again = _parse_one(text, read)
        validate(again, read)
        respelt = again.sql(dialect=read, identify=True, comments=False, copy=False)
        if respelt == text:
            return text
        text = respelt
    raise UnsafeQuery("The statement does not read back as itself after checking, so it was not run.")


def _to_sqlite(tree: exp.Expression) -> exp.Expression:
    """The validated PostgreSQL tree with the idioms SQLite lacks rewritten, bottom-up (a rewritten
    function's arguments are rewritten first, so nested regexp_replace calls all become re_replace)."""

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

    for node in reversed(list(tree.dfs())):
        new = rewrite(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


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
             exp.Merge: "MERGE", exp.Pragma: "PRAGMA", exp.Command: "a command", exp.Dot: "Field notation (a.b.c)",
             exp.Array: "An array", exp.Fetch: "FETCH FIRST (use LIMIT)"}
    for cls, word in names.items():
        if isinstance(node, cls):
            return word
    return type(node).__name__


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
