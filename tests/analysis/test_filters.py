"""Our window and mel filterbank against the reference implementations the model was trained with."""

from __future__ import annotations

import numpy as np
import pytest

from audiomuse_ray.analysis import filters
from audiomuse_ray.analysis.constants import N_FFT, N_MELS, SAMPLE_RATE_HZ


def test_mel_filterbank_is_librosas_slaney_filterbank():
    import librosa

    ref = librosa.filters.mel(sr=SAMPLE_RATE_HZ, n_fft=N_FFT, n_mels=N_MELS, htk=False, norm="slaney")
    ours = filters.mel_filterbank()
    assert ours.shape == ref.shape == (N_MELS, N_FFT // 2 + 1) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-9)


def test_mel_scale_round_trips_and_breaks_at_1_khz():
    import librosa

    hz = np.array([0.0, 440.0, 999.0, 1000.0, 1001.0, 4000.0, 8000.0])
    np.testing.assert_allclose(filters.hz_to_mel(hz), librosa.hz_to_mel(hz, htk=False), rtol=1e-12)
    np.testing.assert_allclose(filters.mel_to_hz(filters.hz_to_mel(hz)), hz, rtol=1e-12, atol=1e-9)
    assert float(filters.hz_to_mel(1000.0)) == pytest.approx(15.0) and float(filters.hz_to_mel(500.0)) == pytest.approx(7.5)


def test_window_is_scipys_periodic_hann():
    import scipy.signal

    np.testing.assert_allclose(filters.hann_window(), scipy.signal.get_window("hann", N_FFT, fftbins=True), atol=1e-7)
