"""The collection routes' use cases, in AudioMuse-AI's shapes where it has the route: start a sync, the last
sync task, the sharing statement and the owner's consent to it.

``POST /api/collection/start`` and ``GET /api/collection/last_task`` keep AudioMuse-AI's bodies (``{url,
token, num_albums}``; ``{task_id, task_type, status}`` with 202; the task row, or ``{"status":
"NO_PREVIOUS_TASK"}``). The consent is the Collection tab's: the API and the CLI do not ask for it, because a
call that carries a hub's URL and token is itself the explicit act the tick stands for on a page.
"""

from __future__ import annotations

import hashlib
import json

from audiomuse_ray.api.jobs_api import status
from audiomuse_ray.recording.records import HUB_KEEPS, NEVER_SHARED, SHARED
from audiomuse_ray.collection.sync import last_sync, start_sync
from audiomuse_ray.errors import BadRequest, JobAlreadyRunning
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import Store
from audiomuse_ray.store import consent as consent_store
from audiomuse_ray.store import task_rows as task_store

TASK_TYPE_SHOWN = "main_collection_sync"  # AudioMuse-AI's name of the sync task


def start(settings: Settings, store: Store, body) -> dict:
    """The sync started in a detached Ray actor: 202's ``{task_id, task_type, status}``; ``JobAlreadyRunning``
    (409, with the active task's id) while one runs, ``BadRequest`` (400) for a malformed body or URL."""
    try:
        task_id = start_sync(settings, store, body)
    except JobAlreadyRunning as exc:
        active = task_store.get_task(store, exc.task_id) if exc.task_id else None
        raise JobAlreadyRunning("A collection sync is already running; wait for it or cancel it.", exc.task_id,
                                reply={"task_id": exc.task_id, "status": active.status if active else None}) from None
    return {"task_id": task_id, "task_type": TASK_TYPE_SHOWN, "status": task_store.PENDING}


def last_task(store: Store, stale_after_s: float) -> dict:
    """The newest sync task as ``GET /api/status`` shows a task, plus ``status``; or NO_PREVIOUS_TASK."""
    rec = last_sync(store, stale_after_s)
    if rec is None:
        return {"status": "NO_PREVIOUS_TASK"}
    reply = status(store, rec.task_id, stale_after_s)
    return {**reply, "status": reply["state"], "task_type": TASK_TYPE_SHOWN}


# ------------------------------------------------------------------------------------------ consent
def statement() -> dict:
    """What a sync shares and what it never does, with the digest a consent is given to."""
    text = {"shared": [{"fields": k, "what": v} for k, v in SHARED.items()], "never": list(NEVER_SHARED),
            "hub_keeps": HUB_KEEPS}
    digest = hashlib.sha256(json.dumps(text, sort_keys=True).encode()).hexdigest()[:16]
    return {**text, "statement": digest}


def consent_state(store: Store) -> dict:
    """The statement and whether the owner consented to this very statement (and when)."""
    shown = statement()
    given = consent_store.get_consent(store)
    valid = given is not None and given.statement == shown["statement"]
    return {**shown, "consented": valid, "given_at": given.given_at.isoformat() if valid else None}


def set_consent(store: Store, body) -> dict:
    """``{"consent": true}`` records the consent to the current statement; ``false`` withdraws it."""
    if not isinstance(body, dict) or not isinstance(body.get("consent"), bool):
        raise BadRequest("Send {\"consent\": true} to consent to sharing, or false to withdraw it.")
    if body["consent"]:
        consent_store.give_consent(store, statement()["statement"])
    else:
        consent_store.withdraw_consent(store)
    return consent_state(store)
