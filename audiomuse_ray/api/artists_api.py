"""The artist routes' logic (AudioMuse-AI's names and shapes): similar artists and an artist's tracks.

An artist is named by ``artist_id`` or ``artist``; either may hold the media server's artist id (the
Navidrome plugin sends its id as ``artist``) or a name (case- and accent-insensitive).
"""

from __future__ import annotations

from typing import Any, Mapping

from audiomuse_ray.api.holder import Snapshot
from audiomuse_ray.api.params import BadRequest, flag, integer, text
from audiomuse_ray.errors import IndexNotBuilt, UnknownArtist
from audiomuse_ray.similarity.artists import ArtistIndex, ArtistProfile, ComponentMatch, SimilarArtist

MAX_ARTISTS = 500


def _index(snap: Snapshot) -> ArtistIndex:
    if snap.artists is None:
        raise IndexNotBuilt("The artist index is not built yet: run the analysis first (audiomuse-ray analyze).")
    return snap.artists


def _keys(p: Mapping[str, Any]) -> list[str]:
    keys = [k for k in (text(p, "artist_id"), text(p, "artist")) if k]
    if not keys:
        raise BadRequest("Missing 'artist' or 'artist_id' parameter")
    return keys


def find_artist(artists: ArtistIndex, keys: list[str]) -> ArtistProfile:
    """The first key that names an artist; the last key's error otherwise."""
    for key in keys[:-1]:
        try:
            return artists.find(key)
        except UnknownArtist:
            continue
    return artists.find(keys[-1])


def similar_artists(snap: Snapshot, p: Mapping[str, Any]) -> list[dict]:
    artists = _index(snap)
    keys = _keys(p)
    n = integer(p, "n", 10, lo=1, hi=MAX_ARTISTS)
    ef_search = integer(p, "ef_search", None, lo=1, hi=10_000)
    with_matches = flag(p, "include_component_matches", False)
    artist = find_artist(artists, keys)
    found = artists.similar(artist, n, ef_search, with_matches)
    if not found:
        raise UnknownArtist(f"Artist '{keys[0]}' not found in index or no similar artists found.")
    return [_similar_row(artist, s, with_matches) for s in found]


def _similar_row(query: ArtistProfile, s: SimilarArtist, with_matches: bool) -> dict:
    row = {"artist": s.profile.name, "artist_id": s.profile.artist_id or None,
           "divergence": round(s.distance, 6), "distance": round(s.distance, 6)}
    if with_matches:
        row["component_matches"] = [_match_row(m) for m in s.matches]
        row["query_artist_components"] = int(query.directions.shape[0])
        row["candidate_artist_components"] = int(s.profile.directions.shape[0])
    return row


def _match_row(m: ComponentMatch) -> dict:
    def songs(refs) -> list[dict]:
        return [{"item_id": r.item_id, "title": r.title, "distance_to_component": round(r.distance_to_component, 6)}
                for r in refs]

    return {"component1_index": m.component1_index, "component2_index": m.component2_index,
            "distance": round(m.distance, 6), "component1_weight": round(m.component1_weight, 6),
            "component2_weight": round(m.component2_weight, 6),
            "artist1_representative_songs": songs(m.artist1_songs),
            "artist2_representative_songs": songs(m.artist2_songs)}


def artist_tracks(snap: Snapshot, p: Mapping[str, Any]) -> list[dict]:
    """Its tracks by title; an artist nobody analysed has none (AudioMuse-AI answers [] too)."""
    artists = _index(snap)
    try:
        artist = find_artist(artists, _keys(p))
    except UnknownArtist:
        return []
    lib = snap.library
    return [{"item_id": lib.meta[r].item_id, "title": lib.meta[r].title, "author": lib.meta[r].author}
            for r in artists.tracks(artist)]
