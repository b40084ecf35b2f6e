"""The JSON forms anchors are saved from (as AudioMuse-AI and ``/api/alchemy`` spell them), and an
anchor's recipe resolved against one library snapshot.

An anchor keeps what the listener chose (songs and artists added or subtracted, as ``/api/alchemy`` takes
them) rather than only the point they averaged to: a re-analysis moves every embedding and an index
rebuild renumbers every row, but item and artist ids stay, so the recipe is worked out again against the
library of the day. AudioMuse-AI's ``{name, centroid}`` form keeps just the vector; a recipe may keep one
too, used only when none of its songs and artists is left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from audiomuse_ray.errors import AnchorUnresolvable, BadRequest, UnknownArtist
from audiomuse_ray.store.radio_records import ADD, ARTIST, SONG, SUBTRACT, VECTOR, Anchor, AnchorItem, Exclusion
from audiomuse_ray.similarity.alchemy import SUBTRACT_DISTANCE, weighted_centroid
from audiomuse_ray.similarity.library import ANGULAR, Library

MAX_ITEMS = 200


# ------------------------------------------------------------------------------------ JSON forms in
def parse_name(body: Mapping[str, Any]) -> str:
    raw = body.get("name")
    name = raw.strip() if isinstance(raw, str) else ""
    if not name:
        raise BadRequest("Anchor name is required")
    if len(name) > 255:
        raise BadRequest("Anchor name must be at most 255 characters")
    return name


def parse_items(raw: Any) -> tuple[AnchorItem, ...]:
    """``[{"type": "song"|"artist", "id": ..., "op": "ADD"|"SUBTRACT"}]`` as ``/api/alchemy`` takes them
    (type defaults to song, op to ADD); at least one ADD."""
    if not isinstance(raw, list) or not raw:
        raise BadRequest("Anchor items must be a non-empty list of {type, id, op}")
    if len(raw) > MAX_ITEMS:
        raise BadRequest(f"An anchor takes at most {MAX_ITEMS} items")
    items = []
    for entry in raw:
        if not isinstance(entry, Mapping):
            raise BadRequest("Each anchor item must be an object {type, id, op}")
        kind = str(entry.get("type") or SONG).lower()
        op = str(entry.get("op") or ADD).upper()
        item_id = str(entry.get("id") or "").strip()
        if kind not in (SONG, ARTIST) or op not in (ADD, SUBTRACT) or not item_id:
            raise BadRequest("Anchor items need a type 'song' or 'artist', an id, and an op 'ADD' or 'SUBTRACT'")
        items.append(AnchorItem(kind, item_id, op))
    if not any(i.op == ADD for i in items):
        raise BadRequest("An anchor needs at least one ADD song or artist")
    return tuple(dict.fromkeys(items))


def parse_centroid(raw: Any) -> tuple[float, ...]:
    if not isinstance(raw, list) or not raw:
        raise BadRequest("Anchor centroid is required and must be a list")
    return _finite_vector(raw, "Anchor centroid")


def parse_exclusions(raw: Any) -> tuple[Exclusion, ...]:
    """AudioMuse-AI's ``[{"vector": [...], "distance": d}]``, and ``{"type": "song"|"artist", "id": ...}``."""
    if not raw:
        return ()
    if not isinstance(raw, list):
        raise BadRequest("Anchor exclusions must be a list")
    out = []
    for entry in raw:
        if not isinstance(entry, Mapping):
            raise BadRequest("Each anchor exclusion must be an object")
        if "vector" in entry:
            vector = entry.get("vector")
            if not isinstance(vector, list) or not vector:
                raise BadRequest("Each anchor exclusion needs a non-empty vector list")
            distance = entry.get("distance")
            if distance is not None:
                try:
                    distance = float(distance)
                except (TypeError, ValueError):
                    raise BadRequest("Anchor exclusion distance must be a number") from None
                if not math.isfinite(distance) or distance < 0:
                    raise BadRequest("Anchor exclusion distance must be a finite number, 0 or more")
            out.append(Exclusion(VECTOR, vector=_finite_vector(vector, "An exclusion vector"), distance=distance))
            continue
        kind = str(entry.get("type") or SONG).lower()
        item_id = str(entry.get("id") or entry.get("item_id") or "").strip()
        if kind not in (SONG, ARTIST) or not item_id:
            raise BadRequest("An exclusion is {vector, distance} or {type: 'song'|'artist', id}")
        out.append(Exclusion(kind, id=item_id))
    return tuple(out)


def _finite_vector(raw: list, what: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in raw)
    except (TypeError, ValueError):
        raise BadRequest(f"{what} must be a list of numbers") from None
    if not all(math.isfinite(v) for v in values):
        raise BadRequest(f"{what} must hold finite numbers")
    return values


# ------------------------------------------------------------------------------ resolved against a library
@dataclass(frozen=True)
class Recipe:
    """An anchor worked out against one library snapshot: what a radio's next playlist is drawn from."""

    add_centroid: np.ndarray
    subtract_centroid: np.ndarray | None
    subtract_distance: float
    seed_rows: frozenset[int]  # the anchor's own songs: never in its playlist
    excluded_rows: frozenset[int]  # excluded songs, and the songs of excluded artists
    regions: tuple[tuple[np.ndarray, float], ...]  # (vector, radius): songs inside are excluded
    missing: tuple[str, ...]  # ids of the recipe that this library no longer holds


def resolve(anchor: Anchor, lib: Library, artists=None, metric: str = ANGULAR) -> Recipe:
    """The recipe's centroids from today's embeddings; ids the library lost are skipped and listed. Falls
    back to the saved centroid when no ADD item is left; ``AnchorUnresolvable`` when nothing is."""
    dim = lib.vectors.shape[1] if lib.vectors.ndim == 2 else 0
    missing: list[str] = []
    rows = {ADD: [], SUBTRACT: []}
    parts: dict[str, list[tuple[np.ndarray, float]]] = {ADD: [], SUBTRACT: []}
    for item in anchor.items:
        if item.kind == SONG:
            row = lib.index.row_of.get(item.id)
            if row is None:
                missing.append(item.id)
            else:
                rows[item.op].append(row)
            continue
        profile = _artist(artists, item.id)
        if profile is None:
            missing.append(item.id)
        else:  # an artist weighs as much as one song: its components, weighted by their share
            parts[item.op].extend((profile.centroids[c], float(profile.weights[c])) for c in range(len(profile.weights)))
    add = weighted_centroid(lib, rows[ADD], parts[ADD])
    if add is None and anchor.centroid is not None:
        if len(anchor.centroid) != dim:
            raise AnchorUnresolvable(
                f"Anchor '{anchor.name}' keeps a {len(anchor.centroid)}-value centroid but the library's embeddings "
                f"have {dim}: save the anchor again from songs of this library.")
        add = np.asarray(anchor.centroid, np.float32)
    if add is None:
        raise AnchorUnresolvable(
            f"None of anchor '{anchor.name}''s songs or artists is in the analysed library any more: save it "
            "again from songs that are.")
    subtract = weighted_centroid(lib, rows[SUBTRACT], parts[SUBTRACT])
    radius = anchor.subtract_distance if anchor.subtract_distance is not None else SUBTRACT_DISTANCE[metric]
    excluded, regions = set(), []
    for ex in anchor.exclusions:
        if ex.kind == SONG and ex.id in lib.index.row_of:
            excluded.add(lib.index.row_of[ex.id])
        elif ex.kind == ARTIST and (profile := _artist(artists, ex.id)) is not None:
            excluded.update(profile.rows)
        elif ex.kind == ARTIST:
            excluded.update(r for r, m in enumerate(lib.meta) if ex.id in (m.artist_id, m.author))
        elif ex.kind == VECTOR and ex.vector is not None and len(ex.vector) == dim:
            regions.append((np.asarray(ex.vector, np.float32), ex.distance if ex.distance is not None else radius))
    return Recipe(add, subtract, radius, frozenset(rows[ADD] + rows[SUBTRACT]), frozenset(excluded), tuple(regions),
                  tuple(missing))


def _artist(artists, key: str):
    if artists is None:
        return None
    try:
        return artists.find(key)
    except UnknownArtist:
        return None


def recipe_json(items: Sequence[AnchorItem]) -> list[dict]:
    return [i.to_json() for i in items]
