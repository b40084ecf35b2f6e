"""Tempo, key/scale and energy from audio we already decoded, in plain numpy (no numba warm-up).

- Tempo: spectral-flux onset envelope of the log-mel frames, autocorrelated over 40-200 BPM lags,
  weighted by a log-normal prior around 120 BPM (one octave wide), refined by parabolic interpolation;
  None for a flat envelope or no periodicity (drones, noise, silence).
- Key: a 4096-point STFT folded into a 12-bin chroma (65 Hz-2.1 kHz), each frame normalised, averaged and
  correlated with the 24 rotated Krumhansl-Kessler key profiles.
- Energy: mean squared amplitude per sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from audiomuse_ray.analysis.constants import HOP_LENGTH, SAMPLE_RATE_HZ

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
TEMPO_RANGE_BPM = (40.0, 200.0)
TEMPO_PRIOR_BPM, TEMPO_PRIOR_OCTAVES = 120.0, 1.0
MIN_ONSET_STD = 0.005  # log10 units per frame: below this the envelope is flat (a drone, a sine)
MIN_PERIODICITY = 0.1  # normalised autocorrelation peak: below this there is no beat (noise)
CHROMA_FFT = 4096
CHROMA_RANGE_HZ = (65.0, 2100.0)


@dataclass(frozen=True)
class KeyEstimate:
    key: str
    scale: str  # "major" | "minor"
    strength: float  # Pearson correlation with the winning profile, -1..1


def energy(samples: np.ndarray) -> float:
    """Mean squared amplitude per sample. A float32 BLAS dot: its blocked partial sums keep the error
    near 1e-6 without a float64 copy of the track."""
    return float(np.dot(samples, samples)) / samples.size if samples.size else 0.0


def onset_envelope(log_mel: np.ndarray) -> np.ndarray:
    """Mean positive change across mel bands per frame: (n_frames - 1,)."""
    if log_mel.shape[0] < 2:
        return np.zeros(0, np.float32)
    return np.maximum(np.diff(log_mel, axis=0), 0.0).mean(axis=1)


def tempo(log_mel: np.ndarray, frame_rate: float = SAMPLE_RATE_HZ / HOP_LENGTH) -> float | None:
    """Most likely tempo in BPM, or None when there is no rhythm to speak of (silence, a drone)."""
    env = onset_envelope(log_mel)
    lo_lag = int(np.floor(60.0 * frame_rate / TEMPO_RANGE_BPM[1]))
    hi_lag = int(np.ceil(60.0 * frame_rate / TEMPO_RANGE_BPM[0]))
    if env.shape[0] < 2 * hi_lag or env.std() < MIN_ONSET_STD:
        return None
    env = env - env.mean()
    n = 1 << int(np.ceil(np.log2(2 * env.shape[0])))
    spec = np.fft.rfft(env, n)
    acf = np.fft.irfft(spec * np.conj(spec), n)[: hi_lag + 2]
    if acf[0] <= 1e-12:
        return None
    acf = acf / acf[0]
    if acf[lo_lag:hi_lag + 1].max() < MIN_PERIODICITY:
        return None
    lags = np.arange(lo_lag, hi_lag + 1)
    bpm = 60.0 * frame_rate / lags
    prior = np.exp(-0.5 * (np.log2(bpm / TEMPO_PRIOR_BPM) / TEMPO_PRIOR_OCTAVES) ** 2)
    score = acf[lags] * prior
    best = int(np.argmax(score))
    if score[best] <= 0:
        return None
    lag = float(lags[best])
    if 0 < best < len(lags) - 1:  # parabolic refinement between integer lags
        a, b, c = acf[lags[best] - 1], acf[lags[best]], acf[lags[best] + 1]
        denom = a - 2 * b + c
        if denom < 0:
            lag += 0.5 * (a - c) / denom
    return float(60.0 * frame_rate / lag)


@lru_cache(maxsize=1)
def _chroma_map() -> tuple[slice, np.ndarray, np.ndarray]:
    """The FFT bins inside CHROMA_RANGE_HZ, the (12, bins) 0/1 matrix folding them into pitch classes,
    and the float32 Hann window."""
    freqs = np.fft.rfftfreq(CHROMA_FFT, 1.0 / SAMPLE_RATE_HZ)
    inside = np.nonzero((freqs >= CHROMA_RANGE_HZ[0]) & (freqs <= CHROMA_RANGE_HZ[1]))[0]
    bins = slice(int(inside[0]), int(inside[-1]) + 1)
    pcs = (np.round(12 * np.log2(freqs[bins] / 440.0)) + 69).astype(int) % 12
    fold = np.zeros((12, pcs.shape[0]), np.float32)
    fold[pcs, np.arange(pcs.shape[0])] = 1.0
    return bins, fold, np.hanning(CHROMA_FFT).astype(np.float32)


def chroma(samples: np.ndarray) -> np.ndarray:
    """Average of per-frame-normalised chroma vectors: (12,), zeros when silent. A float32 FFT, and
    magnitudes only for the quarter of the bins the key range covers."""
    import scipy.fft

    samples = samples.astype(np.float32, copy=False)
    if samples.shape[0] < CHROMA_FFT:
        samples = np.pad(samples, (0, CHROMA_FFT - samples.shape[0]))
    bins, fold, window = _chroma_map()
    frames = np.lib.stride_tricks.sliding_window_view(samples, CHROMA_FFT)[::CHROMA_FFT]
    mag = np.abs(scipy.fft.rfft(frames * window, axis=1)[:, bins])
    per_frame = mag @ fold.T  # (n_frames, 12)
    totals = per_frame.sum(axis=1, keepdims=True)
    voiced = totals[:, 0] > 1e-6
    if not voiced.any():
        return np.zeros(12, np.float32)
    return (per_frame[voiced] / totals[voiced]).mean(axis=0)


def estimate_key(samples: np.ndarray) -> KeyEstimate | None:
    c = chroma(samples)
    if not c.any() or np.allclose(c, c[0]):
        return None
    best = None
    for scale, profile in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
        for tonic in range(12):
            r = float(np.corrcoef(c, np.roll(profile, tonic))[0, 1])
            if best is None or r > best.strength:
                best = KeyEstimate(PITCH_CLASSES[tonic], scale, r)
    return best
