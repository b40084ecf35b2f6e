"""Audio in, model input out: decode to 16 kHz mono float32, log-mel spectrogram, 187-frame patches.

Decoding uses libsndfile (soundfile) for WAV/PCM and files long enough to be read in segments (it
seeks cheaply), FFmpeg's libraries through PyAV for everything else, each falling back on the other; both
are bundled in their wheels, so no system FFmpeg is needed. Resampling is soxr.
Tracks longer than ``MAX_ANALYSED_SECONDS`` are read as ``MAX_SEGMENTS`` evenly spaced segments that
add up to that length, so memory stays bounded (~40 MB) for a 90-minute file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

from audiomuse_ray.analysis.constants import (
    HOP_LENGTH, LOG_MEL_SCALE, MAX_ANALYSED_SECONDS, MAX_SEGMENTS, N_FFT, N_MELS, PATCH_FRAMES,
    PATCH_HOP_FRAMES, SAMPLE_RATE_HZ,
)
from audiomuse_ray.analysis.filters import hann_window, mel_filterbank
from audiomuse_ray.errors import UnreadableAudio

log = logging.getLogger(__name__)
# With frames mixed straight into one buffer, FFmpeg decodes every compressed codec here with less CPU
# than libsndfile (per audio minute: MP3 0.056 against 0.079, Vorbis 0.070 against 0.117, FLAC 0.066
# against 0.091, Opus 0.106 against 0.36) and reads AAC, which libsndfile cannot. libsndfile keeps PCM
# (one int32 read, no frames) and long files, which it reads in segments by seeking.


@dataclass(frozen=True)
class DecodedAudio:
    samples: np.ndarray  # (n,) float32 mono at SAMPLE_RATE_HZ
    duration_s: float  # of the whole file, also when only segments were read
    source_rate: int
    channels: int
    sampled: bool  # True when only evenly spaced segments of a long file were read


def segment_plan(total_frames: int, rate: int, max_seconds: float = MAX_ANALYSED_SECONDS,
                 segments: int = MAX_SEGMENTS) -> list[tuple[int, int]]:
    """(start, length) frame ranges to read: the whole file, or ``segments`` evenly spaced pieces."""
    budget = int(max_seconds * rate)
    if total_frames <= budget:
        return [(0, total_frames)]
    length = budget // segments
    starts = np.linspace(0, total_frames - length, segments).astype(int)
    return [(int(s), length) for s in starts]


def _to_mono(block: np.ndarray) -> np.ndarray:
    """(n, channels) to (n,) float32 by averaging the channels.
    Column adds instead of ``mean(axis=1)``: numpy reduces a 2-wide axis slowly (~4x here)."""
    if block.ndim == 1:
        return block.astype(np.float32, copy=False)
    out = block[:, 0].astype(np.float32, copy=True)
    for c in range(1, block.shape[1]):
        out += block[:, c]
    if block.shape[1] > 1:
        out *= np.float32(1.0 / block.shape[1])
    return out


def _decode_soundfile(path: Path, max_seconds: float, segments: int) -> tuple[np.ndarray, int, int, float, bool]:
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        rate, channels, frames = f.samplerate, f.channels, f.frames
        plan = segment_plan(frames, rate, max_seconds, segments)
        # integer PCM (FLAC, WAV) as int32: libsndfile's own float conversion costs a third more
        integer = f.subtype.startswith("PCM_")
        pieces = []
        for start, length in plan:
            if start:
                f.seek(start)
            block = f.read(length, dtype="int32" if integer else "float32", always_2d=True)
            mono = _to_mono(block)
            if integer:
                mono *= np.float32(1.0 / 2147483648.0)
            pieces.append(mono)
    samples = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    sampled = len(plan) > 1
    # a truncated file announces more frames than it holds: trust what was decoded
    duration = frames / rate if sampled else samples.shape[0] / rate
    return samples, rate, channels, duration, sampled


@dataclass(frozen=True)
class Probe:
    duration_s: float | None  # according to the container; None when it does not say
    codec: str | None  # FFmpeg's codec name of the first audio stream


def probe(path: Path) -> Probe:
    """Length and codec from the container, without decoding (a hint: the decoders report real problems)."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0] if container.streams.audio else None
            codec = stream.codec_context.name if stream is not None else None
            if container.duration:
                return Probe(container.duration / 1e6, codec)
            duration = float(stream.duration * stream.time_base) if stream is not None and stream.duration else None
            return Probe(duration, codec)
    except Exception:
        return Probe(None, None)


# FFmpeg sample formats (planar ones end in "p") -> numpy dtype, and the offset of unsigned 8-bit PCM
_SAMPLE_DTYPES = {"u8": np.uint8, "s16": np.int16, "s32": np.int32, "s64": np.int64, "flt": np.float32,
                  "dbl": np.float64}


def _decode_pyav(path: Path, max_seconds: float, segments: int) -> tuple[np.ndarray, int, int, float, bool]:
    """Stream-decode with FFmpeg's libraries, keeping only the planned segments (no seeking).

    Each frame is mixed to mono straight into one float32 buffer: ``to_ndarray`` per frame costs twice
    as much (Opus and Vorbis frames hold 10-20 ms), and collecting the channels to join them at the end
    costs a copy of the whole track per channel."""
    import av

    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise UnreadableAudio(f"{path.name} has no audio stream.")
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate or stream.rate
        duration = float(stream.duration * stream.time_base) if stream.duration else (
            container.duration / 1e6 if container.duration else 0.0)
        plan = segment_plan(int(duration * rate), rate, max_seconds, segments) if duration else [(0, 1 << 62)]
        wanted = [(s, s + n) for s, n in plan]
        whole, last = len(wanted) == 1 and wanted[0][0] == 0, wanted[-1][1]
        expected = sum(n for _, n in plan) if duration else 60 * rate
        mixer: _MonoMixer | None = None
        kept: list[tuple[int, int]] = []  # (position, samples) of each kept frame
        position = 0
        for frame in container.decode(stream):
            n = frame.samples
            if mixer is None:
                mixer = _MonoMixer(frame, expected + rate)
            if whole or any(lo < position + n and position < hi for lo, hi in wanted):
                mixer.add(frame.planes, n)
                kept.append((position, n))
            position += n
            if position >= last:
                break
    channels = mixer.channels if mixer else stream.codec_context.channels or 1
    if mixer is None or not kept:
        return np.zeros(0, np.float32), rate, channels, duration or position / rate, len(plan) > 1
    mono = mixer.result()
    # past the container's length are the encoder's padding samples
    mono = mono[:wanted[0][1]] if whole else _cut_segments(mono, kept, wanted)
    if whole:  # a truncated file announces more than it holds: trust what was decoded
        duration = min(duration, position / rate) if duration else position / rate
    return mono, rate, channels, duration, len(plan) > 1


class _MonoMixer:
    """Sums each frame's channels into one growing float32 buffer; ``result`` scales the sum to the
    channel mean in [-1, 1]. Any FFmpeg sample format, planar or interleaved."""

    def __init__(self, first_frame, capacity: int):
        fmt = first_frame.format
        self.planar = fmt.is_planar
        self.channels = len(first_frame.layout.channels) or 1
        self.planes = len(first_frame.planes)
        self.dtype = np.dtype(_SAMPLE_DTYPES[fmt.name.removesuffix("p")])
        self.buffer = np.empty(max(capacity, 1), np.float32)
        self.size = 0

    def add(self, planes, n: int) -> None:
        if len(planes) != self.planes:
            raise ValueError("the channel layout changes inside the stream")
        if self.size + n > self.buffer.shape[0]:
            self.buffer = np.concatenate([self.buffer[:self.size], np.empty(self.size + 2 * n, np.float32)])
        out = self.buffer[self.size:self.size + n]
        if self.planar:
            np.copyto(out, np.frombuffer(planes[0], self.dtype, count=n), casting="unsafe")
            for plane in planes[1:]:
                np.add(out, np.frombuffer(plane, self.dtype, count=n), out=out, casting="unsafe")
        else:
            block = np.frombuffer(planes[0], self.dtype, count=n * self.channels).reshape(n, self.channels)
            np.copyto(out, block[:, 0], casting="unsafe")
            for c in range(1, self.channels):
                np.add(out, block[:, c], out=out, casting="unsafe")
        self.size += n

    def result(self) -> np.ndarray:
        mono = self.buffer[:self.size]
        if self.dtype == np.uint8:  # unsigned 8-bit PCM is centred on 128
            mono -= np.float32(128.0 * self.channels)
            scale = 128.0
        else:
            scale = _int_scale(self.dtype)
        factor = 1.0 / (scale * self.channels)
        if factor != 1.0:
            mono *= np.float32(factor)
        return mono


def _cut_segments(mono: np.ndarray, kept: list[tuple[int, int]], wanted: list[tuple[int, int]]) -> np.ndarray:
    """From the kept frames, laid end to end in ``mono``, the samples of each wanted (start, end) range."""
    positions = np.array([p for p, _ in kept])
    sizes = np.array([n for _, n in kept])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pieces = []
    for lo, hi in wanted:
        inside = np.nonzero((positions < hi) & (positions + sizes > lo))[0]
        if inside.size == 0:
            continue
        first, last = inside[0], inside[-1]
        start = offsets[first] + max(0, lo - positions[first])
        end = offsets[last] + min(sizes[last], hi - positions[last])
        pieces.append(mono[start:end])
    return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)


def _int_scale(dtype: np.dtype) -> float:
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return float(max(abs(info.min), info.max))
    return 1.0


def decode(path: str | Path, *, max_seconds: float = MAX_ANALYSED_SECONDS, segments: int = MAX_SEGMENTS) -> DecodedAudio:
    """Decode any audio file to 16 kHz mono float32; raise ``UnreadableAudio`` with the reason otherwise.

    Files longer than ``max_seconds`` are read as ``segments`` evenly spaced pieces totalling that length.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableAudio(f"{path} cannot be read: {exc.strerror}.") from exc
    if size == 0:
        raise UnreadableAudio(f"{path.name} is empty (0 bytes).")
    errors = []
    # each decoder stands in for the other on files it cannot read
    hint = probe(path)
    long_file = hint.duration_s is not None and hint.duration_s > max_seconds
    soundfile_first = long_file or (hint.codec or "").startswith("pcm_")
    for decoder in ((_decode_soundfile, _decode_pyav) if soundfile_first else (_decode_pyav, _decode_soundfile)):
        try:
            samples, rate, channels, duration, sampled = decoder(path, max_seconds, segments)
            break
        except UnreadableAudio:
            raise
        except Exception as exc:  # each library raises its own zoo of types for damaged input
            errors.append(f"{decoder.__name__.removeprefix('_decode_')}: {str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__}")
    else:
        raise UnreadableAudio(f"{path.name} is not audio any decoder here understands ({'; '.join(errors)}).")
    if samples.size == 0:
        raise UnreadableAudio(f"{path.name} decoded to no samples (truncated or empty stream).")
    if not np.isfinite(samples.sum(dtype=np.float64)):  # a NaN or inf anywhere makes the sum one too
        samples = np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0)
    if rate != SAMPLE_RATE_HZ:
        samples = soxr.resample(samples, rate, SAMPLE_RATE_HZ, quality="HQ").astype(np.float32, copy=False)
    return DecodedAudio(samples=samples, duration_s=duration, source_rate=rate, channels=channels, sampled=sampled)


MEL_BLOCK_FRAMES = 1024  # frames per block: its temporaries (~2 MB each) stay in cache and get reused


def _frames(samples: np.ndarray) -> np.ndarray:
    if samples.shape[0] < N_FFT:
        return np.zeros((0, N_FFT), np.float32)
    return np.lib.stride_tricks.sliding_window_view(samples.astype(np.float32, copy=False), N_FFT)[::HOP_LENGTH]


def _power(frames: np.ndarray) -> np.ndarray:
    import scipy.fft

    spec = scipy.fft.rfft(frames * hann_window(), axis=1)  # float32 in, complex64 out (numpy's would be float64)
    return spec.real ** 2 + spec.imag ** 2


def log_mel(samples: np.ndarray) -> np.ndarray:
    """``log10(1 + 10000 · mel)`` of the power spectrogram: (n_frames, N_MELS) float32, time first.
    Computed a block of frames at a time: whole-track temporaries (~40 MB each for five minutes) cost
    more in page faults than the arithmetic does."""
    frames = _frames(samples)
    out = np.empty((frames.shape[0], N_MELS), np.float32)
    filters = mel_filterbank().T
    for i in range(0, frames.shape[0], MEL_BLOCK_FRAMES):
        block = out[i:i + MEL_BLOCK_FRAMES]
        np.matmul(_power(frames[i:i + MEL_BLOCK_FRAMES]), filters, out=block)
        block *= np.float32(LOG_MEL_SCALE)
        block += np.float32(1.0)
        np.log10(block, out=block)
    return out


def patches(spectrogram: np.ndarray, frames: int = PATCH_FRAMES, hop: int = PATCH_HOP_FRAMES) -> np.ndarray:
    """Cut a (n_frames, N_MELS) spectrogram into (n_patches, frames, N_MELS), as musicnn's extractor does:
    patches start every ``hop`` frames and a trailing remainder shorter than a patch is dropped."""
    if spectrogram.shape[0] < frames:
        return np.zeros((0, frames, spectrogram.shape[1]), np.float32)
    if hop == frames:  # back to back: a view of the spectrogram, no copy
        n = spectrogram.shape[0] // frames
        return np.ascontiguousarray(spectrogram[:n * frames].reshape(n, frames, spectrogram.shape[1]), dtype=np.float32)
    starts = range(0, spectrogram.shape[0] - frames + 1, hop)
    return np.stack([spectrogram[s:s + frames] for s in starts]).astype(np.float32, copy=False)
