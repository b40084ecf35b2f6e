"""The one regular-expression language instant-playlist queries may use, and its meaning on both databases.

PostgreSQL runs patterns in its own engine (ARE), under its statement timeout. SQLite has no engine of its
own: the executor registers functions that run RE2, which matches in time linear in the text and cannot be
made to backtrack. The two engines agree on a common subset, and only that subset is accepted
(``check_pattern``); ``to_re2`` then rewrites what the two spell differently, so that both return the same
rows:

- leftmost-longest matching (PostgreSQL's rule for a greedy pattern), so non-greedy quantifiers are refused;
- ``.`` matches a newline, ``^``/``$`` only at the ends of the text (PostgreSQL's default);
- escapes: ``\\d \\D \\s \\S \\w \\W \\t \\n \\r`` and escaped punctuation; every other letter or digit
  after a backslash means something else in one engine (``\\b`` is a backspace in PostgreSQL, a word boundary
  in RE2; ``\\1`` a back-reference) and is refused;
- groups: plain ``(...)`` and ``(?:...)``; no look-around, no embedded options, no ``***`` directors;
- bounds ``{m}``, ``{m,}``, ``{m,n}`` up to 255 (PostgreSQL's limit);
- bracket expressions with the POSIX classes ``alpha digit alnum upper lower space xdigit`` (their meaning
  for letters beyond ASCII follows a UTF-8 locale: ``\\w`` matches ``Ö``, as PostgreSQL's does).

Pure: no database, no sqlglot.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

import re2

from audiomuse_ray.errors import UnsafeQuery

MAX_PATTERN_CHARS = 200
MAX_BOUND = 255  # PostgreSQL's RE_DUP_MAX
MAX_REPLACEMENT_CHARS = 64  # a replacement string; it is copied once per match
RE2_MAX_MEM = 8 << 20  # bytes RE2 may use for one compiled pattern

# What RE2 must be told so that its classes mean what PostgreSQL's mean in a glibc UTF-8 locale (measured
# over every code point against PostgreSQL 15 in C.UTF-8): letters of every script, letter-numbers, spacing
# marks and the decimal digits of other scripts are "alpha"; only 0-9 are "digit"; the no-break spaces are
# not "space". Combining marks and letter-like symbols differ in part (glibc's own table): not matched here.
_SPACE = r"\t\n\x{0b}\f\r \x{1680}\x{2000}-\x{2006}\x{2008}-\x{200a}\x{2028}\x{2029}\x{205f}\x{3000}"


@functools.lru_cache(maxsize=1)
def _other_digits() -> str:
    """The decimal digits of scripts other than ASCII, as RE2 ranges (glibc counts them as letters)."""
    ranges, start, prev = [], None, None
    for code in range(0x80, 0x20000):
        if unicodedata.category(chr(code)) == "Nd":
            if start is None:
                start = code
            elif code != prev + 1:
                ranges.append((start, prev))
                start = code
            prev = code
    if start is not None:
        ranges.append((start, prev))
    return "".join(f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges)


def _posix_class(name: str, ignore_case: bool) -> str:
    alpha = r"\p{L}\p{Nl}\p{Mc}" + _other_digits()
    if ignore_case and name in ("upper", "lower"):  # PostgreSQL: both mean alpha when case is ignored
        name = "alpha"
    return {"alpha": alpha, "digit": "0-9", "alnum": alpha + "0-9", "upper": r"\p{Lu}\p{Lt}", "lower": r"\p{Ll}",
            "space": _SPACE, "xdigit": "0-9A-Fa-f"}[name]


POSIX_CLASSES = ("alpha", "digit", "alnum", "upper", "lower", "space", "xdigit")
_QUANTIFIERS = "*+?"


def check_pattern(pattern: object, ignore_case: bool = False) -> str:
    """``pattern`` as RE2 text when it is a regular expression both databases read alike, else
    ``UnsafeQuery`` with the reason. Linear in the pattern's length."""
    if not isinstance(pattern, str):
        raise UnsafeQuery("A regular expression must be a quoted string.")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise UnsafeQuery(f"A regular expression is longer than {MAX_PATTERN_CHARS} characters.")
    if any(ord(c) < 32 or ord(c) == 127 for c in pattern):
        raise UnsafeQuery("A regular expression may not hold control characters; write \\t or \\n.")
    translated = _translate(pattern, ignore_case)
    try:
        re2.compile(translated, _options(False))
    except re2.error as exc:
        detail = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise UnsafeQuery(f"The regular expression {pattern!r} is invalid: {detail}.") from None
    return translated


@functools.lru_cache(maxsize=512)
def compiled(pattern: str, ignore_case: bool = False):
    """The RE2 object for ``pattern`` with PostgreSQL's matching rules (leftmost-longest, ``.`` matches
    newlines); ``UnsafeQuery`` for a pattern outside the shared subset."""
    return re2.compile(check_pattern(pattern, ignore_case), _options(ignore_case))


def _options(ignore_case: bool):
    options = re2.Options()
    options.longest_match = True
    options.dot_nl = True
    options.case_sensitive = not ignore_case
    options.log_errors = False
    options.max_mem = RE2_MAX_MEM
    return options


def _escape(d: str, ignore_case: bool, inside: bool) -> str:
    """RE2 text for ``\\d \\s \\w`` (and, outside brackets, ``\\D \\S \\W``) with PostgreSQL's classes."""
    name = {"d": "digit", "s": "space", "w": "alnum"}[d.lower()]
    body = _posix_class(name, ignore_case) + ("_" if d.lower() == "w" else "")
    if inside:
        return body
    return f"[^{body}]" if d.isupper() else f"[{body}]"


def _translate(p: str, ignore_case: bool) -> str:
    """One left-to-right pass: refuse what the engines read differently, rewrite what they spell differently,
    and refuse repetition of a group that itself repeats or alternates (``(a+)+``, ``(a|a)*``): RE2 would
    run it in linear time, but PostgreSQL's engine may spend its whole time limit on it."""
    if p.startswith("***"):
        raise UnsafeQuery("PostgreSQL's '***' pattern directors are not allowed.")
    out: list[str] = []
    groups: list[bool] = []  # per open group: does it hold a quantifier or an alternation?
    i, n = 0, len(p)
    atom = False  # whether a quantifier here would repeat something
    closed_group_varies = False  # the atom just before is a group that repeats or alternates inside
    while i < n:
        c = p[i]
        group_closed = False
        if c == "\\":
            if i + 1 >= n:
                raise UnsafeQuery("A regular expression may not end with a backslash.")
            d = p[i + 1]
            if d in "dDsSwW":
                out.append(_escape(d, ignore_case, inside=False))
            elif d in "tnr":
                out.append("\\" + d)
            elif d.isalnum():
                raise UnsafeQuery(f"The escape \\{d} means different things in PostgreSQL and SQLite; "
                                  "use \\d, \\s, \\w or a bracket expression.")
            else:
                out.append("\\" + d)
            i += 2
            atom = True
        elif c == "[":
            text, i = _bracket(p, i, ignore_case)
            out.append(text)
            atom = True
        elif c == "(":
            if p.startswith("(?", i):
                if not p.startswith("(?:", i):
                    raise UnsafeQuery("Only plain groups ( ) and (?: ) are allowed in a regular expression "
                                      "(no look-around or embedded options).")
                out.append("(?:")
                i += 3
            else:
                out.append("(")
                i += 1
            groups.append(False)
            atom = False
        elif c == ")":
            varies = groups.pop() if groups else False
            if groups:
                groups[-1] = groups[-1] or varies
            out.append(")")
            i += 1
            atom, group_closed, closed_group_varies = True, True, varies
        elif c in _QUANTIFIERS or c == "{":
            if c == "{":
                text, i = _bound(p, i)
            else:
                text, i = c, i + 1
            if not atom:
                raise UnsafeQuery(f"The quantifier {text!r} in the regular expression repeats nothing.")
            if closed_group_varies:
                raise UnsafeQuery("A repeated group may not itself repeat or alternate inside, as in (a+)+ or "
                                  "(a|b)*: such a pattern can take exponential time.")
            if i < n and p[i] == "?":
                raise UnsafeQuery("Non-greedy quantifiers (*?, +?, ??) are not allowed: PostgreSQL and SQLite "
                                  "choose different matches with them.")
            if groups:
                groups[-1] = True
            out.append(text)
            atom = True  # a second quantifier is refused by RE2 as 'bad repetition operator'
        else:
            if c == "|" and groups:
                groups[-1] = True
            out.append(c)
            i += 1
            atom = c not in "|^"
        if not group_closed:
            closed_group_varies = False
    return "".join(out)


def _bound(p: str, i: int) -> tuple[str, int]:
    end = p.find("}", i)
    body = p[i + 1:end] if end != -1 else ""
    parts = body.split(",")
    if end == -1 or len(parts) > 2 or not parts[0].isdigit() or (len(parts) == 2 and parts[1] and not parts[1].isdigit()):
        raise UnsafeQuery("A '{' in a regular expression must start a bound like {2}, {2,} or {2,5}; "
                          "write \\{ for the character.")
    low = int(parts[0])
    high = int(parts[1]) if len(parts) == 2 and parts[1] else low
    if low > MAX_BOUND or high > MAX_BOUND or high < low:
        raise UnsafeQuery(f"A bound in a regular expression must be at most {MAX_BOUND} (and {{m,n}} needs m <= n).")
    return p[i:end + 1], end + 1


def _bracket(p: str, i: int, ignore_case: bool) -> tuple[str, int]:
    """A bracket expression starting at ``p[i] == '['``: its RE2 text and the index after it."""
    out = ["["]
    j = i + 1
    if j < len(p) and p[j] == "^":
        out.append("^")
        j += 1
    first = True
    while j < len(p):
        c = p[j]
        if c == "]" and not first:
            out.append("]")
            return "".join(out), j + 1
        first = False
        if c == "[" and j + 1 < len(p) and p[j + 1] in ":.=":
            if p[j + 1] != ":":
                raise UnsafeQuery("Collating elements [. .] and equivalence classes [= =] are not allowed.")
            end = p.find(":]", j + 2)
            name = p[j + 2:end] if end != -1 else ""
            if name not in POSIX_CLASSES:
                raise UnsafeQuery(f"The class [:{name}:] is not allowed; use one of "
                                  f"{', '.join(f'[:{k}:]' for k in POSIX_CLASSES)}.")
            out.append(_posix_class(name, ignore_case))
            j = end + 2
        elif c == "\\":
            d = p[j + 1] if j + 1 < len(p) else ""
            if d in "dsw":
                out.append(_escape(d, ignore_case, inside=True))
            elif not d or d.isalnum():
                raise UnsafeQuery(f"The escape \\{d} inside [ ] is not allowed; \\d, \\s and \\w are.")
            else:
                out.append("\\" + d)
            j += 2
        elif c == "[":
            out.append("\\[")
            j += 1
        else:
            out.append(c)
            j += 1
    raise UnsafeQuery("A '[' in a regular expression is never closed with ']'.")


@dataclass(frozen=True)
class Replacement:
    """A PostgreSQL replacement string read once: literal pieces and group numbers (0 = the whole match,
    PostgreSQL's ``\\&``)."""

    pieces: tuple[str | int, ...]

    @classmethod
    def parse(cls, text: str) -> "Replacement":
        if len(text) > MAX_REPLACEMENT_CHARS:
            raise UnsafeQuery(f"A replacement string is longer than {MAX_REPLACEMENT_CHARS} characters.")
        pieces: list[str | int] = []
        literal: list[str] = []
        i = 0
        while i < len(text):
            c = text[i]
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if c == "\\" and (nxt.isdigit() or nxt == "&"):
                if literal:
                    pieces.append("".join(literal))
                    literal = []
                pieces.append(0 if nxt == "&" else int(nxt))
                i += 2
            elif c == "\\" and nxt == "\\":
                literal.append("\\")
                i += 2
            else:
                literal.append(c)
                i += 1
        if literal:
            pieces.append("".join(literal))
        return cls(tuple(pieces))

    def expand(self, match) -> str:
        out = []
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append(piece)
            else:
                group = match.group(piece) if piece <= match.re.groups else ""
                out.append(group or "")
        return "".join(out)


def replace(regex, text: str, replacement: Replacement, *, every: bool, max_chars: int) -> str:
    """PostgreSQL's ``regexp_replace`` with RE2: the first match, or ``every`` match (flag ``g``); an
    empty match right after a match counts, as in PostgreSQL. ``ValueError`` once the result would pass
    ``max_chars``, before it is built."""
    out: list[str] = []
    size = 0
    pos = last = 0
    while pos <= len(text):
        m = regex.search(text, pos)
        if m is None:
            break
        start, end = m.span()
        piece = text[last:start] + replacement.expand(m)
        size += len(piece)
        if size > max_chars:
            raise ValueError(f"regexp_replace would build a value of more than {max_chars} characters")
        out.append(piece)
        last = end
        if not every:
            break
        pos = end if end > start else end + 1
    out.append(text[last:])
    if size + len(text) - last > max_chars:
        raise ValueError(f"regexp_replace would build a value of more than {max_chars} characters")
    return "".join(out)
