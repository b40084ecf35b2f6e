"""What the clustering sees: one row per analysed track, standardised, plus the raw mood values it is scored on.

Score vectors are ``[tempo_norm, energy_norm, 50 tag scores, 6 other features]`` with tempo normalised over
40..200 BPM and energy over 0.01..0.15 (clipped); or the 200-d embeddings. Either is standardised
(the scaler's mean/scale are kept to read centroids back). Each track's primary genre, for stratified
sampling, is its highest tag among ``STRATIFIED_GENRES``, kept as a small integer per track.

At a million tracks (issue #20) the arrays are float32 (what the explorers share through the object store:
about 450 MB, where float64 and Python lists of names would pass 1 GB per explorer), the library is read
as columns (``store.columns``), and the explorers get ``for_search()``: the arrays without the names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from audiomuse_ray.labels import MOOD_LABELS
from audiomuse_ray.store import Store
from audiomuse_ray.store import tracks as track_store
from audiomuse_ray.store.columns import load_library_columns

TEMPO_MIN_BPM, TEMPO_MAX_BPM = 40.0, 200.0
ENERGY_MIN, ENERGY_MAX = 0.01, 0.15
STRATIFIED_GENRES = (
    "rock", "pop", "alternative", "indie", "electronic", "jazz", "metal", "classic rock", "soul", "indie rock",
    "electronica", "folk", "punk", "blues", "hard rock", "ambient", "acoustic", "experimental", "Hip-Hop",
    "country", "funk", "electro", "heavy metal", "Progressive rock", "rnb", "indie pop", "House",
)
OTHER_GENRE = "__other__"


STRATA = (*STRATIFIED_GENRES, OTHER_GENRE)  # stratum number -> genre


@dataclass
class ClusteringData:
    item_ids: list[str]
    titles: list[str]
    authors: list[str]
    features: np.ndarray  # (n, d) float32 standardised: what the algorithms cluster
    moods: np.ndarray  # (n, 50) float32 tag scores: what purity/diversity are computed on
    others: np.ndarray  # (n, 6) danceable, aggressive, happy, party, relaxed, sad
    tempo_norm: np.ndarray  # (n,) 0..1
    strata: np.ndarray  # (n,) int8: each track's primary genre, a position in STRATA
    tag_labels: list[str]
    mean: np.ndarray
    scale: np.ndarray
    embeddings: bool

    @property
    def size(self) -> int:
        return len(self.strata)

    @property
    def genres(self) -> list[str]:
        """Each track's primary genre by name."""
        return [STRATA[s] for s in self.strata.tolist()]

    def for_search(self) -> "ClusteringData":
        """The arrays the explorers read, without the names only playlists need."""
        return dataclasses.replace(self, item_ids=[], titles=[], authors=[])


def normalise(value: float | None, lo: float, hi: float) -> float:
    return float(np.clip(((value or 0.0) - lo) / (hi - lo), 0.0, 1.0))


def primary_genre(tags: np.ndarray, labels: list[str]) -> str:
    return STRATA[int(primary_strata(np.asarray(tags)[None, :], labels)[0])]


def primary_strata(tags: np.ndarray, labels: list[str]) -> np.ndarray:
    """(n,) int8: per row of ``tags`` (n, labels), the position in STRATA of its highest stratified genre
    (the first listed on a tie), the last stratum (OTHER_GENRE) when no listed genre is a label."""
    present = [(s, labels.index(g)) for s, g in enumerate(STRATIFIED_GENRES) if g in labels]
    out = np.full(len(tags), len(STRATA) - 1, np.int8)
    if present and len(tags):
        scores = tags[:, [col for _s, col in present]]
        out[:] = np.array([s for s, _col in present], np.int8)[np.argmax(scores, axis=1)]
    return out


def build_data(rows: list[track_store.TrackRow], tag_labels: list[str], embeddings: bool = False) -> ClusteringData:
    rows = [r for r in rows if r.tags is not None and r.embedding is not None]
    return assemble([r.item_id for r in rows], [r.title for r in rows], [r.author for r in rows],
                     np.stack([r.tags for r in rows]) if rows else np.zeros((0, len(tag_labels))),
                     np.array([[r.other_features.get(m, 0.0) for m in MOOD_LABELS] for r in rows]).reshape(-1, 6),
                     [r.tempo for r in rows], [r.energy for r in rows], tag_labels,
                     np.stack([r.embedding for r in rows]) if embeddings and rows else None)


def assemble(item_ids: list[str], titles: list, authors: list, tags: np.ndarray, others: np.ndarray, tempos: list,
             energies: list, tag_labels: list[str], embeddings: np.ndarray | None = None) -> ClusteringData:
    """The standardised arrays from columns (``embeddings``: cluster those instead of the score vectors)."""
    if len(item_ids) < 2:
        raise ValueError("clustering needs at least two analysed tracks; run the analysis first")
    moods = np.asarray(tags, np.float32)
    others = np.asarray(others, np.float32)
    tempo = np.clip((np.array([t or 0.0 for t in tempos], np.float64) - TEMPO_MIN_BPM) / (TEMPO_MAX_BPM - TEMPO_MIN_BPM), 0, 1)
    energy = np.clip((np.array([e or 0.0 for e in energies], np.float64) - ENERGY_MIN) / (ENERGY_MAX - ENERGY_MIN), 0, 1)
    raw = (np.asarray(embeddings, np.float64) if embeddings is not None
           else np.column_stack([tempo, energy, moods.astype(np.float64), others.astype(np.float64)]))
    mean = raw.mean(axis=0)
    scale = raw.std(axis=0)
    scale[scale < 1e-12] = 1.0
    features = ((raw - mean) / scale).astype(np.float32)
    del raw
    return ClusteringData(
        item_ids=list(item_ids), titles=[t or "" for t in titles], authors=[a or "" for a in authors],
        features=features, moods=moods, others=others, tempo_norm=tempo.astype(np.float32),
        strata=primary_strata(moods, list(tag_labels)), tag_labels=list(tag_labels),
        mean=mean, scale=scale, embeddings=embeddings is not None,
    )


def load_data(store: Store, tag_labels: list[str], embeddings: bool = False) -> ClusteringData:
    """Every track with tag scores, read as columns (a million tracks: arrays, one batch of rows at a time)."""
    read = load_library_columns(store, ("title", "author", "tempo", "energy", "other_features"), tags=True,
                                require_tags=True, vectors=embeddings)
    others = np.array([[f.get(m, 0.0) for m in MOOD_LABELS] for f in map(track_store.parse_features,
                                                                        read.fields["other_features"])],
                      np.float32).reshape(-1, len(MOOD_LABELS))
    return assemble(read.item_ids, read.fields["title"], read.fields["author"], read.tags, others,
                    read.fields["tempo"], read.fields["energy"], tag_labels, read.vectors if embeddings else None)
