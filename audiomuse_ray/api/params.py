"""Query-parameter parsing with AudioMuse-AI's conventions ("true"/"false" strings, forgiving integers)."""

from __future__ import annotations

from typing import Any, Mapping

TRUE = {"1", "true", "yes", "y", "on"}
FALSE = {"0", "false", "no", "n", "off"}


class BadRequest(ValueError):
    """A parameter is missing or malformed: HTTP 400 with this message."""


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
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise BadRequest(f"Parameter '{name}' must be a valid integer.") from None
    if lo is not None:
        value = max(lo, value)
    if hi is not None:
        value = min(hi, value)
    return value


def number(params: Mapping[str, Any], name: str, default: float | None) -> float | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise BadRequest(f"Parameter '{name}' must be a number.") from None


def text(params: Mapping[str, Any], name: str) -> str:
    raw = params.get(name)
    return str(raw).strip() if raw is not None else ""
