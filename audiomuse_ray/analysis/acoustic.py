"""Chromaprint fingerprints of the first two minutes of a track, and the comparison that confirms two
files hold one recording.

A fingerprint is made from the analysis' own decoded audio (16 kHz mono float32, ``analysis/audio.py``),
so a track being analysed costs only Chromaprint's own pass, and a track pulled from a hub costs a
two-minute decode instead of a full analysis. It is kept in Chromaprint's compressed base64 form
(~0.8 KB for two minutes), the form AcoustID uses.

Two fingerprints confirm one recording when their bit error rate, at the best of a few alignments
(``MAX_OFFSET_ITEMS`` items either way, about 1.2 s: encoder delay and padding), is at most
``MATCH_MAX_BER`` over at least ``MIN_OVERLAP_ITEMS`` items. Measured on the 72-track clip corpus: a
transcode (MP3 64-128k, Opus 24-96k, Vorbis q2, AAC 96-160k) stays at or below 0.13, most under 0.05;
two different tracks never came under 0.26. AAC at 48-64k on a clipped metal track reached 0.25-0.31:
such a file is analysed locally, never matched. A fingerprint with almost no distinct items (silence, a
constant tone) is ``informative=False`` and confirms nothing: two silent files are not one recording.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiomuse_ray.analysis.constants import SAMPLE_RATE_HZ
from audiomuse_ray.errors import FingerprintUnavailable

FINGERPRINT_SECONDS = 120.0  # of audio from the start of the track
MATCH_MAX_BER = 0.15
MAX_OFFSET_ITEMS = 10  # one item is 4096/3 samples at 11025 Hz: ~0.124 s
MIN_OVERLAP_ITEMS = 40  # ~5 s of audio
MIN_DISTINCT_FRACTION = 0.1  # silence: 0.005; the corpus' quietest ambient track: 0.29
ITEMS_PER_SECOND = 11025 / (4096 / 3)


@dataclass(frozen=True)
class Fingerprint:
    """A track's fingerprint: Chromaprint's compressed base64 text and the length it covers."""

    chromaprint: str
    seconds: float  # of audio fingerprinted (at most FINGERPRINT_SECONDS)

    def items(self) -> np.ndarray:
        return decode(self.chromaprint)


@dataclass(frozen=True)
class Comparison:
    ber: float  # bit error rate at the best alignment (1.0 when they could not be aligned)
    offset: int  # items the second is shifted by
    overlap: int  # items compared

    @property
    def confirms(self) -> bool:
        return self.overlap >= MIN_OVERLAP_ITEMS and self.ber <= MATCH_MAX_BER


def _chromaprint():
    try:
        import chromaprint
    except ImportError as exc:  # pyacoustid raises ImportError when libchromaprint is missing
        raise FingerprintUnavailable(
            f"Chromaprint is not available ({exc}): install libchromaprint1 (apt-get install libchromaprint1) "
            "and the pyacoustid package; collection sync and exchange files need it.") from None
    return chromaprint


def require_chromaprint() -> None:
    """Raise ``FingerprintUnavailable`` now, before a job starts, when Chromaprint cannot be loaded."""
    _chromaprint()


def fingerprint_samples(samples: np.ndarray, rate: int = SAMPLE_RATE_HZ) -> Fingerprint:
    """Fingerprint the first ``FINGERPRINT_SECONDS`` of mono float32 ``samples`` (values in [-1, 1])."""
    chromaprint = _chromaprint()
    head = samples[:int(FINGERPRINT_SECONDS * rate)]
    pcm = np.clip(head * 32767.0, -32768, 32767).astype("<i2")
    fp = chromaprint.Fingerprinter()
    fp.start(rate, 1)
    fp.feed(pcm.tobytes())
    return Fingerprint(fp.finish().decode("ascii"), head.shape[0] / rate)


def fingerprint_file(path: str | Path) -> tuple[Fingerprint, float]:
    """Decode only the first two minutes with the analysis' decoder and fingerprint them: (fingerprint,
    the whole file's duration in seconds). Raises ``UnreadableAudio`` like the analysis does."""
    from audiomuse_ray.analysis import audio

    decoded = audio.decode(path, max_seconds=FINGERPRINT_SECONDS, segments=1)
    duration = decoded.duration_s
    if decoded.samples.shape[0] >= (FINGERPRINT_SECONDS - 1) * SAMPLE_RATE_HZ:
        # the read stopped at two minutes, so the decoder only knows that much: ask the container
        duration = audio.probe(Path(path)).duration_s or duration
    return fingerprint_samples(decoded.samples), duration


def decode(chromaprint_text: str) -> np.ndarray:
    """The raw 32-bit items of a compressed base64 fingerprint (empty when it cannot be read)."""
    if not chromaprint_text:
        return np.zeros(0, np.uint32)
    chromaprint = _chromaprint()
    try:
        items, _algorithm = chromaprint.decode_fingerprint(chromaprint_text.encode("ascii"))
    except (UnicodeEncodeError, chromaprint.FingerprintError):  # not a fingerprint: it confirms nothing
        return np.zeros(0, np.uint32)
    return np.asarray(items, dtype=np.uint32)


def informative(items: np.ndarray) -> bool:
    """Enough distinct items to tell recordings apart (silence and constant tones are not)."""
    return items.shape[0] >= MIN_OVERLAP_ITEMS and np.unique(items).shape[0] >= MIN_DISTINCT_FRACTION * items.shape[0]


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def compare(a: np.ndarray, b: np.ndarray, max_offset: int = MAX_OFFSET_ITEMS) -> Comparison:
    """The lowest bit error rate of ``a`` against ``b`` shifted by -max_offset..max_offset items."""
    best = Comparison(1.0, 0, 0)
    for offset in range(-max_offset, max_offset + 1):
        x, y = (a[offset:], b) if offset >= 0 else (a, b[-offset:])
        n = min(x.shape[0], y.shape[0])
        if n < MIN_OVERLAP_ITEMS:
            continue
        diff = np.bitwise_xor(x[:n], y[:n]).view(np.uint8)
        ber = float(_POPCOUNT[diff].sum()) / (32.0 * n)
        if ber < best.ber:
            best = Comparison(ber, offset, n)
    return best


def same_recording(a: np.ndarray, b: np.ndarray) -> bool:
    """The confirmation rule: both informative and aligned within ``MATCH_MAX_BER``."""
    return informative(a) and informative(b) and compare(a, b).confirms
