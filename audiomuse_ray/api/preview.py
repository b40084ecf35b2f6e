"""Song previews for the UI's play buttons: a short excerpt of a track as its media provider serves it.

How the excerpt is made is the provider's own business (``MediaProvider.open_stream``: a decoded Ogg
Vorbis cut of a local file, a media server's transcoding stream or the start of its download); this
module only reads the request's ``seconds`` and ``start``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from audiomuse_ray.api.params import integer, number
from audiomuse_ray.providers.base import MediaProvider

DEFAULT_SECONDS, MAX_SECONDS = 30, 60


@dataclass(frozen=True)
class Preview:
    body: bytes
    media_type: str


def preview(provider: MediaProvider, item_id: str, params: Mapping[str, Any]) -> Preview:
    """``seconds`` (1-60, default 30) of track ``item_id`` from ``start`` seconds (default: the provider's)."""
    seconds = integer(params, "seconds", DEFAULT_SECONDS, lo=1, hi=MAX_SECONDS)
    start = number(params, "start", None, lo=0.0)
    clip = provider.open_stream(item_id, start, seconds)
    return Preview(clip.data, clip.media_type)
