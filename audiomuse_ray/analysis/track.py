"""One file in, one ``TrackAnalysis`` out. Pure: no Ray, no SQL; the models are passed in, loaded once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audiomuse_ray.analysis import audio, features, moods
from audiomuse_ray.analysis.constants import MIN_PAD_SECONDS, PATCH_SECONDS, SAMPLE_RATE_HZ, TOP_N_MOODS
from audiomuse_ray.analysis.models import MusicnnModels
from audiomuse_ray.errors import AudioTooShort, SilentAudio

SILENCE_PEAK = 10 ** (-90 / 20)  # -90 dBFS


@dataclass(frozen=True)
class TrackAnalysis:
    duration: float  # seconds, of the whole file
    analysed_seconds: float  # of audio the model heard (bounded for long files)
    tempo: float | None  # BPM; None when no beat is found
    key: str | None
    scale: str | None
    energy: float  # mean squared amplitude per sample
    embedding: np.ndarray  # (200,) float32, mean over patches of the pre-activation dense layer
    tags: dict[str, float]  # 50 MSD labels -> mean sigmoid score
    moods: dict[str, float]  # danceable, aggressive, happy, party, relaxed, sad -> 0..1
    n_patches: int
    model_version: str
    extra_tags: dict[str, float] = field(default_factory=dict)  # MTT labels, when that model is present

    def top_tags(self, n: int = TOP_N_MOODS) -> dict[str, float]:
        """The ``n`` highest tags, highest first (what ``score.mood_vector`` keeps)."""
        return dict(sorted(self.tags.items(), key=lambda kv: -kv[1])[:n])

    def tag_vector(self, labels: list[str]) -> np.ndarray:
        return np.array([self.tags[label] for label in labels], dtype=np.float32)

    def to_json(self) -> dict:
        return {
            "duration": round(self.duration, 3), "analysed_seconds": round(self.analysed_seconds, 3),
            "tempo": None if self.tempo is None else round(self.tempo, 2), "key": self.key, "scale": self.scale,
            "energy": self.energy, "tags": {k: round(v, 5) for k, v in self.tags.items()},
            "moods": {k: round(v, 5) for k, v in self.moods.items()},
            "embedding": [round(float(x), 6) for x in self.embedding], "n_patches": self.n_patches,
            "model_version": self.model_version,
        }


def prepare_samples(samples: np.ndarray, name: str) -> np.ndarray:
    """Refuse silence and clips under MIN_PAD_SECONDS; repeat-pad short clips to one patch (as in training)."""
    if samples.size == 0 or max(float(samples.max()), -float(samples.min())) < SILENCE_PEAK:
        raise SilentAudio(f"{name} is silent (peak below -90 dBFS): there is nothing to analyse.")
    seconds = samples.shape[0] / SAMPLE_RATE_HZ
    if seconds < MIN_PAD_SECONDS:
        raise AudioTooShort(f"{name} is {seconds:.2f} s long; at least {MIN_PAD_SECONDS:g} s of audio is needed.")
    need = int(np.ceil(PATCH_SECONDS * SAMPLE_RATE_HZ)) + 1
    if samples.shape[0] < need:
        samples = np.tile(samples, int(np.ceil(need / samples.shape[0])))[:need]
    return samples


def analyze_samples(samples: np.ndarray, models: MusicnnModels, *, duration: float | None = None,
                    name: str = "audio") -> TrackAnalysis:
    """16 kHz mono float32 -> analysis over every patch of the track."""
    heard_s = samples.shape[0] / SAMPLE_RATE_HZ
    samples = prepare_samples(samples, name)
    spec = audio.log_mel(samples)
    batch = audio.patches(spec)
    out = models.predict(batch)
    tags = dict(zip(models.msd_labels, out["msd"].mean(axis=0).tolist()))
    extra = dict(zip(models.mtt_labels, out["mtt"].mean(axis=0).tolist())) if "mtt" in out else {}
    if models.mood_heads:
        mood_scores = moods.moods_from_heads({m: out["mood:" + m] for m in models.mood_heads})
    else:
        mood_scores = moods.moods_from_tags(tags, extra)
    key = features.estimate_key(samples)
    return TrackAnalysis(
        duration=float(duration if duration is not None else heard_s),
        analysed_seconds=heard_s,
        tempo=features.tempo(spec),
        key=key.key if key else None,
        scale=key.scale if key else None,
        energy=features.energy(samples),
        embedding=out["embedding"].mean(axis=0).astype(np.float32),
        tags=tags,
        moods=mood_scores,
        n_patches=int(batch.shape[0]),
        model_version=models.version,
        extra_tags=extra,
    )


def analyze_file(path: str | Path, models: MusicnnModels) -> TrackAnalysis:
    """Decode and analyse one file; raises an ``AudioError`` subclass with a clear message otherwise."""
    decoded = audio.decode(path)
    return analyze_samples(decoded.samples, models, duration=decoded.duration_s, name=Path(path).name)
