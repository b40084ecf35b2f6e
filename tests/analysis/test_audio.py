"""Decoding and the log-mel front end, against librosa's reference implementation."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from audiomuse_ray.analysis import audio
from audiomuse_ray.analysis.constants import N_MELS, PATCH_FRAMES, SAMPLE_RATE_HZ
from audiomuse_ray.errors import UnreadableAudio


def test_log_mel_matches_librosa_exactly_as_the_seed_defines_it():
    import librosa

    rng = np.random.default_rng(0)
    y = (0.1 * rng.standard_normal(SAMPLE_RATE_HZ * 5)).astype(np.float32)
    ref = librosa.feature.melspectrogram(y=y, sr=SAMPLE_RATE_HZ, n_fft=512, hop_length=256, n_mels=96, center=False,
                                         power=2.0, htk=False, norm="slaney", window="hann").T
    np.testing.assert_allclose(audio.log_mel(y), np.log10(1 + 10000 * ref), atol=2e-5)


def test_patches_follow_musicnn_extractor():
    spec = np.arange(1000 * N_MELS, dtype=np.float32).reshape(1000, N_MELS)
    p = audio.patches(spec)
    assert p.shape == (1000 // PATCH_FRAMES, PATCH_FRAMES, N_MELS)  # remainder dropped, no overlap
    np.testing.assert_array_equal(p[1, 0], spec[PATCH_FRAMES])
    assert audio.patches(spec[:100]).shape == (0, PATCH_FRAMES, N_MELS)
    reference = np.stack([spec[s:s + PATCH_FRAMES] for s in range(0, 1000 - PATCH_FRAMES + 1, PATCH_FRAMES)])
    np.testing.assert_array_equal(p, reference)
    overlapping = audio.patches(spec, hop=100)
    assert overlapping.shape[0] == (1000 - PATCH_FRAMES) // 100 + 1
    np.testing.assert_array_equal(overlapping[3], spec[300:300 + PATCH_FRAMES])


def test_segment_plan_bounds_long_files():
    assert audio.segment_plan(1000, 10, max_seconds=200) == [(0, 1000)]
    plan = audio.segment_plan(10_000, 10, max_seconds=100, segments=4)
    assert len(plan) == 4 and all(n == 250 for _, n in plan)
    assert plan[0][0] == 0 and plan[-1][0] + plan[-1][1] == 10_000  # first and last parts of the file


def test_decode_resamples_and_mixes_down(tmp_path):
    t = np.arange(44_100 * 2) / 44_100
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 0.5
    sf.write(tmp_path / "a.flac", stereo, 44_100)
    d = audio.decode(tmp_path / "a.flac")
    assert d.samples.dtype == np.float32 and d.channels == 2 and d.source_rate == 44_100
    assert d.samples.shape[0] == pytest.approx(2 * SAMPLE_RATE_HZ, abs=2)
    assert d.duration_s == pytest.approx(2.0, abs=1e-3)
    spectrum = np.abs(np.fft.rfft(d.samples))
    assert np.argmax(spectrum) * SAMPLE_RATE_HZ / d.samples.shape[0] == pytest.approx(440, abs=1)


def test_long_files_are_read_in_segments(tmp_path):
    ramp = np.linspace(-0.5, 0.5, 16_000 * 20, dtype=np.float32)
    sf.write(tmp_path / "long.wav", ramp, 16_000, subtype="FLOAT")
    d = audio.decode(tmp_path / "long.wav", max_seconds=4.0, segments=2)
    assert d.sampled and d.duration_s == pytest.approx(20.0) and d.samples.shape[0] == 4 * 16_000
    assert d.samples[0] == pytest.approx(-0.5) and d.samples[-1] == pytest.approx(0.5, abs=1e-4)


@pytest.mark.parametrize("fmt,subtype,channels", [("WAV", "PCM_U8", 1), ("WAV", "PCM_16", 2), ("WAV", "PCM_24", 6),
                                                   ("WAV", "FLOAT", 2), ("FLAC", "PCM_16", 2)])
@pytest.mark.parametrize("max_seconds", [600.0, 1.0])
def test_both_decoders_give_the_same_samples(tmp_path, fmt, subtype, channels, max_seconds):
    """FFmpeg and libsndfile stand in for each other, so they must agree sample for sample: every sample
    format (unsigned 8-bit is centred on 128), any channel count, whole files and evenly spaced segments."""
    rng = np.random.default_rng(1)
    signal = np.clip(0.3 * rng.standard_normal((22_050 * 3, channels)), -1, 1)
    path = tmp_path / f"x.{fmt.lower()}"
    sf.write(path, signal, 22_050, format=fmt, subtype=subtype)
    ffmpeg = audio._decode_pyav(path, max_seconds, 3)
    libsndfile = audio._decode_soundfile(path, max_seconds, 3)
    assert ffmpeg[1:] == libsndfile[1:]  # rate, channels, duration, sampled
    assert ffmpeg[0].shape == libsndfile[0].shape == ((22_050 * 3,) if max_seconds > 3 else (22_050,))
    np.testing.assert_allclose(ffmpeg[0], libsndfile[0], atol=1e-6)
    assert abs(float(ffmpeg[0].mean())) < 0.02  # centred


@pytest.mark.parametrize("content,match", [(b"", "empty"), (b"not audio at all" * 100, "not audio")])
def test_undecodable_input_is_unreadable_audio(tmp_path, content, match):
    f = tmp_path / "x.mp3"
    f.write_bytes(content)
    with pytest.raises(UnreadableAudio, match=match):
        audio.decode(f)


def test_missing_file_is_unreadable_audio(tmp_path):
    with pytest.raises(UnreadableAudio, match="cannot be read"):
        audio.decode(tmp_path / "gone.ogg")
