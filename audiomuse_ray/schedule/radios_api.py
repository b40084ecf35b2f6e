"""Use cases behind ``/api/anchors`` and ``/api/radios`` in AudioMuse-AI's JSON shapes: bodies in, JSON-ready
dicts out, typed errors raised (each carries its HTTP status). No HTTP here; the routes, the UI and the
scheduled radio job call these.

Running a radio writes its playlist through a ``PlaylistWriter`` the caller hands in: ``write(name,
item_ids, previous_playlist_id) -> playlist_id``. The previous id is the playlist the radio's last run
wrote, so a writer that can replace a playlist in place keeps the client's pinned playlist.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from audiomuse_ray.errors import AnchorUnresolvable, BadRequest, ProviderError
from audiomuse_ray.parsing import flag
from audiomuse_ray.providers.base import MediaProvider, PlayRecord
from audiomuse_ray.schedule.anchors import parse_centroid, parse_exclusions, parse_items, parse_name, resolve
from audiomuse_ray.store.radio_records import Anchor, Radio
from audiomuse_ray.schedule.radio import RadioOptions, next_playlist
from audiomuse_ray.similarity.alchemy import MAX_N
from audiomuse_ray.similarity.library import ANGULAR, Library
from audiomuse_ray.store import Store
from audiomuse_ray.store import playlists as playlist_store
from audiomuse_ray.store import radios as radio_store

PlaylistWriter = Callable[[str, list[str], "str | None"], str]
MAX_SKIP_DAYS = 3650


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def anchor_json(a: Anchor) -> dict:
    return {"id": a.id, "name": a.name, "items": [i.to_json() for i in a.items],
            "exclusions": [e.to_json() for e in a.exclusions], "has_centroid": a.centroid is not None,
            "subtract_distance": a.subtract_distance, "created_at": _iso(a.created_at)}


def radio_json(r: Radio) -> dict:
    return {"id": r.id, "anchor_id": r.anchor_id, "name": r.name, "temperature": r.temperature,
            "n_results": r.n_results, "enabled": r.enabled, "max_repeat_share": r.max_repeat_share,
            "skip_played_days": r.skip_played_days, "last_run_at": _iso(r.last_run_at),
            "last_song_count": len(r.last_item_ids), "provider_playlist_id": r.provider_playlist_id}


# ------------------------------------------------------------------------------------------- anchors
def list_anchors(store: Store) -> dict:
    """``GET /api/anchors``: ``{"anchors": [{id, name, items, exclusions, has_centroid, ...}]}``, newest first."""
    return {"anchors": [anchor_json(a) for a in radio_store.list_anchors(store)]}


def create_anchor(store: Store, body: Mapping[str, Any]) -> dict:
    """``POST /api/anchors``: ``{name, items}`` (items as ``/api/alchemy`` takes them), AudioMuse-AI's
    ``{name, centroid, exclusions}``, or both (the centroid then only stands in when no item is left).
    Answers ``{"anchor": {"id", "name"}}``."""
    body = _body(body)
    name = parse_name(body)
    items = parse_items(body["items"]) if body.get("items") is not None else ()
    centroid = parse_centroid(body["centroid"]) if body.get("centroid") is not None else None
    if not items and centroid is None:
        raise BadRequest("An anchor needs 'items' (songs and artists, as /api/alchemy takes them) or a 'centroid'")
    saved = radio_store.create_anchor(store, name, items, centroid, parse_exclusions(body.get("exclusions")),
                                      _subtract_distance(body))
    return {"anchor": {"id": saved.id, "name": saved.name}}


def update_anchor(store: Store, anchor_id: int, body: Mapping[str, Any]) -> dict:
    """``PUT /api/anchors/{id}``: rename (AudioMuse-AI's ``{name}``), and/or replace its items, centroid or
    exclusions. Answers ``{"anchor": {"id", "name"}}``."""
    body = _body(body)
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = parse_name(body)
    if body.get("items") is not None:
        changes["items"] = parse_items(body["items"])
    if "centroid" in body:
        changes["centroid"] = None if body["centroid"] is None else parse_centroid(body["centroid"])
    if "exclusions" in body:
        changes["exclusions"] = parse_exclusions(body["exclusions"])
    if "subtract_distance" in body:
        changes["subtract_distance"] = _subtract_distance(body)
    if not changes:
        raise BadRequest("Anchor name is required")
    saved = radio_store.update_anchor(store, anchor_id, **changes)
    return {"anchor": {"id": saved.id, "name": saved.name}}


def delete_anchor(store: Store, anchor_id: int) -> dict:
    """``DELETE /api/anchors/{id}`` (its radio goes too): ``{"deleted": true}``; 404 when unknown."""
    radio_store.delete_anchor(store, anchor_id)
    return {"deleted": True}


# -------------------------------------------------------------------------------------------- radios
def list_radios(store: Store) -> dict:
    """``GET /api/radios``: ``{"radios": [{id, anchor_id, name, temperature, n_results, enabled, ...}]}``."""
    return {"radios": [radio_json(r) for r in radio_store.list_radios(store)]}


def create_radio(store: Store, body: Mapping[str, Any]) -> dict:
    """``POST /api/radios``: ``{anchor_id, n_results, temperature, enabled}`` (+ ``max_repeat_share`` 0..1,
    ``skip_played_days``). Answers ``{"radio": {...}}``; one radio per anchor (409 for a second)."""
    body = _body(body)
    try:
        anchor_id = int(body.get("anchor_id"))
    except (TypeError, ValueError):
        raise BadRequest("Radio anchor is required") from None
    if body.get("temperature") is None:
        raise BadRequest("Radio temperature is required")
    if body.get("n_results") is None:
        raise BadRequest("Radio number of results is required")
    settings = _radio_settings(body)
    saved = radio_store.create_radio(store, anchor_id, **{"enabled": True, "max_repeat_share": 1.0,
                                                          "skip_played_days": 0, **settings})
    return {"radio": radio_json(saved)}


def update_radio(store: Store, radio_id: int, body: Mapping[str, Any]) -> dict:
    """``PUT /api/radios/{id}``: any of temperature, n_results, enabled, max_repeat_share, skip_played_days;
    the others stay. Answers ``{"radio": {...}}``."""
    return {"radio": radio_json(radio_store.update_radio(store, radio_id, **_radio_settings(_body(body))))}


def delete_radio(store: Store, radio_id: int) -> dict:
    """``DELETE /api/radios/{id}`` (the anchor stays): ``{"deleted": true}``."""
    radio_store.delete_radio(store, radio_id)
    return {"deleted": True}


def preview_radio(store: Store, lib: Library, radio_id: int, *, artists=None,
                  history: Sequence[PlayRecord] | None = None, now: datetime | None = None,
                  rng: np.random.Generator | None = None, metric: str = ANGULAR) -> dict:
    """The radio's next playlist without writing it: ``{"radio", "results": [{item_id, title, author, album,
    distance, repeated}], "repeated", "skipped_recent", "missing"}``."""
    radio = radio_store.get_radio(store, radio_id)
    playlist = _next(store, lib, radio, artists, history, now, rng, metric)
    previous = set(radio.last_item_ids)
    return {"radio": radio_json(radio),
            "results": [{**lib.meta[r].row(), "distance": d, "repeated": lib.meta[r].item_id in previous}
                        for r, d in zip(playlist.rows, playlist.distances)],
            "repeated": playlist.repeated, "skipped_recent": playlist.skipped_recent, "missing": list(playlist.missing)}


def anchor_endpoint(store: Store, lib: Library, anchor_id: int, other_id: str = "", pct: int | None = 100, *,
                    artists=None, metric: str = ANGULAR) -> str:
    """A song path's end given as an anchor (AudioMuse-AI's ``start_anchor``/``end_anchor``): the song
    nearest the point ``pct`` % of the way from the other end (a song id) to the anchor's mix (100 = the
    mix itself), never the other end. ``pct`` is clamped to 0..100."""
    recipe = resolve(radio_store.get_anchor(store, anchor_id), lib, artists, metric)
    other = lib.index.row_of.get(other_id) if other_id else None
    t = max(0, min(100, 100 if pct is None else int(pct))) / 100.0
    target = recipe.add_centroid if other is None else lib.vectors[other] + t * (recipe.add_centroid - lib.vectors[other])
    rows, _ = lib.neighbours(np.asarray(target, np.float32), min(lib.size, 10))
    found = next((int(r) for r in rows if int(r) != other), None)
    if found is None:
        raise AnchorUnresolvable(f"No song of the library stands for anchor {anchor_id} there.")
    return lib.meta[found].item_id


def run_radios(store: Store, lib: Library, write_playlist: PlaylistWriter, *, artists=None,
               history: Sequence[PlayRecord] | None = None, now: datetime | None = None,
               rng: np.random.Generator | None = None, radio_ids: Sequence[int] | None = None,
               metric: str = ANGULAR) -> dict:
    """``POST /api/radios/run``: a new playlist for every enabled radio (or those of ``radio_ids``), each
    replacing the one its last run wrote. Answers AudioMuse-AI's ``{message, radios_enabled,
    playlists_created, failed}`` (failed: radio names) plus ``radios`` (what each run did)."""
    now = now or datetime.now(timezone.utc)
    radios = [r for r in radio_store.list_radios(store, enabled_only=True) if radio_ids is None or r.id in radio_ids]
    created, failed, done = 0, [], []
    for radio in radios:
        try:
            playlist = _next(store, lib, radio, artists, history, now, rng, metric)
            if not playlist.item_ids:
                raise AnchorUnresolvable(f"Radio '{radio.name}' found no songs to play.")
            playlist_id = write_playlist(radio.name, list(playlist.item_ids), radio.provider_playlist_id)
        except (AnchorUnresolvable, ProviderError) as exc:
            failed.append(radio.name)
            done.append({"id": radio.id, "name": radio.name, "error": str(exc)})
            continue
        radio_store.record_run(store, radio.id, playlist.item_ids, playlist_id, now)
        created += 1
        done.append({"id": radio.id, "name": radio.name, "playlist_id": playlist_id, "songs": len(playlist.item_ids),
                     "repeated": playlist.repeated, "skipped_recent": playlist.skipped_recent,
                     "missing": list(playlist.missing)})
    return {"message": f"Created {created} radio playlist(s).", "radios_enabled": len(radios),
            "playlists_created": created, "failed": failed, "radios": done}


def listening_history(provider: MediaProvider, limit: int = 500) -> tuple[list[PlayRecord] | None, str]:
    """The media server's most played songs with their last plays, for ``skip_played_days``; (None, why)
    where the provider keeps no history or does not answer: radios still run, without the skip."""
    from audiomuse_ray.providers.registry import spec

    if not spec(provider.name).capabilities.history:
        return None, f"{spec(provider.name).title} keeps no listening history"
    try:
        return provider.top_played(None, limit=limit), ""
    except ProviderError as exc:  # HistoryUnsupported included
        return None, str(exc)


def provider_writer(store: Store, provider: MediaProvider) -> PlaylistWriter:
    """Writes through ``provider.replace_playlist`` where its registration says it keeps the playlist's id
    (the radio's previous playlist then keeps its id on the media server), else ``create_playlist`` (which
    replaces the playlist of that name); records the playlist with the others this service created."""
    from audiomuse_ray.providers.registry import spec

    in_place = spec(provider.name).capabilities.playlist_in_place

    def write(name: str, item_ids: list[str], previous_id: str | None) -> str:
        if in_place:
            playlist_id = provider.replace_playlist(previous_id, name, item_ids)
        else:
            playlist_id = provider.create_playlist(name, item_ids)
        playlist_store.save_playlist(store, name, item_ids, provider.name, playlist_id)
        return playlist_id

    return write


# ------------------------------------------------------------------------------------------- helpers
def _next(store: Store, lib: Library, radio: Radio, artists, history, now, rng, metric):
    recipe = resolve(radio_store.get_anchor(store, radio.anchor_id), lib, artists, metric)
    options = RadioOptions(n=radio.n_results, temperature=radio.temperature, max_repeat_share=radio.max_repeat_share,
                           skip_played_days=radio.skip_played_days, metric=metric)
    return next_playlist(lib, recipe, options, radio.last_item_ids, history, now, rng)


def _body(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise BadRequest("The request body must be a JSON object")
    return body


def _subtract_distance(body: Mapping[str, Any]) -> float | None:
    raw = body.get("subtract_distance")
    if raw is None:
        return None
    value = _finite(raw, "Anchor subtract_distance must be a number")
    if value < 0:
        raise BadRequest("Anchor subtract_distance must be 0 or more")
    return value


def _radio_settings(body: Mapping[str, Any]) -> dict:
    """The radio fields present in ``body``, checked with AudioMuse-AI's messages."""
    out: dict[str, Any] = {}
    if body.get("temperature") is not None:
        out["temperature"] = _finite(body["temperature"], "Radio temperature must be a number")
        if out["temperature"] < 0:
            raise BadRequest("Radio temperature must be 0 or greater")
    if body.get("n_results") is not None:
        try:
            n = int(body["n_results"])
        except (TypeError, ValueError):
            raise BadRequest("Radio number of results must be an integer") from None
        if isinstance(body["n_results"], float) and not body["n_results"].is_integer():
            raise BadRequest("Radio number of results must be an integer")
        if not 1 <= n <= MAX_N:
            raise BadRequest(f"Radio number of results must be between 1 and {MAX_N}")
        out["n_results"] = n
    if body.get("enabled") is not None:
        out["enabled"] = _flag(body["enabled"])
    if body.get("max_repeat_share") is not None:
        out["max_repeat_share"] = _finite(body["max_repeat_share"], "Radio max_repeat_share must be a number")
        if not 0 <= out["max_repeat_share"] <= 1:
            raise BadRequest("Radio max_repeat_share must be between 0 and 1")
    if body.get("skip_played_days") is not None:
        try:
            out["skip_played_days"] = int(body["skip_played_days"])
        except (TypeError, ValueError):
            raise BadRequest("Radio skip_played_days must be an integer") from None
        if not 0 <= out["skip_played_days"] <= MAX_SKIP_DAYS:
            raise BadRequest(f"Radio skip_played_days must be between 0 and {MAX_SKIP_DAYS}")
    return out


def _finite(raw: Any, message: str) -> float:
    if isinstance(raw, bool):
        raise BadRequest(message)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise BadRequest(message) from None
    if not math.isfinite(value):
        raise BadRequest(message.replace("a number", "a finite number"))
    return value


def _flag(raw: Any) -> bool:
    return flag({"enabled": raw}, "enabled", True)
