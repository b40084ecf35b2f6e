"""The STFT window and the mel filterbank MusiCNN was trained with, in plain numpy.

Built here rather than taken from librosa and scipy.signal: importing those costs a worker about two
CPU-seconds at its first track, for two small arrays. ``tests/analysis/test_filters.py`` holds them to
librosa's and scipy's output.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from audiomuse_ray.analysis.constants import N_FFT, N_MELS, SAMPLE_RATE_HZ

# Slaney's auditory-toolbox mel scale: linear (200/3 Hz per mel) below 1 kHz, logarithmic above
_LINEAR_HZ_PER_MEL = 200.0 / 3.0
_BREAK_HZ = 1000.0
_BREAK_MEL = _BREAK_HZ / _LINEAR_HZ_PER_MEL
_LOG_STEP = np.log(6.4) / 27.0  # mels per natural-log unit of frequency above the break


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / _LINEAR_HZ_PER_MEL
    above = hz >= _BREAK_HZ
    return np.where(above, _BREAK_MEL + np.log(np.maximum(hz, _BREAK_HZ) / _BREAK_HZ) / _LOG_STEP, mel)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    above = mel >= _BREAK_MEL
    return np.where(above, _BREAK_HZ * np.exp(_LOG_STEP * (mel - _BREAK_MEL)), _LINEAR_HZ_PER_MEL * mel)


@lru_cache(maxsize=1)
def mel_filterbank() -> np.ndarray:
    """(N_MELS, N_FFT // 2 + 1) float32: triangles evenly spaced in mels from 0 Hz to Nyquist, each
    scaled to unit area over its width in Hz (Slaney normalisation), as ``librosa.filters.mel(htk=False,
    norm="slaney")`` builds them."""
    fft_hz = np.linspace(0.0, SAMPLE_RATE_HZ / 2, N_FFT // 2 + 1)
    edges_hz = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE_HZ / 2), N_MELS + 2))
    widths = np.diff(edges_hz)
    distance = edges_hz[:, None] - fft_hz[None, :]  # (N_MELS + 2, bins)
    rising = -distance[:-2] / widths[:-1, None]
    falling = distance[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    return weights.astype(np.float32)


@lru_cache(maxsize=1)
def hann_window() -> np.ndarray:
    """Periodic Hann window of N_FFT samples (what an STFT wants; the symmetric one is for filter design)."""
    n = np.arange(N_FFT)
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * n / N_FFT)).astype(np.float32)
