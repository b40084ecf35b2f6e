"""Answers for paths this server has no route for, in AudioMuse-AI's error shape ``{"error": ...}``.

AudioMuse-AI has features audiomuse-ray does not (lyrics, CLAP text search, hyperbolic and SemGrove
similarity). Their paths answer 501 with a sentence naming the feature, so a plugin's fallback runs (the
Lyrion mixer falls back to similar tracks); any other unknown path is a plain 404, a wrong method a 405.
"""

from __future__ import annotations

# path prefix -> the AudioMuse-AI feature behind it
UNSUPPORTED = {
    "/api/clap/": "CLAP text search",
    "/api/lyrics/": "lyrics search",
    "/api/hyperbolic/": "hyperbolic similarity",
    "/api/sem_grove/": "SemGrove lyrics+audio similarity",
}
NOT_IMPLEMENTED = 501


def reply(path: str, method: str, status: int, detail: str | None = None) -> tuple[int, str]:
    """(status, message) for an HTTP error Starlette raised while routing ``method path``."""
    if status == 404:
        feature = next((f for prefix, f in UNSUPPORTED.items() if path.startswith(prefix)), None)
        if feature:
            return NOT_IMPLEMENTED, (f"{method} {path}: AudioMuse-AI's {feature} is not available in audiomuse-ray; "
                                     "use /api/similar_tracks instead.")
        return 404, f"Not found: {method} {path} is not a route of this server."
    if status == 405:
        return 405, f"Method not allowed: {method} {path}."
    return status, str(detail or "HTTP error")
