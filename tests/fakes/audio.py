"""Audio answers for the loopback media servers: a file with its content type, or an MP3 stream made by
ffmpeg from a start time, as a transcoding server sends it."""

from __future__ import annotations

import mimetypes
import subprocess
from pathlib import Path

from tests.fakes.loopback import Response


def audio_file(path: str) -> Response:
    media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return Response(200, Path(path).read_bytes(), headers={"Content-Type": media_type})


def mp3_stream(path: str, start_s: float, kbps: int) -> Response:
    """The file from ``start_s`` as MP3 at ``kbps`` (stereo 44.1 kHz), whole: the client cuts it."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{start_s:g}", "-i", path, "-vn", "-ac", "2", "-ar", "44100",
                          "-c:a", "libmp3lame", "-b:a", f"{kbps}k", "-f", "mp3", "pipe:1"],
                         capture_output=True, check=True, timeout=60).stdout
    return Response(200, out, headers={"Content-Type": "audio/mpeg"})
