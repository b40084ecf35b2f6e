"""Tempo, key and energy on synthetic signals whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from audiomuse_ray.analysis import audio, features
from audiomuse_ray.analysis.constants import SAMPLE_RATE_HZ as SR


def click_track(bpm: float, seconds: float = 20.0) -> np.ndarray:
    y = np.zeros(int(SR * seconds), np.float32)
    rng = np.random.default_rng(1)
    for start in np.arange(0, seconds, 60.0 / bpm):
        i = int(start * SR)
        burst = rng.standard_normal(400).astype(np.float32) * np.exp(-np.arange(400) / 60.0)
        y[i:i + 400] += burst[: len(y[i:i + 400])]
    return 0.3 * y


@pytest.mark.parametrize("bpm", [75.0, 96.0, 120.0, 140.0, 172.0])
def test_tempo_of_a_click_track(bpm):
    est = features.tempo(audio.log_mel(click_track(bpm)))
    assert est == pytest.approx(bpm, rel=0.02)


def test_no_tempo_for_a_drone_or_noise():
    t = np.arange(SR * 10) / SR
    assert features.tempo(audio.log_mel((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32))) is None
    noise = np.random.default_rng(0).standard_normal(SR * 10).astype(np.float32) * 0.3
    assert features.tempo(audio.log_mel(noise)) is None


def chord(notes_hz, seconds=6.0):
    t = np.arange(int(SR * seconds)) / SR
    return sum(np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t) for f in notes_hz).astype(np.float32) * 0.1


def midi(n):
    return 440.0 * 2 ** ((n - 69) / 12)


@pytest.mark.parametrize("root,scale,intervals", [
    (60, "major", (0, 4, 7, 12, 16)),  # C major triad
    (57, "minor", (0, 3, 7, 12, 15)),  # A minor triad
    (62, "major", (0, 4, 7, 12)),  # D major
    (64, "minor", (0, 3, 7, 12)),  # E minor
])
def test_key_of_a_triad(root, scale, intervals):
    est = features.estimate_key(chord([midi(root + i) for i in intervals]))
    assert (est.key, est.scale) == (features.PITCH_CLASSES[root % 12], scale)


def test_key_of_silence_is_unknown():
    assert features.estimate_key(np.zeros(SR * 3, np.float32)) is None


def test_energy_is_mean_squared_amplitude():
    assert features.energy(np.full(1000, 0.5, np.float32)) == pytest.approx(0.25)
    assert features.energy(np.zeros(0, np.float32)) == 0.0
