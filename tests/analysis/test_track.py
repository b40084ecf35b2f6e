"""``analyze_file`` on every odd file of the corpus, and ``analyze-file`` as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from audiomuse_ray.analysis.models import load_models
from audiomuse_ray.analysis.track import analyze_file, analyze_samples
from audiomuse_ray.errors import AudioError, AudioTooShort, SilentAudio, UnreadableAudio
from tests.conftest import REPO

EXPECTED_ERRORS = {
    "empty.mp3": UnreadableAudio, "text-named.flac": UnreadableAudio, "random-bytes.ogg": UnreadableAudio,
    "silence.flac": SilentAudio, "too-short.wav": AudioTooShort,
}


@pytest.fixture(scope="module")
def models():
    return load_models(REPO / "models")


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(120)
def test_each_broken_file_gives_a_sane_analysis_or_one_typed_error(corpus, models):
    for path in sorted((corpus / "broken").iterdir()):
        expected = EXPECTED_ERRORS.get(path.name)
        if expected:
            with pytest.raises(expected) as err:
                analyze_file(path, models)
            assert path.name in str(err.value)
            continue
        a = analyze_file(path, models)
        assert np.isfinite(a.embedding).all() and a.embedding.shape == (200,), path.name
        assert all(0 <= v <= 1 for v in a.tags.values()) and len(a.tags) == 50
        assert a.duration > 1 and a.analysed_seconds <= 600 + 1
        assert a.duration <= a.analysed_seconds + 1 or a.analysed_seconds > 599, f"{path.name}: a duration it does not hold"
    long = analyze_file(corpus / "broken" / "ninety-minutes.ogg", models)
    assert long.duration == pytest.approx(5400, abs=1) and long.analysed_seconds == pytest.approx(600, abs=1)


def test_short_clips_are_padded_to_one_patch(models):
    t = np.arange(int(16_000 * 1.5)) / 16_000
    a = analyze_samples((0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), models)
    assert a.n_patches == 1 and a.duration == pytest.approx(1.5)


def test_the_embedding_is_the_mean_of_patch_embeddings(models):
    from audiomuse_ray.analysis import audio

    rng = np.random.default_rng(3)
    y = (0.2 * rng.standard_normal(16_000 * 10)).astype(np.float32)
    a = analyze_samples(y, models)
    per_patch = models.predict(audio.patches(audio.log_mel(y)))
    np.testing.assert_allclose(a.embedding, per_patch["embedding"].mean(axis=0), rtol=1e-5, atol=1e-6)
    assert a.tags == pytest.approx(dict(zip(models.msd_labels, per_patch["msd"].mean(axis=0))))


def test_errors_are_audio_errors():
    assert all(issubclass(e, AudioError) for e in EXPECTED_ERRORS.values())


@pytest.mark.integration
def test_analyze_file_cli_prints_one_json_object_per_file(corpus):
    good = next((corpus / "library" / "Planet Blupi" / "Blupi Tunes").glob("*.m4a"))
    proc = subprocess.run([sys.executable, "-m", "audiomuse_ray", "--models-dir", str(REPO / "models"), "analyze-file",
                           str(good), str(corpus / "broken" / "empty.mp3"), "--json"],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    first, second = [json.loads(line) for line in proc.stdout.splitlines()]
    assert first["path"] == str(good) and len(first["embedding"]) == 200 and len(first["tags"]) == 50
    assert set(first["moods"]) == {"danceable", "aggressive", "happy", "party", "relaxed", "sad"}
    assert {"duration", "tempo", "key", "scale", "energy"} <= set(first)
    assert second["error"]["type"] == "UnreadableAudio" and "empty" in second["error"]["message"]


def test_the_image_warm_up_track_is_heard_at_its_120_bpm_pulse(models):
    """audiomuse_ray/commands/warmup.py runs the models on this synthetic track while the Docker image builds."""
    from audiomuse_ray.commands.warmup import synthetic_track

    result = analyze_samples(synthetic_track(), models, name="warm-up")
    assert 110 <= result.tempo <= 130 and result.embedding.shape == (200,)
