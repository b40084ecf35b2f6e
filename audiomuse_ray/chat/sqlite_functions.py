"""The functions the SQLite executor registers on its read-only connection, with PostgreSQL's meaning.

SQLite lacks regular expressions, ``split_part``, ``concat`` with PostgreSQL's NULL rule, and lower/upper
beyond ASCII. Each function here

- runs regular expressions in RE2 (``chat.regex_dialect``: linear time, leftmost-longest like PostgreSQL);
- checks the statement's deadline before it starts, so a slow statement stops between two calls;
- never builds a value longer than ``max_chars`` (the connection's SQLITE_LIMIT_LENGTH): it raises before
  allocating, where a Python ``re.sub`` would have built a 100-million-character string first.

An exception inside a registered function makes SQLite fail the statement; the executor reports it.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Callable

from audiomuse_ray.chat import regex_dialect
from audiomuse_ray.errors import UnsafeQuery

NAMES = ("regexp", "regexp_substring", "re_replace", "regexp_i_like", "split_part", "concat", "lower", "upper")


class StatementTimeout(Exception):
    """The statement's deadline passed inside a registered function."""


class ValueTooLong(Exception):
    """A registered function would have built a value longer than the connection allows."""


def register(conn: sqlite3.Connection, *, deadline: float, max_chars: int) -> None:
    """Register every function of ``NAMES`` on ``conn``."""

    def guarded(fn: Callable) -> Callable:
        def call(*args):
            if time.monotonic() > deadline:
                raise StatementTimeout()
            if any(a is None for a in args):
                return None
            try:
                result = fn(*args)
            except UnsafeQuery as exc:  # a pattern built at run time (the guard checks literals)
                raise ValueError(str(exc)) from None
            if isinstance(result, str) and len(result) > max_chars:
                raise ValueTooLong()
            return result
        return call

    def regexp(pattern, text):  # SQLite's ``text REGEXP pattern`` calls regexp(pattern, text)
        return 1 if regex_dialect.compiled(str(pattern)).search(str(text)) else 0

    def regexp_i_like(text, pattern):
        return 1 if regex_dialect.compiled(str(pattern), True).search(str(text)) else 0

    def substring(text, pattern):  # PostgreSQL: the first parenthesised group when there is one
        m = regex_dialect.compiled(str(pattern)).search(str(text))
        if m is None:
            return None
        return m.group(1) if m.re.groups else m.group(0)

    def replace(text, pattern, repl, flags=""):
        flags = str(flags)
        if set(flags) - {"g", "i"}:
            raise ValueError("regexp_replace takes only the flags 'g' and 'i' here")
        regex = regex_dialect.compiled(str(pattern), "i" in flags)
        try:
            return regex_dialect.replace(regex, str(text), regex_dialect.Replacement.parse(str(repl)),
                                         every="g" in flags, max_chars=max_chars)
        except ValueError:
            raise ValueTooLong() from None

    def split_part(text, delimiter, n):  # PostgreSQL's: 1-based, negative counts from the end
        n = int(n)
        if n == 0:
            raise ValueError("split_part's field position must not be zero")
        text, delimiter = str(text), str(delimiter)
        parts = text.split(delimiter) if delimiter else [text]
        if n < 0:
            n = len(parts) + n + 1
        return parts[n - 1] if 1 <= n <= len(parts) else ""

    def concat(*args):  # PostgreSQL's concat: NULLs count as empty text
        if time.monotonic() > deadline:
            raise StatementTimeout()
        total = sum(len(str(a)) for a in args if a is not None)
        if total > max_chars:
            raise ValueTooLong()
        return "".join("" if a is None else str(a) for a in args)

    conn.create_function("regexp", 2, guarded(regexp), deterministic=True)
    conn.create_function("regexp_i_like", 2, guarded(regexp_i_like), deterministic=True)
    conn.create_function("regexp_substring", 2, guarded(substring), deterministic=True)
    conn.create_function("re_replace", 3, guarded(replace), deterministic=True)
    conn.create_function("re_replace", 4, guarded(replace), deterministic=True)
    conn.create_function("split_part", 3, guarded(split_part), deterministic=True)
    conn.create_function("concat", -1, concat, deterministic=True)
    conn.create_function("lower", 1, guarded(lambda s: _case(str(s), str.lower)), deterministic=True)
    conn.create_function("upper", 1, guarded(lambda s: _case(str(s), str.upper)), deterministic=True)


def _case(text: str, change: Callable[[str], str]) -> str:
    """Unicode lower/upper one character at a time, as PostgreSQL does in a UTF-8 locale (SQLite's own
    functions change ASCII only); a character whose change is longer than one (``ß``) stays."""
    if text.isascii():
        return change(text)
    out = []
    for c in text:
        changed = change(c)
        out.append(changed if len(changed) == 1 else c)
    return "".join(out)
