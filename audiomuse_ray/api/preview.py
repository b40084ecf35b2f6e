"""Song previews for the UI's play buttons: a short excerpt of a track as its media provider has it.

- local folder: ``seconds`` of the file from ``start`` (default: a third of the way in, where songs have
  usually started), decoded with FFmpeg's libraries and encoded as Ogg Vorbis (small, plays everywhere);
- Subsonic/Navidrome: the server's ``stream`` (transcoded to MP3 at 128 kbit/s where it can, from
  ``timeOffset``), cut after about ``seconds`` worth of bytes;
- Jellyfin: its ``Audio/{id}/universal`` stream (MP3, 128 kbit/s, from ``StartTimeTicks``), cut the same way;
- Lyrion: the file's ``download``, cut the same way.

A byte cut of a compressed stream plays up to the cut in browsers; nothing longer than a preview leaves
the server.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from audiomuse_ray.api.params import integer, number
from audiomuse_ray.errors import UnknownTrack, UnreadableAudio

DEFAULT_SECONDS, MAX_SECONDS = 30, 60
PREVIEW_RATE = 44_100
STREAM_KBPS = 128
_BYTES_SLACK = 1.5  # servers that cannot transcode send the original: allow some more bytes


@dataclass(frozen=True)
class Preview:
    body: bytes
    media_type: str


def preview(provider: Any, item_id: str, params: Mapping[str, Any]) -> Preview:
    seconds = integer(params, "seconds", DEFAULT_SECONDS, lo=1, hi=MAX_SECONDS)
    start = number(params, "start", None, lo=0.0)
    kind = getattr(provider, "name", "")
    if kind == "local":
        track = provider.track(item_id)
        if track is None:
            raise UnknownTrack(f"Track {item_id!r} is not in the music folder.")
        with provider.local_file(track) as path:
            return Preview(local_excerpt(str(path), seconds, start), "audio/ogg")
    cap = int(seconds * STREAM_KBPS * 1000 / 8 * _BYTES_SLACK)
    offset = int(start or 0)
    if kind == "subsonic":
        if provider.auth == "auto":
            provider.call("ping")  # settles token or password auth once
        mode = "token" if provider.auth == "token" else "password"
        params_ = {**provider._auth_params(mode, provider.user, provider.password), "id": item_id,
                   "format": "mp3", "maxBitRate": STREAM_KBPS, "timeOffset": offset}
        return _capped(provider.client, "rest/stream", params_, cap)
    if kind == "jellyfin":
        params_ = {"UserId": provider.user_id, "Container": "mp3", "AudioCodec": "mp3", "TranscodingContainer": "mp3",
                   "MaxStreamingBitrate": STREAM_KBPS * 1000, "StartTimeTicks": offset * 10_000_000}
        return _capped(provider.client, f"Audio/{item_id}/universal", params_, cap)
    if kind == "lyrion":
        return _capped(provider.client, f"music/{item_id}/download", None, cap)
    raise UnreadableAudio(f"The {kind or 'configured'} media provider cannot stream previews.")


def _capped(client: Any, path: str, params: Any, cap: int) -> Preview:
    resp = client.request("GET", path, params=params, stream=True)
    with resp:
        media_type = resp.headers.get("content-type", "audio/mpeg").split(";")[0]
        chunks, size = [], 0
        for chunk in resp.iter_content(64 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            if size >= cap:
                break
    return Preview(b"".join(chunks)[:cap], media_type)


def local_excerpt(path: str, seconds: int, start: float | None = None) -> bytes:
    """``seconds`` of the file from ``start`` (a third in by default) as Ogg Vorbis, stereo 44.1 kHz."""
    import av
    import soundfile as sf

    try:
        with av.open(path) as container:
            stream = container.streams.audio[0]
            total = float(stream.duration * stream.time_base) if stream.duration else (container.duration or 0) / 1e6
            offset = start if start is not None else max(0.0, total / 3 - 5) if total > seconds * 1.5 else 0.0
            if offset > 0:
                container.seek(int(offset / stream.time_base), stream=stream)
            resampler = av.AudioResampler(format="flt", layout="stereo", rate=PREVIEW_RATE)
            want = seconds * PREVIEW_RATE
            blocks, have = [], 0
            for frame in container.decode(stream):
                if frame.pts is not None and offset and float(frame.pts * stream.time_base) < offset - 0.05:
                    continue  # seek lands on the keyframe before
                for out in resampler.resample(frame):
                    block = out.to_ndarray().reshape(-1, 2)
                    blocks.append(block)
                    have += len(block)
                if have >= want:
                    break
    except (av.error.FFmpegError, IndexError) as exc:
        raise UnreadableAudio(f"Cannot decode {path.rsplit('/', 1)[-1]} for a preview: {exc}") from None
    if not blocks:
        raise UnreadableAudio(f"{path.rsplit('/', 1)[-1]} has no audio to preview.")
    audio = np.concatenate(blocks)[:want]
    fade = min(len(audio), PREVIEW_RATE // 2)  # no click at the cut
    audio[len(audio) - fade:] *= np.linspace(1, 0, fade, dtype=np.float32)[:, None]
    out = io.BytesIO()
    sf.write(out, audio, PREVIEW_RATE, format="OGG", subtype="VORBIS")
    return out.getvalue()
