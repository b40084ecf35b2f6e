"""The library owner's consent to share analyses with a hub (the Collection tab's tick), kept in
``audiomuse_meta`` under one key: when it was given and the digest of the statement it was given to.

Kept in the store, not in a browser: it is a fact about this instance's data, the same for every page and
replica, and its date is shown back. A statement that changes (what a record shares) has another digest,
so an old consent no longer counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from audiomuse_ray.store.db import Store, upsert, utcnow
from audiomuse_ray.store.schema import meta
from audiomuse_ray.store.times import as_utc

KEY = "collection_consent"


@dataclass(frozen=True)
class Consent:
    given_at: datetime
    statement: str  # the digest of the statement consented to


def get_consent(store: Store) -> Consent | None:
    with store.connect() as conn:
        value = conn.execute(select(meta.c.value).where(meta.c.key == KEY)).scalar()
    if not value:
        return None
    try:
        data = json.loads(value)
        return Consent(as_utc(datetime.fromisoformat(data["given_at"])), str(data["statement"]))
    except (ValueError, KeyError, TypeError):
        return None  # unreadable: asked again


def give_consent(store: Store, statement: str) -> Consent:
    consent = Consent(utcnow(), statement)
    value = json.dumps({"given_at": consent.given_at.isoformat(), "statement": statement})
    with store.begin() as conn:
        upsert(conn, meta, [{"key": KEY, "value": value}], ["key"])
    return consent


def withdraw_consent(store: Store) -> None:
    with store.begin() as conn:
        conn.execute(delete(meta).where(meta.c.key == KEY))
