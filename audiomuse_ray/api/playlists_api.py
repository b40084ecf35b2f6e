"""Playlist use cases (AudioMuse-AI shapes): create a playlist on the media server and list the ones this
service made."""

from __future__ import annotations

from typing import Any, Sequence

from audiomuse_ray.errors import BadRequest
from audiomuse_ray.providers.base import MediaProvider
from audiomuse_ray.store import Store
from audiomuse_ray.store import playlists as playlist_store
from audiomuse_ray.store import tracks as track_store


def playlist_ids(raw: Sequence[Any] | None) -> list[str]:
    """``track_ids`` as AudioMuse-AI's clients send them: ids, or objects with an ``item_id``; duplicates
    and empty ones dropped, order kept."""
    ids: list[str] = []
    for t in raw or []:
        item_id = str(t.get("item_id", "")) if isinstance(t, dict) else str(t)
        if item_id and item_id not in ids:
            ids.append(item_id)
    return ids


def create_playlist(store: Store, provider: MediaProvider, name: str | None, track_ids: Sequence[Any] | None) -> dict:
    """The playlist ``name`` on the media server (recorded in the store). Blocking: call it off the event loop."""
    name = (name or "").strip()
    if not name:
        raise BadRequest("Missing 'playlist_name'")
    ids = playlist_ids(track_ids)
    if not ids:
        raise BadRequest("No valid track IDs were provided to create the playlist")
    playlist_id = provider.create_playlist(name, ids)
    playlist_store.save_playlist(store, name, ids, provider.name, playlist_id)
    return {"message": f"Playlist '{name}' created successfully!", "playlist_id": playlist_id}


def list_playlists(store: Store) -> dict[str, list[dict]]:
    out = {}
    for p in playlist_store.list_playlists(store):
        rows = {t.item_id: t for t in track_store.get_tracks(store, p.item_ids)}
        out[p.name] = [{"item_id": i, "title": rows[i].title if i in rows else None,
                        "author": rows[i].author if i in rows else None} for i in p.item_ids]
    return out
