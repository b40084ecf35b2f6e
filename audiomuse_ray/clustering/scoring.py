"""How good is a set of playlists? Mood purity and diversity (and the same for the six other features),
plus optional structural scores, combined with weights. Pure numpy; the formulas follow AudioMuse-AI's
"How Purity and Diversity Scores Are Calculated":

- purity: for each playlist take the ``top_k`` moods of its profile (score > 0.01) that songs actually carry;
  each song contributes its highest value among them; sum over songs and playlists.
- diversity: each playlist's dominant mood; a mood counted once, with its highest score; summed.
- other-feature purity/diversity: the same on danceable, aggressive, ... with a 0.3 predominance floor.
- every raw value is ``log1p``-ed and turned into a z-score with the stats below, so the weights compare
  like with like; silhouette -> (s + 1) / 2, Davies-Bouldin -> 1 / (1 + DB), Calinski-Harabasz ->
  1 - exp(-CH / 500).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TOP_K_MOODS = 3
MIN_PROFILE_SCORE = 0.01
OTHER_FEATURE_FLOOR = 0.3


@dataclass(frozen=True)
class Stats:
    mean: float
    sd: float

    def z(self, raw: float) -> float:
        return 0.0 if self.sd <= 1e-9 else (float(np.log1p(max(raw, 0.0))) - self.mean) / self.sd


# log1p statistics of the raw scores measured on real libraries (AudioMuse-AI's defaults)
MOOD_PURITY = Stats(5.8679, 1.1557)
MOOD_DIVERSITY = Stats(0.9995, 0.3541)
MOOD_PURITY_EMBEDDINGS = Stats(0.673, 1.063)
MOOD_DIVERSITY_EMBEDDINGS = Stats(-0.101, 0.245)
OTHER_PURITY = Stats(8.84, 0.07)
OTHER_DIVERSITY = Stats(1.5, 0.46)


@dataclass(frozen=True)
class Weights:
    diversity: float = 2.0
    purity: float = 1.0
    other_feature_diversity: float = 0.0
    other_feature_purity: float = 0.0
    silhouette: float = 0.0
    davies_bouldin: float = 0.0
    calinski_harabasz: float = 0.0


@dataclass(frozen=True)
class Score:
    total: float
    parts: dict[str, float] = field(default_factory=dict)


def profiles(values: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cluster ids, mean of ``values`` per cluster): the playlists' profiles. Noise (-1) is no playlist."""
    ids = np.array(sorted(set(int(x) for x in labels) - {-1}), dtype=int)
    if ids.size == 0:
        return ids, np.zeros((0, values.shape[1]))
    return ids, np.stack([values[labels == c].mean(axis=0) for c in ids])


def purity_raw(profile: np.ndarray, songs: np.ndarray, labels: np.ndarray, ids: np.ndarray,
               top_k: int = TOP_K_MOODS, floor: float = MIN_PROFILE_SCORE) -> float:
    """Sum over playlists and their songs of each song's best value among the playlist's top moods."""
    total = 0.0
    for row, c in zip(profile, ids):
        order = np.argsort(-row)[:top_k]
        top = order[row[order] > floor]
        if top.size == 0:
            continue
        best = songs[labels == c][:, top].max(axis=1)
        total += float(best[best > 0].sum())
    return total


def diversity_raw(profile: np.ndarray, floor: float | None = None) -> float:
    """Sum of the distinct dominant moods' highest scores."""
    best: dict[int, float] = {}
    for row in profile:
        j = int(np.argmax(row))
        if floor is not None and row[j] <= floor:
            continue
        best[j] = max(best.get(j, 0.0), float(row[j]))
    return sum(best.values())


def other_purity_raw(profile: np.ndarray, songs: np.ndarray, labels: np.ndarray, ids: np.ndarray,
                     floor: float = OTHER_FEATURE_FLOOR) -> float:
    total = 0.0
    for row, c in zip(profile, ids):
        j = int(np.argmax(row))
        if row[j] >= floor:
            total += float(songs[labels == c][:, j].sum())
    return total


def score_clustering(moods: np.ndarray, others: np.ndarray, labels: np.ndarray, weights: Weights = Weights(),
                     space: np.ndarray | None = None, embeddings: bool = False) -> Score:
    """Score one clustering of songs whose mood/other-feature values are ``moods`` (n, m), ``others`` (n, 6)."""
    ids, mood_profile = profiles(moods, labels)
    _, other_profile = profiles(others, labels) if others.size else (ids, np.zeros((len(ids), 0)))
    pur_stats, div_stats = (MOOD_PURITY_EMBEDDINGS, MOOD_DIVERSITY_EMBEDDINGS) if embeddings else (MOOD_PURITY, MOOD_DIVERSITY)
    parts = {
        "purity": pur_stats.z(purity_raw(mood_profile, moods, labels, ids)),
        "diversity": div_stats.z(diversity_raw(mood_profile)),
    }
    if weights.other_feature_purity and others.size:
        parts["other_feature_purity"] = OTHER_PURITY.z(other_purity_raw(other_profile, others, labels, ids))
    if weights.other_feature_diversity and others.size:
        parts["other_feature_diversity"] = OTHER_DIVERSITY.z(diversity_raw(other_profile, OTHER_FEATURE_FLOOR))
    if space is not None and (weights.silhouette or weights.davies_bouldin or weights.calinski_harabasz):
        parts.update(structural_scores(space, labels, weights))
    total = sum(getattr(weights, name) * value for name, value in parts.items())
    return Score(float(total), parts)


def structural_scores(space: np.ndarray, labels: np.ndarray, weights: Weights) -> dict[str, float]:
    from sklearn import metrics

    out: dict[str, float] = {}
    n_labels = len(set(labels.tolist()))
    if n_labels < 2 or n_labels >= len(labels):
        return out
    if weights.silhouette:
        out["silhouette"] = (float(metrics.silhouette_score(space, labels, sample_size=min(2000, len(labels)),
                                                           random_state=0)) + 1) / 2
    if weights.davies_bouldin:
        out["davies_bouldin"] = 1.0 / (1.0 + float(metrics.davies_bouldin_score(space, labels)))
    if weights.calinski_harabasz:
        out["calinski_harabasz"] = 1.0 - float(np.exp(-metrics.calinski_harabasz_score(space, labels) / 500.0))
    return out
