"""The scoring formulas, on the worked examples of AudioMuse-AI's documentation and small cases."""

from __future__ import annotations

import numpy as np
import pytest

from audiomuse_ray.clustering.scoring import (
    MOOD_DIVERSITY, MOOD_PURITY, Stats, Weights, diversity_raw, other_purity_raw, profiles, purity_raw,
    score_clustering,
)


def test_purity_worked_example_songs_a_and_b():
    # Profile over (pop, indie, vocal, rock); songs carry the active moods only: pop is absent (0) for them.
    labels_ = ["pop", "indie", "vocal", "rock"]
    profile = np.array([[0.6, 0.4, 0.35, 0.0]])
    song_a = [0.0, 0.3, 0.6, 0.7]
    song_b = [0.0, 0.4, 0.3, 0.45]
    songs = np.array([song_a, song_b])
    raw = purity_raw(profile, songs, np.array([0, 0]), np.array([0]))
    # top-3 = pop, indie, vocal; A contributes max(0, .3, .6) = .6, B max(0, .4, .3) = .4; rock is not top
    assert raw == pytest.approx(1.0)
    assert MOOD_PURITY.z(raw) == pytest.approx(-4.477592, abs=1e-6)
    assert labels_[int(np.argmax(profile[0]))] == "pop"


def test_diversity_worked_example_p1_to_p3():
    # columns: indie, rock, vocal, pop
    p = np.array([[0.6, 0.3, 0.2, 0.0], [0.3, 0.0, 0.1, 0.5], [0.4, 0.2, 0.55, 0.0]])
    raw = diversity_raw(p)
    assert raw == pytest.approx(1.65)
    assert MOOD_DIVERSITY.z(raw) == pytest.approx(-0.070433, abs=1e-6)
    total = 2.0 * MOOD_DIVERSITY.z(raw) + 1.0 * MOOD_PURITY.z(1.0)
    assert total == pytest.approx(-4.618458, abs=1e-6)


def test_a_shared_dominant_mood_counts_once_with_its_highest_score():
    assert diversity_raw(np.array([[0.6, 0.1], [0.7, 0.2]])) == pytest.approx(0.7)


def test_profiles_ignore_noise():
    ids, prof = profiles(np.array([[1.0], [3.0], [10.0]]), np.array([0, 0, -1]))
    assert ids.tolist() == [0] and prof.tolist() == [[2.0]]


def test_other_feature_purity_needs_a_predominant_feature():
    prof = np.array([[0.8, 0.1], [0.2, 0.25]])
    songs = np.array([[0.9, 0.0], [0.7, 0.1], [0.2, 0.3]])
    assert other_purity_raw(prof, songs, np.array([0, 0, 1]), np.array([0, 1])) == pytest.approx(1.6)


def test_z_score_is_zero_with_no_spread():
    assert Stats(1.0, 0.0).z(5.0) == 0.0


def test_pure_and_diverse_clustering_scores_higher_than_a_mixed_one():
    rng = np.random.default_rng(0)
    n = 60
    moods = np.zeros((n, 3))
    truth = np.repeat([0, 1, 2], n // 3)
    moods[np.arange(n), truth] = 0.8 + 0.1 * rng.uniform(size=n)
    others = np.zeros((n, 0))
    good = score_clustering(moods, others, truth, Weights())
    mixed = score_clustering(moods, others, rng.permutation(truth), Weights())
    assert good.total > mixed.total
    assert set(good.parts) == {"purity", "diversity"}


def test_structural_scores_are_added_only_when_weighted():
    rng = np.random.default_rng(1)
    space = np.concatenate([rng.normal(0, 0.1, (20, 2)), rng.normal(5, 0.1, (20, 2))])
    labels = np.repeat([0, 1], 20)
    moods = np.abs(rng.normal(size=(40, 4)))
    s = score_clustering(moods, np.zeros((40, 0)), labels, Weights(silhouette=1.0, davies_bouldin=1.0,
                                                                  calinski_harabasz=1.0), space=space)
    assert 0.9 < s.parts["silhouette"] <= 1 and 0.9 < s.parts["davies_bouldin"] <= 1 and s.parts["calinski_harabasz"] > 0.99
