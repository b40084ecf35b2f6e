"""Anchors and radios as values: what the store saves and the use cases pass around (no numpy, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

SONG, ARTIST, VECTOR = "song", "artist", "vector"
ADD, SUBTRACT = "ADD", "SUBTRACT"


@dataclass(frozen=True)
class AnchorItem:
    kind: str  # SONG or ARTIST
    id: str  # an item id, or an artist's media-server id or name
    op: str = ADD

    def to_json(self) -> dict:
        return {"type": self.kind, "id": self.id, "op": self.op}


@dataclass(frozen=True)
class Exclusion:
    """Songs a radio never plays: one song, an artist's songs, or those within ``distance`` of a vector."""

    kind: str  # SONG, ARTIST or VECTOR
    id: str = ""
    vector: tuple[float, ...] | None = None
    distance: float | None = None  # VECTOR only; None = the metric's SUBTRACT radius

    def to_json(self) -> dict:
        if self.kind == VECTOR:
            return {"vector": list(self.vector or ()), "distance": self.distance}
        return {"type": self.kind, "id": self.id}


@dataclass(frozen=True)
class Anchor:
    id: int | None
    name: str
    items: tuple[AnchorItem, ...] = ()
    centroid: tuple[float, ...] | None = None
    exclusions: tuple[Exclusion, ...] = ()
    subtract_distance: float | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Radio:
    id: int | None
    anchor_id: int
    name: str  # the anchor's name, which is also the playlist's
    n_results: int
    temperature: float
    enabled: bool = True
    max_repeat_share: float = 1.0  # 1 = no limit
    skip_played_days: int = 0  # 0 = never skip
    last_item_ids: tuple[str, ...] = ()
    provider_playlist_id: str | None = None
    last_run_at: datetime | None = None
