"""Who may call the API: a bearer token when one is set; no writes from a public address without one.

The state lives in this module (one per process) rather than in the Serve deployment's namespace: Serve
ships the ingress class by value, so a global next to it would not be the one the middleware reads.
"""

from __future__ import annotations

import hmac

from audiomuse_ray.netaddr import is_loopback

PROTECTED_PREFIXES = ("/api", "/chat/api")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Health checks (scripts, probes) and the API's own documentation need no token: they reveal nothing, and a
# browser cannot send a bearer token to read the docs.
OPEN_PATHS = {"/api/health", "/api/docs", "/api/openapi.json"}
OPEN_PREFIXES = ("/api/docs/",)
_state = {"token": "", "open_writes": True}


def configure(token: str, host: str) -> None:
    _state.update(token=token, open_writes=is_loopback(host))


def write_policy() -> str:
    """"token" (a bearer token is required), "open" (loopback, no token) or "refused" (public, no token)."""
    if _state["token"]:
        return "token"
    return "open" if _state["open_writes"] else "refused"


def refusal(path: str, method: str, authorization: str) -> tuple[int, str] | None:
    """(status, message) when the request must be refused, else None."""
    if not path.startswith(PROTECTED_PREFIXES) or (method == "GET" and (path in OPEN_PATHS
                                                                     or path.startswith(OPEN_PREFIXES))):
        return None
    token = _state["token"]
    if token:
        given = authorization[7:] if authorization.lower().startswith("bearer ") else ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            return 401, "Missing or wrong API token: send 'Authorization: Bearer <token>'."
        return None
    if method in WRITE_METHODS and not _state["open_writes"]:
        return 403, ("This server listens on a public address without an API token, so changes are refused. "
                     "Set AUDIOMUSE_API_TOKEN and send 'Authorization: Bearer <token>'.")
    return None
