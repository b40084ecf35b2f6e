"""Loose input as AudioMuse-AI accepts it ("true"/"1" for flags, "10" or 10.0 for integers, numbers as
strings), read from any mapping: query parameters, JSON bodies, job options. Pure, no HTTP, so the HTTP layer
and the packages it calls (clustering's options builder) both import it from here. Every malformed value
raises ``BadRequest`` (HTTP 400) naming the parameter, never a bare ``ValueError`` that would surface as a
500. Also the settings' list of hub tokens (``parse_hub_tokens``)."""

from __future__ import annotations

import math
from typing import Any, Mapping

from audiomuse_ray.errors import BadRequest, ConfigurationError

TRUE = {"1", "true", "yes", "y", "on"}
FALSE = {"0", "false", "no", "n", "off"}


def flag(params: Mapping[str, Any], name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise BadRequest(f"Parameter '{name}' must be true or false.")


def integer(params: Mapping[str, Any], name: str, default: int | None, *, lo: int | None = None,
            hi: int | None = None) -> int | None:
    """An integer, clamped to ``[lo, hi]``; a JSON ``10.0`` counts as 10, ``10.5`` or ``"ten"`` is a 400."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, bool):
        raise BadRequest(f"Parameter '{name}' must be a valid integer.")
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise BadRequest(f"Parameter '{name}' must be a valid integer.") from None
    if lo is not None:
        value = max(lo, value)
    if hi is not None:
        value = min(hi, value)
    return value


def number(params: Mapping[str, Any], name: str, default: float | None, *, lo: float | None = None,
           hi: float | None = None) -> float | None:
    """A finite number within ``[lo, hi]``: NaN and infinities would only fail later, deep in the maths."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        if isinstance(raw, bool):
            raise TypeError
        value = float(str(raw).strip()) if isinstance(raw, str) else float(raw)
    except (TypeError, ValueError, OverflowError):
        raise BadRequest(f"Parameter '{name}' must be a number.") from None
    if not math.isfinite(value):
        raise BadRequest(f"Parameter '{name}' must be a finite number, not {raw!r}.")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bounds = " and ".join(f"{word} {b:g}" for word, b in (("at least", lo), ("at most", hi)) if b is not None)
        raise BadRequest(f"Parameter '{name}' must be {bounds}; got {value:g}.")
    return value


def text(params: Mapping[str, Any], name: str) -> str:
    raw = params.get(name)
    return str(raw).strip() if raw is not None else ""


__all__ = ["BadRequest", "FALSE", "TRUE", "MIN_TOKEN_CHARS", "flag", "integer", "number", "parse_hub_tokens", "text"]


MIN_TOKEN_CHARS = 8


def parse_hub_tokens(text: str) -> dict[str, str]:
    """``"alice:s3cret-1,bob:s3cret-2"`` -> ``{"alice": "s3cret-1", "bob": "s3cret-2"}``; empty -> ``{}``.

    >>> parse_hub_tokens("alice:abcdefgh")
    {'alice': 'abcdefgh'}
    """
    tokens: dict[str, str] = {}
    for position, part in enumerate((text or "").split(","), start=1):
        part = part.strip()
        if not part:
            continue
        name, sep, token = part.partition(":")
        name, token = name.strip(), token.strip()
        if not sep or not name or not token:
            raise ConfigurationError(
                f"AUDIOMUSE_HUB_TOKENS entry {position} is not name:token; write it as "
                "name1:token1,name2:token2.")
        if len(token) < MIN_TOKEN_CHARS:
            raise ConfigurationError(
                f"AUDIOMUSE_HUB_TOKENS: the token of {name!r} is shorter than {MIN_TOKEN_CHARS} characters; "
                "use a long random one (python -c 'import secrets; print(secrets.token_urlsafe(24))').")
        if name in tokens:
            raise ConfigurationError(f"AUDIOMUSE_HUB_TOKENS names {name!r} twice; give each client one name.")
        tokens[name] = token
    return tokens
