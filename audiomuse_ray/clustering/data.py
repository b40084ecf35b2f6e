"""What the clustering sees: one row per analysed track, standardised, plus the raw mood values it is scored on.

Score vectors are ``[tempo_norm, energy_norm, 50 tag scores, 6 other features]`` with tempo normalised over
40..200 BPM and energy over 0.01..0.15 (clipped); or the 200-d embeddings. Either is standardised
(the scaler's mean/scale are kept to read centroids back). Each track's primary genre, for stratified
sampling, is its highest tag among ``STRATIFIED_GENRES``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audiomuse_ray.analysis.constants import MOOD_LABELS
from audiomuse_ray.store import Store
from audiomuse_ray.store import tracks as track_store

TEMPO_MIN_BPM, TEMPO_MAX_BPM = 40.0, 200.0
ENERGY_MIN, ENERGY_MAX = 0.01, 0.15
STRATIFIED_GENRES = (
    "rock", "pop", "alternative", "indie", "electronic", "jazz", "metal", "classic rock", "soul", "indie rock",
    "electronica", "folk", "punk", "blues", "hard rock", "ambient", "acoustic", "experimental", "Hip-Hop",
    "country", "funk", "electro", "heavy metal", "Progressive rock", "rnb", "indie pop", "House",
)
OTHER_GENRE = "__other__"


@dataclass
class ClusteringData:
    item_ids: list[str]
    titles: list[str]
    authors: list[str]
    features: np.ndarray  # (n, d) standardised: what the algorithms cluster
    moods: np.ndarray  # (n, 50) tag scores: what purity/diversity are computed on
    others: np.ndarray  # (n, 6) danceable, aggressive, happy, party, relaxed, sad
    tempo_norm: np.ndarray  # (n,) 0..1
    genres: list[str]
    tag_labels: list[str]
    mean: np.ndarray
    scale: np.ndarray
    embeddings: bool

    @property
    def size(self) -> int:
        return len(self.item_ids)


def normalise(value: float | None, lo: float, hi: float) -> float:
    return float(np.clip(((value or 0.0) - lo) / (hi - lo), 0.0, 1.0))


def primary_genre(tags: np.ndarray, labels: list[str]) -> str:
    best, best_score = OTHER_GENRE, -1.0
    for genre in STRATIFIED_GENRES:
        if genre in labels:
            v = float(tags[labels.index(genre)])
            if v > best_score:
                best, best_score = genre, v
    return best


def build_data(rows: list[track_store.TrackRow], tag_labels: list[str], embeddings: bool = False) -> ClusteringData:
    rows = [r for r in rows if r.tags is not None and r.embedding is not None]
    if len(rows) < 2:
        raise ValueError("clustering needs at least two analysed tracks; run the analysis first")
    moods = np.stack([r.tags for r in rows]).astype(np.float64)
    others = np.array([[r.other_features.get(m, 0.0) for m in MOOD_LABELS] for r in rows])
    tempo = np.array([normalise(r.tempo, TEMPO_MIN_BPM, TEMPO_MAX_BPM) for r in rows])
    energy = np.array([normalise(r.energy, ENERGY_MIN, ENERGY_MAX) for r in rows])
    raw = np.stack([r.embedding for r in rows]).astype(np.float64) if embeddings else np.column_stack(
        [tempo, energy, moods, others])
    mean = raw.mean(axis=0)
    scale = raw.std(axis=0)
    scale[scale < 1e-12] = 1.0
    return ClusteringData(
        item_ids=[r.item_id for r in rows], titles=[r.title or "" for r in rows], authors=[r.author or "" for r in rows],
        features=(raw - mean) / scale, moods=moods, others=others, tempo_norm=tempo,
        genres=[primary_genre(r.tags, tag_labels) for r in rows], tag_labels=list(tag_labels),
        mean=mean, scale=scale, embeddings=embeddings,
    )


def load_data(store: Store, tag_labels: list[str], embeddings: bool = False) -> ClusteringData:
    return build_data(track_store.get_tracks(store, with_embeddings=True), tag_labels, embeddings)
