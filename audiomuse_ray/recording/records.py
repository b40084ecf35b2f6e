"""The record a hub stores and an exchange file holds: one recording's analysis, found by its tags and
confirmed by its fingerprint. What it shares is listed here and nowhere else: tags (artist, title, album),
duration, the Chromaprint fingerprint, the model version and the analysis numbers. No audio, no file path,
no local item id, no media-server id.

``to_json``/``from_json`` are the HTTP shape; ``from_json`` checks every field, because a hub takes these
from any client holding a token.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field

import numpy as np

from audiomuse_ray.recording.identity import tag_key
from audiomuse_ray.errors import BadRequest
from audiomuse_ray.providers.base import Track
from audiomuse_ray.store.fingerprints import FingerprintRow
from audiomuse_ray.store.hub import SharedRow
from audiomuse_ray.store.tracks import TrackRow

RECORD_SCHEMA = 1  # of the record's fields, in HTTP bodies and exchange files alike
MAX_TEXT = 1000
MAX_FINGERPRINT_CHARS = 20_000  # two minutes are ~1 KB
MAX_DIM = 4096
MAX_FEATURES = 200

# What a record shares, in words, by field (the Collection tab and GET /api/collection/consent show this; a
# test checks that it names every field of ``SharedAnalysis``, so nothing new is shared unannounced), and
# what never leaves this instance.
SHARED = {
    "artist, title, album, duration": "the track's tags and length, so that another server can find the same "
                                      "recording",
    "fingerprint": "a Chromaprint fingerprint of the first two minutes: numbers that confirm two files are one "
                   "recording (not the audio, which cannot be made from it)",
    "embedding, tags": "the MusiCNN analysis: the 200-number sound embedding and the tag scores",
    "tempo, key, scale, energy": "tempo, musical key and scale, loudness",
    "mood_vector, other_features": "mood and style scores (rock, pop, danceable, happy, ...)",
    "model_version": "the version of the models that made the analysis",
    "recording_id": "the hub's own id of the recording, which the hub gives",
}
NEVER_SHARED = ("the audio", "file paths and file names", "media-server ids (of tracks, albums, artists)",
                "play counts and listening history", "the media server's address and credentials")
HUB_KEEPS = "The hub also records which of its client names (the name of your hub token) pushed each record."


@dataclass(frozen=True)
class SharedAnalysis(SharedRow):
    """A shared analysis with its wire format (``to_json``/``from_json``) and its conversions from and to a
    local analysis; the fields are the stored row's (``store.hub.SharedRow``)."""

    @property
    def tag_key(self) -> str | None:
        return tag_key(self.artist, self.title)

    # ------------------------------------------------------------------ to and from a local analysis
    @classmethod
    def from_track(cls, row: TrackRow, fingerprint: FingerprintRow) -> "SharedAnalysis":
        """A stored analysis with its fingerprint, as shared: the row's ids and path stay behind."""
        return cls(row.author, row.title, row.album, row.duration, fingerprint.chromaprint,
                   row.model_version or "", row.tempo, row.key, row.scale, row.energy, dict(row.mood_vector),
                   dict(row.other_features), np.asarray(row.embedding, np.float32),
                   None if row.tags is None else np.asarray(row.tags, np.float32), fingerprint.recording_id)

    def to_track_row(self, track: Track, fingerprint: FingerprintRow) -> TrackRow:
        """This analysis stored for a local track: the track's own tags, ids, path and duration."""
        return TrackRow(
            item_id=track.item_id, title=track.title, author=track.artist, album=track.album,
            album_artist=track.album_artist, tempo=self.tempo, key=self.key, scale=self.scale,
            mood_vector=dict(self.mood_vector), energy=self.energy, other_features=dict(self.other_features),
            duration=fingerprint.duration or self.duration, path_or_url=track.path_or_url,
            model_version=self.model_version, embedding=np.asarray(self.embedding, np.float32),
            tags=None if self.tags is None else np.asarray(self.tags, np.float32),
            artist_id=track.artist_id or None, fingerprint=fingerprint)

    # ------------------------------------------------------------------ JSON
    def to_json(self) -> dict:
        return {
            "recording_id": self.recording_id, "artist": self.artist, "title": self.title, "album": self.album,
            "duration": self.duration, "fingerprint": self.fingerprint, "model_version": self.model_version,
            "tempo": self.tempo, "key": self.key, "scale": self.scale, "energy": self.energy,
            "mood_vector": self.mood_vector, "other_features": self.other_features,
            "embedding": encode_floats(self.embedding),
            "tags": None if self.tags is None else encode_floats(self.tags),
        }

    @classmethod
    def from_json(cls, data) -> "SharedAnalysis":
        if not isinstance(data, dict):
            raise BadRequest("Each record must be a JSON object.")
        fingerprint = _text(data, "fingerprint", MAX_FINGERPRINT_CHARS, required=True)
        embedding = decode_floats(data.get("embedding"), "embedding")
        if embedding is None or not 0 < embedding.shape[0] <= MAX_DIM:
            raise BadRequest(f"A record's embedding must hold 1 to {MAX_DIM} float32 values.")
        return cls(
            artist=_text(data, "artist"), title=_text(data, "title"), album=_text(data, "album"),
            duration=_number(data, "duration"), fingerprint=fingerprint,
            model_version=_text(data, "model_version", 128, required=True),
            tempo=_number(data, "tempo"), key=_text(data, "key", 8), scale=_text(data, "scale", 8),
            energy=_number(data, "energy"), mood_vector=_features(data, "mood_vector"),
            other_features=_features(data, "other_features"), embedding=embedding,
            tags=decode_floats(data.get("tags"), "tags"), recording_id=_text(data, "recording_id", 64),
        )


@dataclass(frozen=True)
class Candidate:
    """What a worker needs to confirm a candidate: where it comes from, its fingerprint and duration."""

    source: str  # "local" (another track here), "hub", "file" (an exchange file)
    ref: str  # the local item id, the hub's recording id, the file's row number
    fingerprint: str
    duration: float | None


def encode_floats(values: np.ndarray) -> str:
    """float32 little-endian, base64: exact, and a quarter of the size of decimal JSON."""
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode("ascii")


def decode_floats(text, name: str) -> np.ndarray | None:
    if text is None:
        return None
    if not isinstance(text, str) or len(text) > MAX_DIM * 8:
        raise BadRequest(f"A record's {name} must be base64 of little-endian float32 values.")
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise BadRequest(f"A record's {name} is not valid base64.") from None
    if len(raw) % 4:
        raise BadRequest(f"A record's {name} is not a whole number of float32 values.")
    values = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if not np.isfinite(values).all():
        raise BadRequest(f"A record's {name} holds a NaN or an infinity.")
    return values


def _text(data: dict, name: str, limit: int = MAX_TEXT, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(f"A record has no {name}.")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadRequest(f"A record's {name} must be text of at most {limit} characters.")
    return value


def _number(data: dict, name: str) -> float | None:
    value = data.get(name)
    return None if value is None else _finite(value, name)


def _finite(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest(f"A record's {name} must be a finite number.")
    return float(value)


def _features(data: dict, name: str) -> dict[str, float]:
    value = data.get(name) or {}
    if not isinstance(value, dict) or len(value) > MAX_FEATURES:
        raise BadRequest(f"A record's {name} must be an object of at most {MAX_FEATURES} label: number pairs.")
    out = {}
    for label, score in value.items():
        if not isinstance(label, str) or len(label) > 100 or "," in label:
            raise BadRequest(f"A record's {name} has a label that is not short text without commas.")
        out[label] = _finite(score, f"{name}[{label!r}]")
    return out
