"""A model's answer reduced to the text of one SQL statement, in time linear in its length.

Order matters: the length limit comes first (nothing else runs on a longer answer), then control
characters are refused (a NUL would end the statement early in libpq, so what PostgreSQL runs would differ
from what was checked), then the cleaning, each step a single pass:

1. the inside of the first markdown fence (found with ``str.find``, not a backtracking pattern);
2. HTML entities unescaped, typographic quotes made ASCII, an apostrophe between two letters escaped
   (``Don't`` -> ``Don''t``);
3. everything outside string literals normalised to ASCII (NFKD; what has no ASCII form is dropped, so a
   look-alike letter cannot smuggle a keyword through), while the literals keep their text: ``'Björk'``
   must still find Björk;
4. prose lines before the first line that starts a SELECT dropped, unless they hold a statement keyword.
"""

from __future__ import annotations

import html
import re
import unicodedata

from audiomuse_ray.errors import UnsafeQuery

MAX_ANSWER_CHARS = 20_000  # a whole model answer, prose and fences included
MAX_SQL_CHARS = 8000  # the statement after cleaning

FENCE = "```"
_STATEMENT_START = re.compile(r"\s*(?:\(\s*)*select\b", re.I)
_STATEMENT_WORDS = re.compile(
    r"\b(insert|update|delete|drop|create|alter|copy|grant|revoke|truncate|set|reset|with|attach|detach|pragma|"
    r"begin|commit|rollback|vacuum|call|do|execute|prepare|load|lock|listen|notify|declare|merge|replace)\s", re.I)
_APOSTROPHE = re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_])")  # between two letters of any script
_TYPOGRAPHIC = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "\u201c": '"',
                              "\u201d": '"', "\u201e": '"', "\u00a0": " "})
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def refuse_control_characters(text: str, what: str = "The answer") -> None:
    """NUL, other C0/C1 control characters and invisible format characters (bidirectional overrides,
    zero-width marks) are refused, never stripped: stripping would change what is checked."""
    for i, c in enumerate(text):
        if c in _ALLOWED_CONTROLS:
            continue
        code = ord(c)
        if code < 32 or 127 <= code < 160 or unicodedata.category(c) == "Cf":
            raise UnsafeQuery(f"{what} holds a control character (U+{code:04X}) at position {i}; "
                              "nothing was run.")


def clean(raw: object) -> str:
    """The model's answer reduced to the SQL text (see the module docstring)."""
    if not isinstance(raw, str) or not raw.strip():
        raise UnsafeQuery("The answer holds no SQL.")
    if len(raw) > MAX_ANSWER_CHARS:
        raise UnsafeQuery(f"The answer is longer than {MAX_ANSWER_CHARS} characters; nothing was run.")
    refuse_control_characters(raw)
    text = _inside_fence(raw.strip())
    text = html.unescape(text).translate(_TYPOGRAPHIC)
    refuse_control_characters(text)
    text = text.replace("\\'", "''")
    text = _APOSTROPHE.sub("''", text)
    text = _ascii_outside_literals(text)
    text = _drop_prose(text.strip())
    text = text.strip().rstrip(";").strip()
    if len(text) > MAX_SQL_CHARS:
        raise UnsafeQuery(f"The statement is longer than {MAX_SQL_CHARS} characters.")
    return text


def _inside_fence(text: str) -> str:
    """The body of the first ``` fence (its language word dropped); an unclosed fence (a truncated answer)
    gives everything after its first line; no fence gives the text itself."""
    start = text.find(FENCE)
    if start == -1:
        return text
    body_start = start + len(FENCE)
    while body_start < len(text) and text[body_start].isalpha():  # ```sql
        body_start += 1
    end = text.find(FENCE, body_start)
    if end != -1:
        return text[body_start:end]
    if start == 0:
        newline = text.find("\n", body_start)
        return text[newline + 1:] if newline != -1 else ""
    return text[body_start:]


def _ascii_outside_literals(text: str) -> str:
    """NFKD-to-ASCII for the statement's words, none for its single-quoted literals (one pass)."""
    out: list[str] = []
    outside_start = i = 0
    n = len(text)
    while i < n:
        if text[i] != "'":
            i += 1
            continue
        out.append(_ascii(text[outside_start:i]))
        j = i + 1
        while j < n:
            if text[j] == "'":
                if j + 1 < n and text[j + 1] == "'":
                    j += 2
                    continue
                break
            j += 1
        out.append(text[i:j + 1])
        i = outside_start = j + 1
    out.append(_ascii(text[outside_start:]))
    return "".join(out)


def _ascii(text: str) -> str:
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


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
