"""Playlists this service created on the media server, kept so they can be listed and replaced."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from audiomuse_ray.store.db import Store, upsert, utcnow
from audiomuse_ray.store.schema import playlist


@dataclass(frozen=True)
class PlaylistRow:
    name: str
    item_ids: list[str]
    provider: str
    provider_playlist_id: str | None
    created_at: datetime


def save_playlist(store: Store, name: str, item_ids: list[str], provider: str, provider_playlist_id: str | None) -> None:
    with store.begin() as conn:
        upsert(conn, playlist, [{
            "name": name, "item_ids": json.dumps(list(item_ids)), "provider": provider,
            "provider_playlist_id": provider_playlist_id, "created_at": utcnow(),
        }], ["name"])


def list_playlists(store: Store, suffix: str | None = None) -> list[PlaylistRow]:
    stmt = select(playlist).order_by(playlist.c.name)
    if suffix:
        stmt = stmt.where(playlist.c.name.endswith(suffix, autoescape=True))
    with store.connect() as conn:
        rows = conn.execute(stmt).all()
    return [PlaylistRow(r.name, json.loads(r.item_ids), r.provider, r.provider_playlist_id, r.created_at) for r in rows]


def delete_playlists(store: Store, suffix: str) -> int:
    with store.begin() as conn:
        res = conn.execute(delete(playlist).where(playlist.c.name.endswith(suffix, autoescape=True)))
    return int(res.rowcount or 0)
