"""The documented tag -> mood mapping."""

from __future__ import annotations

import numpy as np
import pytest

from audiomuse_ray.labels import MOOD_LABELS
from audiomuse_ray.analysis.moods import TAG_MAPPING, moods_from_heads, moods_from_tags, noisy_or

MSD_LABELS = ["rock", "metal", "heavy metal", "punk", "hard rock", "dance", "House", "electro", "funk", "chill",
              "chillout", "Mellow", "easy listening", "happy", "party", "sad"]


def test_noisy_or():
    assert noisy_or(np.array([0.5, 0.5])) == pytest.approx(0.75)
    assert noisy_or(np.array([])) == 0.0
    assert noisy_or(np.array([1.2, -1])) == 1.0  # clipped


def test_each_mood_follows_its_own_tags_only():
    zero = {t: 0.0 for t in MSD_LABELS}
    assert set(moods_from_tags(zero, {})) == set(MOOD_LABELS)
    assert all(v == 0.0 for v in moods_from_tags(zero, {}).values())
    loud = moods_from_tags(zero | {"metal": 0.6, "punk": 0.5}, {})
    assert loud["aggressive"] == pytest.approx(0.8) and loud["relaxed"] == 0.0
    calm = moods_from_tags(zero | {"chillout": 0.4}, {"soft": 0.5})
    assert calm["relaxed"] == pytest.approx(0.7) and calm["aggressive"] == 0.0
    assert moods_from_tags(zero | {"party": 0.3}, {})["party"] == pytest.approx(0.3)


def test_mapping_names_only_real_labels():
    from audiomuse_ray.analysis.models import load_manifest
    from tests.conftest import REPO

    manifest = load_manifest(REPO / "models")
    msd, mtt = set(manifest.labels["msd-musicnn"]), set(manifest.labels["mtt-musicnn"])
    for mood, (msd_tags, mtt_tags) in TAG_MAPPING.items():
        assert set(msd_tags) <= msd, mood
        assert set(mtt_tags) <= mtt | {"calm"}, mood


def test_heads_are_averaged_over_patches():
    out = moods_from_heads({m: np.array([0.2, 0.4]) for m in MOOD_LABELS})
    assert out == {m: pytest.approx(0.3) for m in MOOD_LABELS}
