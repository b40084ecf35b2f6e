"""Mood scores (danceable, aggressive, happy, party, relaxed, sad) in 0..1.

With Essentia's mood heads the scores are their averaged "yes" probabilities. Without them, each mood is
the noisy-OR of the MusiCNN tag scores that name it: ``1 - prod(1 - s_i)``, the probability that at least
one of the tags applies if they were independent. The mapping (tag-mapping-v1):
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from audiomuse_ray.analysis.constants import MOOD_LABELS

# mood -> MSD tags. Only the MSD network runs per track (the MTT one would double the network cost for
# six numbers), so the mapping uses MSD labels; MTT scores are used too when a caller supplies them.
TAG_MAPPING: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "danceable": (("dance", "House", "electro", "funk"), ("dance", "beat", "beats", "techno")),
    "aggressive": (("metal", "heavy metal", "punk", "hard rock"), ("metal", "loud")),
    "happy": (("happy",), ()),
    "party": (("party",), ()),
    "relaxed": (("chill", "chillout", "Mellow", "easy listening"), ("soft", "slow", "quiet", "calm")),
    "sad": (("sad",), ()),
}


def noisy_or(scores: np.ndarray) -> float:
    return float(1.0 - np.prod(1.0 - np.clip(scores, 0.0, 1.0))) if scores.size else 0.0


def moods_from_tags(msd: Mapping[str, float], mtt: Mapping[str, float]) -> dict[str, float]:
    """Track-level tag scores (label -> mean sigmoid) to the six mood scores."""
    out = {}
    for mood in MOOD_LABELS:
        msd_tags, mtt_tags = TAG_MAPPING[mood]
        values = [msd[t] for t in msd_tags if t in msd] + [mtt[t] for t in mtt_tags if t in mtt]
        out[mood] = noisy_or(np.asarray(values, dtype=np.float64))
    return out


def moods_from_heads(head_outputs: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Per-patch "yes" probabilities from the Essentia heads, averaged over the track."""
    return {mood: float(np.mean(head_outputs[mood])) for mood in MOOD_LABELS}
