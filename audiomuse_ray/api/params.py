"""Moved to ``audiomuse_ray.parsing`` (pure, no HTTP) so that packages below the API (clustering's options
builder) can read loose input without importing the API; re-exported here until the api/ callers import it
from there."""

from __future__ import annotations

from audiomuse_ray.parsing import FALSE, TRUE, BadRequest, flag, integer, number, text

__all__ = ["BadRequest", "FALSE", "TRUE", "flag", "integer", "number", "text"]
