"""The artist routes' logic (AudioMuse-AI's names and shapes): similar artists and an artist's tracks.

An artist is named by ``artist_id`` or ``artist``; either may hold the media server's artist id (the
Navidrome plugin sends its id as ``artist``) or a name (case- and accent-insensitive).
"""

from __future__ import annotations

from audiomuse_ray.api.holder import Snapshot
from audiomuse_ray.api.similarity_api import clamp
from audiomuse_ray.errors import BadRequest, IndexNotBuilt, UnknownArtist
from audiomuse_ray.similarity.artists import ArtistIndex, ArtistProfile, ComponentMatch, SimilarArtist

MAX_ARTISTS = 500


def _index(snap: Snapshot) -> ArtistIndex:
    if snap.artists is None:
        raise IndexNotBuilt("The artist index is not built yet: run the analysis first (audiomuse-ray analyze).")
    return snap.artists


def _keys(artist_id: str | None, artist: str | None) -> list[str]:
    keys = [k.strip() for k in (artist_id or "", artist or "") if k.strip()]
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


def similar_artists(snap: Snapshot, artist_id: str | None = None, artist: str | None = None, n: int | None = 10,
                    ef_search: int | None = None, include_component_matches: bool | None = False) -> list[dict]:
    artists = _index(snap)
    keys = _keys(artist_id, artist)
    with_matches = bool(include_component_matches)
    found_artist = find_artist(artists, keys)
    found = artists.similar(found_artist, clamp(n, 10, 1, MAX_ARTISTS), clamp(ef_search, None, 1, 10_000), with_matches)
    if not found:
        raise UnknownArtist(f"Artist '{keys[0]}' not found in index or no similar artists found.")
    return [_similar_row(found_artist, s, with_matches) for s in found]


def _similar_row(query: ArtistProfile, s: SimilarArtist, with_matches: bool) -> dict:
    row = {"artist": s.profile.name, "artist_id": s.profile.artist_id or s.profile.name,  # never null: clients key on it
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


def artist_tracks(snap: Snapshot, artist_id: str | None = None, artist: str | None = None) -> list[dict]:
    """Its tracks by title; an artist nobody analysed has none (AudioMuse-AI answers [] too)."""
    artists = _index(snap)
    try:
        found = find_artist(artists, _keys(artist_id, artist))
    except UnknownArtist:
        return []
    lib = snap.library
    return [{"item_id": lib.meta[r].item_id, "title": lib.meta[r].title, "author": lib.meta[r].author}
            for r in artists.tracks(found)]
