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
# A collection hub's routes answer to hub tokens (AUDIOMUSE_HUB_TOKENS), not to the API token: a hub's
# clients are other instances, each with a named token that must open nothing else, and the operator's API
# token is no client's (a push is recorded under a client's name). They are checked here, before a body is
# read, and again by the hub router, which learns the client's name (serve/routes/collection.py). Exact
# paths, not a prefix, so that nothing else slips past the API token.
HUB_PATHS = frozenset({"/api/collection/hub/info", "/api/collection/hub/lookup", "/api/collection/hub/push"})
_state = {"token": "", "open_writes": True, "hub_tokens": {}}


def configure(token: str, host: str, hub_tokens: str = "") -> None:
    from audiomuse_ray.collection.tokens import parse_hub_tokens

    _state.update(token=token, open_writes=is_loopback(host), hub_tokens=parse_hub_tokens(hub_tokens))


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
    if path in HUB_PATHS:
        return _hub_refusal(authorization)
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


def _hub_refusal(authorization: str) -> tuple[int, str] | None:
    """A hub route without a hub token: 401, or 404 where this instance is no hub (never the API token)."""
    from audiomuse_ray.collection.tokens import check_hub_token
    from audiomuse_ray.errors import HubAuthError

    given = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
    try:
        check_hub_token(_state["hub_tokens"], given)
    except HubAuthError as exc:
        return exc.http_status, str(exc)
    return None
